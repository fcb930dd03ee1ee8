"""Figures of the ``stellar_mass`` study: one function per figure; each reads step outputs only and returns a Figure.

``outputs`` is the dict of :func:`interpret.studies.stellar_mass.steps.run_all` (or anything with
``.load(key)`` returning the same objects, e.g. a run context). ``NEEDS`` says which keys each figure reads;
optional ones (``pointwise``, ``attribution_growth``, ``local``) are drawn as a note or left out when absent.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import interpret as ip

from .._figures import get_output as _get
from .._models import panel as _panel
from .steps import MODEL_LABEL, PAIR_LABEL, PRED

__all__ = ["FIGURES", "CAPTIONS", "NEEDS", "MASS_LABEL", "fig_predictions", "fig_causal_graphs",
           "fig_edge_stability", "fig_pid", "fig_pointwise", "fig_attribution", "fig_local_dependence"]

MASS_LABEL = r"$\log_{10}(M_*/\mathrm{M}_\odot)$"


def _figure(ncols: int, nrows: int = 1, width: float | None = None, height: float = 3.0, **kw: Any
            ) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    from interpret.plots._style import PAGE_WIDTH

    fig, axes = plt.subplots(nrows, ncols, figsize=(width or PAGE_WIDTH, height), layout="constrained",
                             squeeze=False, **kw)
    return fig, axes


def fig_predictions(outputs: Any) -> Any:
    """Held-out predicted vs true stellar mass of the image CNN and the photometry model."""
    cat, pred, p = _get(outputs, "data").catalog, _get(outputs, "predictions"), _get(outputs, "params")
    test = pred["test"]
    y = cat["log_mstar"].to_numpy(float)[test]
    fig, axes = _figure(2, height=3.5)
    for ax, key, k in zip(axes[0], PRED, "ab"):
        rep = ip.metrics.evaluate(y, pred[PRED[key]][test], threshold=p.mass_outlier_dex,
                                  quantity="log M*")
        ip.plots.metrics.plot_predictions(rep, ax=ax)
        ax.set(xlabel=f"true {MASS_LABEL}", ylabel=f"{MODEL_LABEL[key]} {MASS_LABEL}")
        inputs = "u g r i z cutouts" if key == "cnn" else "magnitudes" + (" + spec-z" if p.phot_redshift else "")
        ax.set_title(f"{MODEL_LABEL[key]} ({inputs})", loc="left", pad=12)
        _panel(ax, k)
    return fig


def _rows_for(freq: pd.DataFrame) -> list[list[str]]:
    tiers = freq.attrs["tiers"]
    obs = tiers[2]
    half = (len(obs) + 1) // 2
    return [tiers[0], tiers[1], obs[:half], obs[half:], tiers[3]] if len(obs) > 4 else list(tiers)


def fig_causal_graphs(outputs: Any) -> Any:
    """PC and FCI graphs from bootstrap frequencies (modal mark of each pair, frequency on the edge)."""
    p = _get(outputs, "params")
    methods = p.causal_methods
    fig, axes = _figure(len(methods), height=4.2)
    s = _get(outputs, "causal_summary").set_index("method")
    for ax, method, k in zip(axes[0], methods, "abcd"):
        freq = _get(outputs, f"stability_{method}")
        ip.plots.causal.plot_graph(freq, min_frequency=float(p.min_edge_frequency), tiers=_rows_for(freq), ax=ax)
        shd = f"; SHD to truth {int(s.loc[method, 'shd'])}" if "shd" in s else ""
        ax.set_title(f"{method.upper()} ({freq.attrs['test']}, α = {freq.attrs['alpha']}){shd}\nedges in ≥ "
                     f"{p.min_edge_frequency:.0%} of {freq.attrs['n_boot']} bootstraps; numbers: "
                     "frequency", loc="left", fontsize=7)
        _panel(ax, k)
    return fig


def fig_edge_stability(outputs: Any) -> Any:
    """Bootstrap frequency of each endpoint mark, PC beside FCI (pairs adjacent in >= 10 % of resamples)."""
    methods = _get(outputs, "params").causal_methods
    freqs = {m: _get(outputs, f"stability_{m}") for m in methods}
    n = max(int(((1 - f["absent"]) >= 0.1).sum()) for f in freqs.values())
    fig, axes = _figure(len(methods), height=0.2 * n + 1.4)
    for ax, method, k in zip(axes[0], methods, "abcd"):
        ip.plots.causal.plot_edge_stability(freqs[method], kind="bar", min_frequency=0.1, ax=ax)
        ax.tick_params(axis="y", labelsize=6)
        _panel(ax, k)
    return fig


def fig_pid(outputs: Any) -> Any:
    """PID of the true mass for each source pair: several measures (binned, bootstrap CIs) and kNN (bits)."""
    done = _get(outputs, "pid")
    pairs = [pr for pr in _get(outputs, "params").pid_pairs if any(k[0] == pr for k in done)]
    fig, axes = _figure(len(pairs), height=3.2, sharey=True)
    for j, (ax, pair) in enumerate(zip(axes[0], pairs)):
        res = {("kNN\n(MMI)" if m == "knn" else m): r for (pr, m), r in done.items() if pr == pair}
        ip.plots.pid.plot_measure_comparison(res, ax=ax)
        handles = ax.get_legend().legend_handles
        ax.get_legend().remove()
        a, b = PAIR_LABEL[pair].split(" vs ")
        ax.set_title(f"1 = {a}\n2 = {b}", loc="left", fontsize=7)
        ax.tick_params(axis="x", labelsize=6.5)
        ax.set_ylabel(f"information about true {MASS_LABEL} (bits)" if j == 0 else "")
        _panel(ax, "abcd"[j])
    lo, hi = axes[0, 0].get_ylim()
    axes[0, 0].set_ylim(lo, hi + 0.08 * (hi - lo))
    labels = ["redundancy", "unique to 1", "unique to 2", "synergy", "I(mass; 1, 2)"]
    fig.legend(handles, labels[:len(handles)], loc="outside lower center", ncol=len(handles), fontsize=7)
    return fig


def fig_pointwise(outputs: Any) -> Any:
    """Per-galaxy neural PID atoms (mean in bins of true mass), stacked."""
    from interpret.plots import pid_pointwise
    from interpret.plots._style import COLUMN_WIDTH

    cat, pred = _get(outputs, "data").catalog, _get(outputs, "predictions")
    fig, axes = _figure(1, width=COLUMN_WIDTH + 0.4, height=3.1)
    r = _get(outputs, "pointwise", None)
    if r is None:
        axes[0, 0].text(0.5, 0.5, "pointwise PID not run", ha="center", transform=axes[0, 0].transAxes)
        return fig
    mass = pd.Series(cat["log_mstar"].to_numpy(float)[pred["analysis"]], name="log_mstar")
    pid_pointwise.plot_pointwise_binned(r, mass, bins=6, label=f"true {MASS_LABEL}", ax=axes[0, 0])
    ax = axes[0, 0]
    ax.set_ylabel("mean information per galaxy (bits)")
    a, b = r.sources
    names = {f"{{{a}}}{{{b}}}": "redundancy", f"{{{a}}}": f"unique {a}", f"{{{b}}}": f"unique {b}",
             f"{{{a},{b}}}": "synergy", "joint I": "joint information"}
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, [names.get(x, x) for x in labels], ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.01),
              fontsize=6.5, handlelength=1.2, columnspacing=0.8,
              title=f"per-galaxy neural PID ({r.details.get('n_classes', '?')} mass classes, cross-fitted)",
              title_fontsize=6.5)
    return fig


def fig_attribution(outputs: Any) -> Any:
    """CNN integrated gradients: share per band, radial profile, and attribution vs light inside R_e."""
    from interpret.plots._style import PALETTE

    attr, bands, p = _get(outputs, "attribution"), _get(outputs, "bands"), _get(outputs, "params")
    g = _get(outputs, "attribution_growth", None)
    fig, axes = _figure(2 if g is None else 3, height=2.8)
    ip.plots.attribution.plot_band_bars(attr, bands, ax=axes[0, 0])
    lo = min(axes[0, 0].get_ylim()[0], -0.05)
    axes[0, 0].set_ylim(lo - 0.25 * (axes[0, 0].get_ylim()[1] - lo), None)
    axes[0, 0].legend(loc="lower right", fontsize=6.5)
    axes[0, 0].set_ylabel("share of the CNN's attribution")
    ip.plots.attribution.plot_radial_profiles(attr, bands, n_bins=int(p.radial_bins),
                                              pixel_scale=float(p.pixel_scale), ax=axes[0, 1])
    axes[0, 1].set_xlabel("radius from the centre (arcsec)")
    if g is not None:
        ax = axes[0, 2]
        for name, colour, label in (("attribution", PALETTE["vermillion"], "|attribution|"),
                                    ("light", PALETTE["blue"], "light (flux)")):
            ax.fill_between(g["r_over_re"], g[f"{name}_q25"], g[f"{name}_q75"], color=colour, alpha=0.25, lw=0)
            ax.plot(g["r_over_re"], g[f"{name}_median"], "-o", ms=2.5, color=colour, label=label)
        ax.axvline(1.0, color="0.5", lw=0.6, ls=":")
        ax.set(xlim=(0, float(g["r_over_re"].max())), ylim=(0, 1.05), xlabel=r"radius / $R_e$",
               ylabel="share inside radius")
        ax.legend(loc="lower right", fontsize=6.5, title="median, 25-75 %", title_fontsize=6.5)
    for ax, k in zip(axes[0], "abc"):
        _panel(ax, k)
    return fig


def fig_local_dependence(outputs: Any) -> Any:
    """Neighbourhood correlation of true mass with each query in the CNN embedding (given redshift)."""
    local = _get(outputs, "local", {})
    alpha = float(_get(outputs, "params").local_alpha)
    fig, axes = _figure(max(len(local), 1), height=2.4, sharey=True)
    for j, (ax, (q, r)) in enumerate(zip(axes[0], local.items())):
        ip.plots.causal.plot_local_dependence(r, alpha=alpha, ax=ax)
        ax.set_title(f"{q}\ndataset-level p = {r.dataset_p_value:.2g}", fontsize=7.5)
        ax.set_xlabel("")
        ax.legend(loc="upper left", fontsize=6)
        if j:
            ax.set_ylabel("")
        _panel(ax, "abcdefg"[j])
    if not local:
        axes[0, 0].text(0.5, 0.5, "no embedding available", ha="center", transform=axes[0, 0].transAxes)
        return fig
    axes[0, 0].set_ylim(0, axes[0, 0].get_ylim()[1] * 1.3)
    first = next(iter(local.values()))
    trend = f" and a linear trend along {first.n_trend} embedding directions" if first.n_trend else ""
    fig.supxlabel(f"correlation of true mass with the query among {first.k} CNN-embedding neighbours, given "
                  f"redshift{trend}", fontsize=8)
    return fig


FIGURES = [fig_predictions, fig_causal_graphs, fig_edge_stability, fig_pid, fig_pointwise, fig_attribution,
           fig_local_dependence]

#: What each figure reads from the step outputs (``pointwise``, ``attribution_growth`` and ``local`` may be
#: absent: the figure then says so or leaves the panel out).
NEEDS = {"predictions": ("data", "predictions", "params"),
         "causal_graphs": ("params", "causal_summary", "stability_pc", "stability_fci"),
         "edge_stability": ("params", "stability_pc", "stability_fci"),
         "pid": ("params", "pid"),
         "pointwise": ("data", "predictions", "pointwise"),
         "attribution": ("attribution", "bands", "params", "attribution_growth"),
         "local_dependence": ("params", "local")}

#: The report caption of each figure: the first paragraph of its docstring, on one line.
CAPTIONS = {f.__name__.removeprefix("fig_"): " ".join((f.__doc__ or "").strip().split("\n\n")[0].split())
            for f in FIGURES}
