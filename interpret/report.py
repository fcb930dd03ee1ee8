"""A single self-contained HTML report: of a study run folder, or of results computed in Python.

The report holds the study's description (its docstring's reStructuredText rendered to HTML, not pasted),
the findings, every figure with a caption that says what it shows and its sign convention, the tables, the
configuration, versions and timings. Figures are embedded as base64 PNG, so the file travels alone; only
files inside the run folder are embedded (a manifest naming ``../`` or an absolute path elsewhere is refused).

Examples
--------
>>> import numpy as np, pandas as pd, matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots(); _ = ax.plot([0, 1], [0, 1])
>>> import tempfile, pathlib
>>> tmp = tempfile.TemporaryDirectory()
>>> out = pathlib.Path(tmp.name) / "report.html"
>>> path = write_report({"scatter": fig, "metrics": pd.DataFrame({"rmse": [0.1]})}, out, title="My run",
...                     captions={"scatter": "Predicted against true redshift."})
>>> "Predicted against true redshift." in path.read_text()
True
>>> plt.close(fig); tmp.cleanup()
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ._results import Result, atomic_write_bytes
from .exceptions import DataFileError

__all__ = ["write_report", "render_report", "rst_to_html"]

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.5;overflow-wrap:anywhere}
h1{font-size:1.6em;border-bottom:2px solid #0072B2;padding-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em}
figure{margin:1.4em 0;text-align:center}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444;text-align:left;max-width:900px;margin:.4em auto 0}
.tablewrap{max-width:100%;overflow-x:auto}table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right;overflow-wrap:normal}th{background:#f2f6fa}
pre{background:#f7f7f7;padding:.8em;white-space:pre-wrap;font-size:.85em}
code{background:#f3f3f3;padding:0 .2em;border-radius:3px}.meta{color:#666;font-size:.9em}
ol,ul{padding-left:1.6em}li{margin:.25em 0}
"""


