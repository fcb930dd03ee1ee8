"""Reference graphs from a known DAG: the CPDAG (what PC finds with infinite data) and the PAG (FCI).

Both come from running the same algorithm with a d-separation oracle on the true DAG, so variables of the
DAG that are not in the learned graph are treated as latent (marginalised), exactly as the data would be.

Examples
--------
>>> import networkx as nx
>>> from interpret.causal.truth import reference_edges
>>> dag = nx.DiGraph([("a", "c"), ("b", "c")])
>>> reference_edges(dag, ["a", "b", "c"], method="pc")
[('a', 'c', '-->'), ('b', 'c', '-->')]
"""
from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from ..exceptions import ValidationError
from ._run import run_causallearn
from .background import Background

__all__ = ["reference_edges", "check_dag"]


def check_dag(dag: nx.DiGraph, nodes: Sequence[str], func: str) -> None:
    """Raise unless ``dag`` is a networkx DAG whose nodes include every name in ``nodes``."""
    if not isinstance(dag, nx.DiGraph) or not nx.is_directed_acyclic_graph(dag):
        raise ValidationError(f"{func}(): 'truth' must be a networkx DiGraph without cycles; "
                              f"got {type(dag).__name__}")
    missing = [n for n in nodes if n not in dag]
    if missing:
        raise ValidationError(f"{func}(): variables {missing} of the graph are not nodes of 'truth'; "
                              "the true DAG must cover every discovered variable")


def reference_edges(dag: nx.DiGraph, nodes: Sequence[str], *, method: str = "pc",
                    background: Background | None = None) -> list[tuple[str, str, str]]:
    """Edges of the true CPDAG (``method="pc"``) or PAG (``"fci"``) over ``nodes``.

    Parameters
    ----------
    dag : networkx.DiGraph
        The true causal DAG; nodes absent from ``nodes`` are latent.
    nodes : sequence of str
        Observed variables, in graph order.
    method : {"pc", "fci"}, default "pc"
        Which algorithm's large-sample output to return.
    background : Background, optional
        Background knowledge applied as in :func:`~interpret.causal.discover` (orients more edges).

    Returns
    -------
    list of (str, str, str)
        Edges with the same marks as :class:`~interpret.causal.CausalGraph`.
    """
    check_dag(dag, nodes, "reference_edges")
    order = list(nodes) + [v for v in dag.nodes if v not in set(nodes)]
    index = {v: i for i, v in enumerate(order)}
    oracle = nx.relabel_nodes(dag, index, copy=True)
    placeholder = np.zeros((len(nodes) + 1, len(nodes)))
    return run_causallearn(placeholder, list(nodes), method=method, test="d_separation", alpha=0.5,
                           background=background, test_kwargs={"true_dag": oracle})
