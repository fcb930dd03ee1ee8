"""Figures of the mock universe: cutout gallery, example spectra with lines marked, colour–mass diagram and
the planted causal graph. Each takes a :class:`interpret.mock.Universe` (or its truth) and returns the figure.

Examples
--------
>>> import interpret as ip
>>> u = ip.mock.make_universe(n=12, seed=0, progress=False)
>>> fig = plot_colour_mass(u)
>>> fig = plot_gallery(u, n=3)
>>> import matplotlib.pyplot as plt; plt.close("all")
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._style import COLUMN_WIDTH, PAGE_WIDTH, PALETTE, get_ax, style

__all__ = ["plot_gallery", "plot_spectrum", "plot_colour_mass", "plot_truth_dag"]

#: Hand layout of the physical layer (rows = generations), chosen so no edge passes behind a node.
_PHYSICAL_POS: dict[str, tuple[float, float]] = {
    "redshift": (0.0, 3), "log_mstar": (2.0, 3), "position_angle": (4.6, 3),
    "is_quiescent": (-0.6, 2), "metallicity": (3.5, 2), "agn_frac": (4.6, 2),
    "log_sfr": (-0.3, 1), "age": (1.6, 1), "r_eff": (2.6, 1), "bulge_frac": (3.7, 1),
    "dust_av": (0.4, 0), "sersic_n": (3.0, 0), "axis_ratio": (4.3, 0),
}


def plot_gallery(universe, idx: Sequence[int] | None = None, *, n: int = 6,
                 bands: Sequence[str] | None = None) -> Figure:
    """Grid of cutouts: one row per galaxy, one column per band (asinh stretch in units of each panel's noise).

    Parameters
    ----------
    universe : Universe
        With images.
    idx : sequence of int, optional
        Galaxies to show (default: ``n`` spread over stellar mass).
    n : int, default 6
    bands : sequence of str, optional
        Bands to show (default all).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from interpret.mock import make_universe
    >>> u = make_universe(n=4, seed=0, spectra=False, progress=False)
    >>> fig = plot_gallery(u, n=2, bands=["g", "r", "W1"])
    >>> len(fig.axes)                           # 2 galaxies x 3 bands
    6
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    if universe.images is None:
        raise ValueError("plot_gallery(): the universe has no images; make it with images=True")
    names = list(bands or universe.bands.names)
    cols = [universe.bands.index(b) for b in names]
    if idx is None:
        order = np.argsort(universe.catalog["log_mstar"].to_numpy())
        idx = order[np.linspace(0, len(order) - 1, min(n, len(order))).astype(int)][::-1]
    idx = list(idx)
    with style():
        fig, axes = plt.subplots(len(idx), len(cols), figsize=(PAGE_WIDTH, PAGE_WIDTH * len(idx) / len(cols)),
                                 squeeze=False, gridspec_kw={"wspace": 0.03, "hspace": 0.03})
        for r, gal in enumerate(idx):
            for c, (b, name) in enumerate(zip(cols, names)):
                img = universe.images[gal, b]
                sigma = max(1.4826 * float(np.median(np.abs(img - np.median(img)))), 1e-12)  # robust noise
                top = max(float(np.arcsinh(img.max() / sigma)), 3.0)
                ax = axes[r, c]
                ax.imshow(np.arcsinh(img / sigma), origin="lower", cmap="magma", vmin=-1.0, vmax=top)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.minorticks_off()
                if r == 0:
                    ax.set_title(name)
                if c == 0:
                    row = universe.catalog.iloc[gal]
                    ax.set_ylabel(f"z={row['redshift']:.2f}\nlogM={row['log_mstar']:.1f}", fontsize=7)
    return fig


def plot_spectrum(universe, i: int = 0, *, ax: Axes | None = None, rest_frame: bool = False,
                  lines: bool = True) -> Figure:
    """One galaxy's spectrum with the catalogue's spectral lines marked at their (redshifted) wavelengths.

    Parameters
    ----------
    universe : Universe
        With spectra.
    i : int, default 0
        Galaxy (row position).
    ax : matplotlib Axes, optional
    rest_frame : bool, default False
        Plot against rest-frame wavelength.
    lines : bool, default True
        Mark emission (blue) and absorption (red) lines inside the range.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from interpret.mock import make_universe
    >>> u = make_universe(n=2, seed=0, images=False, progress=False)
    >>> fig = plot_spectrum(u, 0, rest_frame=True)
    >>> plt.close(fig)
    """
    from ..data.lines import lines_in_range

    if universe.spectra is None:
        raise ValueError("plot_spectrum(): the universe has no spectra; make it with spectra=True")
    z = float(universe.catalog["redshift"].iloc[i])
    wave = universe.wavelength / (1 + z) if rest_frame else universe.wavelength
    fig, ax = get_ax(ax, figsize=(PAGE_WIDTH, 2.4))
    with style():
        flux = universe.spectra[i]
        ax.plot(wave, flux, lw=0.5, color="0.2")
        lo, hi = np.percentile(flux, [0.5, 99.8])
        ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.25 * (hi - lo))
        if lines:
            for line in lines_in_range(universe.wavelength[0], universe.wavelength[-1], redshift=z):
                at = line.wavelength if rest_frame else line.wavelength * (1 + z)
                color = PALETTE["blue"] if line.kind == "emission" else PALETTE["vermillion"]
                ax.axvline(at, color=color, lw=0.6, alpha=0.6, ls="--" if line.kind != "emission" else "-")
                ax.text(at, ax.get_ylim()[1], line.label, rotation=90, va="top", ha="right", fontsize=5,
                        color=color)
        frame = "rest" if rest_frame else "observed"
        ax.set_xlabel(f"{frame}-frame wavelength [Å]")
        ax.set_ylabel(r"$f_\lambda$ [$10^{-17}$ erg s$^{-1}$ cm$^{-2}$ Å$^{-1}$]")
        ax.set_title(f"galaxy {i}: z = {z:.3f}, log M* = {universe.catalog['log_mstar'].iloc[i]:.2f}", loc="left")
    return fig


