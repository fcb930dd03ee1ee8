"""Figures for every result family. Plot functions draw results; they never compute them."""
from ._style import COLUMN_WIDTH, PAGE_WIDTH, PALETTE, color_cycle, get_ax, save_figure, style

__all__ = ["COLUMN_WIDTH", "PAGE_WIDTH", "PALETTE", "color_cycle", "get_ax", "save_figure", "style"]
