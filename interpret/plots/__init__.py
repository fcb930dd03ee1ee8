"""Figures for every result family. Plot functions draw results; they never compute them.

Submodules: ``causal``, ``pid``, ``attribution``, ``ablation``, ``mock``; the shared style is in ``_style``.
"""
from .._lazy import lazy_getattr
from ._style import COLUMN_WIDTH, PAGE_WIDTH, PALETTE, color_cycle, get_ax, save_figure, style

__all__ = ["COLUMN_WIDTH", "PAGE_WIDTH", "PALETTE", "color_cycle", "get_ax", "save_figure", "style"]
__getattr__ = lazy_getattr(__name__, ("causal", "pid", "attribution", "ablation", "mock", "metrics"))
