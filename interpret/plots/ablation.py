"""Figures for band ablation: Δmetric per band (masking vs retraining), Shapley bars, interaction heatmap.

Every function takes result objects from :mod:`interpret.ablation` and an optional ``ax``, and returns the
figure; nothing is computed here.

Examples
--------
>>> import numpy as np
>>> from interpret.ablation import band_shapley
>>> x = np.random.default_rng(0).normal(size=(100, 3))
>>> s = band_shapley(lambda a: a[:, 0] + 0.5 * a[:, 1], x, x[:, 0], bands=["g", "r", "i"], progress=False)
>>> fig = plot_shapley(s)
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""
from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from ._style import PALETTE, get_ax, style

__all__ = ["plot_ablation", "plot_ablation_comparison", "plot_shapley", "plot_interactions"]


def _metric_label(metric: str) -> str:
    return {"rmse": "RMSE", "sigma_nmad": r"$\sigma_\mathrm{NMAD}$", "outlier_fraction": "outlier fraction",
            "bias": "bias", "mae": "MAE", "r2": "$R^2$"}.get(metric, metric)


def plot_ablation(result, metric: str | None = None, *, ax: Axes | None = None) -> Figure:
    """Horizontal bars of ``delta_<metric>`` (subset minus full set) for every subset but the full one.

    Parameters
    ----------
    result : AblationResult
    metric : str, optional
        Default: the result's first metric.
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.ablation import band_ablation
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> y = x[:, 0] + 0.5 * x[:, 1]
    >>> r = band_ablation(lambda a: a[:, 0] + 0.5 * a[:, 1], x, y, bands=["g", "r", "i"], metrics="rmse",
    ...                   progress=False)
    >>> fig = plot_ablation(r)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['-g', '-r', '-i']
    >>> plt.close(fig)
    """
    metric = result._metric(metric)
    rows = result.table.iloc[1:]
    height = max(1.6, 0.22 * len(rows) + 0.8)
    fig, ax = get_ax(ax, figsize=(3.5, height))
    with style():
        delta = rows[f"delta_{metric}"].to_numpy()
        colors = [PALETTE["vermillion"] if d > 0 else PALETTE["blue"] for d in delta]
        pos = np.arange(len(rows))[::-1]
        ax.barh(pos, delta, color=colors, height=0.7)
        ax.set_yticks(pos, rows["label"].tolist())
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel(rf"$\Delta$ {_metric_label(metric)} vs. all bands")
        ax.yaxis.set_minor_locator(_null())
        what = f"{result.mode}" + (f" ({result.strategy})" if result.strategy else "")
        ax.set_title(f"Band ablation: {what}", loc="left")
    return fig


def _null():
    from matplotlib.ticker import NullLocator

    return NullLocator()


def plot_ablation_comparison(masked, retrained, metric: str | None = None, *, ax: Axes | None = None) -> Figure:
    """Δmetric per subset, masking (what the model relies on) beside retraining (what the bands carry).

    Parameters
    ----------
    masked, retrained : AblationResult
        ``mode="mask"`` and ``mode="retrain"`` results over (partly) the same subsets.
    metric : str, optional
        Metric present in both (default: the first common one).
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.ablation import RetrainSpec, band_ablation
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> y = x[:, 0] + 0.5 * x[:, 1]
    >>> from sklearn.linear_model import LinearRegression
    >>> kw = dict(bands=["g", "r", "i"], metrics="rmse", progress=False)
    >>> masked = band_ablation(lambda a: a[:, 0] + 0.5 * a[:, 1], x, y, **kw)
    >>> retrained = band_ablation(None, x, y, retrain=RetrainSpec(lambda a, b: LinearRegression().fit(a, b)),
    ...                           seed=0, **kw)
    >>> fig = plot_ablation_comparison(masked, retrained)
    >>> len(fig.axes[0].patches)                # masked and retrained bar per subset
    6
    >>> plt.close(fig)
    """
    from ..ablation.compare import compare_modes

    both = compare_modes(masked, retrained, metric).iloc[1:]      # drop the full set (delta 0 by definition)
    metric = metric or next(m for m in masked.metrics if m in retrained.metrics)
    fig, ax = get_ax(ax, figsize=(3.5, max(1.8, 0.3 * len(both) + 0.9)))
    with style():
        pos = np.arange(len(both))[::-1]
        ax.barh(pos + 0.18, both[f"delta_{metric}_mask"], height=0.36, color=PALETTE["vermillion"],
                label=f"masked ({masked.strategy}): model relies on")
        ax.barh(pos - 0.18, both[f"delta_{metric}_retrain"], height=0.36, color=PALETTE["blue"],
                label="retrained: information carried")
        ax.set_yticks(pos, both.index.tolist())
        ax.yaxis.set_minor_locator(_null())
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel(rf"$\Delta$ {_metric_label(metric)} vs. all bands")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2)
    return fig


def plot_shapley(result, *, ax: Axes | None = None) -> Figure:
    """Shapley value per band (positive = the band helps), with ±1 standard-error bars when available.

    Parameters
    ----------
    result : ShapleyResult
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.ablation import band_shapley
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> y = x[:, 0] + 0.5 * x[:, 1]
    >>> s = band_shapley(lambda a: a[:, 0] + 0.5 * a[:, 1], x, y, bands=["g", "r", "i"], metric="rmse",
    ...                  progress=False)
    >>> fig = plot_shapley(s)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['g', 'r', 'i']
    >>> plt.close(fig)
    """
    bands = list(result.bands)
    values = result.values.to_numpy()
    err = None if result.standard_errors is None else result.standard_errors.to_numpy()
    fig, ax = get_ax(ax, figsize=(3.5, 2.4))
    with style():
        colors = [PALETTE["blue"] if v > 0 else PALETTE["vermillion"] for v in values]
        ax.bar(np.arange(len(bands)), values, yerr=err, color=colors, width=0.7,
               error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "k"})
        ax.set_xticks(np.arange(len(bands)), bands)
        ax.xaxis.set_minor_locator(_null())
        ax.axhline(0, color="k", lw=0.8)
        ax.set_ylabel(shapley_label(result))
        how = "exact" if result.exact else f"{result.n_permutations} permutations"
        diff = "v(all) − v(none)" if result.greater_is_better else "v(none) − v(all)"
        ax.set_title(f"{how}; sum = {diff} = {result.gain:.3g}", loc="left")
    return fig


def shapley_label(result) -> str:
    """Axis label of Shapley values: what a positive value means, in the metric's words."""
    what = "increase" if result.greater_is_better else "decrease"
    return f"Shapley value: {what} of {_metric_label(result.metric)}\n(positive = band helps)"


