"""Figures for attribution results: per-band maps, stacked mean maps, per-band bars, radial profiles and
spectra with line windows shaded by importance.

Every function takes results (an :class:`~interpret.attribution.Attribution` or the tables its methods and
:func:`~interpret.attribution.line_importance` return), optional axes, and returns the Figure.

Examples
--------
>>> import numpy as np, torch
>>> from interpret.attribution import attribute
>>> from interpret.plots.attribution import plot_band_bars
>>> m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 1))
>>> a = attribute(m, np.ones((3, 2, 4, 4), np.float32), progress=False)
>>> fig = plot_band_bars(a, bands=["g", "r"])
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..attribution.aggregate import band_names
from ._style import COLUMN_WIDTH, PAGE_WIDTH, PALETTE, color_cycle, get_ax, style

__all__ = ["plot_band_maps", "plot_mean_maps", "plot_band_bars", "plot_radial_profiles",
           "plot_line_importance"]


def _grid(nrows: int, ncols: int, axes: Any, width: float) -> tuple[Figure, np.ndarray]:
    if axes is not None:
        axes = np.asarray(axes, dtype=object).reshape(nrows, ncols)
        return axes.flat[0].figure, axes
    with style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, width / ncols * nrows * 1.05 + 0.3),
                                 squeeze=False, layout="constrained")
    return fig, axes


def _show(ax: Axes, img: np.ndarray, lim: float, cmap: str = "RdBu_r"):
    im = ax.imshow(img, cmap=cmap, vmin=-lim if cmap == "RdBu_r" else 0.0, vmax=lim, origin="lower",
                   interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.minorticks_off()
    return im


def plot_band_maps(a: Any, galaxies: Sequence[int] = (0, 1, 2), bands: Any = None, *, input: int | str = 0,
                   axes: Any = None) -> Figure:
    """Signed attribution maps, one row per chosen galaxy and one column per band.

    Each row shares a symmetric colour scale (red positive, blue negative) so bands compare directly.

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.attribution import Attribution
    >>> yy, xx = np.mgrid[0:8, 0:8]
    >>> blob = np.exp(-((yy - 3.5) ** 2 + (xx - 3.5) ** 2) / 4.0)      # centred, like a galaxy
    >>> a = Attribution(values=blob * np.array([1.0, 0.5, -0.2])[:, None, None] * np.ones((4, 3, 1, 1)),
    ...                 method="integrated_gradients", output=np.zeros(4))
    >>> fig = plot_band_maps(a, galaxies=(0, 1), bands=["g", "r", "i"])
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['g', 'r', 'i']
    >>> plt.close(fig)
    """
    v = a.input_values(input)
    names = band_names(bands, v.shape[1], "plot_band_maps")
    fig, ax = _grid(len(galaxies), len(names), axes, PAGE_WIDTH if len(names) > 3 else COLUMN_WIDTH * 1.3)
    for r, g in enumerate(galaxies):
        lim = float(np.abs(v[g]).max()) or 1.0
        for c, name in enumerate(names):
            im = _show(ax[r, c], v[g, c], lim)
            if r == 0:
                ax[r, c].set_title(name)
        ax[r, 0].set_ylabel(f"galaxy {g}")
        fig.colorbar(im, ax=ax[r, -1], shrink=0.8, label="attribution" if r == len(galaxies) // 2 else None)
    return fig


def plot_mean_maps(a: Any, bands: Any = None, *, input: int | str = 0, absolute: bool = True,
                   normalize: bool = True, axes: Any = None) -> Figure:
    """Stacked mean attribution map per band (|a|, each galaxy normalised to unit mass by default).

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.attribution import Attribution
    >>> yy, xx = np.mgrid[0:8, 0:8]
    >>> blob = np.exp(-((yy - 3.5) ** 2 + (xx - 3.5) ** 2) / 4.0)      # centred, like a galaxy
    >>> a = Attribution(values=blob * np.array([1.0, 0.5, -0.2])[:, None, None] * np.ones((4, 3, 1, 1)),
    ...                 method="integrated_gradients", output=np.zeros(4))
    >>> fig = plot_mean_maps(a, bands=["g", "r", "i"])
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['g', 'r', 'i']
    >>> plt.close(fig)
    """
    m = a.mean_map(input=input, absolute=absolute, normalize=normalize)
    names = band_names(bands, m.shape[0], "plot_mean_maps")
    fig, ax = _grid(1, len(names), axes, PAGE_WIDTH if len(names) > 3 else COLUMN_WIDTH * 1.3)
    lim = float(np.abs(m).max()) or 1.0
    for c, name in enumerate(names):
        im = _show(ax[0, c], m[c], lim, "viridis" if absolute else "RdBu_r")
        ax[0, c].set_title(name)
    fig.colorbar(im, ax=ax[0, -1], shrink=0.8,
                 label=("mean |attribution|" if absolute else "mean attribution") + (" (norm.)" if normalize
                                                                                     else ""))
    return fig


def plot_band_bars(a: Any, bands: Any = None, *, input: int | str = 0, ax: Axes | None = None) -> Figure:
    """Share of the absolute attribution per band (bars, ±1σ across galaxies) and the signed share (dots).

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.attribution import Attribution
    >>> yy, xx = np.mgrid[0:8, 0:8]
    >>> blob = np.exp(-((yy - 3.5) ** 2 + (xx - 3.5) ** 2) / 4.0)      # centred, like a galaxy
    >>> a = Attribution(values=blob * np.array([1.0, 0.5, -0.2])[:, None, None] * np.ones((4, 3, 1, 1)),
    ...                 method="integrated_gradients", output=np.zeros(4))
    >>> fig = plot_band_bars(a, bands=["g", "r", "i"])
    >>> np.round([p.get_height() for p in fig.axes[0].patches], 2).tolist()     # |attribution| shares
    [0.59, 0.29, 0.12]
    >>> plt.close(fig)
    """
    table: pd.DataFrame = a if isinstance(a, pd.DataFrame) else a.per_band(bands, input=input)
    fig, ax = get_ax(ax)
    x = np.arange(len(table))
    ax.bar(x, table["abs_fraction"], yerr=table["abs_fraction_std"], color=PALETTE["skyblue"],
           edgecolor=PALETTE["blue"], capsize=2, label="|attribution| share")
    ax.plot(x, table["signed_fraction"], "o", color=PALETTE["vermillion"], ms=4, label="signed share")
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_xticks(x, [str(i) for i in table.index])
    ax.minorticks_off()
    ax.set_ylabel("fraction of attribution")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    return fig


def plot_radial_profiles(a: Any, bands: Any = None, *, input: int | str = 0, n_bins: int = 8,
                         pixel_scale: float | None = None, ax: Axes | None = None) -> Figure:
    """Mean |attribution| per pixel against radius from the galaxy centre, one line per band.

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.attribution import Attribution
    >>> yy, xx = np.mgrid[0:8, 0:8]
    >>> blob = np.exp(-((yy - 3.5) ** 2 + (xx - 3.5) ** 2) / 4.0)      # centred, like a galaxy
    >>> a = Attribution(values=blob * np.array([1.0, 0.5, -0.2])[:, None, None] * np.ones((4, 3, 1, 1)),
    ...                 method="integrated_gradients", output=np.zeros(4))
    >>> fig = plot_radial_profiles(a, bands=["g", "r", "i"], n_bins=4)
    >>> len(fig.axes[0].lines)                  # one profile per band
    3
    >>> plt.close(fig)
    """
    table: pd.DataFrame = a if isinstance(a, pd.DataFrame) else a.radial_profile(bands, input=input,
                                                                                  n_bins=n_bins)
    fig, ax = get_ax(ax)
    r = table["r_mid"] * (pixel_scale or 1.0)
    cols = [c for c in table.columns if c not in ("r_lo", "r_hi", "r_mid", "n_pixels", "total",
                                                   "cumulative_fraction")]
    for col, color in zip(cols, color_cycle() * 3):
        ax.plot(r, table[col], "-o", ms=3, color=color, label=str(col))
    ax.set_xlabel("radius [arcsec]" if pixel_scale else "radius [pixels]")
    ax.set_ylabel("mean |attribution| per pixel")
    ax.legend(loc="upper right", ncol=2 if len(cols) > 4 else 1, frameon=False)
    return fig


def plot_line_importance(tables: Mapping[str, pd.DataFrame], wavelength: np.ndarray, spectrum: np.ndarray,
                         *, attributions: Mapping[str, np.ndarray] | None = None, redshift: float = 0.0,
                         top: int = 5, axes: Any = None) -> Figure:
    """A spectrum with feature windows shaded by importance, one panel per output (e.g. per WISE band).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        :func:`~interpret.attribution.line_importance` tables keyed by output name.
    wavelength, spectrum : ndarray (L,)
        The spectrum to draw (e.g. the sample mean) on the grid in which it is drawn.
    attributions : mapping of str to ndarray (L,), optional
        Mean |attribution| per pixel for each output, drawn in the lower part of the panel.
    redshift : float, default 0.0
        Redshift of the drawn grid; windows (rest frame) are shifted by ``1 + redshift``.
    top : int, default 5
        Number of features labelled per panel.

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.attribution import line_importance
    >>> wl = np.linspace(6000.0, 7000.0, 300)
    >>> v = np.full((5, wl.size), 0.01)
    >>> v[:, np.abs(wl - 6564.6) < 8] = 1.0                          # the model looks at H-alpha
    >>> table = line_importance(v, wl, n_boot=0)
    >>> fig = plot_line_importance({"W1": table}, wl, 1.0 + 0.1 * np.sin(wl / 100.0), attributions={"W1": v.mean(0)})
    >>> len(fig.axes)
    1
    >>> plt.close(fig)
    """
    fig, ax = _grid(len(tables), 1, axes, PAGE_WIDTH)
    if axes is None:
        fig.set_figheight(1.5 * len(tables) + 0.4)
    s = 1.0 + redshift
    for i, (name, table) in enumerate(tables.items()):
        axi = ax[i, 0]
        pos = table["excess"].clip(lower=0.0)
        scale = float(pos.max()) or 1.0
        for _line, row in table.iterrows():
            alpha = 0.05 + 0.8 * float(max(row["excess"], 0.0)) / scale
            axi.axvspan((row["wavelength"] - row["half_width"]) * s, (row["wavelength"] + row["half_width"]) * s,
                        color=PALETTE["vermillion"], alpha=alpha, lw=0)
        axi.plot(wavelength, spectrum, color="0.2", lw=0.6)
        lo, hi = np.nanmin(spectrum), np.nanmax(spectrum)
        axi.set_ylim(lo - 0.35 * (hi - lo), hi + 0.25 * (hi - lo))
        axi.minorticks_on()
        if attributions is not None and name in attributions:
            att = np.asarray(attributions[name], dtype=float)
            axi.fill_between(wavelength, lo - 0.35 * (hi - lo), lo - 0.35 * (hi - lo) +
                             0.3 * (hi - lo) * att / (att.max() or 1.0), color=PALETTE["blue"], alpha=0.45, lw=0)
        for rank, (_line, row) in enumerate(table.head(top).iterrows()):   # staggered so labels never collide
            axi.annotate(f"{rank + 1}. {row['label']}", (row["wavelength"] * s, hi + 0.22 * (hi - lo)),
                         xytext=(2, -7.5 * rank), textcoords="offset points", ha="left", va="top", fontsize=6,
                         color=PALETTE["vermillion"],
                         bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
        axi.text(0.995, 0.95, str(name), transform=axi.transAxes, va="top", ha="right", fontweight="bold")
        axi.set_ylabel("flux")
        axi.set_xlim(wavelength[0], wavelength[-1])
    ax[-1, 0].set_xlabel(r"wavelength [$\mathrm{\AA}$]" + (" (observed)" if redshift else ""))
    return fig
