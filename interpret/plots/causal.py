"""Figures for causal results: marked graphs laid out by tiers, bootstrap edge frequencies, local dependence.

Drawn with networkx layouts and matplotlib patches only (no graphviz binary). Endpoint marks are drawn as
they are read: filled arrowheads, open circles and plain tails.

Examples
--------
>>> from interpret.causal import CausalGraph
>>> from interpret.plots.causal import plot_graph
>>> g = CausalGraph(nodes=("z", "m", "f"), edges=[("z", "m", "-->"), ("m", "f", "o->")], tiers=(("z",), ("m", "f")))
>>> fig = plot_graph(g)
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch

from ..causal._marks import ARROW, CIRCLE, endpoints
from ..causal.graph import CausalGraph
from ..causal.local import LocalDependence
from ._style import COLUMN_WIDTH, PALETTE, get_ax, style

__all__ = ["plot_graph", "plot_edge_stability", "plot_local_dependence", "tier_layout"]

_NODE_H = 0.42          # node ellipse height, data units
_CIRCLE_R = 0.055       # endpoint circle radius, data units
_FALLBACK_MARKS = {"<--": ("-->", True), "<-o": ("o->", True), "--o": ("o--", True)}


def tier_layout(nodes: Sequence[str], edges: Sequence[tuple[str, str, str]],
                tiers: Sequence[Sequence[str]] = ()) -> dict[str, np.ndarray]:
    """Node positions: one row per tier (earliest at the top); without tiers, rows follow the directed
    edges' topological generations. Nodes of a row are spread evenly and staggered to keep edges visible.

    Examples
    --------
    >>> pos = tier_layout(("z", "m", "g"), [("z", "m", "-->"), ("m", "g", "-->")], tiers=(("z",), ("m", "g")))
    >>> bool(pos["z"][1] > pos["m"][1] == pos["g"][1])                 # one row per tier, earliest on top
    True
    """
    rows: list[list[str]] = [[n for n in t if n in nodes] for t in tiers]
    placed = {n for r in rows for n in r}
    rest = [n for n in nodes if n not in placed]
    if rest:
        dg = nx.DiGraph([(a, b) for a, b, m in edges if m == "-->" and a in rest and b in rest])
        dg.add_nodes_from(rest)
        gens = list(nx.topological_generations(dg)) if nx.is_directed_acyclic_graph(dg) else [rest]
        rows += [[n for n in rest if n in g] for g in gens]
    rows = [r for r in rows if r]
    width = max(len(r) for r in rows)
    pos = {}
    for k, row in enumerate(rows):
        xs = np.linspace(-(len(row) - 1) / 2, (len(row) - 1) / 2, len(row)) * 1.7 * max(1.0, width / len(row)) ** 0.5
        for i, n in enumerate(row):
            stagger = 0.22 * ((i % 2) - 0.5) if len(row) > 2 else 0.0
            pos[n] = np.array([xs[i], -1.35 * k + stagger])
    return pos


def _half_width(label: str) -> float:
    return min(0.75, max(0.3, 0.055 * len(label) + 0.08))


def _boundary(center: np.ndarray, u: np.ndarray, label: str) -> np.ndarray:
    """Point where the ray from the node centre along unit vector u leaves the node ellipse."""
    a, b = _half_width(label), _NODE_H / 2
    t = 1.0 / np.sqrt((u[0] / a) ** 2 + (u[1] / b) ** 2)
    return center + u * t


def _blocked(pa: np.ndarray, pb: np.ndarray, others: list[np.ndarray]) -> bool:
    """Whether a straight segment pa-pb passes close to another node centre."""
    d = pb - pa
    for p in others:
        t = np.clip(np.dot(p - pa, d) / np.dot(d, d), 0.0, 1.0)
        if 0.0 < t < 1.0 and np.linalg.norm(pa + t * d - p) < 0.4:
            return True
    return False


def _draw_edge(ax: Axes, pa: np.ndarray, pb: np.ndarray, la: str, lb: str, mark: str,
               width: float, alpha: float, color: str, rad: float = 0.0) -> np.ndarray:
    """Draw one marked edge (curved by ``rad`` as matplotlib's arc3); return the curve's midpoint."""
    d = pb - pa
    ctrl = (pa + pb) / 2 + rad * np.array([d[1], -d[0]])
    ua, ub = ctrl - pa, ctrl - pb
    ua, ub = ua / np.linalg.norm(ua), ub / np.linalg.norm(ub)
    start, end = _boundary(pa, ua, la), _boundary(pb, ub, lb)
    ea, eb = endpoints(mark)
    for end_sym, point, direction in ((ea, start, ua), (eb, end, ub)):
        if end_sym == CIRCLE:
            ax.add_patch(Circle(point + direction * _CIRCLE_R, _CIRCLE_R, fill=True, facecolor="white",
                                edgecolor=color, lw=max(width * 0.6, 0.6), alpha=alpha, zorder=3))
    s = start + ua * (2 * _CIRCLE_R if ea == CIRCLE else 0.0)
    e = end + ub * (2 * _CIRCLE_R if eb == CIRCLE else 0.0)
    style_ = {(True, True): "<|-|>", (False, True): "-|>", (True, False): "<|-", (False, False): "-"}
    arrowstyle = style_[(ea == ARROW, eb == ARROW)]
    ax.add_patch(FancyArrowPatch(s, e, arrowstyle=arrowstyle, mutation_scale=6 + 2 * width, lw=width,
                                 color=color, alpha=alpha, shrinkA=0, shrinkB=0, zorder=2,
                                 connectionstyle=f"arc3,rad={rad}"))
    de = e - s
    return (s + e) / 2 + 0.5 * rad * np.array([de[1], -de[0]])


def _modal_edges(freq: pd.DataFrame, min_frequency: float) -> list[tuple[str, str, str, float]]:
    """Most frequent mark of each pair present in at least ``min_frequency`` of resamples."""
    out = []
    marks = freq.drop(columns="absent")
    for (a, b), row in marks.iterrows():
        present = float(row.sum())
        if present < min_frequency or present == 0:
            continue
        m = str(row.idxmax())
        if m in _FALLBACK_MARKS:
            m, _ = _FALLBACK_MARKS[m]
            a, b = b, a
        out.append((a, b, m, present))
    return out


def plot_graph(graph: CausalGraph | pd.DataFrame, *, frequencies: pd.DataFrame | None = None,
               min_frequency: float = 0.5, tiers: Sequence[Sequence[str]] | None = None,
               ax: Axes | None = None, annotate: bool = True) -> Figure:
    """Draw a causal graph with its endpoint marks, laid out by tiers.

    Parameters
    ----------
    graph : CausalGraph or DataFrame
        A learned graph, or an :func:`~interpret.causal.edge_stability` table (then each pair present in at
        least ``min_frequency`` of resamples is drawn with its most frequent mark).
    frequencies : DataFrame, optional
        Bootstrap table for a CausalGraph: edge width and opacity follow how often each pair was adjacent.
    min_frequency : float, default 0.5
        Threshold for drawing pairs from a frequency table.
    tiers : sequence of sequences of str, optional
        Layout rows; default the graph's (or the table's) tiers.
    ax : Axes, optional
    annotate : bool, default True
        Write the bootstrap frequency next to each edge when frequencies are known.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from interpret.causal import CausalGraph
    >>> g = CausalGraph(nodes=("z", "m", "f"), edges=[("z", "m", "-->"), ("m", "f", "o->")], tiers=(("z",), ("m", "f")))
    >>> fig = plot_graph(g)
    >>> plt.close(fig)
    """
    if isinstance(graph, pd.DataFrame):
        freq, nodes = graph, list(graph.attrs.get("nodes") or dict.fromkeys(np.ravel(graph.index.tolist())))
        drawn = _modal_edges(freq, min_frequency)
        tiers = tiers if tiers is not None else graph.attrs.get("tiers", ())
    else:
        nodes, freq = list(graph.nodes), frequencies
        presence = {} if freq is None else {frozenset(p): 1.0 - r for p, r in freq["absent"].items()}
        drawn = [(a, b, m, presence.get(frozenset((a, b)), 1.0 if freq is None else 0.0))
                 for a, b, m in graph.edges]
        tiers = tiers if tiers is not None else graph.tiers
    pos = tier_layout(nodes, [(a, b, m) for a, b, m, _ in drawn], tiers)
    xs, ys = np.array(list(pos.values())).T
    if ax is None:
        span = max(np.ptp(xs) + 1.6, 3.0)
        with style():
            fig, ax = plt.subplots(figsize=(min(2 * COLUMN_WIDTH, 0.55 * span + 0.6),
                                            0.55 * (np.ptp(ys) + 1.0) + 0.4), layout="constrained")
    fig = ax.figure
    with style():
        mids, placed = [], []
        for a, b, m, f in drawn:
            others = [p for n, p in pos.items() if n not in (a, b)]
            rad = 0.3 if _blocked(pos[a], pos[b], others) else 0.0
            width, alpha = (0.4 + 1.6 * f, 0.25 + 0.75 * f) if freq is not None else (1.1, 1.0)
            mid = _draw_edge(ax, pos[a], pos[b], a, b, m, width=width, alpha=alpha, color=PALETTE["black"],
                             rad=rad)
            mids.append(mid)
            if annotate and freq is not None:
                at = _label_position(np.asarray(mid), np.asarray(pos[a]), np.asarray(pos[b]), placed)
                placed.append(at)
                ax.text(at[0], at[1], f"{f:.2f}", fontsize=5.5, color=PALETTE["vermillion"], ha="center",
                        va="center", zorder=4, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"))
        for n, p in pos.items():
            ax.add_patch(Ellipse(p, 2 * _half_width(n), _NODE_H, facecolor=PALETTE["skyblue"],
                                 edgecolor=PALETTE["blue"], lw=0.8, zorder=5))
            ax.text(p[0], p[1], n, ha="center", va="center", fontsize=6.5, zorder=6)
    ext = np.array([*pos.values(), *mids])
    ax.set_xlim(ext[:, 0].min() - 0.9, ext[:, 0].max() + 0.9)
    ax.set_ylim(ext[:, 1].min() - 0.4, ext[:, 1].max() + 0.4)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig


def _label_position(mid: np.ndarray, a: np.ndarray, b: np.ndarray, placed: list[np.ndarray],
                    min_distance: float = 0.3) -> np.ndarray:
    """Where an edge's frequency label goes: its midpoint, else slid along the edge until it clears the labels
    already placed (edges that cross or run side by side would otherwise print their numbers on top of each
    other); the midpoint when no position is clear."""
    for t in (0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8):
        at = mid + (t - 0.5) * (b - a)
        if all(np.hypot(*(at - p)) >= min_distance for p in placed):
            return at
    return mid


def _pair_labels(freq: pd.DataFrame) -> list[str]:
    return [f"{a} – {b}" for a, b in freq.index]


def plot_edge_stability(freq: pd.DataFrame, *, kind: str = "heatmap", min_frequency: float = 0.0,
                        ax: Axes | None = None) -> Figure:
    """Bootstrap edge frequencies from :func:`~interpret.causal.edge_stability`.

    Parameters
    ----------
    freq : DataFrame
        The edge_stability table (rows: pairs ``a – b``; columns: marks read from a to b, and absent).
    kind : {"heatmap", "bar"}, default "heatmap"
        Heatmap of pair x mark frequencies, or stacked horizontal bars per pair.
    min_frequency : float, default 0
        Hide pairs adjacent in fewer than this fraction of resamples.
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt, pandas as pd
    >>> idx = pd.MultiIndex.from_tuples([("z", "m"), ("m", "f")], names=["a", "b"])
    >>> freq = pd.DataFrame({"-->": [0.9, 0.3], "<--": [0.1, 0.0], "absent": [0.0, 0.7]}, index=idx)
    >>> freq.attrs.update(n_boot=10, method="pc")                      # as edge_stability() returns it
    >>> fig = plot_edge_stability(freq, kind="bar")
    >>> fig.axes[0].get_title()
    'PC edge stability, 10 resamples'
    >>> plt.close(fig)
    """
    if kind not in ("heatmap", "bar"):
        raise ValueError(f"plot_edge_stability(): unknown kind {kind!r}; valid values are 'heatmap', 'bar'")
    freq = freq[1.0 - freq["absent"] >= min_frequency]
    used = [c for c in freq.columns if c == "absent" or freq[c].max() > 0]
    table = freq[used]
    height = 0.22 * len(table) + 0.9
    fig, ax = get_ax(ax, figsize=(COLUMN_WIDTH, height))
    with style():
        labels = _pair_labels(table)
        if kind == "heatmap":
            im = ax.imshow(table.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
            for (i, j), v in np.ndenumerate(table.to_numpy()):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=5.5,
                        color="white" if v < 0.6 else "black")
            ax.set_xticks(range(len(used)), used, rotation=45, ha="right", fontsize=7)
            ax.set_xlabel("mark, read from a to b")
            ax.set_yticks(range(len(table)), labels)
            ax.minorticks_off()
            ax.tick_params(top=False, right=False)
            fig.colorbar(im, ax=ax, label="bootstrap frequency", shrink=0.8)
        else:
            left = np.zeros(len(table))
            colors = dict(zip([c for c in used if c != "absent"], plt.rcParams["axes.prop_cycle"].by_key()["color"]))
            colors["absent"] = "#DDDDDD"
            for c in used:
                ax.barh(range(len(table)), table[c], left=left, color=colors[c], label=c, height=0.75)
                left += table[c].to_numpy()
            ax.set_yticks(range(len(table)), labels)
            ax.set_xlim(0, 1)
            ax.invert_yaxis()
            ax.set_xlabel("bootstrap frequency")
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6, title="mark (a to b)", title_fontsize=6)
        n_boot = freq.attrs.get("n_boot")
        if n_boot:
            ax.set_title(f"{freq.attrs.get('method', '').upper()} edge stability, {n_boot} resamples", fontsize=8)
    return fig


def plot_local_dependence(result: LocalDependence, *, alpha: float = 0.05, ax: Axes | None = None) -> Figure:
    """Histogram of per-galaxy neighbourhood correlations, with significant ones highlighted.

    Parameters
    ----------
    result : LocalDependence
    alpha : float, default 0.05
        Level at which a galaxy's correlation counts as significant.
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> from interpret.causal import LocalDependence
    >>> rng = np.random.default_rng(0)
    >>> r = LocalDependence(correlation=rng.uniform(-0.2, 0.6, 50), p_value=rng.uniform(0, 0.2, 50),
    ...                     null_std=np.full(50, 0.1), efficiency=np.zeros(50), k=20, conditioned=True)
    >>> fig = plot_local_dependence(r)
    >>> fig.axes[0].get_xlabel()
    'conditional correlation in 20-neighbourhood'
    >>> plt.close(fig)
    """
    fig, ax = get_ax(ax)
    r = np.asarray(result.correlation)
    ok = np.isfinite(r)
    sig = ok & (np.asarray(result.p_value) < alpha)
    with style():
        bins = np.linspace(-1, 1, 41)
        ax.hist(r[ok], bins=bins, color=PALETTE["skyblue"], label="all galaxies")
        ax.hist(r[sig], bins=bins, color=PALETTE["vermillion"], label=f"p < {alpha:g} ({sig.mean():.0%})")
        ax.axvline(0, color="k", lw=0.6)
        cond = "conditional " if result.conditioned else ""
        ax.set_xlabel(f"{cond}correlation in {result.k}-neighbourhood")
        ax.set_ylabel("galaxies")
        ax.legend(loc="upper left")
    return fig
