"""Smoke + content tests of interpret.plots.causal (figures are drawn, never computed)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from interpret.causal import CausalGraph, LocalDependence, edge_stability  # noqa: E402
from interpret.plots.causal import (  # noqa: E402
    plot_edge_stability,
    plot_graph,
    plot_local_dependence,
    tier_layout,
)

PAG = CausalGraph(nodes=("z", "m", "s", "g", "r"), method="fci", tiers=(("z",), ("m", "s"), ("g", "r")),
                  edges=[("z", "m", "-->"), ("m", "s", "o-o"), ("m", "g", "o->"), ("g", "r", "<->"),
                         ("s", "r", "---")])


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_tier_layout_puts_tiers_on_rows_top_down():
    pos = tier_layout(PAG.nodes, PAG.edges, PAG.tiers)
    assert pos["z"][1] > pos["m"][1] > pos["g"][1]
    free = tier_layout(("a", "b", "c"), [("a", "b", "-->"), ("b", "c", "-->")])
    assert free["a"][1] > free["b"][1] > free["c"][1]


def test_plot_graph_draws_every_mark():
    fig = plot_graph(PAG)
    ax = fig.axes[0]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(arrows) == 5
    assert len(circles) == 3                     # o-o has two, o-> one
    styles = sorted(type(a.get_arrowstyle()).__name__ for a in arrows)
    assert styles.count("CurveFilledB") == 2 and "CurveFilledAB" in styles and styles.count("Curve") == 2


def test_plot_graph_with_bootstrap_frequencies_and_from_table(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=400)
    b = a + rng.normal(size=400)
    df = pd.DataFrame({"a": a, "b": b, "c": b + rng.normal(size=400)})
    freq = edge_stability(df, n_boot=4, n_jobs=1, seed=0, progress=False, background=[["a"], ["b"], ["c"]])
    g = CausalGraph(nodes=("a", "b", "c"), edges=[("a", "b", "-->"), ("b", "c", "-->")], tiers=(("a",), ("b",), ("c",)))
    fig = plot_graph(g, frequencies=freq)
    widths = [p.get_linewidth() for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert widths == [pytest.approx(2.0)] * 2     # frequency 1 -> full width
    assert any(t.get_text() == "1.00" for t in fig.axes[0].texts)
    fig2, ax = plt.subplots()
    assert plot_graph(freq, ax=ax) is fig2
    fig2.savefig(tmp_path / "g.png")


@pytest.mark.parametrize("kind", ["heatmap", "bar"])
def test_plot_edge_stability(kind):
    idx = pd.MultiIndex.from_tuples([("a", "b"), ("b", "c")], names=["a", "b"])
    freq = pd.DataFrame({"-->": [0.7, 0.2], "<--": [0.1, 0.0], "absent": [0.2, 0.8]}, index=idx)
    freq.attrs.update(n_boot=10, method="pc")
    fig = plot_edge_stability(freq, kind=kind)
    assert fig.axes[0].get_title().startswith("PC edge stability")
    with pytest.raises(ValueError, match="unknown kind"):
        plot_edge_stability(freq, kind="pie")


def test_plot_local_dependence():
    r = LocalDependence(correlation=np.array([0.1, 0.5, np.nan]), p_value=np.array([0.5, 0.01, np.nan]),
                        null_std=np.ones(3) * 0.1, efficiency=np.zeros(3), k=20, conditioned=True)
    fig = plot_local_dependence(r)
    assert "conditional correlation" in fig.axes[0].get_xlabel()
