"""Figures of the ``photoz`` study: one function per figure; each reads step outputs only and returns a Figure.

``outputs`` is the dict of :func:`interpret.studies.photoz.steps.run_all`, or anything with ``.load(key)``
returning the same objects (the run context); :data:`NEEDS` lists the keys each figure reads (a skipped
step's key holds None and its figure says so). Every function draws in the shared style (close the figure
when done).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._figures import get_output as _get
from .._figures import styled as _styled
from .._models import panel as _panel

__all__ = ["FIGURES", "CAPTIONS", "NEEDS", "fig_predictions", "fig_attribution", "fig_ablation", "fig_shapley",
           "fig_pid", "fig_causal_graph"]


def _figure(ncols: int, height: float = 3.0) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    from ...plots._style import PAGE_WIDTH

    fig, axes = plt.subplots(1, ncols, figsize=(PAGE_WIDTH, height), layout="constrained", squeeze=False)
    return fig, axes[0]


def _skipped(text: str) -> Any:
    """A small placeholder figure for a step the data did not allow."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.5, 1.0))
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.set_axis_off()
    return fig


@_styled
def fig_predictions(outputs: Any) -> Any:
    """Predicted against true redshift on the test rows, with the metrics."""
    from ... import metrics
    from ...plots.metrics import plot_predictions

    cat, split, pred = _get(outputs, "data").catalog, _get(outputs, "split"), _get(outputs, "predictions")
    target, name = _get(outputs, "target"), _get(outputs, "model_name")
    test = split.test
    res = metrics.evaluate(cat[target].to_numpy(float)[test], pred[test], redshift=True,
                           threshold=_get(outputs, "params").outlier_threshold, quantity="redshift")
    fig, axes = _figure(1, height=3.4)
    plot_predictions(res, ax=axes[0])
    axes[0].set(xlabel=r"$z_\mathrm{true}$" + f" ({target})", ylabel=r"$z_\mathrm{phot}$" + f" ({name})")
    fig.set_size_inches(3.6, 3.4)
    return fig


@_styled
def fig_attribution(outputs: Any) -> Any:
    """Attribution per input column (signed mean and share of |attribution|) and per band."""
    frame = _get(outputs, "attribution")
    fig, axes = _figure(2, height=2.8)
    y = np.arange(len(frame))[::-1]
    axes[0].barh(y, frame["mean"], color=["#0072B2" if v > 0 else "#D55E00" for v in frame["mean"]])
    axes[0].set_yticks(y, frame["column"])
    axes[0].axvline(0, color="k", lw=0.8)
    axes[0].set_xlabel("mean attribution (redshift units)\npositive: pushes z_phot above f(baseline)")
    bands = _get(outputs, "attribution_bands")["share"]
    axes[1].bar(np.arange(len(bands)), bands.to_numpy(), color="#009E73")
    axes[1].set_xticks(np.arange(len(bands)), bands.index)
    axes[1].set(xlabel="band", ylabel="share of mean |attribution|")
    for ax, k in zip(axes, "ab"):
        _panel(ax, k)
    method = frame.attrs.get("method", "").replace("_", " ")
    axes[0].set_title(f"{method}, baseline f = {frame.attrs.get('f_baseline', np.nan):.3f}", loc="left")
    return fig


@_styled
def fig_ablation(outputs: Any) -> Any:
    """Leave-one-band-out: σ_NMAD with the band masked in the trained model, and after retraining without it."""
    masked, retrain = _get(outputs, "masking").table, _get(outputs, "retrain")
    fig, axes = _figure(1, height=2.9)
    ax = axes[0]
    labels = [lab.removeprefix("-") for lab in masked["label"].iloc[1:]]
    pos = np.arange(len(labels))[::-1]
    ax.plot(masked["sigma_nmad"].iloc[1:], pos + 0.12, "o", color="#D55E00",
            label=f"masked ({_get(outputs, 'params').strategy} fill): model relies on")
    ax.axvline(masked["sigma_nmad"].iloc[0], color="#D55E00", ls="--", lw=0.8)
    if retrain is not None:
        rt = retrain.set_index("dropped")
        ax.plot([rt.loc[b, "sigma_nmad"] if b in rt.index else np.nan for b in labels], pos - 0.12, "s",
                color="#0072B2", label="retrained without it (HGB): information carried")
        ax.axvline(rt["sigma_nmad"].iloc[0], color="#0072B2", ls="--", lw=0.8)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yticks(pos, labels)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel=r"$\sigma_\mathrm{NMAD}$ without the band (dashed: all bands)", ylabel="band removed")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7, frameon=False)
    fig.set_size_inches(4.6, 3.2)
    return fig


