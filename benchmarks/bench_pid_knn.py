"""kNN (KSG) mutual information and the per-galaxy neural decomposition: speed and accuracy on Gaussian data.

``python -m benchmarks.bench_pid_knn`` times KSG MI on 10^5 samples with a 5-D source (against scikit-learn's
``mutual_info_regression``, which handles 1-D sources only, on the 1-D case) and records the error of both
routes against the analytic values at N = 10^3 and 10^4 (``accuracy(ns=(10**3, 10**4, 10**5))`` for the full
table quoted in the module notes of ``interpret.pid.knn`` and ``interpret.pid.neural``).
"""
from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from benchmarks._common import best_time, record
from interpret.pid._gaussian import (
    binned_gaussian_mi,
    gaussian_mi,
    gaussian_mmi,
    gaussian_r2,
    gaussian_sample,
)
from interpret.pid.knn import knn_decompose, mutual_information
from interpret.pid.neural import NeuralTraining, pointwise_decompose

logger = logging.getLogger(__name__)

COV = np.array([[1.0, 0.6, 0.4], [0.6, 1.0, 0.2], [0.4, 0.2, 1.0]])   # target, source a, source b


def five_d(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Target and a 5-D correlated source with R² = 0.64; returns (t, x, analytic MI in bits)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)) @ np.linalg.cholesky(0.5 * np.eye(5) + 0.5).T
    w = np.array([1.0, -0.5, 0.3, 0.8, 0.0])
    signal = x @ w
    t = 0.8 * signal / signal.std() + 0.6 * rng.normal(size=n)
    return t, x, float(-0.5 * np.log2(1 - 0.64))


def _knn_row(n: int, seed: int) -> dict:
    d = gaussian_sample(COV, n, seed)
    t5, x5, mi5 = five_d(n, seed)
    truth = gaussian_mmi(COV)
    r = knn_decompose(d[:, 0], {"a": d[:, 1], "b": d[:, 2]}, seed=seed)
    return {"route": "knn", "N": n, "seed": seed,
            "mi_1d": abs(mutual_information(d[:, 0], d[:, 1], seed=seed).value - gaussian_mi(COV, 0, [1])),
            "mi_5d": abs(mutual_information(t5, x5, seed=seed).value - mi5),
            "joint": abs(r.mutual_information - gaussian_mi(COV, 0, [1, 2])),
            "atoms_max": max(abs(r.atoms[a] - truth[a]) for a in truth)}


def _neural_row(n: int, seed: int, n_classes: int = 20) -> dict:
    d = gaussian_sample(COV, n, seed)
    truth = gaussian_mmi(COV, n_classes=n_classes)
    big = n >= 50_000
    t0 = time.perf_counter()
    r = pointwise_decompose(d[:, 0], {"a": d[:, 1], "b": d[:, 2]}, n_classes=n_classes, seed=seed,
                            training=NeuralTraining(batch_size=1024 if big else 256), progress=False)
    avg = r.to_pid("average")
    return {"route": "neural", "N": n, "seed": seed,
            "mi_1d": abs(avg.details["information"]["a"] - binned_gaussian_mi(gaussian_r2(COV, 0, [1]), n_classes)),
            "joint": abs(avg.mutual_information - binned_gaussian_mi(gaussian_r2(COV, 0, [1, 2]), n_classes)),
            "atoms_max": max(abs(avg.atoms[a] - truth[a]) for a in truth),
            "binning_gap": gaussian_mi(COV, 0, [1, 2]) - binned_gaussian_mi(gaussian_r2(COV, 0, [1, 2]), n_classes),
            "seconds": time.perf_counter() - t0}


def accuracy(ns: tuple[int, ...] = (10**3, 10**4), seeds: int = 3, neural_seeds: int = 2) -> pd.DataFrame:
    """Mean absolute errors (bits) of both routes against the analytic Gaussian values, per N."""
    rows = [_knn_row(n, s) for n in ns for s in range(seeds)]
    rows += [_neural_row(n, s) for n in ns for s in range(neural_seeds if n < 50_000 else 1)]
    return pd.DataFrame(rows).groupby(["route", "N"]).mean(numeric_only=True).drop(columns="seed")


def _ksg_random_order(x: np.ndarray, y: np.ndarray, k: int = 3, workers: int = 1) -> float:
    """The KSG estimate as computed before rows were put in kd-tree leaf order (the "before" of ``scaling``)."""
    from scipy.spatial import cKDTree
    from scipy.special import digamma

    from interpret.pid.knn import _count_strictly_within

    joint = np.hstack([x, y])
    eps = cKDTree(joint).query(joint, k=[k + 1], p=np.inf, workers=workers)[0][:, 0]
    nx, ny = _count_strictly_within(x, eps, workers), _count_strictly_within(y, eps, workers)
    return float((digamma(k) + digamma(len(x)) - np.mean(digamma(nx + 1) + digamma(ny + 1))) / np.log(2))


