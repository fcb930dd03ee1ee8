"""Mutual information of continuous, multi-dimensional variables by k nearest neighbours (KSG), in bits.

The Kraskov–Stögbauer–Grassberger estimator (algorithm 1) needs no binning: for each sample, the distance
ε to its k-th neighbour in the joint space (max-norm) sets a window in each marginal space, and

    I(X; Y) = ψ(k) + ψ(N) − ⟨ψ(n_x + 1) + ψ(n_y + 1)⟩,

where n_x, n_y count the other samples strictly within ε in each marginal. Neighbour search uses
``scipy.spatial.cKDTree`` (max-norm, all cores through ``workers``) for the joint k-th neighbour, scikit-learn's
``KDTree.query_radius(count_only=True)`` (Chebyshev) for multi-dimensional marginal counts, and two
``searchsorted`` calls on the sorted values for 1-D marginals, all on rows put in kd-tree leaf order first
(cache locality; see :func:`ksg`). There is no per-sample Python loop.

Choices (recorded in the result's ``details``)
----------------------------------------------
* Scaling (``scaling=``): ``"standardize"`` (default) scales each column to unit standard deviation;
  ``"whiten"`` also rotates each variable's columns onto their principal axes (PCA whitening). MI is invariant
  to both, the kNN bias is not. On Gaussian data standardising is better (5-D source, R² = 0.64: whitening
  doubled the error, e.g. 0.020 → 0.041 bits at N = 10^4, also for strongly correlated columns, r = 0.95). On
  the mock universe's five magnitudes (r > 0.8) with a 2-D morphology source, standardised KSG put
  I(log M*; ugriz + morphology) at 0.79 bits (N = 10^4), *below* I(log M*; ugriz) = 1.04 and below the neural
  route's lower bound of 1.09; whitened it gave 1.09. Try ``"whiten"`` when the non-monotonicity warning
  below fires.
* KSG underestimates large information in many dimensions, so I(T; joint sources) can come out below the
  information of one source (non-monotone) and the MMI synergy negative; :func:`knn_decompose` warns when this
  exceeds 0.05 bits.
* Ties: a tiny Gaussian jitter (``jitter`` standard deviations, default 1e-10, drawn from ``seed``) breaks exact
  ties so that neighbour counts are well defined. It does not make discrete data continuous: a variable with
  fewer distinct values than half its rows triggers an :class:`~interpret.exceptions.EstimationWarning`
  (use the binned route, or a ``jitter`` of about half the rounding step).
* Confidence intervals: resampling *with* replacement creates exact duplicates, which the kNN counts treat as
  zero-distance neighbours (the MI estimate explodes). We use half-sampling instead: ``n_boot`` subsamples of
  ``m = subsample · N`` rows drawn *without* replacement. The spread of the subsample estimates around their
  mean is rescaled by sqrt(m / (N − m)) (finite-population correction; 1 for half-samples), which turns it into
  the sampling spread of the full-N estimate, and the interval is centred on the full-sample estimate
  (Politis & Romano 1994; Shao & Wu 1989). Replicates run through :func:`interpret.parallel.seeded_map`.
  A replicate with a non-finite value is left out of the interval, counted (``details["failed_resamples"]``,
  and ``PIDResult.uncertified_resamples["bootstrap"]`` as on the binned route) and reported by one
  :class:`~interpret.exceptions.EstimationWarning`, never silently. :func:`knn_decompose` also counts the
  replicates whose source-set informations are non-monotone (``details["non_monotone_resamples"]``): a
  large share says the synergy interval inherits KSG's high-dimensional bias.
* The estimate is not clipped: independent variables give values scattered around 0, slightly negative ones
  included.

Accuracy on jointly Gaussian data
---------------------------------
Mean absolute error in bits over 5 seeds, k = 3 (``benchmarks/bench_pid_knn.accuracy``). Target and two 1-D
sources with correlations 0.6, 0.4 (sources 0.2 apart); the 5-D source has R² = 0.64 (0.737 bits). Atoms are
compared with the analytic MMI decomposition (redundancy 0.126, unique 0.196 and 0, synergy 0.098 bits).

======= ============ ============ ============== ==================
N       I(T; a), 1-D I(T; x), 5-D I(T; a, b)     worst MMI atom
======= ============ ============ ============== ==================
10^3    0.032        0.061        0.020          0.066
10^4    0.016        0.019        0.021          0.026
10^5    0.004        0.003        0.004          0.009
======= ============ ============ ============== ==================

References
----------
Kraskov, Stögbauer & Grassberger 2004, arXiv:cond-mat/0305641 (estimator);
Politis & Romano 1994, doi:10.1214/aos/1176325770 (subsampling);
Barrett 2015, arXiv:1411.2832 (MMI = BROJA for Gaussian sources and a 1-D target).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from scipy.special import digamma
from sklearn.neighbors import KDTree

from .._compat import renamed_keywords
from .._guards import check_resamples
from .._results import Result
from .._validation import as_generator, check_array, check_choice, check_fraction, check_int, spawn_seeds
from ..exceptions import EstimationWarning, ValidationError
from ..parallel import seeded_map
from ._mmi import MAX_SOURCES, mmi_atoms, set_label, source_sets
from ._result import PIDResult

__all__ = ["MIEstimate", "mutual_information", "knn_decompose", "ksg"]

logger = logging.getLogger(__name__)
_LN2 = np.log(2.0)
ESTIMATORS = ("knn", "ksg")
SCALINGS = ("standardize", "whiten")


@dataclasses.dataclass(frozen=True)
class MIEstimate(Result):
    """A mutual-information estimate in bits, with its confidence interval when requested.

    Attributes
    ----------
    value : float
        Estimate of I(target; source) on all samples, bits.
    ci : (float, float) or None
        Confidence interval (half-sampling, see module notes), bits.
    ci_level : float or None
        Confidence level of ``ci``.
    k : int
        Number of neighbours.
    n_samples : int
        Rows used.
    estimator : str
        ``"knn"`` (KSG algorithm 1).
    replicates : ndarray, shape (n_boot,)
        Subsample estimates behind ``ci`` (empty without CI), bits.
    details : dict
        Jitter, scaling, subsample fraction, dimensions, wall time.
    """

    value: float
    ci: tuple[float, float] | None = None
    ci_level: float | None = None
    k: int = 3
    n_samples: int = 0
    estimator: str = "knn"
    replicates: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.value)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``bits``, ``ci_low``, ``ci_high``, ``k``, ``n_samples``."""
        low, high = self.ci if self.ci is not None else (np.nan, np.nan)
        return pd.DataFrame([{"bits": self.value, "ci_low": low, "ci_high": high, "k": self.k,
                              "n_samples": self.n_samples}], index=pd.Index([self.estimator], name="estimator"))


