"""Shapley values and pairwise Shapley interaction indices of bands, exact or by permutation sampling.

The game: players are the bands, ``v(S)`` is the metric of the estimator with only the bands in ``S``
kept (masked with a fill strategy, or retrained on ``S``). Exact values use all ``2^B`` subset values
(evaluated in batches, several subsets per forward pass); above ``max_exact_bands`` (12) bands, seeded
antithetic permutation sampling gives values with Monte-Carlo standard errors. Both satisfy efficiency,
``sum(values) == v(all) - v(none)``, to float precision (each sampled permutation telescopes).

References
----------
Shapley (1953), "A value for n-person games"; Grabisch & Roubens (1999), Int. J. Game Theory 28, 547
(the Shapley interaction index); Castro, Gomez & Tejada (2009), Comput. Oper. Res. 36, 1726 (permutation
sampling); Lundberg & Lee (2017), arXiv:1705.07874.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_generator, check_int
from ..exceptions import CostWarning, ValidationError
from ._engine import prepare
from ._metrics import metric_name
from ._result import ShapleyResult
from .options import (
    MAX_EXACT_BANDS,
    Batching,
    Fill,
    RetrainSpec,
    ShapleySampling,
    engine_kwargs,
    legacy_keywords,
)
from .strategies import FillStrategy
from .subsets import bits_to_masks

__all__ = ["band_shapley", "exact_shapley", "exact_interactions", "sample_shapley",
           "sample_interactions", "MAX_EXACT_BANDS"]

logger = logging.getLogger(__name__)

_HARD_EXACT_LIMIT = 20


def _popcount(bits: np.ndarray) -> np.ndarray:
    bits = bits.copy()
    count = np.zeros_like(bits)
    while bits.any():
        count += bits & 1
        bits >>= 1
    return count


def exact_shapley(v: np.ndarray) -> np.ndarray:
    """Shapley values from all subset values.

    Parameters
    ----------
    v : numpy.ndarray, shape (2**B,)
        ``v[k]`` = value of the subset whose bit ``i`` is set when player ``i`` is in it.

    Returns
    -------
    numpy.ndarray, shape (B,)

    Examples
    --------
    >>> exact_shapley(np.array([0.0, 1.0, 2.0, 3.0])).tolist()     # additive game
    [1.0, 2.0]
    """
    n = int(round(math.log2(len(v))))
    bits = np.arange(2 ** n, dtype=np.int64)
    size = _popcount(bits)
    fact = np.array([math.factorial(k) for k in range(n + 1)], dtype=float)
    weight = fact[np.minimum(size, n - 1)] * fact[np.maximum(n - size - 1, 0)] / fact[n]
    phi = np.empty(n)
    for i in range(n):
        s = bits[(bits >> i) & 1 == 0]
        phi[i] = np.sum(weight[s] * (v[s | (1 << i)] - v[s]))
    return phi


def exact_interactions(v: np.ndarray) -> np.ndarray:
    """Pairwise Shapley interaction indices from all subset values; shape (B, B), NaN diagonal.

    ``I_ij = sum_{S in N minus {i,j}} |S|! (B-|S|-2)! / (B-1)! [v(S+ij) - v(S+i) - v(S+j) + v(S)]``.

    Examples
    --------
    >>> float(exact_interactions(np.array([0.0, 0.0, 0.0, 1.0]))[0, 1])   # pure synergy: v({0,1}) = 1
    1.0
    """
    n = int(round(math.log2(len(v))))
    out = np.full((n, n), np.nan)
    if n < 2:
        return out
    bits = np.arange(2 ** n, dtype=np.int64)
    size = _popcount(bits)
    fact = np.array([math.factorial(k) for k in range(n + 1)], dtype=float)
    weight = fact[np.minimum(size, n - 2)] * fact[np.maximum(n - size - 2, 0)] / fact[n - 1]
    for i in range(n):
        for j in range(i + 1, n):
            s = bits[((bits >> i) & 1 == 0) & ((bits >> j) & 1 == 0)]
            bi, bj = 1 << i, 1 << j
            out[i, j] = out[j, i] = np.sum(weight[s] * (v[s | bi | bj] - v[s | bi] - v[s | bj] + v[s]))
    return out


def _permutations(n: int, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    half = [rng.permutation(n) for _ in range((n_permutations + 1) // 2)]
    perms = np.empty((2 * len(half), n), dtype=np.int64)
    perms[0::2] = half
    perms[1::2] = np.asarray(half)[:, ::-1]          # antithetic partner: the reversed order
    return perms


def _prefix_bits(perms: np.ndarray) -> np.ndarray:
    """(P, B+1) bitmasks of the growing coalitions along each permutation."""
    steps = np.left_shift(np.int64(1), perms)
    return np.concatenate([np.zeros((len(perms), 1), dtype=np.int64), np.cumsum(steps, axis=1)], axis=1)


def sample_shapley(value: Callable[[np.ndarray], np.ndarray], n: int, n_permutations: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Antithetic permutation-sampling Shapley values and their standard errors.

    ``value(bits)`` returns the values of int64 bitmasks. Each antithetic pair (a permutation and its
    reverse) is averaged before the standard error is taken.
    """
    from .._guards import check_resamples

    check_resamples("band_shapley", "n_permutations", n_permutations, n_values=0, extra_bytes=48.0 * (n + 1),
                    what="permutations")      # the permutation, coalition and value arrays, before allocating
    perms = _permutations(n, n_permutations, rng)
    prefix = _prefix_bits(perms)
    vals = value(prefix.ravel()).reshape(prefix.shape)
    marginal = np.empty(perms.shape)
    np.put_along_axis(marginal, perms, np.diff(vals, axis=1), axis=1)
    pairs = 0.5 * (marginal[0::2] + marginal[1::2])
    se = pairs.std(axis=0, ddof=1) / np.sqrt(len(pairs)) if len(pairs) > 1 else np.full(n, np.nan)
    return marginal.mean(axis=0), se


