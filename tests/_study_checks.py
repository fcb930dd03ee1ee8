"""Checks shared by the end-to-end tests of the packaged studies (interpret.studies)."""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from interpret.runner import RunContext, run_study


def run_config(tmp_path: Path, name: str, text: str) -> RunContext:
    """Write ``text`` as ``tmp_path/configs/<name>.toml`` and run it with outputs in ``tmp_path/<name>``."""
    cfg = tmp_path / "configs" / f"{name}.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(text)
    return run_study(cfg, overrides={"out": str(tmp_path / name)})


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.files: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "img":
            self.files.append(dict(attrs).get("data-file", ""))


def check_figures_and_report(ctx: Any, figures: list) -> dict:
    """Every figure exists as PNG + PDF and is embedded in the HTML report; returns the run manifest."""
    names = [f.__name__.removeprefix("fig_") for f in figures]
    for name in names:
        assert (ctx.figure_dir / f"{name}.png").stat().st_size > 1000, name
        assert (ctx.figure_dir / f"{name}.pdf").exists(), name
    parser = _Images()
    parser.feed((ctx.out / "report.html").read_text())
    assert sorted(parser.files) == sorted(f"{n}.png" for n in names)
    return json.loads((ctx.out / "manifest.json").read_text())
