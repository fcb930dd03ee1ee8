"""One shared figure style: colour-blind-safe palette, readable at journal column width.

Plot functions take a result object and an optional ``ax`` and return the figure; they never compute.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"), force=False)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["PALETTE", "COLUMN_WIDTH", "PAGE_WIDTH", "style", "get_ax", "save_figure", "color_cycle"]

# Okabe & Ito (2008) colour-blind-safe palette.
PALETTE: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "skyblue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
_CYCLE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
COLUMN_WIDTH = 3.5   # inches: one column of an AAS/MNRAS/A&A journal
PAGE_WIDTH = 7.1     # inches: full page width

_RC = {
    "figure.dpi": 150, "savefig.dpi": 200, "savefig.bbox": "tight",
    "font.size": 9, "axes.labelsize": 9, "axes.titlesize": 9, "legend.fontsize": 8,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.linewidth": 0.8,
    "xtick.direction": "in", "ytick.direction": "in", "xtick.top": True, "ytick.right": True,
    "xtick.minor.visible": True, "ytick.minor.visible": True,
    "axes.prop_cycle": matplotlib.cycler(color=_CYCLE), "legend.frameon": False,
    "image.cmap": "viridis", "mathtext.fontset": "dejavusans",
}


def color_cycle() -> list[str]:
    """The shared categorical colour cycle (Okabe–Ito order).

    Examples
    --------
    >>> color_cycle()[:3]
    ['#0072B2', '#D55E00', '#009E73']
    """
    return list(_CYCLE)


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying the shared style.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with style():
    ...     fig, ax = plt.subplots()
    ...     plt.rcParams["font.size"]
    9.0
    >>> plt.close(fig)
    """
    with matplotlib.rc_context(_RC):
        yield


def get_ax(ax: Axes | None = None, *, figsize: tuple[float, float] | None = None) -> tuple[Figure, Axes]:
    """Return ``(fig, ax)``: the given axes' figure, or a new styled single-panel figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = get_ax()                      # a new column-width figure
    >>> get_ax(ax)[0] is fig                    # given axes are drawn into, never replaced
    True
    >>> plt.close(fig)
    """
    if ax is not None:
        return ax.figure, ax
    with style():
        fig, ax = plt.subplots(figsize=figsize or (COLUMN_WIDTH, COLUMN_WIDTH * 0.75), layout="constrained")
    return fig, ax


def save_figure(fig: Figure, path: str | os.PathLike, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``path`` with each extension in ``formats``; returns the written paths.

    Examples
    --------
    >>> import os, tempfile
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = get_ax()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in save_figure(fig, os.path.join(tmp, "figures", "demo"), formats=("png", "pdf"))]
    ['demo.png', 'demo.pdf']
    >>> plt.close(fig)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in formats:
        target = path.with_suffix(f".{ext}")
        with style():
            fig.savefig(target)
        out.append(target)
    return out