def sample_interactions(value: Callable[[np.ndarray], np.ndarray], n: int, n_samples: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo pairwise interaction indices: ``S`` drawn with the Shapley interaction weights.

    For each pair, ``|S|`` is uniform on ``0..B-2`` and ``S`` uniform among subsets of that size of the
    other players, which is exactly the weight ``|S|!(B-|S|-2)!/(B-1)!``.
    """
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    base = np.zeros((len(pairs), n_samples), dtype=np.int64)
    for p, (i, j) in enumerate(pairs):
        others = np.array([k for k in range(n) if k not in (i, j)], dtype=np.int64)
        sizes = rng.integers(0, n - 1, size=n_samples)
        for t, s in enumerate(sizes):
            chosen = rng.permutation(others)[:s]
            base[p, t] = int(np.sum(np.left_shift(np.int64(1), chosen)))
    bi = np.array([1 << i for i, _ in pairs], dtype=np.int64)[:, None]
    bj = np.array([1 << j for _, j in pairs], dtype=np.int64)[:, None]
    needed = np.stack([base | bi | bj, base | bi, base | bj, base])
    vals = value(needed.ravel()).reshape(needed.shape)
    delta = vals[0] - vals[1] - vals[2] + vals[3]
    est, se = np.full((n, n), np.nan), np.full((n, n), np.nan)
    for p, (i, j) in enumerate(pairs):
        est[i, j] = est[j, i] = delta[p].mean()
        if n_samples > 1:
            se[i, j] = se[j, i] = delta[p].std(ddof=1) / np.sqrt(n_samples)
    return est, se


class _CachedValue:
    """Metric values of bitmasks, each distinct subset evaluated once (all new ones in one batched call)."""

    def __init__(self, probe: Any, n_bands: int):
        self.probe, self.n_bands, self.cache = probe, n_bands, {}

    def __call__(self, bits: np.ndarray) -> np.ndarray:
        bits = np.asarray(bits, dtype=np.int64)
        new = np.array(sorted(set(bits.tolist()) - set(self.cache)), dtype=np.int64)
        if new.size:
            scores = self.probe.score(bits_to_masks(new, self.n_bands))[:, 0]
            self.cache.update(zip(new.tolist(), scores.tolist()))
        return np.array([self.cache[b] for b in bits.tolist()])

    def series(self, names: Sequence[str]) -> pd.Series:
        """Every evaluated ``v(S)``, indexed by the tuple of kept band names (in band order)."""
        keys = sorted(self.cache)
        kept = [tuple(nm for i, nm in enumerate(names) if k >> i & 1) for k in keys]
        index = pd.Index(kept, dtype=object, tupleize_cols=False, name="kept")
        return pd.Series([self.cache[k] for k in keys], index=index, name="value")


@legacy_keywords
def band_shapley(
    estimator: Any,
    x: Any,
    y: Any,
    *,
    bands: Any = None,
    metric: str | Callable[..., float] = "rmse",
    redshift: bool = False,
    metric_kwargs: Mapping[str, Any] | None = None,
    greater_is_better: bool | None = None,
    strategy: str | FillStrategy | Fill = "mean",
    retrain: RetrainSpec | None = None,
    sampling: ShapleySampling | None = None,
    band_layout: Any = None,
    output: int | str | None = None,
    batching: Batching | None = None,
    n_jobs: int | None = None,
    seed: int | np.random.Generator | None = None,
    progress: bool | None = None,
) -> ShapleyResult:
    """Shapley value of every band for one metric, plus pairwise Shapley interaction indices.

    ``v(S)`` is the metric with only the bands in ``S`` kept (masked with ``strategy``, or - with
    ``retrain=RetrainSpec(fit)`` - a model refitted on ``S``, the empty set scored as the constant mean
    predictor).
    **Positive values mean the band helps** (one convention across the library): for error metrics the
    game is the decrease of the error, so ``values.sum() == v(none) - v(all)``; for scores (``r2``) the
    increase, ``values.sum() == v(all) - v(none)``. Both hold to float precision (``efficiency_gap``).

    Parameters
    ----------
    estimator, x, y, bands, strategy, retrain, band_layout, output, batching, n_jobs, progress
        As in :func:`interpret.ablation.band_ablation`.
    metric : str or callable, default "rmse"
        One name from ``interpret.metrics.METRICS`` or a callable ``f(y_true, y_pred) -> float``.
    greater_is_better : bool, optional
        Whether a larger metric is better. Default: from the named metric (False for errors, True for
        ``r2``); True for a callable (as scikit-learn's ``make_scorer``). Sets the sign: positive = helps.
    redshift : bool, default False
        Declare the target a redshift: the metric scores ``dz = (z_pred - z_true) / (1 + z_true)``.
    metric_kwargs : dict, optional
        Extra keywords for the metric, e.g. ``{"threshold": 0.3}``.
    sampling : ShapleySampling, optional
        ``ShapleySampling(exact=None, max_exact_bands=12, n_permutations=200, interactions=None,
        n_interaction_samples=None)``: all ``2^B`` subsets up to 12 bands, else sampled permutations
        (antithetic pairs) with standard errors; interactions are free when exact.
    seed : int, Generator or None
        Seeds permutations, interaction samples, the noise fill and retrain splits.

    Old keywords (until 0.4, with a FutureWarning): as for :func:`band_ablation`, and ``exact``,
    ``max_exact_bands``, ``n_permutations``, ``interactions``, ``n_interaction_samples`` (use
    ``sampling=``).

    Returns
    -------
    ShapleyResult

    References
    ----------
    Shapley (1953); Grabisch & Roubens (1999), Int. J. Game Theory 28, 547; Castro et al. (2009),
    Comput. Oper. Res. 36, 1726; Engel et al. (2025), arXiv:2501.09112 (band Shapley for photo-z).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 3))
    >>> y = x @ np.array([1.0, 0.5, 0.0])
    >>> s = band_shapley(lambda a: a @ np.array([1.0, 0.5, 0.0]), x, y, bands=["g", "r", "i"],
    ...                  metric="mae", progress=False)
    >>> round(float(s.values["i"]), 12), abs(s.efficiency_gap) < 1e-12
    (0.0, True)
    """
    func = "band_shapley"
    t0 = time.perf_counter()
    if isinstance(metric, (list, tuple)):
        raise ValidationError(f"{func}(): 'metric' must be one name or callable; got {metric!r}")
    opts = engine_kwargs(strategy, retrain, band_layout, batching, func)
    probe = prepare(func, estimator, x, y, bands=bands, metrics=metric, metric_kwargs=metric_kwargs,
                    output=output, n_jobs=n_jobs, progress=progress, seed=seed, redshift=redshift, **opts)
    sampling = ShapleySampling() if sampling is None else sampling
    if not isinstance(sampling, ShapleySampling):
        raise ValidationError(f"{func}(): 'sampling' must be a ShapleySampling(...); got {type(sampling).__name__}")
    interactions = sampling.interactions
    names = probe.layout.bands
    n = len(names)
    exact = _resolve_exact(sampling.exact, n, sampling.max_exact_bands, func)
    value = _CachedValue(probe, n)
    full, empty = (1 << n) - 1, 0
    if exact:
        v = value(np.arange(2 ** n, dtype=np.int64))
        phi, se = exact_shapley(v), None
        inter = exact_interactions(v) if interactions is not False else np.full((n, n), np.nan)
        inter_se, n_perm = None, 0
    else:
        n_perm = check_int(sampling.n_permutations, "n_permutations", func, minimum=2)
        rng = as_generator(seed) if not isinstance(seed, int) else np.random.default_rng([seed, 1])
        phi, se = sample_shapley(value, n, n_perm, rng)
        n_perm += n_perm % 2
        if interactions:
            k = check_int(sampling.n_interaction_samples or n_perm, "n_interaction_samples", func, minimum=2)
            inter, inter_se = sample_interactions(value, n, k, rng)
        else:
            inter, inter_se = np.full((n, n), np.nan), None
    v_all, v_none = value(np.array([full, empty]))
    better = _greater_is_better(metric, greater_is_better)
    if not better:     # positive = the band lowers the error (helps)
        phi, inter = -phi, -inter
    return _result(names, phi, se, inter, inter_se, float(v_all), float(v_none), metric_name(metric), probe,
                   exact, n_perm, value, better, {"mode": opts["mode"], "seconds": time.perf_counter() - t0,
                                                  "n_evaluations": len(value.cache), "n_samples": probe.n_scored,
                                                  "batch_size": opts["batch_size"],
                                                  "first_layer": getattr(probe, "first_layer_name", None)})


def _greater_is_better(metric: Any, declared: bool | None) -> bool:
    if declared is not None:
        return bool(declared)
    if isinstance(metric, str):
        from ..metrics import get_metric

        return bool(getattr(get_metric(metric), "greater_is_better", False))
    return bool(getattr(metric, "greater_is_better", True))


def _resolve_exact(exact: bool | None, n: int, max_exact_bands: int, func: str) -> bool:
    max_exact_bands = check_int(max_exact_bands, "max_exact_bands", func, minimum=1)
    if exact is None:
        return n <= max_exact_bands
    if exact and n > _HARD_EXACT_LIMIT:
        raise ValidationError(f"{func}(): exact=True over {n} bands needs 2^{n} subset evaluations; at most "
                              f"{_HARD_EXACT_LIMIT} bands, or use exact=False (permutation sampling)")
    if exact and n > max_exact_bands:
        import warnings

        warnings.warn(f"{func}(): exact Shapley over {n} bands evaluates {2 ** n} subsets; consider "
                      f"exact=False with n_permutations", CostWarning, stacklevel=3)
    return bool(exact)


def _result(names, phi, se, inter, inter_se, v_all, v_none, metric, probe, exact, n_perm, value, better,
            details) -> ShapleyResult:
    idx = pd.Index(names, name="band")
    frame = lambda a: None if a is None else pd.DataFrame(a, index=idx, columns=list(names))  # noqa: E731
    return ShapleyResult(
        values=pd.Series(np.asarray(phi) + 0.0, index=idx, name=metric),  # + 0.0: no negative zeros
        interactions=frame(inter), v_all=v_all, v_none=v_none,
        metric=metric, strategy=probe.strategy.name if probe.strategy else None, exact=exact,
        n_permutations=n_perm, standard_errors=None if se is None else pd.Series(se, index=idx, name="se"),
        interaction_standard_errors=frame(inter_se), subset_values=value.series(names), details=details,
        greater_is_better=better)
