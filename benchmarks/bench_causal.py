"""Benchmark interpret.causal: wrapper overhead over causal-learn, edge_stability parallel speed-up, and the
reference graph's d-separation oracle (bit sets vs causal-learn's networkx test).

``python -m benchmarks.bench_causal`` appends rows to benchmarks/RESULTS.md.
"""
from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pandas as pd

from benchmarks._common import best_time, record

__all__ = ["main"]


def _data(n: int = 5000, p: int = 8, seed: int = 0) -> pd.DataFrame:
    """Linear-Gaussian data from a random sparse DAG over p variables."""
    rng = np.random.default_rng(seed)
    dag = nx.gnp_random_graph(p, 0.35, seed=seed, directed=True)
    dag = nx.DiGraph([(a, b) for a, b in dag.edges if a < b])
    dag.add_nodes_from(range(p))
    cols: dict[str, np.ndarray] = {}
    for v in nx.topological_sort(dag):
        cols[f"x{v}"] = sum((0.7 * cols[f"x{u}"] for u in dag.predecessors(v)), start=rng.normal(size=n))
    return pd.DataFrame(cols)[[f"x{v}" for v in range(p)]]


def bench_overhead(df: pd.DataFrame) -> None:
    from causallearn.search.ConstraintBased.PC import pc

    import interpret as ip

    x = df.to_numpy()
    direct = best_time(lambda: pc(x, 0.01, "fisherz", show_progress=False, node_names=list(df.columns)), repeat=5)
    wrapped = best_time(lambda: ip.causal.discover(df, method="pc", alpha=0.01), repeat=5)
    record("causal: PC fisherz, wrapper vs causal-learn direct",
           f"{df.shape[0]} rows x {df.shape[1]} vars: direct {direct * 1e3:.1f} ms, discover() {wrapped * 1e3:.1f} ms",
           f"{wrapped / direct:.2f}x (wrapper/direct)", packages=("causal-learn",))


def bench_stability(df: pd.DataFrame, n_boot: int = 48) -> None:
    import interpret as ip

    times = {}
    for n_jobs in (1, 2, 4):
        ip.causal.edge_stability(df, n_boot=n_jobs, n_jobs=n_jobs, seed=0, progress=False)   # start workers
        t0 = time.perf_counter()
        ip.causal.edge_stability(df, n_boot=n_boot, n_jobs=n_jobs, seed=0, progress=False)
        times[n_jobs] = time.perf_counter() - t0
    desc = ", ".join(f"{k} worker{'s' if k > 1 else ''} {v:.1f} s" for k, v in times.items())
    ratio = ", ".join(f"{times[1] / times[k]:.2f}x at {k}" for k in (2, 4))
    record(f"causal: edge_stability PC, {n_boot} bootstraps of {df.shape[0]} x {df.shape[1]}", desc,
           f"speed-up {ratio}", packages=("causal-learn", "joblib"))


def bench_reference(n: int = 300, seed: int = 0) -> None:
    """PC and FCI reference graphs of the stellar_mass study's variables on the mock universe's planted DAG:
    interpret's bit-set oracle vs causal-learn's own ``d_separation`` test (networkx), same output."""
    import interpret as ip
    from interpret.causal._run import run_causallearn
    from interpret.causal.truth import reference_edges

    dag = ip.mock.make_universe(n=n, seed=seed).truth.dag
    nodes = [v for v in ("redshift", "log_mstar", "log_sfr", "dust_av", "metallicity", "age", "sersic_n", "r_eff",
                         "g", "r", "i", "z") if v in dag]
    order = nodes + [v for v in dag.nodes if v not in nodes]
    relabelled = nx.relabel_nodes(dag, {v: i for i, v in enumerate(order)})
    parts = []
    for method in ("pc", "fci"):
        def theirs(m=method):
            return run_causallearn(np.zeros((len(nodes) + 1, len(nodes))), nodes, method=m, test="d_separation",
                                   alpha=0.5, background=None, test_kwargs={"true_dag": relabelled})

        def ours(m=method):
            return reference_edges(dag, nodes, method=m)

        assert theirs() == ours()
        t_theirs, t_ours = best_time(theirs, repeat=2), best_time(ours, repeat=2)
        parts.append((method, t_theirs, t_ours))
    desc = "; ".join(f"{m.upper()} networkx {a:.2f} s, bit sets {b:.2f} s" for m, a, b in parts)
    record(f"causal: reference_edges of {len(nodes)} observed of {dag.number_of_nodes()} planted-DAG nodes "
           "(d-separation oracle, same edges)", desc,
           ", ".join(f"{m.upper()} {a / b:.1f}x" for m, a, b in parts), packages=("causal-learn", "networkx"))


def main() -> None:
    df = _data()
    bench_overhead(df)
    bench_stability(df.iloc[:2000])
    bench_reference()


if __name__ == "__main__":
    main()
