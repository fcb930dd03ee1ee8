"""Stack plots of per-galaxy (pointwise) information atoms against a catalogue quantity or a galaxy class.

Each bar stacks the mean atoms of the galaxies in one bin: positive atoms upwards from zero, negative atoms
(misinformation, e.g. negative synergy) downwards, so the bar's net height is the mean joint information,
drawn as a black line. The aggregation is :meth:`~interpret.pid.neural.PointwisePIDResult.binned` /
``by_class``; these functions only draw.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._style import COLUMN_WIDTH, color_cycle, get_ax, style

__all__ = ["plot_pointwise_binned", "plot_pointwise_by_class"]


def _atom_columns(result: Any) -> list[str]:
    return list(result.atoms.columns)


def _stack(ax: Axes, x: np.ndarray, width: np.ndarray | float, table: pd.DataFrame, atoms: list[str]) -> None:
    """Diverging stacked bars: positives up, negatives down; black line = mean joint information."""
    up = np.zeros(len(table))
    down = np.zeros(len(table))
    for atom, colour in zip(atoms, color_cycle()):
        v = table[atom].to_numpy()
        base = np.where(v >= 0, up, down)
        ax.bar(x, v, width=width, bottom=base, color=colour, label=atom, edgecolor="white", linewidth=0.4)
        up += np.where(v >= 0, v, 0)
        down += np.where(v < 0, v, 0)
    ax.plot(x, table["total"].to_numpy(), color="black", marker="o", ms=3, lw=1, label="joint I")
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_ylabel("mean information per galaxy [bits]")


def _legend(ax: Axes, n: int) -> None:
    ax.legend(ncol=min(n + 1, 3), loc="lower center", bbox_to_anchor=(0.5, 1.01), handlelength=1.2,
              columnspacing=0.8)


def plot_pointwise_binned(result: Any, by: Any, *, bins: int | Sequence[float] = 8, binning: str = "quantile",
                          label: str | None = None, ax: Axes | None = None) -> Figure:
    """Mean per-galaxy atoms in bins of a catalogue quantity (e.g. stellar mass or a magnitude).

    Parameters
    ----------
    result : PointwisePIDResult
        From :func:`interpret.pid.pointwise_decompose`.
    by : array-like, shape (n,)
        The quantity per galaxy; a named pandas Series labels the x axis.
    bins : int or sequence of float, default 8
        Bins of ``by`` (see ``PointwisePIDResult.binned``); bars span their bins.
    binning : {"quantile", "uniform"}, default "quantile"
        Placement of ``bins`` when it is an int.
    label : str, optional
        x-axis label (default: the Series name).
    ax : matplotlib Axes, optional
        Axes to draw on; a new column-width figure otherwise.

    Returns
    -------
    Figure

    Examples
    --------
    A result is normally returned by ``pointwise_decompose``; a hand-made one keeps the example instant:

    >>> import numpy as np, pandas as pd, matplotlib.pyplot as plt
    >>> from interpret.pid.neural import PointwisePIDResult
    >>> rng = np.random.default_rng(0)
    >>> atoms = pd.DataFrame(rng.uniform(0, 0.3, (60, 4)), columns=["{a}{b}", "{a}", "{b}", "{a,b}"])
    >>> info = pd.DataFrame({"a": atoms.iloc[:, :2].sum(axis=1), "b": atoms.iloc[:, [0, 2]].sum(axis=1),
    ...                      "a+b": atoms.sum(axis=1)})
    >>> r = PointwisePIDResult(sources=("a", "b"), atoms=atoms, information=info,
    ...                        classes=rng.integers(0, 4, 60), bin_edges=np.linspace(0, 1, 5))
    >>> fig = plot_pointwise_binned(r, rng.normal(10.5, 0.5, 60), bins=5, label="log stellar mass")
    >>> len(fig.axes[0].patches)                # 4 atoms x 5 bins
    20
    >>> plt.close(fig)
    """
    table = result.binned(by, bins=bins, binning=binning)
    fig, ax = get_ax(ax, figsize=(COLUMN_WIDTH, COLUMN_WIDTH * 0.8))
    atoms = _atom_columns(result)
    with style():
        width = 0.92 * (table["high"] - table["low"]).to_numpy()
        _stack(ax, 0.5 * (table["low"] + table["high"]).to_numpy(), width, table, atoms)
        ax.set_xlabel(label or (by.name if isinstance(by, pd.Series) and by.name is not None else "quantity"))
        _legend(ax, len(atoms))
    return fig


def plot_pointwise_by_class(result: Any, labels: Any, *, order: Sequence[Any] | None = None,
                            ax: Axes | None = None) -> Figure:
    """Mean per-galaxy atoms per galaxy class (e.g. morphological type), one bar per class.

    Parameters
    ----------
    result : PointwisePIDResult
        From :func:`interpret.pid.pointwise_decompose`.
    labels : array-like, shape (n,)
        Class of each galaxy.
    order : sequence, optional
        Classes to show, in this order (default: sorted).
    ax : matplotlib Axes, optional
        Axes to draw on.

    Returns
    -------
    Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd, matplotlib.pyplot as plt
    >>> from interpret.pid.neural import PointwisePIDResult
    >>> rng = np.random.default_rng(0)
    >>> atoms = pd.DataFrame(rng.uniform(0, 0.3, (60, 4)), columns=["{a}{b}", "{a}", "{b}", "{a,b}"])
    >>> info = pd.DataFrame({"a": atoms.iloc[:, :2].sum(axis=1), "b": atoms.iloc[:, [0, 2]].sum(axis=1),
    ...                      "a+b": atoms.sum(axis=1)})
    >>> r = PointwisePIDResult(sources=("a", "b"), atoms=atoms, information=info,
    ...                        classes=rng.integers(0, 4, 60), bin_edges=np.linspace(0, 1, 5))
    >>> fig = plot_pointwise_by_class(r, np.repeat(["disc", "spheroid", "irregular"], 20), order=["spheroid", "disc"])
    >>> [t.get_text().split()[0] for t in fig.axes[0].get_xticklabels()]
    ['spheroid', 'disc']
    >>> plt.close(fig)
    """
    table = result.by_class(labels)
    if order is not None:
        table = table.loc[list(order)]
    fig, ax = get_ax(ax, figsize=(COLUMN_WIDTH, COLUMN_WIDTH * 0.8))
    atoms = _atom_columns(result)
    with style():
        x = np.arange(len(table))
        _stack(ax, x, 0.7, table, atoms)
        ax.set_xticks(x, [f"{c}\n(n={n})" for c, n in zip(table.index, table["n"])])
        ax.minorticks_off()
        ax.set_xlabel("galaxy class")
        _legend(ax, len(atoms))
    return fig
