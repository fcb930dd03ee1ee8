"""edge_stability: bootstrap edge frequencies, seeded through interpret.parallel."""
from __future__ import annotations

import joblib
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from interpret.causal import discover, edge_stability
from interpret.causal.stability import STABILITY_COLUMNS


def _data(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, n))
    c = 0.8 * a + 0.8 * b + rng.normal(size=n)
    d = 0.8 * c + rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "c": c, "d": d})


def test_strong_edges_are_stable_and_rows_sum_to_one():
    f = edge_stability(_data(), n_boot=12, n_jobs=1, seed=0, progress=False)
    assert list(f.columns) == list(STABILITY_COLUMNS)
    np.testing.assert_allclose(f.sum(axis=1), 1.0)
    assert f.loc[("a", "c"), "-->"] > 0.75 and f.loc[("b", "c"), "-->"] > 0.75
    assert f.loc[("c", "d"), "-->"] > 0.75                # oriented by Meek rule 1
    assert f.loc[("a", "c"), "absent"] == 0.0
    assert f.attrs["n_boot"] == 12 and f.attrs["nodes"] == ["a", "b", "c", "d"]


def test_same_seed_same_table_any_n_jobs_and_different_seed_differs():
    df = _data(300, seed=1)
    f1 = edge_stability(df, n_boot=8, n_jobs=1, seed=5, progress=False)
    with joblib.parallel_config(backend="threading"):     # processes would re-import causal-learn (slow)
        f2 = edge_stability(df, n_boot=8, n_jobs=2, seed=5, progress=False)
    pd.testing.assert_frame_equal(f1, f2)
    f3 = edge_stability(df, n_boot=8, n_jobs=1, seed=6, progress=False, all_pairs=True)
    assert len(f3) == 6


def test_fci_stability_and_reversed_marks_read_from_a_to_b():
    dag = nx.DiGraph([("x", "a"), ("L", "a"), ("L", "b"), ("y", "b")])
    rng = np.random.default_rng(2)
    cols = {}
    for v in nx.topological_sort(dag):
        cols[v] = sum((0.9 * cols[p] for p in dag.predecessors(v)), start=rng.normal(size=3000))
    df = pd.DataFrame(cols)[["b", "a", "x", "y"]]          # 'b' first: x --> a is read as a <-- x
    f = edge_stability(df, n_boot=6, method="fci", n_jobs=1, seed=0, progress=False)
    assert f.loc[("b", "a"), "<->"] > 0.8
    assert f.loc[("a", "x"), "<-o"] + f.loc[("a", "x"), "<--"] > 0.8


def test_tiers_pass_through_and_bad_arguments():
    f = edge_stability(_data(400), n_boot=4, n_jobs=1, seed=0, progress=False,
                       background=[["a", "b"], ["c"], ["d"]])
    assert f.loc[("c", "d"), "-->"] == 1.0
    assert f.attrs["tiers"] == [["a", "b"], ["c"], ["d"]]
    with pytest.raises(ValueError, match="'n_boot' must be >= 1"):
        edge_stability(_data(), n_boot=0)


def test_fci_under_threads_keeps_stdout_and_rcit_is_seeded(capsys):
    import sys

    stdout = sys.stdout
    df = _data(300, seed=3)
    with joblib.parallel_config(backend="threading"):
        f1 = edge_stability(df, n_boot=6, method="fci", n_jobs=2, seed=1, progress=False,
                            background=[["a", "b"], ["c", "d"]])
        r1 = edge_stability(df[["a", "c", "d"]].head(150), n_boot=2, test="rcit", n_jobs=2, seed=2,
                            progress=False)
    assert sys.stdout is stdout and capsys.readouterr().out == ""
    pd.testing.assert_frame_equal(f1, edge_stability(df, n_boot=6, method="fci", n_jobs=1, seed=1, progress=False,
                                                     background=[["a", "b"], ["c", "d"]]))
    pd.testing.assert_frame_equal(r1, edge_stability(df[["a", "c", "d"]].head(150), n_boot=2, test="rcit",
                                                     n_jobs=1, seed=2, progress=False))


