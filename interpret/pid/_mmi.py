"""Minimum-mutual-information (MMI) decomposition on the Williams–Beer redundancy lattice.

Shared by the kNN route (:mod:`interpret.pid.knn`, averages) and the per-galaxy neural route
(:mod:`interpret.pid.neural`, one value per galaxy): given I(T; S) for every non-empty set S of sources, the
MMI redundancy of a lattice node (an antichain of source sets) is the minimum of I(T; S) over its sets, and the
atoms follow by Möbius inversion over the lattice. Values may be floats or equally-shaped arrays.

References
----------
Williams & Beer 2010, arXiv:1004.2515 (lattice); Barrett 2015, arXiv:1411.2832 (MMI, Gaussian case).
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from ..exceptions import ValidationError
from ._result import atom_label

__all__ = ["MAX_SOURCES", "lattice", "source_sets", "set_label", "mmi_atoms"]

MAX_SOURCES = 4  # 166 lattice nodes; 5 sources would need 7579 and 31 estimates per galaxy

Node = tuple[tuple[int, ...], ...]


def source_sets(m: int) -> list[tuple[int, ...]]:
    """Every non-empty set of ``m`` sources, singles first: ``[(0,), (1,), (0, 1)]`` for ``m = 2``."""
    return [c for r in range(1, m + 1) for c in itertools.combinations(range(m), r)]


def set_label(subset: Sequence[int], names: Sequence[str]) -> str:
    """Column label of a source set, e.g. ``(0, 1)`` -> ``"phot+morph"``."""
    return "+".join(names[i] for i in subset)


def _below(a: Node, b: Node) -> bool:
    """Williams–Beer order: a <= b iff every set of b contains some set of a."""
    return all(any(set(x) <= set(y) for x in a) for y in b)


@lru_cache(maxsize=8)
def lattice(m: int) -> tuple[Node, ...]:
    """Nodes of the redundancy lattice of ``m`` sources, bottom (redundancy) first, top (synergy) last."""
    if not 1 <= m <= MAX_SOURCES:
        raise ValidationError(f"lattice(): MMI decomposition supports 1 to {MAX_SOURCES} sources; got {m}")
    sets = source_sets(m)
    nodes = []
    for r in range(1, len(sets) + 1):
        for combo in itertools.combinations(sets, r):
            if not any(set(a) < set(b) or set(b) < set(a) for a, b in itertools.combinations(combo, 2)):
                nodes.append(tuple(sorted(combo)))
    n_below = {a: sum(_below(b, a) for b in nodes) for a in nodes}
    return tuple(sorted(nodes, key=lambda a: (n_below[a], a)))


def mmi_atoms(information: Mapping[tuple[int, ...], Any], names: Sequence[str]) -> dict[str, Any]:
    """MMI atoms from the information of every source set.

    Parameters
    ----------
    information : mapping of tuple of int -> float or ndarray
        ``I(T; S)`` for each set of :func:`source_sets` (bits); arrays are combined element-wise
        (per-galaxy atoms).
    names : sequence of str
        Source names, in index order.

    Returns
    -------
    dict of str -> float or ndarray
        Atom label (:func:`interpret.pid.atom_label`) -> value, bottom of the lattice first. The atoms sum to
        the information of the set of all sources.

    Examples
    --------
    >>> mmi_atoms({(0,): 0.5, (1,): 0.2, (0, 1): 1.0}, ["a", "b"])
    {'{a}{b}': 0.2, '{a}': 0.3, '{b}': 0.0, '{a,b}': 0.5}
    """
    nodes = lattice(len(names))
    atoms: dict[Node, Any] = {}
    for node in nodes:
        redundancy = _min(information[s] for s in node)
        atoms[node] = redundancy - sum((atoms[b] for b in atoms if b != node and _below(b, node)), 0.0)
    return {atom_label(node, tuple(names)): _tidy(v) for node, v in atoms.items()}


def _min(values: Any) -> Any:
    values = list(values)
    out = values[0]
    for v in values[1:]:
        out = np.minimum(out, v)
    return out


def _tidy(value: Any) -> Any:
    if np.ndim(value) == 0:
        return float(np.round(float(value), 15))
    return np.asarray(value, dtype=float)
