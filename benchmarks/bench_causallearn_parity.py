"""Parity check on causal-learn's larger bnlearn PC benchmarks (issue 18): hailfinder, hepar2, win95pts.

``discover()`` runs each network with causal-learn's own settings (chisq, alpha 0.05, stable, uc_rule 0,
uc_priority -1 = our ``"stronger"``) and its graph is compared, endpoint by endpoint, with causal-learn's
expected matrix (``tests/data/causallearn/``); causal-learn's ``pc()`` is timed on the same data.
These networks take too long for the test suite (``tests/test_causal_parity.py`` marks them slow).

``python -m benchmarks.bench_causallearn_parity [names...]`` appends one row per network to
benchmarks/RESULTS.md.
"""
from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks._common import record

__all__ = ["main", "NETWORKS"]

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "causallearn" / "bnlearn_discrete_10000"
NETWORKS = ("hailfinder", "hepar2", "win95pts")


def _load(name: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    with gzip.open(DATA / "data" / f"{name}.txt.gz", "rt") as fh:
        names = fh.readline().split()
        x = np.loadtxt(fh)
    expected = np.loadtxt(DATA / "benchmark_returned_results" / f"{name}_pc_chisq_0.05_stable_0_-1.txt").astype(int)
    return x, names, expected


def _endpoint_mismatches(edges: list[tuple[str, str, str]], expected: np.ndarray, names: list[str]) -> int:
    """Number of (i, j) endpoint entries where our graph and causal-learn's expected matrix differ."""
    from interpret.causal._decode import decode_graph

    ours = {(a, b): m for a, b, m in edges}
    theirs = {(a, b): m for a, b, m in decode_graph(expected, names)}
    diff = 0
    for pair in set(ours) | set(theirs):
        m1, m2 = ours.get(pair, "  "), theirs.get(pair, "  ")
        diff += sum(u != v for u, v in zip((m1[0], m1[-1]), (m2[0], m2[-1])))
    return diff


def check(name: str, repeat: int = 2) -> dict:
    """Run one network through discover() and causal-learn's pc() ``repeat`` times each, in alternating order
    (ours first, then theirs first, ...); endpoint mismatches of every run and the best seconds of each."""
    from causallearn.search.ConstraintBased.PC import pc

    from interpret.causal import discover

    x, names, expected = _load(name)
    times: dict[str, list[float]] = {"ours": [], "direct": []}
    mismatch = {"ours": 0, "direct": 0}
    n_edges = 0

    def ours() -> None:
        nonlocal n_edges
        g = discover(x, names=names, test="chisq", alpha=0.05, uc_priority="stronger")
        n_edges = len(g.edges)
        mismatch["ours"] = max(mismatch["ours"], _endpoint_mismatches(g.edges, expected, names))

    def direct() -> None:
        cg = pc(x, 0.05, "chisq", True, 0, -1, show_progress=False, node_names=names)
        mismatch["direct"] = max(mismatch["direct"], int(np.sum(cg.G.graph != expected)))

    for i in range(repeat):
        for label, run in ((("ours", ours), ("direct", direct)) if i % 2 == 0 else
                           (("direct", direct), ("ours", ours))):
            t0 = time.perf_counter()
            run()
            times[label].append(time.perf_counter() - t0)
    return {"name": name, "nodes": len(names), "edges": n_edges, "mismatch_ours": mismatch["ours"],
            "mismatch_direct": mismatch["direct"], "ours": min(times["ours"]), "direct": min(times["direct"]),
            "runs": times}


def main(names: tuple[str, ...] = NETWORKS) -> None:
    for name in names:
        r = check(name)
        record(f"causal: parity with causal-learn TestPC, bnlearn {name} (PC chisq 0.05)",
               f"{r['nodes']} nodes, {r['edges']} edges; endpoint mismatches vs causal-learn's expected graph: "
               f"discover() {r['mismatch_ours']}, causal-learn pc() {r['mismatch_direct']}; "
               f"discover() {r['ours']:.1f} s, pc() {r['direct']:.1f} s (best of {len(r['runs']['ours'])}, "
               "alternating order)",
               f"{r['ours'] / r['direct']:.2f}x (ours/direct)", packages=("causal-learn",))


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or NETWORKS)
