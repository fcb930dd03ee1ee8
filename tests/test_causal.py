"""Known-answer and contract tests of interpret.causal.discover / CausalGraph (causal-learn backend)."""
from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import interpret as ip
from interpret import load_result
from interpret.causal import Background, CausalGraph, discover, kci_cost_seconds, reference_edges, tiers
from interpret.causal._decode import decode_graph
from interpret.exceptions import CostWarning, ValidationError


def _linear_sem(dag: nx.DiGraph, n: int, seed: int, weight: float = 0.8) -> pd.DataFrame:
    """Linear-Gaussian data from a DAG: each node = weight * sum(parents) + N(0, 1)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for v in nx.topological_sort(dag):
        cols[v] = sum((weight * cols[p] for p in dag.predecessors(v)), start=rng.normal(size=n))
    return pd.DataFrame(cols)


COLLIDER = nx.DiGraph([("a", "c"), ("b", "c")])
CHAIN = nx.DiGraph([("a", "b"), ("b", "c")])
FORK = nx.DiGraph([("b", "a"), ("b", "c")])


# --- known answers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dag, expected", [
    (COLLIDER, [("a", "c", "-->"), ("b", "c", "-->")]),
    (CHAIN, [("a", "b", "---"), ("b", "c", "---")]),
    (FORK, [("a", "b", "---"), ("b", "c", "---")]),
])
def test_pc_collider_chain_fork(dag, expected):
    df = _linear_sem(dag, 3000, seed=1)[["a", "b", "c"]]
    g = discover(df, method="pc")
    assert g.edges == expected
    assert g.shd(dag) == 0
    assert reference_edges(dag, ["a", "b", "c"]) == expected


def test_fci_collider_marks_circles_and_arrowheads():
    g = discover(_linear_sem(COLLIDER, 3000, seed=2)[["a", "b", "c"]], method="fci")
    assert g.edges == [("a", "c", "o->"), ("b", "c", "o->")]
    assert g.shd(COLLIDER) == 0


def test_pc_recovers_linear_gaussian_dag_from_1e4_rows():
    dag = nx.DiGraph([("x1", "x2"), ("x1", "x3"), ("x2", "x4"), ("x3", "x4"), ("x4", "x5"), ("x6", "x5")])
    df = _linear_sem(dag, 10_000, seed=3)
    g = discover(df, method="pc", alpha=0.01)
    cmp = g.compare(dag)
    assert cmp["shd"] == 0 and cmp["precision"] == 1.0 and cmp["recall"] == 1.0
    assert ("x4", "x5", "-->") in g.edges and ("x6", "x5", "-->") in g.edges


def test_fci_marks_bidirected_edge_for_hidden_confounder():
    dag = nx.DiGraph([("x", "a"), ("L", "a"), ("L", "b"), ("y", "b")])
    df = _linear_sem(dag, 5000, seed=4).drop(columns="L")[["x", "a", "b", "y"]]
    g = discover(df, method="fci")
    assert g.mark("a", "b") == "<->"
    assert g.shd(dag) == 0                    # L is latent in the reference PAG
    assert ("a", "b", "<->") in reference_edges(dag, ["x", "a", "b", "y"], method="fci")


def _random_dag(n: int, p: float, seed: int) -> nx.DiGraph:
    rng = np.random.default_rng(seed)
    dag = nx.DiGraph()
    dag.add_nodes_from(f"v{i}" for i in range(n))
    dag.add_edges_from((f"v{i}", f"v{j}") for i in range(n) for j in range(i + 1, n) if rng.random() < p)
    return dag


@pytest.mark.parametrize("seed", range(6))
def test_bitset_d_separation_answers_as_networkx(seed):
    """The reference-graph oracle against networkx on random DAGs and random conditioning sets."""
    from interpret.causal.truth import DSeparation

    rng = np.random.default_rng(seed)
    dag = _random_dag(int(rng.integers(5, 25)), float(rng.uniform(0.1, 0.5)), seed)
    oracle, nodes = DSeparation(dag), list(dag.nodes)
    separated = 0
    for _ in range(300):
        x, y, *given = rng.choice(nodes, size=2 + int(rng.integers(0, min(6, len(nodes) - 2))), replace=False)
        expected = nx.is_d_separator(dag, {x}, {y}, set(given))
        assert oracle.separated(x, y, given) == expected, (x, y, given)
        separated += expected
    assert 0 < separated < 300          # both answers were exercised


@pytest.mark.parametrize("method", ["pc", "fci"])
def test_reference_edges_match_causal_learns_own_oracle(method):
    """Same PC / FCI output as causal-learn's networkx d-separation test, latent variables included."""
    from interpret.causal._run import run_causallearn

    for seed in range(3):
        dag = _random_dag(14, 0.25, 100 + seed)
        nodes = [f"v{i}" for i in range(14) if i % 3]                     # every third node latent
        order = nodes + [v for v in dag.nodes if v not in nodes]
        relabelled = nx.relabel_nodes(dag, {v: i for i, v in enumerate(order)})
        theirs = run_causallearn(np.zeros((len(nodes) + 1, len(nodes))), nodes, method=method,
                                 test="d_separation", alpha=0.5, background=None,
                                 test_kwargs={"true_dag": relabelled})
        assert reference_edges(dag, nodes, method=method) == theirs