@_styled
def fig_shapley(outputs: Any) -> Any:
    """Exact band Shapley values of σ_NMAD (positive = the band lowers the error), bootstrap errors."""
    from ...plots.ablation import plot_shapley

    fig = plot_shapley(_get(outputs, "shapley"))
    fig.set_size_inches(4.2, 2.8)
    return fig


@_styled
def fig_pid(outputs: Any) -> Any:
    """PID of the redshift between the blue and the red colours (bits)."""
    from ...plots.pid import plot_decomposition

    r = _get(outputs, "pid")
    if r is None:
        return _skipped("PID skipped (see the report's findings)")
    fig = plot_decomposition(r)
    fig.set_size_inches(4.2, 2.6)
    return fig


@_styled
def fig_causal_graph(outputs: Any) -> Any:
    """PC graph over redshift, colours and the prediction: bootstrap edge frequencies."""
    from ...plots.causal import plot_graph

    freq = _get(outputs, "edge_stability")
    if freq is None:
        return _skipped("causal discovery skipped (see the report's findings)")
    return plot_graph(freq, min_frequency=0.5, tiers=freq.attrs["tiers"])


FIGURES = [fig_predictions, fig_attribution, fig_ablation, fig_shapley, fig_pid, fig_causal_graph]

#: What each figure reads from the step outputs (its caption reads the same keys).
NEEDS: dict[str, tuple[str, ...]] = {
    "predictions": ("data", "split", "predictions", "target", "model_name", "params"),
    "attribution": ("attribution", "attribution_bands"),
    "ablation": ("masking", "retrain", "params"),
    "shapley": ("shapley",),
    "pid": ("pid",),
    "causal_graph": ("edge_stability",),
}


def _pred_caption(outputs: Any) -> str:
    n = len(_get(outputs, "split").test)
    return (f"Photometric against true redshift for the {n} test galaxies ({_get(outputs, 'model_name')}); the "
            "inset numbers are bias, σ_NMAD and the outlier fraction η of Δz/(1+z); dashed lines: |Δz|/(1+z) = "
            f"{_get(outputs, 'params').outlier_threshold}.")


CAPTIONS = {
    "predictions": _pred_caption,
    "attribution": "(a) Mean attribution of each input column on test galaxies, measured from the training-set "
                   "mean (positive: the column pushes the prediction above f(baseline)). (b) Each band's share "
                   "of the mean absolute attribution (a colour's share is split between its two bands).",
    "ablation": "σ_NMAD on the test rows when one band (every column derived from it) is removed: masked in the "
                "trained model (what it relies on) or retrained without it (what information it carries). "
                "Further right = worse.",
    "shapley": "Exact Shapley value of each band for σ_NMAD over all band subsets. Sign convention: positive = "
               "the band lowers the error (helps); the values sum to σ_NMAD(no band) − σ_NMAD(all bands). Error "
               "bars: ±1σ over galaxy bootstraps.",
    "pid": "Partial-information decomposition of the redshift between the blue and the red colours, in bits: "
           "redundant (both carry it), unique to each, and synergistic (only together); bars show bootstrap "
           "intervals.",
    "causal_graph": "PC graph over the true redshift, colours and the model's prediction, with background tiers "
                    "redshift → colours → prediction; edges present in ≥ 50 % of bootstraps, labelled with their "
                    "frequency.",
}
