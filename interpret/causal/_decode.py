"""Decode causal-learn's integer-coded graph matrix. This is the only place those codes are read."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._marks import ARROW, CIRCLE, TAIL, mark_from_endpoints

__all__ = ["decode_graph"]

# causal-learn's Endpoint codes: G[i, j] is the endpoint symbol *at node i* on the edge i - j.
_CODES = {-1: TAIL, 1: ARROW, 2: CIRCLE}


def decode_graph(matrix: np.ndarray, names: Sequence[str]) -> list[tuple[str, str, str]]:
    """Turn causal-learn's endpoint matrix into a list of ``(a, b, mark)`` edges.

    Parameters
    ----------
    matrix : ndarray of int, shape (p, p)
        ``GeneralGraph.graph``: ``G[j, i] = 1, G[i, j] = -1`` means ``i --> j``; ``-1/-1`` is ``i --- j``;
        ``1/1`` is ``i <-> j``; ``2`` is a circle at that end; ``0/0`` means no edge.
    names : sequence of str, length p
        Node names in column order.

    Returns
    -------
    list of (str, str, str)
        One edge per adjacent pair, in node order, with a canonical mark (see ``interpret.causal._marks``).
    """
    g = np.asarray(matrix)
    edges = []
    for i in range(g.shape[0]):
        for j in range(i + 1, g.shape[0]):
            if g[i, j] == 0 and g[j, i] == 0:
                continue
            try:
                at_i, at_j = _CODES[int(g[i, j])], _CODES[int(g[j, i])]
            except KeyError as exc:
                raise ValueError(f"unknown causal-learn endpoint code in G[{i}, {j}] / G[{j}, {i}]") from exc
            swap, mark = mark_from_endpoints(at_i, at_j)
            a, b = (names[j], names[i]) if swap else (names[i], names[j])
            edges.append((a, b, mark))
    return edges