def test_tiers_orient_a_chain_and_forbidden_edges_hold():
    df = _linear_sem(CHAIN, 3000, seed=5)[["a", "b", "c"]]
    g = discover(df, background=[["a"], ["b"], ["c"]])
    assert g.edges == [("a", "b", "-->"), ("b", "c", "-->")]
    assert g.tiers == (("a",), ("b",), ("c",))
    g2 = discover(df, background=Background(forbidden=[("a", "b"), ("b", "a")]))
    assert g2.mark("a", "b") is None
    g3 = discover(df, background={"required": [("c", "b")]})
    assert g3.mark("c", "b") == "-->"


def test_shd_counts_missing_extra_and_misoriented():
    g = CausalGraph(nodes=("a", "b", "c"), edges=[("a", "b", "-->"), ("c", "b", "-->"), ("a", "c", "---")])
    cmp = g.compare(CHAIN)                    # truth CPDAG: a---b---c
    assert (cmp["missing"], cmp["extra"], cmp["misoriented"]) == (0, 1, 2)
    assert g.shd(CHAIN) == 3
    assert g.adjacency_precision_recall(CHAIN) == (pytest.approx(2 / 3), 1.0)


def test_decode_graph_reads_every_endpoint_code():
    m = np.zeros((4, 4), dtype=int)
    m[1, 0], m[0, 1] = 1, -1      # 0 --> 1
    m[1, 2], m[2, 1] = 1, 2       # 2 o-> 1
    m[2, 3], m[3, 2] = 1, 1       # 2 <-> 3
    m[0, 3], m[3, 0] = 2, 2       # 0 o-o 3
    assert decode_graph(m, list("abcd")) == [
        ("a", "b", "-->"), ("a", "d", "o-o"), ("c", "b", "o->"), ("c", "d", "<->")]


def test_paths_directed_and_possibly_directed():
    g = CausalGraph(nodes=("z", "m", "s", "f"), method="pc",
                    edges=[("z", "m", "-->"), ("m", "f", "-->"), ("z", "s", "---"), ("s", "f", "-->")])
    p = g.paths("z", "f")
    assert p["directed"] == [["z", "m", "f"]]
    assert p["possibly_directed"] == [["z", "s", "f"]]
    pag = CausalGraph(nodes=("a", "b", "c"), method="fci", edges=[("a", "b", "o->"), ("c", "b", "<->")])
    assert pag.paths("a", "b")["possibly_directed"] == [["a", "b"]]
    assert pag.paths("c", "b") == {"directed": [], "possibly_directed": []}   # <-> is not causal
    with pytest.raises(ValidationError, match="not a node"):
        g.paths("z", "nope")


@pytest.mark.parametrize("test", ["chisq", "gsq"])
def test_discrete_tests_on_binary_collider(test):
    rng = np.random.default_rng(6)
    a, b = rng.integers(0, 2, size=(2, 4000))
    c = (a | b) ^ (rng.random(4000) < 0.1)    # noisy OR
    g = discover(pd.DataFrame({"a": a, "b": b, "c": c}), test=test)
    assert g.edges == [("a", "c", "-->"), ("b", "c", "-->")]


def test_kernel_tests_find_nonlinear_collider():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(2, 300))
    df = pd.DataFrame({"a": a, "b": b, "c": np.tanh(a) + b**2 / 2 + 0.3 * rng.normal(size=300)})
    assert discover(df, test="kci", alpha=0.05).edges == [("a", "c", "-->"), ("b", "c", "-->")]
    r1, r2 = (discover(df, test="rcit", alpha=0.05, seed=1) for _ in range(2))
    assert r1.edges == r2.edges == [("a", "c", "-->"), ("b", "c", "-->")]


def test_mv_fisherz_accepts_missing_values():
    df = _linear_sem(COLLIDER, 3000, seed=8)[["a", "b", "c"]]
    df.loc[::37, "a"] = np.nan
    with pytest.raises(ValidationError, match="NaN"):
        discover(df)
    assert discover(df, test="mv_fisherz").edges == [("a", "c", "-->"), ("b", "c", "-->")]


