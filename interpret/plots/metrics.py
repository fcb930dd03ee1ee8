"""Figures of a :class:`~interpret.metrics.MetricReport`: predicted vs true values and the PIT histogram."""
from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..exceptions import ValidationError
from ..metrics import MetricReport
from ._style import PAGE_WIDTH, PALETTE, get_ax, style

__all__ = ["plot_predictions", "plot_pit", "plot_metric_report"]

_DENSE = 3000  # above this many points, draw a 2-D histogram instead of a scatter


def _check(report: object, func: str) -> MetricReport:
    if not isinstance(report, MetricReport):
        raise ValidationError(f"{func}(): 'report' must be a MetricReport (from interpret.metrics.evaluate); "
                              f"got {type(report).__name__}")
    return report


def _annotation(report: MetricReport) -> str:
    v = report.values
    unit = r"\Delta z/(1+z)" if report.redshift else r"\Delta"
    lines = [f"N = {report.y_true.size}", f"bias = {v['bias']:+.4f}",
             rf"$\sigma_{{\rm NMAD}} = {v['sigma_nmad']:.4f}$",
             rf"$\eta = {100 * v['outlier_fraction']:.1f}\%$ ($|{unit}| > {report.threshold:g}$)"]
    return "\n".join(lines)


def plot_predictions(report: MetricReport, ax: Axes | None = None) -> Figure:
    """Predicted vs true values with the 1:1 line, the outlier bounds and bias / sigma_NMAD / eta.

    Parameters
    ----------
    report : MetricReport
        From :func:`interpret.metrics.evaluate`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new single-column figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.metrics import evaluate
    >>> z = np.linspace(0, 1, 50)
    >>> fig = plot_predictions(evaluate(z, z + 0.01, redshift=True))
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    report = _check(report, "plot_predictions")
    fig, ax = get_ax(ax, figsize=(3.5, 3.5))
    t, p = report.y_true, report.y_pred
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    pad = 0.03 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, 200)
    with style():
        if t.size > _DENSE:
            ax.hexbin(t, p, gridsize=60, bins="log", mincnt=1, cmap="Blues", extent=(grid[0], grid[-1]) * 2)
        else:
            ax.scatter(t, p, s=4, alpha=0.6, color=PALETTE["blue"], linewidths=0)
        ax.plot(grid, grid, color=PALETTE["black"], lw=0.8)
        scale = (1 + grid) if report.redshift else np.ones_like(grid)
        for sign in (1, -1):
            ax.plot(grid, grid + sign * report.threshold * scale, color=PALETTE["vermillion"], lw=0.7, ls="--")
        ax.set(xlim=(grid[0], grid[-1]), ylim=(grid[0], grid[-1]), aspect="equal",
               xlabel=f"true {report.quantity}", ylabel=f"predicted {report.quantity}")
        ax.text(0.04, 0.96, _annotation(report), transform=ax.transAxes, va="top", ha="left", fontsize=7)
    return fig


def plot_pit(report: MetricReport, ax: Axes | None = None, bins: int = 20) -> Figure:
    """Histogram of PIT values against the uniform density of a calibrated estimator.

    Parameters
    ----------
    report : MetricReport
        Must hold PIT values (``evaluate(..., sigma=...)`` or ``samples=...``).
    ax : matplotlib.axes.Axes, optional
    bins : int, default 20

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.metrics import evaluate
    >>> z = np.linspace(0, 1, 50)
    >>> fig = plot_pit(evaluate(z + 0.01, z, sigma=np.full(50, 0.02), redshift=True))
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    report = _check(report, "plot_pit")
    if report.pit is None:
        raise ValidationError("plot_pit(): the report has no PIT values; build it with "
                              "evaluate(..., sigma=...) or evaluate(..., samples=...)")
    fig, ax = get_ax(ax)
    with style():
        ax.hist(report.pit, bins=bins, range=(0, 1), density=True, color=PALETTE["skyblue"],
                edgecolor=PALETTE["blue"], lw=0.5)
        ax.axhline(1.0, color=PALETTE["black"], lw=0.8, ls="--", label="calibrated")
        ax.set(xlim=(0, 1), xlabel="PIT", ylabel="density")
        ax.set_ylim(0, None)
        if "crps" in report.values:
            ax.text(0.04, 0.96, f"CRPS = {report.values['crps']:.4f}", transform=ax.transAxes, va="top",
                    fontsize=7)
        ax.legend(loc="lower center")
    return fig


def plot_metric_report(report: MetricReport) -> Figure:
    """Two panels: predicted vs true (left) and, when available, the PIT histogram (right).

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.metrics import evaluate
    >>> z = np.linspace(0, 1, 50)
    >>> fig = plot_metric_report(evaluate(z, z, sigma=np.full(50, 0.02), redshift=True))
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    report = _check(report, "plot_metric_report")
    import matplotlib.pyplot as plt

    n = 2 if report.pit is not None else 1
    with style():
        fig, axes = plt.subplots(1, n, figsize=(PAGE_WIDTH * n / 2, PAGE_WIDTH / 2 * 0.95),
                                 layout="constrained", squeeze=False)
    plot_predictions(report, ax=axes[0, 0])
    if n == 2:
        plot_pit(report, ax=axes[0, 1])
    return fig