# --- the estimator -------------------------------------------------------------------------------------
def _count_strictly_within(v: np.ndarray, eps: np.ndarray, workers: int) -> np.ndarray:
    """Number of *other* rows of ``v`` within max-norm distance < eps[i] of row i."""
    if v.shape[1] == 1:
        # x ± eps is rounded, so the neighbour that set eps (at distance exactly eps) could land inside the
        # window: shrink it by a few ulps (only exact ties at the ulp level are affected)
        # The windows are searched in sorted order, so consecutive binary searches walk the same part of the
        # sorted array (in cache): at 10^6 rows this is 1.4x faster than searching in row order.
        x = v[:, 0]
        by_value = np.argsort(x)
        s, e = x[by_value], eps[by_value]
        inner = e - 4 * np.spacing(np.abs(s) + e)
        counts = np.empty(len(x), dtype=np.intp)
        counts[by_value] = np.searchsorted(s, s + inner, "right") - np.searchsorted(s, s - inner, "left") - 1
        return counts
    # sklearn's count-only radius query is ~3x faster than cKDTree.query_ball_point(return_length=True) here;
    # its loop runs without the GIL, so contiguous blocks of rows (neighbours in memory: leaf order) run in threads
    tree, radius = KDTree(v, metric="chebyshev"), np.nextafter(eps, 0.0)
    n_threads = min(_n_threads(workers), max(1, len(v) // 20_000))
    if n_threads == 1:
        return tree.query_radius(v, radius, count_only=True) - 1
    edges = np.linspace(0, len(v), n_threads + 1).astype(int)
    with ThreadPoolExecutor(n_threads) as pool:
        parts = pool.map(lambda lo_hi: tree.query_radius(v[lo_hi[0]:lo_hi[1]], radius[lo_hi[0]:lo_hi[1]],
                                                         count_only=True), zip(edges[:-1], edges[1:]))
        return np.concatenate(list(parts)) - 1


def _n_threads(workers: int) -> int:
    """Threads for ``workers`` (-1: every core this process may run on)."""
    if workers > 0:
        return workers
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores + 1 + workers)


def ksg(x: np.ndarray, y: np.ndarray, k: int = 3, *, workers: int = -1) -> float:
    """KSG algorithm-1 estimate of I(x; y) in bits, on arrays already scaled and jittered.

    The rows are first put in the leaf order of a kd-tree of the joint sample, so that the trees built next
    hold neighbouring points next to each other in memory and consecutive queries visit the same nodes: at
    10^6 rows a query in random order waits on memory (time exponent 1.26 from 10^5 to 10^6), in leaf order
    it stays in cache. The per-row terms are put back in the input order before averaging, so the value
    does not depend on the reordering (bit for bit). Both joint trees split at the sliding midpoint
    (``balanced_tree=False``): they build in half the time of median-split trees and answer the k-th
    neighbour queries as fast; the distances, hence the counts, do not depend on the tree.

    Cost: the k-th neighbour query and the multi-dimensional marginal counts take almost all the time, in
    about equal parts. The counts grow a little faster than N, because the number of points inside each
    window grows like N^(1/(dx+dy)) (exact KSG counts enumerate them); for a 5-D source and 1-D target the
    process CPU time grows like N^1.12 from 10^5 to 10^6 rows (``benchmarks/bench_pid_knn.scaling``).

    Parameters
    ----------
    x, y : ndarray, shape (n, dx) and (n, dy)
        Samples in rows; no ties expected (see :func:`mutual_information` for the safe entry point).
    k : int, default 3
        Neighbours in the joint space.
    workers : int, default -1
        Threads for the neighbour queries and counts (-1: all cores).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 1)); y = x + rng.normal(size=(2000, 1))
    >>> round(ksg(x, y), 1)   # analytic: 0.5 bits
    0.5
    """
    n, dx = len(x), x.shape[1]
    joint = np.hstack([x, y])
    order = cKDTree(joint, balanced_tree=False).indices
    joint = np.ascontiguousarray(joint[order])
    dist, _ = cKDTree(joint, balanced_tree=False).query(joint, k=[k + 1], p=np.inf, workers=workers)
    eps = dist[:, 0]
    nx = _count_strictly_within(np.ascontiguousarray(joint[:, :dx]), eps, workers)
    ny = _count_strictly_within(np.ascontiguousarray(joint[:, dx:]), eps, workers)
    terms = np.empty(n)
    terms[order] = digamma(nx + 1) + digamma(ny + 1)
    nats = digamma(k) + digamma(n) - np.mean(terms)
    return float(nats / _LN2)


# --- input handling ---------------------------------------------------------------------------------------
def _as_matrix(x: Any, name: str, func: str) -> np.ndarray:
    """2-D float array (n, d), finite, with no constant column."""
    arr = check_array(x.to_numpy() if isinstance(x, (pd.Series, pd.DataFrame)) else x, name, func,
                      ndim=(1, 2), dtype=float)
    arr = arr.reshape(len(arr), -1)
    if arr.shape[1] == 0:
        raise ValidationError(f"{func}(): '{name}' has no columns; pass at least one variable")
    sd = arr.std(axis=0)
    if np.any(sd == 0):
        cols = ", ".join(str(c) for c in np.flatnonzero(sd == 0))
        raise ValidationError(f"{func}(): '{name}' is constant (column(s) {cols}); its information is 0 - drop it")
    return arr


def _check_ties(arr: np.ndarray, name: str, func: str) -> None:
    n_unique = len(np.unique(arr, axis=0))
    if n_unique < len(arr) / 2:
        warnings.warn(f"{func}(): '{name}' has only {n_unique} distinct values in {len(arr)} rows; the kNN "
                      "estimator assumes continuous data and is biased by ties - use the binned estimator, "
                      "or set 'jitter' to about half the rounding step (in standard deviations)",
                      EstimationWarning, stacklevel=3)


def _prepare(arrays: dict[str, Any], func: str, k: int, scaling: str = "standardize") -> dict[str, np.ndarray]:
    """Validate, check lengths/ties/sample size, and scale every variable (``scaling``)."""
    out = {name: _as_matrix(a, name, func) for name, a in arrays.items()}
    lengths = {name: len(a) for name, a in out.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"'{k_}' has {n}" for k_, n in lengths.items())
        raise ValidationError(f"{func}(): inputs must have the same number of rows; {desc}")
    n = next(iter(lengths.values()))
    need = k + 2
    if n < need:
        raise ValidationError(f"{func}(): k={k} neighbours need at least {need} samples; got {n} - "
                              "lower 'k' or pass more samples")
    for name, a in out.items():
        _check_ties(a, name, func)
    if scaling == "whiten":
        return {name: _whiten(a, name, func) for name, a in out.items()}
    return {name: (a - a.mean(axis=0)) / a.std(axis=0) for name, a in out.items()}


def _whiten(a: np.ndarray, name: str, func: str) -> np.ndarray:
    """Centre and whiten one variable's columns (PCA to unit variance); MI is invariant to this linear map."""
    a = (a - a.mean(axis=0)) / a.std(axis=0)
    if a.shape[1] == 1:
        return a
    vals, vecs = np.linalg.eigh(np.cov(a, rowvar=False))
    if vals[0] <= 1e-10 * vals[-1]:
        raise ValidationError(f"{func}(): the columns of '{name}' are linearly dependent (e.g. magnitudes plus "
                              "their colours); drop the redundant columns")
    return (a @ vecs) / np.sqrt(vals)


def _jittered(a: np.ndarray, jitter: float, rng: np.random.Generator) -> np.ndarray:
    return a + jitter * rng.standard_normal(a.shape) if jitter > 0 else a


def _check_options(func: str, method: str, k: int, n_boot: int, ci_level: float, subsample: float,
                   jitter: float) -> None:
    check_choice(method, "method", func, ESTIMATORS)
    check_int(k, "k", func, minimum=1)
    check_int(n_boot, "n_boot", func, minimum=0)
    check_resamples(func, "n_boot", n_boot, what="half-sample replicates")
    check_fraction(ci_level, "ci_level", func)
    check_fraction(subsample, "subsample", func)
    if not (isinstance(jitter, (int, float)) and 0 <= jitter < 1):
        raise ValidationError(f"{func}(): 'jitter' must be a number in [0, 1) (standard deviations); got {jitter!r}")


# --- confidence intervals by half-sampling -----------------------------------------------------------------
def _subsample_ci(full: np.ndarray, reps: np.ndarray, n: int, m: int, level: float) -> np.ndarray:
    """(2, ...) CI bounds: full estimate + rescaled quantiles of the centred subsample estimates (NaN if none)."""
    if len(reps) == 0:
        return np.full((2, *np.shape(full)), np.nan)
    scale = np.sqrt(m / (n - m))
    dev = reps - reps.mean(axis=0)
    q = np.quantile(dev, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return full + scale * q


def _drop_failed(reps: np.ndarray, func: str) -> tuple[np.ndarray, int]:
    """Replicates with a non-finite value left out of the interval, counted and reported by one warning."""
    ok = np.isfinite(reps.reshape(len(reps), -1)).all(axis=1)
    failed = int((~ok).sum())
    if failed:
        warnings.warn(f"{func}(): {failed} of {len(reps)} half-sample replicates gave a non-finite estimate and "
                      "were left out of the interval (counted in uncertified_resamples / "
                      "details['failed_resamples']); check the data for ties or near-constant columns",
                      EstimationWarning, stacklevel=4)
    return reps[ok], failed


class _Replicate:
    """Picklable task: the statistic on one subsample without replacement (fresh jitter)."""

    def __init__(self, stat: Any, data: dict[str, np.ndarray], m: int, jitter: float):
        self.stat, self.data, self.m, self.jitter = stat, data, m, jitter

    def __call__(self, _: int, rng: np.random.Generator) -> np.ndarray:
        n = len(next(iter(self.data.values())))
        rows = np.sort(rng.choice(n, size=self.m, replace=False))
        return self.stat({k: _jittered(v[rows], self.jitter, rng) for k, v in self.data.items()})


def _estimate(stat: Any, data: dict[str, np.ndarray], *, k: int, n_boot: int, subsample: float,
              jitter: float, seed: Any, n_jobs: int | None, progress: bool | None,
              func: str) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Full-sample statistic, the finite half-sample replicates (<= n_boot, ...), the subsample size m and the
    number of failed (non-finite) replicates."""
    point_seed, boot_seed = spawn_seeds(seed, 2)
    rng = as_generator(point_seed)
    full = np.asarray(stat({name: _jittered(v, jitter, rng) for name, v in data.items()}))
    if n_boot == 0:
        return full, np.zeros((0, *full.shape)), 0, 0
    n = len(next(iter(data.values())))
    m = int(round(subsample * n))
    if m < k + 2 or m >= n:
        raise ValidationError(f"{func}(): 'subsample'={subsample} gives {m} of {n} rows per replicate; need "
                              f"between {k + 2} and {n - 1} - change 'subsample' or pass more samples")
    reps = seeded_map(_Replicate(stat, data, m, jitter), range(n_boot), seed=as_generator(boot_seed), n_jobs=n_jobs,
                      progress=progress, desc=f"{func} half-samples")
    kept, failed = _drop_failed(np.asarray(reps, dtype=float), func)
    return full, kept, m, failed


class _MIStat:
    """I(target; source) in bits on prepared arrays."""

    def __init__(self, k: int, workers: int):
        self.k, self.workers = k, workers

    def __call__(self, data: dict[str, np.ndarray]) -> float:
        return ksg(data["target"], data["source"], self.k, workers=self.workers)


def _workers(n_jobs: int | None) -> int:
    """Tree-query threads: all cores when replicates run serially, one each when they run in parallel."""
    return -1 if n_jobs in (None, 1) else 1


# --- public API ------------------------------------------------------------------------------------------------
@renamed_keywords(ci="ci_level", return_result=None, estimator="method")
def mutual_information(target: Any, source: Any, *, method: str = "knn", k: int = 3, n_boot: int = 0,
                       ci_level: float = 0.95, subsample: float = 0.5, jitter: float = 1e-10,
                       scaling: str = "standardize", seed: int | np.random.Generator | None = None,
                       n_jobs: int | None = None, progress: bool | None = None) -> MIEstimate:
    """Mutual information I(target; source) in bits, by the KSG k-nearest-neighbour estimator.

    Parameters
    ----------
    target : array-like, shape (n,) or (n, d_t)
        Continuous target (e.g. log stellar mass); pandas objects are accepted.
    source : array-like, shape (n,) or (n, d_s)
        Continuous source; several columns (e.g. five magnitudes) are treated jointly.
    method : {"knn", "ksg"}, default "knn"
        ``"knn"`` and ``"ksg"`` both mean KSG algorithm 1 (the binned route is :func:`interpret.pid.decompose`).
    k : int, default 3
        Neighbours; larger k lowers variance and raises bias (KSG recommend 2-4).
    n_boot : int, default 0
        Half-sampling replicates for a confidence interval (0: none). 100-200 are typical.
    ci_level : float, default 0.95
        Confidence level (``ci=``: its old name, FutureWarning).
    subsample : float, default 0.5
        Fraction of rows per replicate, drawn without replacement (see the module notes).
    jitter : float, default 1e-10
        Standard deviation of the tie-breaking noise, in units of each column's standard deviation.
    scaling : {"standardize", "whiten"}, default "standardize"
        Per-variable preprocessing (see the module notes); ``"whiten"`` rejects linearly dependent columns.
    seed : int, Generator or None
        Seeds the jitter and the replicates; the same seed gives the same numbers.
    n_jobs : int or None
        Workers for the replicates (:func:`interpret.parallel.seeded_map`).
    progress : bool or None
        Progress bar over replicates (``False`` silences it).

    Returns
    -------
    MIEstimate
        Always (``return_result=`` is deprecated and ignored): ``.value`` in bits (not clipped at 0; also
        ``float(r)``), ``.ci`` with ``n_boot > 0``, replicates and details.

    Raises
    ------
    ValidationError
        Mismatched lengths, NaN/inf (with count and first rows), constant variables, fewer than k + 2 samples.

    Notes
    -----
    Speed: 10^5 samples with a 5-D source take about a second (see ``benchmarks/bench_pid_knn.py``).

    References
    ----------
    Kraskov, Stögbauer & Grassberger 2004, arXiv:cond-mat/0305641.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> t = rng.normal(size=5000); s = 0.6 * t + 0.8 * rng.normal(size=5000)   # rho = 0.6
    >>> est = mutual_information(t, s, seed=0)   # analytic: -0.5 log2(1 - 0.36) = 0.322 bits
    >>> abs(est.value - 0.322) < 0.03
    True
    >>> r = mutual_information(t, s, n_boot=20, seed=0, progress=False)
    >>> r.ci[0] < 0.32 < r.ci[1]
    True
    """
    func = "mutual_information"
    _check_options(func, method, k, n_boot, ci_level, subsample, jitter)
    check_choice(scaling, "scaling", func, SCALINGS)
    t0 = time.perf_counter()
    data = _prepare({"target": target, "source": source}, func, k, scaling)
    full, reps, m, failed = _estimate(_MIStat(k, _workers(n_jobs)), data, k=k, n_boot=n_boot,
                                      subsample=subsample, jitter=jitter, seed=seed, n_jobs=n_jobs,
                                      progress=progress, func=func)
    n = len(data["target"])
    bounds = _subsample_ci(full, reps, n, m, ci_level) if n_boot else None
    details = {"scaling": scaling, "jitter": jitter, "subsample": subsample if n_boot else None,
               "subsample_rows": m, "ci_method": "half-sampling without replacement" if n_boot else None,
               "failed_resamples": failed, "dims": (data["target"].shape[1], data["source"].shape[1]),
               "seconds": time.perf_counter() - t0}
    return MIEstimate(value=float(full), ci=(float(bounds[0]), float(bounds[1])) if n_boot else None,
                      ci_level=ci_level if n_boot else None, k=k, n_samples=n, estimator="knn",
                      replicates=np.asarray(reps, dtype=float), details=details)


def named_sources(sources: Any, func: str) -> dict[str, Any]:
    """``{name: array}`` from a mapping, a DataFrame (one source per column) or a sequence (``x0``, ``x1``...)."""
    if isinstance(sources, pd.DataFrame):
        sources = {str(c): sources[c] for c in sources.columns}
    elif isinstance(sources, Mapping):
        sources = {str(k): v for k, v in sources.items()}
    elif isinstance(sources, Sequence) and not isinstance(sources, str):
        sources = {f"x{i}": v for i, v in enumerate(sources)}
    else:
        raise ValidationError(f"{func}(): 'sources' must be a dict of name -> array; got {type(sources).__name__}")
    if not 2 <= len(sources) <= MAX_SOURCES:
        raise ValidationError(f"{func}(): 'sources' must hold 2 to {MAX_SOURCES} sources for an MMI "
                              f"decomposition; got {len(sources)}")
    if "target" in sources:
        raise ValidationError(f"{func}(): a source may not be named 'target'; rename it")
    return sources


class _SetsStat:
    """I(target; S) in bits for every source set S (in :func:`source_sets` order)."""

    def __init__(self, names: Sequence[str], k: int, workers: int):
        self.names, self.k, self.workers = list(names), k, workers

    def __call__(self, data: dict[str, np.ndarray]) -> np.ndarray:
        out = []
        for subset in source_sets(len(self.names)):
            x = np.hstack([data[self.names[i]] for i in subset])
            out.append(ksg(data["target"], x, self.k, workers=self.workers))
        return np.asarray(out)


def _atoms_of(info: np.ndarray, names: Sequence[str]) -> dict[str, float]:
    return mmi_atoms(dict(zip(source_sets(len(names)), info)), names)


@renamed_keywords(ci="ci_level")
def knn_decompose(target: Any, sources: Any, *, measure: str = "mmi", k: int = 3, n_boot: int = 0,
                  ci_level: float = 0.95, subsample: float = 0.5, jitter: float = 1e-10,
                  scaling: str = "standardize", seed: int | np.random.Generator | None = None,
                  n_jobs: int | None = None, progress: bool | None = None) -> PIDResult:
    """MMI partial-information decomposition from KSG mutual information, without binning.

    Every set S of sources gets I(target; S) from :func:`mutual_information`'s estimator (same k, same scaled
    and jittered data); the minimum-mutual-information redundancy and Möbius inversion on the Williams–Beer
    lattice give the atoms. ``interpret.pid.decompose(..., method="knn")`` calls this.

    Parameters
    ----------
    target : array-like, shape (n,) or (n, d_t)
        Continuous target.
    sources : dict of str -> array-like, shape (n,) or (n, d)
        2 to 4 continuous sources, each possibly multi-dimensional (e.g. ``{"phot": mags, "morph": shape}``).
    measure : {"mmi"}, default "mmi"
        Only MMI is available without a joint distribution (other measures need the binned route).
    k, n_boot, ci_level, subsample, jitter, scaling, seed, n_jobs, progress
        As for :func:`mutual_information`. With ``n_boot > 0`` every atom gets a half-sampling CI (the same
        subsamples for all atoms).

    Returns
    -------
    PIDResult
        ``estimator="knn"``, ``measure="mmi"``; ``details["information"]`` holds I(target; S) of every source
        set (keys like ``"phot+morph"``), plus k, jitter and the CI method. With ``n_boot > 0``: ``ci`` has the
        same keys as the binned route's (every atom and ``"mutual_information"``) and
        ``uncertified_resamples={"bootstrap": <failed replicates>}``.

    Notes
    -----
    For Gaussian sources and a 1-D target MMI equals BROJA (Barrett 2015). The kNN synergy inherits the
    estimator's bias at small N: the joint-source MI (higher dimension) is biased down more than the singles.

    References
    ----------
    Kraskov et al. 2004, arXiv:cond-mat/0305641; Barrett 2015, arXiv:1411.2832; Williams & Beer 2010,
    arXiv:1004.2515.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(2, 4000))
    >>> t = a + b + 0.5 * rng.normal(size=4000)
    >>> r = knn_decompose(t, {"a": a, "b": b}, seed=0)
    >>> sorted(r.atoms)
    ['{a,b}', '{a}', '{a}{b}', '{b}']
    >>> abs(sum(r.atoms.values()) - r.mutual_information) < 1e-9
    True
    """
    func = "knn_decompose"
    check_choice(measure, "measure", func, ("mmi",))
    _check_options(func, "knn", k, n_boot, ci_level, subsample, jitter)
    check_choice(scaling, "scaling", func, SCALINGS)
    named = named_sources(sources, func)
    names = list(named)
    data = _prepare({"target": target, **named}, func, k, scaling)
    full, reps, m, failed = _estimate(_SetsStat(names, k, _workers(n_jobs)), data, k=k, n_boot=n_boot,
                                      subsample=subsample, jitter=jitter, seed=seed, n_jobs=n_jobs,
                                      progress=progress, func=func)
    atoms = _atoms_of(full, names)
    _check_monotone(full, names, data, func)
    n = len(data["target"])
    labels = [set_label(s, names) for s in source_sets(len(names))]
    details = {"information": dict(zip(labels, map(float, full))), "k": k, "jitter": jitter,
               "scaling": scaling,
               "ci_method": "half-sampling without replacement" if n_boot else None,
               "subsample_rows": m, "dims": {nm: data[nm].shape[1] for nm in ["target", *names]}}
    if n_boot:
        details["failed_resamples"] = failed
        details["non_monotone_resamples"] = int(sum(_monotone_gap(r, names) > 0.05 for r in reps))
    return PIDResult(measure="mmi", sources=tuple(names), atoms=atoms, mutual_information=float(full[-1]),
                     estimator="knn", n_samples=n, ci=_atom_cis(full, reps, names, n, m, ci_level) if n_boot else None,
                     ci_level=ci_level if n_boot else None, details=details,
                     uncertified_resamples={"bootstrap": failed} if n_boot else {})


def _check_monotone(info: np.ndarray, names: Sequence[str], data: dict[str, np.ndarray], func: str,
                    tol: float = 0.05) -> None:
    """Warn when a set of sources gets less information than one of its subsets (KSG bias in many dims)."""
    sets = source_sets(len(names))
    gap, i, j = _worst_pair(info, sets)
    if gap > tol:
        dims = 1 + sum(data[names[m]].shape[1] for m in sets[i])
        warnings.warn(f"{func}(): kNN estimate of I(target; {set_label(sets[i], names)}) = {info[i]:.3f} bits is "
                      f"below I(target; {set_label(sets[j], names)}) = {info[j]:.3f} bits: KSG underestimates "
                      f"large information in many dimensions ({dims} here), so the synergy is biased down - use "
                      "more samples, fewer source dimensions, scaling='whiten', or pointwise_decompose()",
                      EstimationWarning, stacklevel=3)


def _worst_pair(info: np.ndarray, sets: list[tuple[int, ...]]) -> tuple[float, int, int]:
    """(gap, i, j): the largest I(T; S_j) - I(T; S_i) over subsets S_j of S_i (positive: non-monotone)."""
    return max(((info[j] - info[i], i, j) for i, big in enumerate(sets) for j, small in enumerate(sets)
                if set(small) < set(big)), default=(0.0, 0, 0))


def _monotone_gap(info: np.ndarray, names: Sequence[str]) -> float:
    return _worst_pair(info, source_sets(len(names)))[0]


def _atom_cis(full: np.ndarray, reps: np.ndarray, names: Sequence[str], n: int, m: int,
              level: float) -> dict[str, tuple[float, float]]:
    """Half-sampling CI of every atom and of the joint MI."""
    full_atoms = _atoms_of(full, names)
    rep_atoms = [_atoms_of(r, names) for r in reps]
    out = {}
    for label, value in full_atoms.items():
        lo, hi = _subsample_ci(np.asarray(value), np.array([a[label] for a in rep_atoms]), n, m, level)
        out[label] = (float(lo), float(hi))
    lo, hi = _subsample_ci(full[-1], reps[:, -1], n, m, level)
    out["mutual_information"] = (float(lo), float(hi))
    return out