def _conflicting_colliders(n: int = 2000) -> pd.DataFrame:
    """a --> b <-- L --> c <-- d with L hidden: PC finds colliders at b and at c that disagree on b - c."""
    rng = np.random.default_rng(0)
    a, hidden, d = rng.normal(size=(3, n))
    return pd.DataFrame({"a": a, "b": a + hidden + 0.5 * rng.normal(size=n),
                         "c": hidden + d + 0.5 * rng.normal(size=n), "d": d})


@pytest.mark.parametrize(("uc_rule", "uc_priority", "bc"), [(None, None, "<--"), ("sepset", "bidirected", "<->"),
                                                             ("sepset", "overwrite", "-->")])
def test_collider_options_pass_through_to_every_bootstrap(uc_rule, uc_priority, bc):
    from interpret.causal.stability import _read_ab

    df = _conflicting_colliders()
    g = discover(df, alpha=0.001, uc_rule=uc_rule, uc_priority=uc_priority)
    f = edge_stability(df, n_boot=4, alpha=0.001, uc_rule=uc_rule, uc_priority=uc_priority, n_jobs=1, seed=0,
                       progress=False)
    order = {n: i for i, n in enumerate(df.columns)}
    expected = dict(_read_ab(e, order) for e in g.edges)
    assert expected[("b", "c")] == bc                          # the options do change the full-data graph
    assert set(f.index) == set(expected)
    for pair, mark in expected.items():                        # ... and every bootstrap graph agrees with it
        assert f.loc[pair, mark] == 1.0
    assert f.attrs["uc_rule"] == (uc_rule or "sepset") and f.attrs["uc_priority"] == (uc_priority or "existing")


def test_collider_options_validated_in_edge_stability_terms():
    with pytest.raises(ValueError, match=r"edge_stability\(\): 'uc_rule' and 'uc_priority' apply to method='pc'"):
        edge_stability(_data(100), method="fci", uc_rule="maxp")
    with pytest.raises(ValueError, match=r"edge_stability\(\): unknown uc_priority"):
        edge_stability(_data(100), uc_priority="first")


_FCI_BOOTSTRAP = """
import warnings, zlib, interpret as ip
warnings.simplefilter("ignore")
u = ip.mock.make_universe(n=3000, seed=0, images=False, spectra=False, progress=False)
cols = ["redshift", "log_mstar", "u", "g", "r", "i", "z", "W1", "W2", "sersic_n", "r_eff_arcsec", "axis_ratio"]
freq = ip.causal.edge_stability(u.catalog[cols], n_boot=10, method="fci", alpha=0.05, seed=0, n_jobs=1,
                                progress=False)
print(zlib.crc32(freq.to_csv().encode()))
"""


def test_fci_bootstrap_does_not_depend_on_the_hash_seed():
    """causal-learn iterates over sets of nodes hashed by name: with plain strings these ten FCI bootstraps gave
    different edge frequencies under PYTHONHASHSEED 0 and 5 (so across runs, and on a Dask cluster, whose
    workers get a fixed seed). The names are handed over with a seed-independent hash."""
    import os
    import subprocess
    import sys

    out = [subprocess.run([sys.executable, "-c", _FCI_BOOTSTRAP], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("0", "5")]
    assert out[0] == out[1] and out[0]


def test_causallearn_gets_names_with_a_seed_independent_hash(monkeypatch):
    import zlib

    import causallearn.search.ConstraintBased.PC as pc_module

    from interpret.causal import _run

    seen = {}
    real = pc_module.pc

    def spy(*args, node_names=None, **kwargs):
        seen["names"] = node_names
        return real(*args, node_names=node_names, **kwargs)

    monkeypatch.setattr(pc_module, "pc", spy)
    x = np.random.default_rng(0).normal(size=(200, 3))
    edges = _run.run_causallearn(x, ["a", "b", "c"], method="pc", test="fisherz", alpha=0.01, background=None)
    assert seen["names"] == ["a", "b", "c"]
    assert [hash(n) for n in seen["names"]] == [zlib.crc32(n.encode()) for n in "abc"]
    assert all(type(n) is str for edge in edges for n in edge[:2])