def _ksg_balanced(x: np.ndarray, y: np.ndarray, k: int = 3, workers: int = 1) -> float:
    """The KSG estimate with median-split joint trees and 1-D counts searched in row order (the "before" of
    ``scaling(baseline="balanced")``: sliding-midpoint trees and value-ordered 1-D searches came next)."""
    from scipy.spatial import cKDTree
    from scipy.special import digamma

    from interpret.pid.knn import _count_strictly_within

    def count(v: np.ndarray, eps: np.ndarray) -> np.ndarray:
        if v.shape[1] > 1:
            return _count_strictly_within(v, eps, workers)
        s = np.sort(v[:, 0])
        inner = eps - 4 * np.spacing(np.abs(v[:, 0]) + eps)
        return np.searchsorted(s, v[:, 0] + inner, "right") - np.searchsorted(s, v[:, 0] - inner, "left") - 1

    n, dx = len(x), x.shape[1]
    joint = np.hstack([x, y])
    order = cKDTree(joint).indices
    joint = np.ascontiguousarray(joint[order])
    eps = cKDTree(joint).query(joint, k=[k + 1], p=np.inf, workers=workers)[0][:, 0]
    nx, ny = count(np.ascontiguousarray(joint[:, :dx]), eps), count(np.ascontiguousarray(joint[:, dx:]), eps)
    terms = np.empty(n)
    terms[order] = digamma(nx + 1) + digamma(ny + 1)
    return float((digamma(k) + digamma(n) - np.mean(terms)) / np.log(2))


def scaling(ns: tuple[int, ...] = (10**5, 3 * 10**5, 10**6), repeat: int = 3, *,
            baseline: str = "random") -> pd.DataFrame:
    """Seconds of one KSG estimate (5-D source, k = 3) in random ("before") and in kd-leaf row order ("after").

    ``baseline="balanced"`` makes the "before" the leaf-order version with median-split trees and 1-D counts
    searched in row order (``_ksg_balanced``) instead of the random-order one.

    ``*_cpu_s``: process CPU time of one thread, the exponent's measure: on shared cores the wall clock mostly
    measures the other jobs. ``*_wall_s``: wall time with every core (``workers=-1``: threaded joint query
    and, after, threaded marginal counts). The two versions run interleaved on the same data (minimum over
    ``repeat``); the exponent is the slope of log time against log N between the smallest and largest N.
    """
    from interpret.pid.knn import ksg

    before = {"random": _ksg_random_order, "balanced": _ksg_balanced}[baseline]
    rows = []
    for n in ns:
        t, x, _ = five_d(n, 0)
        t = ((t - t.mean()) / t.std())[:, None]
        x = (x - x.mean(axis=0)) / x.std(axis=0)
        best: dict[str, float] = {}
        values = {}
        for _ in range(repeat if n < 10**6 else max(1, repeat - 1)):
            for name, f in (("before", before), ("after", ksg)):
                for clock, workers, timer in (("cpu", 1, time.process_time), ("wall", -1, time.perf_counter)):
                    t0 = timer()
                    values[name] = f(t, x, 3, workers=workers)
                    key = f"{name}_{clock}_s"
                    best[key] = min(best.get(key, np.inf), timer() - t0)
        assert values["before"] == values["after"], values   # unchanged values
        rows.append({"N": n, **best, "bits": values["after"]})
    table = pd.DataFrame(rows).set_index("N")
    span = np.log(ns[-1] / ns[0])
    table.attrs["exponent"] = {c: float(np.log(table[c].iloc[-1] / table[c].iloc[0]) / span)
                               for c in table.columns if c.endswith("_s")}
    return table


def main() -> None:
    t, x, _ = five_d(100_000, 0)
    t_knn = best_time(lambda: mutual_information(t, x, seed=0), repeat=3)
    from sklearn.feature_selection import mutual_info_regression

    t_ours_1d = best_time(lambda: mutual_information(t, x[:, 0], seed=0), repeat=3)
    t_sk_1d = best_time(lambda: mutual_info_regression(x[:, :1], t, n_neighbors=3, random_state=0), repeat=3)
    record("pid_knn: KSG MI, N=1e5, 5-D source (k=3)", f"{t_knn:.2f} s",
           f"1-D source: ours {t_ours_1d:.2f} s vs sklearn mutual_info_regression {t_sk_1d:.2f} s "
           f"({t_sk_1d / t_ours_1d:.1f}x)", ("scipy", "scikit-learn"))
    sc = scaling()
    exp = sc.attrs["exponent"]
    cpu = ", ".join(f"N={n:.0e}: {r.before_cpu_s:.2f} -> {r.after_cpu_s:.2f} s" for n, r in sc.iterrows())
    wall = ", ".join(f"N={n:.0e}: {r.before_wall_s:.2f} -> {r.after_wall_s:.2f} s" for n, r in sc.iterrows())
    record("pid_knn: KSG MI scaling, 5-D source, k=3 (random -> kd-leaf row order, threaded counts)",
           f"exponent CPU 1 thread {exp['before_cpu_s']:.2f} -> {exp['after_cpu_s']:.2f}, wall all cores "
           f"{exp['before_wall_s']:.2f} -> {exp['after_wall_s']:.2f}",
           f"CPU {cpu}; wall {wall}; same values", ("scipy", "scikit-learn"))
    table = accuracy()
    for (route, n), row in table.iterrows():
        cols = ", ".join(f"{c}={v:.4f}" for c, v in row.items() if np.isfinite(v))
        record(f"pid_knn accuracy: {route}, Gaussian, N={n}", f"mean |error| bits: {cols}", "-", ("torch",))


if __name__ == "__main__":
    main()
