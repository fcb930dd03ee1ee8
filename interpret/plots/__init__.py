"""Figures for every result family. Plot functions draw results; they never compute them.

Submodules: ``causal``, ``pid``, ``attribution``, ``ablation``, ``mock``; the shared style is in ``_style``.
"""
from .._lazy import lazy_exports
from ._style import COLUMN_WIDTH, PAGE_WIDTH, PALETTE, color_cycle, get_ax, save_figure, style

__all__ = ["COLUMN_WIDTH", "PAGE_WIDTH", "PALETTE", "color_cycle", "get_ax", "save_figure", "style"]
__getattr__, _lazy_names, __dir__ = lazy_exports(__name__, ("causal", "pid", "attribution", "ablation", "mock",
                                                            "metrics"))
__all__ += _lazy_names