# --- contract -----------------------------------------------------------------------------------------
def test_inputs_astropy_table_and_array_with_names_match_dataframe():
    from astropy.table import Table

    df = _linear_sem(COLLIDER, 2000, seed=9)[["a", "b", "c"]]
    before = df.copy()
    ref = discover(df)
    assert discover(Table.from_pandas(df)).edges == ref.edges
    assert discover(df.to_numpy(), names=["a", "b", "c"]).edges == ref.edges
    assert discover(df, names=["a", "c"]).nodes == ("a", "c")
    pd.testing.assert_frame_equal(df, before)     # input not mutated


def test_flat_api_and_result_round_trip(tmp_path):
    g = ip.discover(_linear_sem(COLLIDER, 2000, seed=11)[["a", "b", "c"]], method="fci")
    assert isinstance(g, ip.CausalGraph) and isinstance(g, ip._results.Result)
    g.save(tmp_path / "g.ipres")
    back = load_result(tmp_path / "g.ipres")
    assert back == g and back.edges == g.edges
    assert g.to_frame().columns.tolist() == ["source", "target", "mark"]
    nxg = g.to_networkx()
    assert nxg.edges["a", "c"]["mark"] == "o->" and nxg.edges["a", "c"]["tail"] == "circle"
    dot = g.to_dot()
    assert '"a" -> "c" [dir=both, arrowtail=odot, arrowhead=normal];' in dot


def test_to_dot_tiers_and_marks():
    g = CausalGraph(nodes=("z", "m"), edges=[("z", "m", "-->")], tiers=(("z",), ("m",)))
    dot = g.to_dot()
    assert "rank=same" in dot and "arrowtail=none, arrowhead=normal" in dot


def test_fci_is_silent(capsys):
    discover(_linear_sem(CHAIN, 1000, seed=11)[["a", "b", "c"]], method="fci", background=[["a"], ["b", "c"]])
    discover(_linear_sem(CHAIN, 1000, seed=11)[["a", "b", "c"]], method="pc")
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@pytest.mark.parametrize("method", ["pc", "fci"])
def test_subsample_is_seeded(method):
    df = _linear_sem(CHAIN, 5000, seed=12)[["a", "b", "c"]]
    g1 = discover(df, method=method, subsample=300, seed=3)
    g2 = discover(df, method=method, subsample=300, seed=3)
    assert g1 == g2 and g1.n_samples == 300


def test_kci_cost_warning_names_cost_and_alternatives():
    assert kci_cost_seconds(500, 5) == pytest.approx(62.0)
    assert kci_cost_seconds(1000, 5) == pytest.approx(496.0)
    rng = np.random.default_rng(13)
    df = pd.DataFrame(rng.normal(size=(2000, 4)), columns=list("abcd"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CostWarning)          # stop before the (minutes-long) run
        with pytest.raises(CostWarning, match=r"~\d+ s .*subsample.*rcit.*fastkci"):
            discover(df, test="kci")


# --- bad input ----------------------------------------------------------------------------------------
def test_bad_input_messages_name_the_problem():
    rng = np.random.default_rng(14)
    df = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    with pytest.raises(ValidationError, match=r"'data' has 1 NaN values \(rows 5\)"):
        discover(df.assign(a=df.a.where(df.index != 5)))
    with pytest.raises(ValidationError, match=r"columns \['k'\] are constant"):
        discover(df.assign(k=1.0))
    with pytest.raises(ValidationError, match=r"perfectly collinear.*a, b, d"):
        discover(df.assign(d=df.a - 2 * df.b))
    with pytest.raises(ValidationError, match="at least 10"):
        discover(df.head(6))
    with pytest.raises(ValidationError, match="not numeric"):
        discover(df.assign(s="x"))
    with pytest.raises(ValidationError, match="unknown method 'ges'"):
        discover(df, method="ges")
    with pytest.raises(ValidationError, match="unknown test"):
        discover(df, test="pearson")
    with pytest.raises(ValidationError, match="'alpha' must be in"):
        discover(df, alpha=1.5)
    with pytest.raises(ValidationError, match=r"variables \['zz'\] that are not in the data"):
        discover(df, background=[["zz"], ["a"]])
    with pytest.raises(ValidationError, match="'names' has 2 entries"):
        discover(df.to_numpy(), names=["a", "b"])


def test_background_validation():
    with pytest.raises(ValidationError, match="in tiers 0 and 1"):
        tiers(["a"], ["a", "b"])
    with pytest.raises(ValidationError, match="forbidden by the tiers"):
        tiers(["a"], ["b"], required=[("b", "a")])
    with pytest.raises(ValidationError, match="unknown keys"):
        ip.causal.as_background({"tier": [["a"]]}, "discover")
    bk = Background(tiers=(("p1", "p2"),), forbid_within=(0,))
    assert bk.forbids("p1", "p2") and not tiers(["a"], ["b"]).forbids("a", "b")
