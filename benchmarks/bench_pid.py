"""Binned PID benchmarks: our BROJA vs dit's cone solver vs a generic cvxpy program; our CCS vs dit's;
flat-index bincount vs np.unique + dit.Distribution.

Run with ``python -m benchmarks.bench_pid``; rows are appended to ``benchmarks/RESULTS.md``. Solvers that
would take more than about a minute at a given k (measured in issue 5) are skipped.
"""
from __future__ import annotations

import logging
import time
import warnings

import numpy as np

from benchmarks._common import best_time, record

logger = logging.getLogger(__name__)
PACKAGES = ("dit", "cvxpy", "clarabel", "ecos")
N = 100_000


def _codes(k: int, n: int = N, seed: int = 0) -> list[np.ndarray]:
    """Quantile-binned correlated Gaussians with a nonlinear target (x, y, t)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.6 * a + 0.8 * rng.normal(size=n)
    t = a + 0.5 * b + 0.3 * a * b + 0.5 * rng.normal(size=n)
    return [np.searchsorted(np.quantile(v, np.linspace(0, 1, k + 1)[1:-1]), v) for v in (a, b, t)]


def _pmf(k: int) -> np.ndarray:
    from interpret.pid.estimation import joint_pmf

    return joint_pmf(_codes(k), (k, k, k))


def _timed(func):
    t0 = time.perf_counter()
    out = func()
    return out, time.perf_counter() - t0


def bench_broja() -> None:
    from interpret.pid.broja import broja_cone_objective, broja_solve
    from interpret.pid.measures import MEASURES, _dit_atoms

    for k in (4, 8, 16, 32):
        pmf = _pmf(k)
        sol = broja_solve(pmf)
        ours = best_time(lambda p=pmf: broja_solve(p), repeat=3)
        parts = [f"k={k}: ours {ours:.3f} s (gap {sol.gap:.1e} bits, {sol.iterations} it)"]
        ratios = []
        if k <= 8:  # dit cone did not finish in 300 s at k = 16
            dit_atoms, t_dit = _timed(lambda p=pmf: _dit_atoms(MEASURES["broja_dit"], p, ("x", "y")))
            diff = abs(dit_atoms["{x}{y}"] - sol.redundancy)
            parts.append(f"dit cone {t_dit:.3f} s (|dSI| {diff:.1e})")
            ratios.append(f"dit cone / ours = {t_dit / ours:.1f}x")
        if k <= 16:  # generic cvxpy took 229 s at k = 24
            obj, t_cvx = _timed(lambda p=pmf: broja_cone_objective(p))
            parts.append(f"cvxpy+Clarabel {t_cvx:.3f} s (|dI*| {abs(obj - sol.min_joint_information):.1e})")
            ratios.append(f"cvxpy / ours = {t_cvx / ours:.1f}x")
        record("pid: BROJA solver, n=1e5, 2 sources", "; ".join(parts), "; ".join(ratios) or "-", PACKAGES)


def _load_solver(path: str):
    """An earlier ``broja.py`` (``git show REV:interpret/pid/broja.py > FILE``) as a module, for before/after rows."""
    import importlib.util
    import sys

    import interpret.pid  # noqa: F401  (the copy's relative imports resolve inside this package)

    spec = importlib.util.spec_from_file_location("interpret.pid._broja_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def bench_broja_certified(ks: tuple[int, ...] = (8, 16, 32, 64), clarabel_up_to: int = 32,
                          before: str | None = None) -> None:
    """Issue 18: BROJA's certified accuracy and time on the binned-Gaussian table and on a dense Dirichlet table.

    Accuracy is the certified gap (a rigorous bound) and, up to ``clarabel_up_to``, the distance to the
    exponential-cone optimum from Clarabel (:func:`interpret.pid.broja.broja_clarabel`). ``before`` is the
    path of an earlier ``broja.py``: its ``broja_solve`` is timed on the same tables, interleaved with the
    current one (best of 5 at k <= 16, 3 at k = 32, 2 at k = 64), and its accuracy reported alike.
    """
    from interpret.pid.broja import broja_clarabel, broja_solve

    old = _load_solver(before) if before else None
    parts, ratios = [], []
    for k in ks:
        tables = {"gauss": _pmf(k), "dirichlet": np.random.default_rng(k).dirichlet(np.ones(k**3)).reshape(k, k, k)}
        for name, pmf in tables.items():
            repeat = 5 if k <= 16 else 3 if k <= 32 else 2
            sol = broja_solve(pmf)
            sol_old = old.broja_solve(pmf) if old else None
            t, t_old = np.inf, np.inf
            for _ in range(repeat):
                t = min(t, best_time(lambda p=pmf: broja_solve(p), repeat=1))
                if old:
                    t_old = min(t_old, best_time(lambda p=pmf: old.broja_solve(p), repeat=1))
            ref = broja_clarabel(pmf) if k <= clarabel_up_to else None
            part = f"k={k} {name}: {t:.3f} s, {sol.iterations} it, gap {sol.gap:.1e} bits ({sol.certified_by})"
            if ref is not None:
                part += f", |dI*| vs Clarabel {abs(ref.min_joint_information - sol.min_joint_information):.1e}"
            if old:
                part += f" [before: {t_old:.3f} s, {sol_old.iterations} it, gap {sol_old.gap:.1e} ({sol_old.certified_by})"
                if ref is not None:
                    part += f", |dI*| {abs(ref.min_joint_information - sol_old.min_joint_information):.1e}"
                part += "]"
                ratios.append(f"k={k} {name} {t_old / t:.1f}x")
            parts.append(part)
    label = "pid: BROJA certified (feasible Q + dual bound, Clarabel fallback), tol 1e-5 bits"
    if old:
        label += f", before = {before}"
    record(label, "; ".join(parts), ("before / after: " + ", ".join(ratios)) if ratios else "-", PACKAGES)


def bench_ccs() -> None:
    from interpret.pid.measures import MEASURES, _ccs_fast, _dit_atoms

    for k in (4, 6, 8, 16):
        pmf = _pmf(k)
        (ours_atoms, diag), t_ours = _timed(lambda p=pmf: _ccs_fast(p, ("x", "y")))
        parts = [f"k={k}: ours {t_ours:.3f} s ({diag['ipf_iterations']} IPF sweeps)"]
        ratio = "-"
        if k <= 6:  # dit CCS: 32 s at k = 7, > 240 s at k = 8
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dit_atoms, t_dit = _timed(lambda p=pmf: _dit_atoms(MEASURES["ccs"], p, ("x", "y")))
            parts.append(f"dit {t_dit:.3f} s (|dSI| {abs(dit_atoms['{x}{y}'] - ours_atoms['{x}{y}']):.1e})")
            ratio = f"dit / ours = {t_dit / t_ours:.0f}x"
        record("pid: CCS, n=1e5, 2 sources", "; ".join(parts), ratio, PACKAGES)


def bench_joint_table() -> None:
    import dit

    from interpret.pid.estimation import joint_pmf

    k, n = 16, 1_000_000
    codes = _codes(k, n)
    t_bc = best_time(lambda: joint_pmf(codes, (k, k, k)))

    def via_unique() -> None:
        rows, counts = np.unique(np.stack(codes, 1), axis=0, return_counts=True)
        dit.Distribution([tuple(r) for r in rows.tolist()], counts / n)

    t_un = best_time(via_unique, repeat=1)
    record("pid: joint table, n=1e6, 3 vars x 16 bins", f"bincount {t_bc:.3f} s; np.unique+dit {t_un:.2f} s",
           f"{t_un / t_bc:.0f}x", PACKAGES)


def main() -> None:
    """Run every PID benchmark and append the rows to RESULTS.md.

    ``python -m benchmarks.bench_pid --broja-before FILE`` runs only the certified-BROJA row, against the
    ``broja.py`` in FILE (before/after in one run).
    """
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broja-before", help="earlier broja.py to time against (only the certified-BROJA row)")
    args = parser.parse_args()
    if args.broja_before:
        bench_broja_certified(before=args.broja_before)
        return
    bench_joint_table()
    bench_broja()
    bench_broja_certified()
    bench_ccs()


if __name__ == "__main__":
    main()
