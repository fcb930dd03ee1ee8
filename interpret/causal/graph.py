"""The learned causal graph: nodes, marked edges, export and comparison with a known truth."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from .._results import Result
from ..exceptions import ValidationError
from ._marks import ARROW, CIRCLE, TAIL, endpoints
from .background import Background
from .truth import reference_edges

__all__ = ["CausalGraph"]

_DOT_END = {TAIL: "none", ARROW: "normal", CIRCLE: "odot"}


def _oriented(edges: list[tuple[str, str, str]]) -> dict[frozenset, dict[str, str]]:
    """{pair: {node: endpoint symbol at node}} for comparisons that ignore the stored direction."""
    out = {}
    for a, b, mark in edges:
        ea, eb = endpoints(mark)
        out[frozenset((a, b))] = {a: ea, b: eb}
    return out


@dataclass(frozen=True)
class CausalGraph(Result):
    """A causal graph learned by PC (a CPDAG) or FCI (a PAG).

    Attributes
    ----------
    nodes : tuple of str
        Variable names, in data-column order.
    edges : list of (str, str, str)
        ``(a, b, mark)`` with mark in ``"-->"`` (a causes b), ``"---"`` (undirected), ``"<->"`` (latent
        confounder), ``"o->"``, ``"o-o"`` (circle: undetermined end; FCI only) and, rarely, ``"o--"``.
    method, test : str
        Algorithm (``"pc"``/``"fci"``) and conditional-independence test used.
    alpha : float
        Significance level of the independence tests.
    n_samples : int
        Rows used.
    tiers : tuple of tuple of str
        Tier ordering from the background knowledge (used for plotting), empty if none.
    background : dict
        The full background knowledge used (``tiers``, ``required``, ``forbidden``, ``forbid_within``);
        :meth:`compare` applies it to the true graph too. Empty if none.

    Examples
    --------
    >>> g = CausalGraph(nodes=("z", "m", "f"), edges=[("z", "m", "-->"), ("m", "f", "-->")])
    >>> g.paths("z", "f")["directed"]
    [['z', 'm', 'f']]
    """

    nodes: tuple[str, ...]
    edges: list[tuple[str, str, str]] = field(default_factory=list)
    method: str = "pc"
    test: str = "fisherz"
    alpha: float = 0.01
    n_samples: int = 0
    tiers: tuple[tuple[str, ...], ...] = ()
    background: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "edges", [tuple(e) for e in self.edges])
        object.__setattr__(self, "tiers", tuple(tuple(t) for t in self.tiers))

    # --- views ---------------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per edge: columns ``source``, ``target``, ``mark``."""
        return pd.DataFrame(self.edges, columns=["source", "target", "mark"])

    def mark(self, a: str, b: str) -> str | None:
        """Mark of the edge between ``a`` and ``b`` read from ``a`` to ``b`` (``"<--"`` style if reversed)."""
        for x, y, m in self.edges:
            if (x, y) == (a, b):
                return m
            if (x, y) == (b, a):
                return m[::-1].replace(">", "<")
        return None

    def to_networkx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph`` with one edge ``a -> b`` per adjacency and attributes ``mark``,
        ``tail``/``head`` (endpoint symbols at a and b) and ``directed`` (True for ``-->``)."""
        g = nx.DiGraph(method=self.method, test=self.test, alpha=self.alpha)
        g.add_nodes_from(self.nodes)
        for a, b, m in self.edges:
            ea, eb = endpoints(m)
            g.add_edge(a, b, mark=m, tail=ea, head=eb, directed=m == "-->")
        return g

    def to_dot(self) -> str:
        """Graphviz DOT text; endpoint marks as arrowheads (``normal``), circles (``odot``) and tails
        (``none``); tiers become ``rank=same`` groups."""
        lines = [f'digraph "{self.method}" {{', "  rankdir=TB;"]
        lines += [f'  "{n}";' for n in self.nodes]
        for k, tier in enumerate(self.tiers):
            members = " ".join(f'"{n}";' for n in tier if n in self.nodes)
            lines.append(f"  subgraph tier{k} {{ rank=same; {members} }}")
        for a, b, m in self.edges:
            ea, eb = endpoints(m)
            lines.append(f'  "{a}" -> "{b}" [dir=both, arrowtail={_DOT_END[ea]}, arrowhead={_DOT_END[eb]}];')
        lines.append("}")
        return "\n".join(lines)

    # --- comparison with a known truth ---------------------------------------------------------------
    def _background(self) -> Background | None:
        return Background(**self.background) if self.background else None

    def compare(self, truth: nx.DiGraph, *, use_background: bool = True) -> dict[str, Any]:
        """Compare with the true DAG's large-sample graph (CPDAG for PC, PAG for FCI).

        With ``use_background`` (default) the reference is what the same algorithm finds from the truth
        under the same background knowledge (so orientations implied by tiers are not counted as errors);
        with False it is the plain CPDAG / PAG.

        Returns a dict with ``missing``, ``extra`` (skeleton errors), ``misoriented`` (adjacent in both but
        with different marks), ``shd`` (their sum), ``precision`` and ``recall`` of adjacencies, and
        ``reference`` (the true graph's edges). Variables of ``truth`` absent from the graph are latent.
        """
        bk = self._background() if use_background else None
        ref_edges = reference_edges(truth, self.nodes, method=self.method, background=bk)
        ref = _oriented(ref_edges)
        mine = _oriented(self.edges)
        common = ref.keys() & mine.keys()
        missing, extra = len(ref.keys() - mine.keys()), len(mine.keys() - ref.keys())
        misoriented = sum(ref[p] != mine[p] for p in common)
        return {
            "missing": missing, "extra": extra, "misoriented": misoriented,
            "shd": missing + extra + misoriented,
            "precision": len(common) / len(mine) if mine else 1.0,
            "recall": len(common) / len(ref) if ref else 1.0,
            "reference": ref_edges,
        }

    def shd(self, truth: nx.DiGraph, *, use_background: bool = True) -> int:
        """Structural Hamming distance to the truth: for PC against the true DAG's CPDAG; for FCI the
        skeleton errors plus the orientation errors against the true PAG. Each node pair counts at most 1.
        See :meth:`compare` for ``use_background``."""
        return int(self.compare(truth, use_background=use_background)["shd"])

    def adjacency_precision_recall(self, truth: nx.DiGraph) -> tuple[float, float]:
        """Precision and recall of the learned adjacencies against the truth's (marginal) adjacencies."""
        c = self.compare(truth, use_background=False)
        return c["precision"], c["recall"]

    # --- paths ---------------------------------------------------------------------------------------
    def _step_graphs(self) -> tuple[nx.DiGraph, nx.DiGraph]:
        directed, possible = nx.DiGraph(), nx.DiGraph()
        directed.add_nodes_from(self.nodes)
        possible.add_nodes_from(self.nodes)
        for a, b, m in self.edges:
            ea, eb = endpoints(m)
            if m == "-->":
                directed.add_edge(a, b)
            undirected_cpdag = m == "---" and self.method == "pc"
            for x, y, ex, ey in ((a, b, ea, eb), (b, a, eb, ea)):
                # possibly directed x -> y: no arrowhead into x and no tail at y (Zhang 2008)
                if undirected_cpdag or (ex != ARROW and ey != TAIL):
                    possible.add_edge(x, y)
        return directed, possible

    def paths(self, source: str, target: str, max_length: int | None = None) -> dict[str, list[list[str]]]:
        """Directed and possibly-directed paths from ``source`` to ``target``.

        Parameters
        ----------
        source, target : str
            Node names.
        max_length : int, optional
            Longest path (in edges) to list; None lists all simple paths.

        Returns
        -------
        dict
            ``"directed"``: paths made only of ``-->`` edges pointing away from the source;
            ``"possibly_directed"``: the other paths on which no edge points back towards the source
            (through ``---`` in a CPDAG, or ``o->``/``o-o`` in a PAG).
        """
        for name in (source, target):
            if name not in self.nodes:
                raise ValidationError(f"paths(): {name!r} is not a node; nodes are {list(self.nodes)}")
        directed, possible = self._step_graphs()
        d = [list(p) for p in nx.all_simple_paths(directed, source, target, cutoff=max_length)]
        pd_ = [list(p) for p in nx.all_simple_paths(possible, source, target, cutoff=max_length)
               if list(p) not in d]
        return {"directed": sorted(d), "possibly_directed": sorted(pd_)}
