"""Pointwise (per-galaxy) PID atoms of the binned route, for the measures that define them outcome by outcome:
``"pm"`` (Finn & Lizier's I_±) and ``"sx"`` (Makkeh, Gutknecht & Wibral's I^sx), through dit's
``pointwise=True``.

Every galaxy gets the atoms of its joint (sources, target) outcome; the mean over galaxies equals the atoms of
:func:`interpret.pid.decompose` with the same measure and bins (the pointwise values are averaged with the
empirical probabilities). :func:`interpret.pid.pointwise_decompose` is the per-galaxy MMI route from neural
classifiers, without binning.

Values are in bits unless ``units="nats"`` (bits x ln 2, exactly), the unit of Zhang et al.'s released code.
Their 520-bin target grid belongs to the neural route (``pointwise_decompose(setting="zhang2025")``): dit's
pointwise lattice grows with the occupied outcomes, and 510 target classes of 2,000 galaxies with two 4-bin
sources already take 65 s for ``"pm"`` on a shared 2-core CPU.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_choice, check_finite, check_same_length
from ..exceptions import ValidationError
from ._result import atom_label
from .discretize import STRATEGIES, bin_variable
from .estimation import joint_pmf
from .measures import _ordered_lattice, get_measure, to_dit

__all__ = ["POINTWISE_MEASURES", "pointwise_atoms", "pointwise_table"]

POINTWISE_MEASURES = ("pm", "sx")
_UNITS = {"bits": 1.0, "nats": float(np.log(2.0))}     # multiply bits by this


def pointwise_table(pmf: np.ndarray, names: tuple[str, ...], measure: str = "pm", *,
                    units: str = "bits") -> pd.DataFrame:
    """Pointwise atoms (bits or nats) of every occupied outcome of a joint pmf ``p[s_1, ..., s_m, t]``.

    Parameters
    ----------
    pmf : ndarray, shape (k_1, ..., k_m, k_t)
        Joint probabilities, target on the last axis.
    names : tuple of str, length m
        Source names (atom labels as in :class:`~interpret.pid.PIDResult`).
    measure : {"pm", "sx"}, default "pm"
    units : {"bits", "nats"}, default "bits"
        Units of the atoms (nats = bits x ln 2).

    Returns
    -------
    DataFrame
        One row per outcome with ``p > 0``, in C order: the source codes (columns ``names``), ``"target"``,
        ``"p"``, then one column per lattice atom (bottom to top).

    References
    ----------
    Finn & Lizier (2018), arXiv:1801.09010 (I_±); Makkeh, Gutknecht & Wibral (2021), arXiv:2002.03356 (I^sx).

    Examples
    --------
    >>> import numpy as np
    >>> p = np.zeros((2, 2, 2)); p[0, 0, 0] = p[0, 1, 1] = p[1, 0, 1] = p[1, 1, 0] = 0.25   # XOR
    >>> pointwise_table(p, ("a", "b"), "pm")["{a,b}"].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    import dit.pid

    check_choice(measure, "measure", "pointwise_table", POINTWISE_MEASURES)
    scale = _UNITS[check_choice(units, "units", "pointwise_table", tuple(_UNITS))]
    spec = get_measure(measure, pmf.ndim - 1, "pointwise_table")
    m = pmf.ndim - 1
    pid = getattr(dit.pid, spec.dit_class)(to_dit(pmf), [[i] for i in range(m)], [m], pointwise=True)
    cells = np.argwhere(pmf > 0)                              # C order, as to_dit lists the outcomes
    keys = [tuple(str(v) for v in row) for row in cells]
    table = {name: cells[:, i] for i, name in enumerate((*names, "target"))}
    table["p"] = pmf[tuple(cells.T)]
    for node in _ordered_lattice(pid):
        values = pid.get_pw_pi(node)
        table[atom_label(node, names)] = np.array([float(values[k]) for k in keys]) * scale
    return pd.DataFrame(table)


def pointwise_atoms(target: Any, sources: Mapping[str, Any], *, measure: str = "pm", bins: int | None = 8,
                    strategy: str = "quantile", units: str = "bits") -> pd.DataFrame:
    """Per-galaxy PID atoms (bits or nats) of the binned route with a pointwise measure.

    Parameters
    ----------
    target : array_like or pandas.Series, shape (n,)
    sources : dict of str -> array_like, each shape (n,)
        Two or more one-dimensional sources.
    measure : {"pm", "sx"}, default "pm"
        ``"pm"``: Finn & Lizier's I_± (specificity minus ambiguity); ``"sx"``: shared exclusions. Both can
        be negative per galaxy and on average.
    bins : int or None, default 8
        Bins per variable (``None``: values are already discrete symbols), as in
        :func:`interpret.pid.decompose`.
    strategy : {"quantile", "uniform"}, default "quantile"
    units : {"bits", "nats"}, default "bits"
        Units of the atoms; nats = bits x ln 2 exactly (Zhang et al.'s released code reports nats).

    Returns
    -------
    DataFrame, shape (n, n_atoms)
        One row per galaxy (the target's index when it is a Series), one column per lattice atom; the column
        means equal ``decompose(target, sources, measure=measure, bins=bins).atoms`` (times ln 2 in nats).

    References
    ----------
    Finn & Lizier (2018), arXiv:1801.09010; Makkeh, Gutknecht & Wibral (2021), arXiv:2002.03356.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([0, 0, 1, 1] * 5), np.array([0, 1, 0, 1] * 5)
    >>> atoms = pointwise_atoms(a & b, {"a": a, "b": b}, measure="pm", bins=None)
    >>> atoms["{a}{b}"].round(3).tolist()[:4]                    # AND: log2(4/3) where t = 0, 1 bit at t = 1
    [0.415, 0.415, 0.415, 1.0]
    """
    func = "pointwise_atoms"
    check_choice(measure, "measure", func, POINTWISE_MEASURES)
    check_choice(strategy, "strategy", func, STRATEGIES)
    check_choice(units, "units", func, tuple(_UNITS))
    named = {str(k): np.asarray(v) for k, v in sources.items()} if isinstance(sources, Mapping) else None
    if named is None or len(named) < 2:
        raise ValidationError(f"{func}(): 'sources' must be a dict of at least 2 name -> array; got {sources!r:.60}")
    index = target.index if isinstance(target, pd.Series) else None
    arrays = {"target": np.asarray(target), **{f"sources[{k!r}]": v for k, v in named.items()}}
    check_same_length(func, **arrays)
    for label, arr in arrays.items():
        if arr.ndim != 1:
            raise ValidationError(f"{func}(): {label!r} must be 1-D; got shape {arr.shape} (reduce a "
                                  "multi-column source first, or use decompose())")
        check_finite(arr, label, func)
    binned = [bin_variable(x, bins, strategy=strategy, name=k) for k, x in (*named.items(), ("target", arrays["target"]))]
    codes, sizes = [b.codes for b in binned], [b.n_bins for b in binned]
    table = pointwise_table(joint_pmf(codes, sizes), tuple(named), measure, units=units)
    cell = np.ravel_multi_index(tuple(table[c].to_numpy() for c in (*named, "target")), tuple(sizes))
    row_of = pd.Series(np.arange(len(table)), index=cell)[np.ravel_multi_index(tuple(codes), tuple(sizes))]
    atoms = table.drop(columns=[*named, "target", "p"]).iloc[row_of.to_numpy()]
    return atoms.set_axis(index if index is not None else pd.RangeIndex(len(atoms)), axis=0)
