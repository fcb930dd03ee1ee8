"""Figures for partial-information decompositions: stacked bars with CIs, measure comparison, binning
sensitivity. Functions draw results; they never compute them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._style import COLUMN_WIDTH, color_cycle, get_ax, style

if TYPE_CHECKING:
    from ..pid._result import PIDResult
    from ..pid.sensitivity import BinningSensitivity

__all__ = ["plot_decomposition", "plot_measure_comparison", "plot_binning_sensitivity"]


def _atom_colors(labels: Sequence[str]) -> dict[str, str]:
    cycle = color_cycle()
    return {label: cycle[i % len(cycle)] for i, label in enumerate(labels)}


def _stack(ax: Axes, x: float, r: PIDResult, colors: dict[str, str], width: float, show_ci: bool) -> None:
    """One stacked bar at ``x``: positive atoms upwards from 0, negative ones downwards; CI whiskers."""
    up = down = 0.0
    for label in colors:
        bits = r.atoms[label]
        base = up if bits >= 0 else down
        ax.bar(x, bits, width, bottom=base, color=colors[label], edgecolor="white", linewidth=0.5)
        if show_ci and r.ci and label in r.ci:
            lo, hi = r.ci[label]
            mid = base + bits
            ax.errorbar(x + width * 0.3, mid, yerr=[[max(bits - lo, 0)], [max(hi - bits, 0)]], fmt="none",
                        ecolor="0.2", elinewidth=0.8, capsize=1.5)
        if bits >= 0:
            up += bits
        else:
            down += bits
    ax.plot([x - width / 2, x + width / 2], [r.mutual_information] * 2, color="black", lw=1.2)


def _legend(ax: Axes, colors: dict[str, str]) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=c, label=label) for label, c in colors.items()]
    handles.append(ax.plot([], [], color="black", lw=1.2, label="I(T; sources)")[0])
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def plot_decomposition(result: PIDResult, *, ax: Axes | None = None, show_ci: bool = True) -> Figure:
    """The decomposition as one stacked bar (bits), with bootstrap CIs of each atom if present.

    Parameters
    ----------
    result : PIDResult
    ax : matplotlib Axes, optional
    show_ci : bool, default True

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.pid import Resampling, decompose
    >>> rng = np.random.default_rng(0); a, b = rng.integers(0, 2, (2, 2000))
    >>> fig = plot_decomposition(decompose(a ^ b, {"a": a, "b": b}, bins=None,
    ...                                    resampling=Resampling(n_boot=5)))
    >>> fig.axes[0].get_ylabel()
    'information (bits)'
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    return plot_measure_comparison({result.measure: result}, ax=ax, show_ci=show_ci)


def plot_measure_comparison(results: Mapping[str, PIDResult] | Sequence[PIDResult], *, ax: Axes | None = None,
                            show_ci: bool = True) -> Figure:
    """Stacked bars of the same decomposition under several measures (or estimators), side by side.

    Parameters
    ----------
    results : dict of label -> PIDResult, or sequence of PIDResult (labelled by measure)
        Decompositions with the same sources.
    ax : matplotlib Axes, optional
    show_ci : bool, default True

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.pid import decompose
    >>> rng = np.random.default_rng(0); a, b = rng.integers(0, 2, (2, 2000))
    >>> xor = decompose(a ^ b, {"a": a, "b": b}, bins=None)              # all synergy
    >>> copy = decompose(a, {"a": a, "b": b}, bins=None)                 # all unique to a
    >>> fig = plot_measure_comparison({"XOR": xor, "copy a": copy})
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['XOR', 'copy a']
    >>> plt.close(fig)
    """
    if not isinstance(results, Mapping):
        results = {r.measure: r for r in results}
    labels = list(results)
    first = results[labels[0]]
    colors = _atom_colors(list(first.atoms))
    fig, ax = get_ax(ax, figsize=(COLUMN_WIDTH + 0.35 * len(labels), COLUMN_WIDTH * 0.8))
    with style():
        for i, key in enumerate(labels):
            _stack(ax, i, results[key], colors, 0.6, show_ci)
        ax.axhline(0, color="0.5", lw=0.6)
        ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 4 else 0,
                      ha="right" if len(labels) > 4 else "center")
        ax.minorticks_off()
        ax.set_ylabel("information (bits)")
        ax.set_xlim(-0.6, len(labels) - 0.4)
        _legend(ax, colors)
    return fig


def plot_binning_sensitivity(sens: BinningSensitivity, *, ax: Axes | None = None) -> Figure:
    """Each atom (and the total MI) against the number of bins, with CI bands if present.

    Parameters
    ----------
    sens : BinningSensitivity
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.pid import binning_sensitivity
    >>> rng = np.random.default_rng(0); a, b = rng.normal(size=(2, 2000))
    >>> sens = binning_sensitivity(a + b, {"a": a, "b": b}, bins=(2, 3, 4), seed=0)
    >>> fig = plot_binning_sensitivity(sens)
    >>> fig.axes[0].get_xlabel()
    'bins per variable'
    >>> plt.close(fig)
    """
    table = sens.table
    fig, ax = get_ax(ax)
    colors = _atom_colors(sens.atoms)
    with style():
        x = table["bins"].to_numpy()
        for label in sens.atoms:
            ax.plot(x, table[label], "o-", ms=3, color=colors[label], label=label)
            if f"{label} ci_low" in table:
                ax.fill_between(x, table[f"{label} ci_low"], table[f"{label} ci_high"], color=colors[label],
                                alpha=0.2, lw=0)
        ax.plot(x, table["mutual_information"], "k--", lw=1, label="I(T; sources)")
        ax.set_xlabel("bins per variable")
        ax.set_ylabel("information (bits)")
        ax.set_title(f"{sens.measure}", loc="left")
        if np.all(x > 0) and x.max() / x.min() >= 4:
            ax.set_xscale("log", base=2)
            ax.set_xticks(x, [str(v) for v in x])
            ax.minorticks_off()
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig
