"""Figures of the ``band_utilization`` study: one function per figure; each reads step outputs only.

``outputs`` is the dict of :func:`interpret.studies.band_utilization.steps.run_all` (or anything with
``.load(key)`` returning the same objects, e.g. a run context); :data:`NEEDS` lists the keys each figure reads.
Every function draws in the shared style and returns the Figure (close it when done).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._figures import get_output as _get
from .._figures import styled as _styled
from .._models import panel as _panel

__all__ = ["FIGURES", "CAPTIONS", "NEEDS", "LABELS", "fig_predictions", "fig_ablation", "fig_subset_metrics",
           "fig_shapley", "fig_interactions", "fig_attribution"]

#: Axis labels of the subset metrics.
LABELS = {"sigma_nmad": r"$\sigma_\mathrm{NMAD}$", "outlier_fraction": r"$\eta$ (outlier fraction)",
          "bias": r"bias $\langle\Delta z/(1+z)\rangle$", "rmse": "RMSE (redshift)"}


def _figure(ncols: int, width: float, height: float, **kw: Any) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, height), layout="constrained", squeeze=False, **kw)
    return fig, axes[0]


@_styled
def fig_predictions(outputs: Any) -> Any:
    """Held-out z_phot against z_true of the photo-z network, with bias, sigma_NMAD and eta."""
    from ...plots.metrics import plot_predictions

    fig, axes = _figure(1, 3.5, 3.5)
    plot_predictions(_get(outputs, "prediction_report"), ax=axes[0])
    axes[0].set(xlabel=r"true redshift $z_\mathrm{true}$", ylabel=r"photometric redshift $z_\mathrm{phot}$")
    axes[0].set_title(f"CNN + magnitudes, all {len(_get(outputs, 'bands'))} bands (held out)", loc="left")
    return fig


@_styled
def fig_ablation(outputs: Any) -> Any:
    """Masking (each fill) beside retraining: change of sigma_NMAD without each band or band group."""
    from matplotlib.ticker import MaxNLocator

    from ...plots._style import PAGE_WIDTH
    from ...plots.ablation import plot_ablation_comparison

    strategies = _get(outputs, "params").strategies
    masking, retrain = _get(outputs, "masking"), _get(outputs, "retrain")
    n_rows = len(retrain.table) - 1
    fig, axes = _figure(len(strategies), PAGE_WIDTH if len(strategies) > 1 else 3.6, 0.26 * n_rows + 1.6,
                        sharey=True)
    for k, (ax, strategy) in enumerate(zip(axes, strategies)):
        plot_ablation_comparison(masking[strategy], retrain, "sigma_nmad", ax=ax)
        ax.set_xlabel(r"$\Delta\sigma_\mathrm{NMAD}$ vs. all bands (dimensionless)")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        _panel(ax, "abcd"[k])
    names = _get(outputs, "subset_metrics").drop_duplicates("label").set_index("label")["subset"]
    axes[0].set_yticks(axes[0].get_yticks(), [names.get(t.get_text(), t.get_text())
                                              for t in axes[0].get_yticklabels()])
    return fig


def _mode_label(mode: str) -> str:
    return f"masked ({mode.removeprefix('mask_')})" if mode.startswith("mask_") else "retrained (photometry)"


@_styled
def fig_subset_metrics(outputs: Any) -> Any:
    """bias, sigma_NMAD and eta per band subset, for every masking fill and for retraining."""
    from ...plots._style import PAGE_WIDTH, color_cycle

    tab, modes = _get(outputs, "subset_metrics"), _get(outputs, "modes")
    order = list(dict.fromkeys(tab["subset"]))
    fig, axes = _figure(3, PAGE_WIDTH, 0.22 * len(order) + 1.5, sharey=True)
    markers = dict(zip(modes, "osD^v"))
    colors = dict(zip(modes, color_cycle()))
    pos = {s: len(order) - 1 - i for i, s in enumerate(order)}
    for k, (ax, metric) in enumerate(zip(axes, ("bias", "sigma_nmad", "outlier_fraction"))):
        for j, (mode, grp) in enumerate(tab.groupby("mode", sort=False)):
            y = np.array([pos[s] for s in grp["subset"]]) + 0.22 * (j - (len(markers) - 1) / 2)
            ax.scatter(grp[metric], y, marker=markers[mode], color=colors[mode], s=14, label=_mode_label(mode),
                       zorder=3)
        if metric == "bias":
            ax.axvline(0, color="k", lw=0.6)
        ax.set_xlabel(LABELS[metric])
        ax.grid(axis="y", color="0.9", lw=0.5)
        _panel(ax, "abc"[k])
    axes[0].set_yticks(list(pos.values()), list(pos.keys()))
    axes[0].tick_params(axis="y", which="minor", left=False, right=False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=len(markers), handletextpad=0.2)
    return fig


@_styled
def fig_shapley(outputs: Any) -> Any:
    """Exact band Shapley values (decrease of each error metric) with bootstrap errors."""
    from ...plots._style import PAGE_WIDTH
    from ...plots.ablation import _metric_label, plot_shapley

    p, results = _get(outputs, "params"), _get(outputs, "shapley")
    metrics = p.shapley_metrics
    fig, axes = _figure(len(metrics), PAGE_WIDTH if len(metrics) > 1 else 3.5, 2.6)
    for k, (ax, metric) in enumerate(zip(axes, metrics)):
        r = results[metric]
        plot_shapley(r, ax=ax)
        unit = " (redshift)" if metric == "rmse" else ""
        ax.set_ylabel(f"Shapley value: decrease of\n{_metric_label(metric)}{unit} (> 0: helps)")
        ax.set_title(f"Σ = v(none) − v(all) = {r.v_none - r.v_all:.3g}\n±1σ: {r.details['n_boot']} bootstraps",
                     loc="left", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
        _panel(ax, "abc"[k])
    fig.suptitle(f"Exact band Shapley values ({p.shapley_strategy} fill, {2 ** len(results[metrics[0]].values)} "
                 "subsets, "
                 f"{results[metrics[0]].details['n_samples']} held-out galaxies)", fontsize=8)
    return fig


@_styled
def fig_interactions(outputs: Any) -> Any:
    """Pairwise Shapley interaction indices of the bands (first Shapley metric)."""
    from ...plots.ablation import _metric_label, plot_interactions

    r = _get(outputs, "shapley")[_get(outputs, "params").shapley_metrics[0]]
    fig, axes = _figure(1, 4.6, 3.9)
    ax = axes[0]
    plot_interactions(r, ax=ax, annotate=False)
    mat = r.interactions.to_numpy(float)
    vmax = float(np.nanmax(np.abs(mat))) or 1.0
    for i, j in zip(*np.nonzero(np.isfinite(mat))):
        ax.text(j, i, f"{1e3 * mat[i, j]:.3g}", ha="center", va="center", fontsize=5.5,
                color="white" if abs(mat[i, j]) > 0.6 * vmax else "black")
    ax.set_title(f"Pairwise Shapley interactions ({_metric_label(r.metric)}; cells "
                 "$\\times 10^3$);\nnegative: the pair lowers the error more together", loc="left", fontsize=8)
    return fig


@_styled
def fig_attribution(outputs: Any) -> Any:
    """Per-band share of |integrated gradients| (image channel vs magnitude) beside the Shapley share."""
    from ...plots._style import PALETTE
    from ...plots.ablation import _metric_label

    a = _get(outputs, "attribution").set_index("band")
    shap = _get(outputs, "shapley")[_get(outputs, "params").shapley_metrics[0]].values
    shap_share = shap.clip(lower=0) / shap.clip(lower=0).sum()
    fig, axes = _figure(1, 3.6, 2.8)
    ax, x = axes[0], np.arange(len(a))
    ax.bar(x - 0.2, a["image_share"], 0.38, color=PALETTE["blue"], label="IG: image channel")
    ax.bar(x - 0.2, a["magnitude_share"], 0.38, bottom=a["image_share"], color=PALETTE["skyblue"],
           label="IG: magnitude")
    ax.bar(x + 0.2, shap_share.reindex(a.index).to_numpy(), 0.38, color=PALETTE["orange"],
           label=f"Shapley ({_metric_label(shap.name)} decrease; < 0 shown as 0)")
    ax.set_xticks(x, list(a.index))
    ax.tick_params(axis="x", which="minor", bottom=False, top=False)
    ax.set_ylabel("share of total (per band)")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=1, fontsize=6.5, handlelength=1.0)
    ax.text(0.98, 0.97, f"IG on {int(a['n_galaxies'].iloc[0])} held-out galaxies", transform=ax.transAxes,
            ha="right", va="top", fontsize=6.5)
    return fig


#: The figures in report order (the runner saves each as ``<name without 'fig_'>.png``).
FIGURES = [fig_predictions, fig_ablation, fig_subset_metrics, fig_shapley, fig_interactions, fig_attribution]

#: What each figure reads from the step outputs.
NEEDS = {"predictions": ("prediction_report", "bands"), "ablation": ("params", "masking", "retrain", "subset_metrics"),
         "subset_metrics": ("subset_metrics", "modes"), "shapley": ("params", "shapley"),
         "interactions": ("params", "shapley"), "attribution": ("params", "attribution", "shapley")}

#: The report caption of each figure: the first paragraph of its docstring, on one line.
CAPTIONS = {f.__name__.removeprefix("fig_"): " ".join((f.__doc__ or "").strip().split("\n\n")[0].split())
            for f in FIGURES}
