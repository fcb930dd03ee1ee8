"""False-positive rate of ``local_dependence``'s dataset-level test on the mock universe (issue 18).

Each repetition takes ``n`` fresh galaxies of one ``make_universe`` catalogue (disjoint rows, so repetitions
are independent) and tests the true stellar mass (target) against a query that is, by construction,
conditionally independent of it given the embedding:

* ``pure``  - query = ``position_angle``, which the planted DAG gives no parents and no catalogue children:
  independent of the mass and of the photometry;
* ``trend`` - query = a photometric redshift, the true redshift plus an independent error 0.05 (1 + z); the
  embedding holds the true redshift, so target and query both trend across the embedding (the mass through
  the colours and redshift, the query through the redshift) yet are independent given it;
* ``trend|z`` - the same, testing with ``condition=redshift`` (the paper's use: redshift regressed out inside
  each neighbourhood).

Embedding: standardised (redshift, u-g, g-r, r-i, i-z, z-W1, r), the coordinates a photometric network would
encode. Reports the rejection rate at ``alpha`` with its Clopper-Pearson 95 % interval, and (descriptive) the
old reading "fraction of per-galaxy p-values below alpha > alpha".

Run: ``python -m benchmarks.bench_local_dependence_null [--reps 200] [--n 1000] [--no-record]``
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

KINDS = ("pure", "trend", "trend|z")


def catalogue(n_total: int, seed: int = 0):
    import interpret as ip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ip.mock.make_universe(n=n_total, seed=seed, images=False, spectra=False, progress=False).catalog


def null_data(cat, kind: str, rows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(embedding, target, query, condition) of one null repetition on catalogue ``rows``."""
    c = cat.iloc[rows]
    z = c["redshift"].to_numpy()
    emb = np.column_stack([z, c["u"] - c["g"], c["g"] - c["r"], c["r"] - c["i"], c["i"] - c["z"], c["z"] - c["W1"],
                           c["r"]])
    emb = (emb - emb.mean(0)) / emb.std(0)
    target = c["log_mstar"].to_numpy()
    if kind == "pure":
        query = c["position_angle"].to_numpy()
    else:
        query = z + 0.05 * (1 + z) * rng.normal(size=len(z))
    return emb, target, query, (z if kind == "trend|z" else None)


def rejection_rate(kind: str, *, reps: int, n: int, k: int, n_perm: int, alpha: float = 0.05, seed: int = 0,
                   cat=None) -> dict:
    from interpret.causal import local_dependence

    cat = catalogue(reps * n, seed) if cat is None else cat
    rng = np.random.default_rng(seed)
    hits, naive = 0, 0
    for i in range(reps):
        emb, t, q, z = null_data(cat, kind, np.arange(i * n, (i + 1) * n), rng)
        r = local_dependence(emb, t, q, k=k, condition=z, n_permutations=n_perm, seed=rng, progress=False)
        hits += r.dataset_p_value <= alpha
        naive += r.fraction_significant(alpha) > alpha
    ci = stats.binomtest(int(hits), reps).proportion_ci(0.95, method="exact")
    return {"kind": kind, "rate": hits / reps, "lo": ci.low, "hi": ci.high, "naive": naive / reps, "reps": reps}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--n-perm", type=int, default=99)
    p.add_argument("--no-record", dest="record", action="store_false")
    args = p.parse_args([] if argv is None else argv)
    t0 = time.perf_counter()
    cat = catalogue(args.reps * args.n)
    rows = [rejection_rate(kind, reps=args.reps, n=args.n, k=args.k, n_perm=args.n_perm, cat=cat) for kind in KINDS]
    text = "; ".join(f"{r['kind']}: {100 * r['rate']:.1f} % [95 % CI {100 * r['lo']:.1f}-{100 * r['hi']:.1f}] "
                     f"(naive 'fraction significant > alpha': {100 * r['naive']:.0f} %)" for r in rows)
    text = (f"mock universe, {args.reps} null repetitions each, n={args.n}, k={args.k}, {args.n_perm} permutations, "
            f"alpha=0.05: {text} ({time.perf_counter() - t0:.0f} s)")
    name = "local_dependence dataset-level test, false-positive rate on mock-universe nulls (issue 18)"
    if args.record:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from benchmarks._common import record

        record(name, text, "nominal 5 %")
    else:
        print(f"{name}: {text}")


if __name__ == "__main__":
    main(sys.argv[1:])