def plot_interactions(result, *, ax: Axes | None = None, annotate: bool | None = None) -> Figure:
    """Heatmap of pairwise Shapley interaction indices (diverging colours centred on zero).

    Parameters
    ----------
    result : ShapleyResult
    ax : matplotlib Axes, optional
    annotate : bool, optional
        Write the values in the cells (default: for at most 10 bands).

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.ablation import band_shapley
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> y = x[:, 0] + 0.5 * x[:, 1]
    >>> s = band_shapley(lambda a: a[:, 0] * a[:, 1], x, x[:, 0] * x[:, 1], bands=["g", "r", "i"],
    ...                  metric="rmse", progress=False)
    >>> fig = plot_interactions(s)
    >>> fig.axes[0].images[0].get_array().shape
    (3, 3)
    >>> plt.close(fig)
    """
    bands = list(result.bands)
    mat = result.interactions.to_numpy(dtype=float)
    fig, ax = get_ax(ax, figsize=(3.5, 3.0))
    with style():
        finite = mat[np.isfinite(mat)]
        vmax = float(np.max(np.abs(finite))) if finite.size and np.any(finite) else 1.0
        image = ax.imshow(np.ma.masked_invalid(mat), cmap="RdBu_r",
                          norm=TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax))
        ax.set_xticks(np.arange(len(bands)), bands)
        ax.set_yticks(np.arange(len(bands)), bands)
        ax.tick_params(which="minor", bottom=False, top=False, left=False, right=False)
        ax.tick_params(top=False, right=False)
        fig.colorbar(image, ax=ax, label=f"interaction ({_metric_label(result.metric)})", shrink=0.85)
        if annotate if annotate is not None else len(bands) <= 10:
            for i in range(len(bands)):
                for j in range(len(bands)):
                    if np.isfinite(mat[i, j]):
                        ax.text(j, i, f"{mat[i, j]:.2g}", ha="center", va="center", fontsize=5,
                                color="white" if abs(mat[i, j]) > 0.6 * vmax else "black")
        ax.set_title("Pairwise Shapley interactions", loc="left")
    return fig