# --- a small reStructuredText subset (what study docstrings use) ------------------------------------------
def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"``(.+?)``", r"<code>\1</code>", text)
    text = re.sub(r":(?:func|class|meth|mod|data|attr):`~?([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    text = re.sub(r"`([^`]+)`", r"<em>\1</em>", text)
    return text.replace("\\|", "|").replace("\\", "")


_ITEM = re.compile(r"^(\s*)(\d+\.|[*-]|#\.)\s+(.*)$")


def rst_to_html(text: str) -> str:
    r"""HTML of the reStructuredText subset used in docstrings: paragraphs, numbered and bullet lists (nested
    by indentation), ``::`` literal blocks, simple tables and inline ``code``, *emphasis*, **strong**.

    Examples
    --------
    >>> print(rst_to_html("The *mean* fill:\n\n* keeps ``x``\n* is **fast**"))
    <p>The <em>mean</em> fill:</p>
    <ul><li>
    keeps <code>x</code>
    </li><li>
    is <strong>fast</strong>
    </li></ul>
    """
    lines = text.strip("\n").splitlines()
    out: list[str] = []
    stack: list[tuple[str, int]] = []      # open lists: (tag, indent)
    para: list[str] = []
    i = 0

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    def close_to(indent: int) -> None:
        while stack and stack[-1][1] >= indent:
            out.append(f"</li></{stack.pop()[0]}>")

    while i < len(lines):
        line = lines[i]
        m = _ITEM.match(line)
        if not line.strip():
            flush()
            i += 1
            continue
        if re.match(r"^\s*=+(\s+=+)+\s*$", line):          # simple-table rule lines: skip
            i += 1
            continue
        if m:
            flush()
            indent, tag = len(m.group(1)), "ol" if m.group(2)[0].isdigit() or m.group(2) == "#." else "ul"
            if stack and stack[-1][1] == indent and stack[-1][0] == tag:
                out.append("</li><li>")
            else:
                close_to(indent + 1 if stack and stack[-1][1] < indent else indent)
                if stack and stack[-1][1] == indent:
                    close_to(indent)
                out.append(f"<{tag}><li>")
                stack.append((tag, indent))
            item = [m.group(3)]
            i += 1
            while i < len(lines) and lines[i].strip() and not _ITEM.match(lines[i]) and \
                    len(lines[i]) - len(lines[i].lstrip()) > indent:
                item.append(lines[i].strip())
                i += 1
            literal = item[-1].endswith("::")
            body = " ".join(item)
            out.append(_inline(body[:-1] if literal else body))
            continue
        if stack and len(line) - len(line.lstrip()) <= stack[0][1] and not m:
            close_to(0)
        stripped = line.strip()
        if stripped.endswith("::"):
            para.append(stripped[:-1] if stripped != "::" else "")
            flush()
            i += 1
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            body = "\n".join(block).strip("\n")
            indent = min((len(b) - len(b.lstrip()) for b in block if b.strip()), default=0)
            out.append("<pre>" + html.escape("\n".join(b[indent:] for b in body.splitlines())) + "</pre>")
            continue
        para.append(stripped)
        i += 1
    flush()
    close_to(0)
    return "\n".join(out)


# --- blocks ------------------------------------------------------------------------------------------------
def _img(data: bytes, name: str, caption: str) -> str:
    b64 = base64.b64encode(data).decode()
    return (f'<figure id="fig-{html.escape(name)}"><img alt="{html.escape(name.replace("_", " "))}" '
            f'data-file="{html.escape(name)}.png" src="data:image/png;base64,{b64}">'
            f"<figcaption><strong>{html.escape(name.replace('_', ' ').capitalize())}.</strong> "
            f"{_inline(caption)}</figcaption></figure>")


def _table_block(name: str, frame: pd.DataFrame) -> str:
    body = frame.to_html(float_format=lambda v: f"{v:.4g}", border=0, na_rep="–")
    return (f'<h3 id="table-{html.escape(name)}">{html.escape(name.replace("_", " "))}</h3>'
            f'<div class="tablewrap">{body}</div>')


def _inside(run_dir: Path, entry: str) -> Path:
    root = run_dir.resolve()
    path = Path(entry)
    path = (path if path.is_absolute() else run_dir / path).resolve()
    if not path.is_relative_to(root):
        raise DataFileError(f"render_report(): the manifest lists {entry!r}, which is outside the run folder "
                            f"{str(root)!r}; only files inside it are embedded")
    if not path.is_file():
        raise DataFileError(f"render_report(): figure {str(path)!r} listed in the manifest is missing")
    return path


def _page(title: str, meta: str, description: str, notes: list[str], body: list[str]) -> str:
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}"
             f"</title><style>{_CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>"]
    if meta:
        parts.append(f"<p class='meta'>{meta}</p>")
    if description:
        parts.append(rst_to_html(description))
    if notes:
        parts.append("<h2>Findings</h2><ul>" + "".join(f"<li>{_inline(n)}</li>" for n in notes) + "</ul>")
    parts.extend(body)
    parts.append("</body></html>")
    return "\n".join(parts)


def render_report(run_dir: str | os.PathLike) -> str:
    """Return the HTML text of the report for ``run_dir`` (which holds ``manifest.json``)."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise DataFileError(f"render_report(): {str(run_dir)!r} has no manifest.json; run a study there first "
                            "(interpret run CONFIG --out RUN_DIR)")
    m = json.loads(manifest_path.read_text())
    doc = m.get("description", "")
    title = m["title"]
    head, _, rest = doc.partition("\n\n")
    if rest and "\n" not in head.strip():      # a docstring's one-line summary repeats the title
        doc = rest
    body = ["<h2>Figures</h2>"]
    for fig in m["figures"]:
        entry = fig if isinstance(fig, dict) else {"path": fig, "caption": ""}
        path = _inside(run_dir, entry["path"])
        body.append(_img(path.read_bytes(), path.stem, entry.get("caption") or path.stem.replace("_", " ")))
    if m["tables"]:
        body.append("<h2>Tables</h2>")
        for name in m["tables"]:
            frame = pd.read_csv(_inside(run_dir, f"tables/{name}.csv"), index_col=0)
            body.append(_table_block(name, frame))
    timings = pd.Series(m["timings"], name="seconds").to_frame()
    body.append("<h2>Timings</h2>" + timings.to_html(float_format=lambda v: f"{v:.2f}", border=0))
    body.append("<h2>Configuration</h2><pre>" + html.escape(json.dumps(m["config"], indent=2)) + "</pre>")
    body.append("<h2>Versions</h2>" + pd.Series(m["versions"], name="version").to_frame().to_html(border=0))
    meta = (f"study <code>{html.escape(m['study'])}</code> · created {html.escape(m['created'])}"
            f" · total {m['timings'].get('total', float('nan')):.1f} s")
    return _page(title, meta, doc, m.get("notes", []), body)


def _figure_png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    return buf.getvalue()


def _render_results(results: Mapping[str, Any], *, title: str, description: str, notes: list[str],
                    captions: Mapping[str, str]) -> str:
    figures, tables = [], []
    for name, value in results.items():
        if hasattr(value, "savefig"):
            figures.append(_img(_figure_png(value), name, captions.get(name, "")))
        elif isinstance(value, pd.DataFrame):
            tables.append(_table_block(name, value))
        elif isinstance(value, pd.Series):
            tables.append(_table_block(name, value.to_frame()))
        elif isinstance(value, Result) or hasattr(value, "to_frame"):
            tables.append(_table_block(name, value.to_frame()))
        else:
            raise TypeError(f"write_report(): results[{name!r}] is a {type(value).__name__}; give matplotlib "
                            "figures, DataFrames or interpret result objects")
    body = (["<h2>Figures</h2>", *figures] if figures else []) + (["<h2>Tables</h2>", *tables] if tables else [])
    return _page(title, "", description, notes, body)


def write_report(source: Any, path: str | os.PathLike | None = None, *, title: str = "astro-interpret report",
                 description: str = "", notes: list[str] | None = None,
                 captions: Mapping[str, str] | None = None) -> Path:
    """Write a self-contained HTML report (figures embedded as base64 PNG).

    Parameters
    ----------
    source : path, RunContext or mapping
        A run folder written by ``interpret run`` (holds ``manifest.json``), the
        :class:`~interpret.runner.RunContext` a study returned, or results computed in Python: a mapping of
        name -> matplotlib Figure, DataFrame or interpret result object (``PIDResult``, ``ShapleyResult``...).
    path : path, optional
        Where to write; default ``<run folder>/report.html`` (required for a mapping).
    title, description, notes, captions
        For a mapping: the title, a reStructuredText description, findings, and a caption per figure name.

    Returns
    -------
    pathlib.Path
        The report's path.

    Examples
    --------
    Results computed in Python go in as a mapping of name -> figure, table or result object:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import pandas as pd
    >>> from interpret.pid import decompose
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 1000), rng.integers(0, 2, 1000)
    >>> results = {"xor": decompose(a ^ b, {"a": a, "b": b}, bins=None),
    ...            "summary": pd.DataFrame({"source": ["a", "b"], "unique_bits": [0.0, 0.0]})}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_report(results, Path(tmp) / "report.html", title="XOR check",
    ...                        description="Target ``a XOR b``: all *synergy*.", notes=["No unique information."])
    ...     html = out.read_text()
    >>> out.name, "<h1>XOR check</h1>" in html, "No unique information." in html
    ('report.html', True, True)
    """
    if isinstance(source, Mapping):
        if path is None:
            raise ValueError("write_report(): give 'path' (where to write) for results computed in Python")
        text = _render_results(source, title=title, description=description, notes=list(notes or []),
                               captions=dict(captions or {}))
        target = Path(path)
    else:
        run_dir = Path(getattr(source, "out", source))
        target = Path(path) if path else run_dir / "report.html"
        text = render_report(run_dir)
    atomic_write_bytes(target, text.encode())
    return target
