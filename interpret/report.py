"""A single self-contained HTML report of an analysis run (figures embedded, tables, config, versions, timings).

Examples
--------
>>> from interpret.report import write_report      # doctest: +SKIP
>>> write_report("runs/stellar_mass")               # doctest: +SKIP
PosixPath('runs/stellar_mass/report.html')
"""
from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

import pandas as pd

from ._results import atomic_write_bytes
from .exceptions import DataFileError

__all__ = ["write_report", "render_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #0072B2;padding-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em}
figure{margin:1.2em 0;text-align:center}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.9em;color:#555}table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}th{background:#f2f6fa}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}.meta{color:#666;font-size:.9em}
"""


def _figure_block(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    name = html.escape(path.stem.replace("_", " "))
    return (f'<figure id="fig-{html.escape(path.stem)}"><img alt="{name}" data-file="{html.escape(path.name)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{name}</figcaption></figure>')


def _table_block(name: str, frame: pd.DataFrame) -> str:
    body = frame.to_html(float_format=lambda v: f"{v:.4g}", border=0, na_rep="–")
    return f'<h3 id="table-{html.escape(name)}">{html.escape(name.replace("_", " "))}</h3>{body}'


def render_report(run_dir: str | os.PathLike) -> str:
    """Return the HTML text of the report for ``run_dir`` (which holds ``manifest.json``)."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise DataFileError(f"render_report(): {str(run_dir)!r} has no manifest.json; run a study there first "
                            "(interpret run CONFIG --out RUN_DIR)")
    m = json.loads(manifest_path.read_text())
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(m['title'])}</title>"
             f"<style>{_CSS}</style></head><body>", f"<h1>{html.escape(m['title'])}</h1>",
             f"<p class='meta'>study <code>{html.escape(m['study'])}</code> · created {html.escape(m['created'])}"
             f" · total {m['timings'].get('total', float('nan')):.1f} s</p>"]
    if m.get("description"):
        parts.append("".join(f"<p>{html.escape(p)}</p>" for p in m["description"].split("\n\n")))
    if m.get("notes"):
        parts.append("<h2>Findings</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in m["notes"]) + "</ul>")
    parts.append("<h2>Figures</h2>")
    for fig in m["figures"]:
        path = Path(fig)
        if not path.is_absolute():
            path = run_dir / path
        if not path.is_file():
            raise DataFileError(f"render_report(): figure {str(path)!r} listed in the manifest is missing")
        parts.append(_figure_block(path))
    if m["tables"]:
        parts.append("<h2>Tables</h2>")
        for name in m["tables"]:
            frame = pd.read_csv(run_dir / "tables" / f"{name}.csv", index_col=0)
            parts.append(_table_block(name, frame))
    timings = pd.Series(m["timings"], name="seconds").to_frame()
    parts.append("<h2>Timings</h2>" + timings.to_html(float_format=lambda v: f"{v:.2f}", border=0))
    parts.append("<h2>Configuration</h2><pre>" + html.escape(json.dumps(m["config"], indent=2)) + "</pre>")
    parts.append("<h2>Versions</h2>" + pd.Series(m["versions"], name="version").to_frame().to_html(border=0))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(run_dir: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Write ``report.html`` (self-contained: figures embedded as base64 PNG) into ``run_dir``.

    Parameters
    ----------
    run_dir : path
        A folder written by ``interpret run`` (holds ``manifest.json``, ``tables/`` and the figures).
    path : path, optional
        Where to write; default ``run_dir/report.html``.

    Returns
    -------
    pathlib.Path
        The report's path.
    """
    target = Path(path) if path else Path(run_dir) / "report.html"
    atomic_write_bytes(target, render_report(run_dir).encode())
    return target