def plot_colour_mass(universe, colour: tuple[str, str] = ("u", "r"), *, ax: Axes | None = None) -> Figure:
    """Observed colour against stellar mass, star-forming and quiescent galaxies coloured apart.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from interpret.mock import make_universe
    >>> u = make_universe(n=50, seed=0, images=False, spectra=False, progress=False)
    >>> fig = plot_colour_mass(u, colour=("g", "r"))
    >>> fig.axes[0].get_ylabel()
    'g − r [mag]'
    >>> plt.close(fig)
    """
    cat = universe.catalog
    fig, ax = get_ax(ax, figsize=(COLUMN_WIDTH, COLUMN_WIDTH * 0.8))
    with style():
        col = cat[colour[0]] - cat[colour[1]]
        q = cat["is_quiescent"].to_numpy().astype(bool)
        for mask, label, color in ((~q, "star-forming", PALETTE["blue"]), (q, "quiescent", PALETTE["vermillion"])):
            ax.scatter(cat["log_mstar"][mask], col[mask], s=3, alpha=0.6, color=color, label=label, lw=0)
        ax.set_xlabel(r"$\log_{10} M_\ast$ [M$_\odot$]")
        ax.set_ylabel(f"{colour[0]} − {colour[1]} [mag]")
        ax.legend(loc="upper left", markerscale=3)
    return fig


def plot_truth_dag(truth, *, ax: Axes | None = None, observed: bool = False) -> Figure:
    """The planted causal graph (physical layer; ``observed=True`` adds magnitudes and line fluxes).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from interpret.mock import make_universe
    >>> u = make_universe(n=4, seed=0, images=False, spectra=False, progress=False)
    >>> fig = plot_truth_dag(u.truth)
    >>> plt.close(fig)
    """
    import networkx as nx

    from ..mock.population import PARENTS

    dag = nx.DiGraph(truth.dag if observed else truth.dag.subgraph(list(PARENTS)))   # a copy: never mutate truth
    fig, ax = get_ax(ax, figsize=(PAGE_WIDTH if observed else COLUMN_WIDTH * 1.4,) * 2)
    with style():
        if set(dag.nodes) == set(_PHYSICAL_POS):
            pos = dict(_PHYSICAL_POS)
        else:
            for n in nx.topological_sort(dag):   # layer = longest path from a root
                dag.nodes[n]["layer"] = 1 + max((dag.nodes[p]["layer"] for p in dag.predecessors(n)), default=-1)
            pos = nx.multipartite_layout(dag, subset_key="layer", align="horizontal", scale=1.0)
            pos = {k: (v[0], -v[1]) for k, v in pos.items()}
        nx.draw_networkx_edges(dag, pos, ax=ax, arrowsize=8, edge_color="0.55", width=0.7, node_size=900,
                               connectionstyle="arc3,rad=0.12")   # curved: no edge hides behind a node
        nx.draw_networkx_labels(dag, pos, ax=ax, font_size=6,
                                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": PALETTE["blue"], "lw": 0.6})
        ax.set_axis_off()
        ax.set_title("Planted causal graph", loc="left")
    return fig

