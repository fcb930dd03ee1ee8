"""Discretisation for binned PID: quantile / uniform bins per variable, and cross-fitted reduction of
multi-dimensional sources to one dimension before binning.

Every function returns what it did (bins asked for and obtained, edges, reduction method and its
cross-validated score) so that :func:`interpret.pid.decompose` can record it in ``PIDResult.details``.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .._seeding import legacy_seed
from .._validation import as_generator, check_choice, check_int
from ..exceptions import ValidationError

__all__ = ["Binned", "bin_variable", "reduce_source", "STRATEGIES", "REDUCTIONS"]

STRATEGIES = ("quantile", "uniform")
REDUCTIONS = ("regression", "vq")


@dataclasses.dataclass(frozen=True)
class Binned:
    """One discretised variable.

    Attributes
    ----------
    codes : numpy.ndarray of int, shape (n,)
        Bin index of every sample, ``0 .. n_bins - 1`` (every code is used).
    n_bins : int
        Alphabet size actually obtained (ties in quantile binning can merge bins).
    record : dict
        JSON-able description: strategy, bins requested/obtained, edges, reduction.
    """

    codes: np.ndarray
    n_bins: int
    record: dict[str, Any]


def _compact(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Relabel integer codes to ``0 .. m-1`` keeping order (bincount-based, no sorting)."""
    codes = codes - codes.min()
    used = np.bincount(codes) > 0
    mapping = np.cumsum(used) - 1
    return mapping[codes].astype(np.intp), int(used.sum())


def bin_variable(
    x: np.ndarray, bins: int | None = 8, *, strategy: str = "quantile", name: str = "x"
) -> Binned:
    """Discretise a 1-D variable.

    Parameters
    ----------
    x : array_like, shape (n,)
        Values (finite).
    bins : int or None, default 8
        Number of bins; ``None`` treats ``x`` as already discrete (each distinct value is one symbol).
    strategy : {"quantile", "uniform"}, default "quantile"
        Equal-occupancy bins (edges at quantiles) or equal-width bins between min and max.
    name : str
        Variable name used in messages and the record.

    Returns
    -------
    Binned

    Examples
    --------
    >>> import numpy as np
    >>> b = bin_variable(np.arange(100.0), 4)
    >>> b.n_bins, np.bincount(b.codes).tolist()
    (4, [25, 25, 25, 25])
    """
    x = np.asarray(x)
    if bins is None:
        if x.dtype.kind in "iub":
            codes, m = _compact(x.astype(np.int64))
        else:
            _, codes = np.unique(x, return_inverse=True)
            m = int(codes.max()) + 1
        return Binned(codes.astype(np.intp), m, {"strategy": "discrete", "bins": None, "n_bins": m})
    bins = check_int(bins, f"bins for {name!r}", "decompose", minimum=2)
    check_choice(strategy, "binning strategy", "decompose", STRATEGIES)
    x = x.astype(float)
    if strategy == "quantile":
        edges = np.quantile(x, np.linspace(0.0, 1.0, bins + 1))
    else:
        edges = np.linspace(x.min(), x.max(), bins + 1)
    raw = np.searchsorted(edges[1:-1], x, side="right")
    codes, m = _compact(raw)
    record = {"strategy": strategy, "bins": bins, "n_bins": m, "edges": edges.tolist()}
    return Binned(codes, m, record)


def _default_regressor(seed: int, n_train: int) -> Any:
    """Gradient-boosted trees whose leaves hold at least 20 rows (scikit-learn's default), or a tenth of a small
    training fold: with 20 a fold of fewer than 40 rows cannot split at all and every summary is one constant
    per fold (75 rows in 2 folds: I(T; summary) came out 0.02 bits instead of 1.35)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=100, random_state=seed,
                                         min_samples_leaf=max(2, min(20, n_train // 10)))


def _cross_fit(x: np.ndarray, y: np.ndarray, regressor: Any, n_splits: int, seed: int) -> tuple[np.ndarray, float]:
    """Out-of-fold predictions of ``y`` from ``x`` and their R^2 (``regressor`` None: the default per fold)."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold

    pred = np.empty(len(y), dtype=float)
    for train, test in KFold(n_splits, shuffle=True, random_state=seed).split(x):
        model = clone(regressor) if regressor is not None else _default_regressor(seed, len(train))
        model.fit(x[train], y[train])
        pred[test] = model.predict(x[test])
    ss_res = float(((y - pred) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return pred, 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def reduce_source(
    x: np.ndarray,
    target: np.ndarray,
    *,
    method: str = "regression",
    n_splits: int = 5,
    n_clusters: int = 8,
    regressor: Any = None,
    seed: int | np.random.Generator | None = None,
    name: str = "source",
) -> tuple[np.ndarray, dict[str, Any]]:
    """Summarise a multi-dimensional source by one variable before binning.

    ``"regression"``: the out-of-fold prediction of the target from the source (K-fold cross-fitting,
    so no sample's summary has seen its own target; the default model is sklearn's
    ``HistGradientBoostingRegressor``). This keeps the part of the source that is informative about the
    target, so ``I(T; f(X)) <= I(T; X)`` with equality when ``f`` is sufficient.
    ``"vq"``: vector quantisation, k-means codes of the standardised source (does not use the target; the
    result is already discrete with ``n_clusters`` symbols).

    Parameters
    ----------
    x : numpy.ndarray, shape (n, d)
        The source.
    target : numpy.ndarray, shape (n,)
        The (continuous) target, used by ``"regression"`` only.
    method : {"regression", "vq"}, default "regression"
    n_splits : int, default 5
        Folds of the cross-fitting.
    n_clusters : int, default 8
        Codebook size of ``"vq"``.
    regressor : sklearn regressor, optional
        Model for ``"regression"``.
    seed : int, Generator or None, default None
        Fold assignment and model seeds.
    name : str
        Source name for the record.

    Returns
    -------
    summary : numpy.ndarray, shape (n,)
        Float predictions (``"regression"``) or integer codes (``"vq"``).
    record : dict
        Method, dimension, folds and the cross-validated R^2 (``"regression"``) or inertia (``"vq"``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0); x = rng.normal(size=(300, 3)); t = x @ [1.0, 0.5, 0.0]
    >>> from sklearn.linear_model import LinearRegression
    >>> s, rec = reduce_source(x, t, regressor=LinearRegression())
    >>> rec["method"], round(rec["cv_r2"], 3)
    ('regression', 1.0)
    """
    check_choice(method, "reduction", "decompose", REDUCTIONS)
    n_splits = check_int(n_splits, "n_splits", "decompose", minimum=2)
    rs = int(as_generator(seed).integers(0, 2**31 - 1)) if not isinstance(seed, int) else legacy_seed(seed)
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    if method == "regression":
        pred, r2 = _cross_fit(x, np.asarray(target, dtype=float), regressor, n_splits, rs)
        model = type(regressor).__name__ if regressor is not None else "HistGradientBoostingRegressor"
        return pred, {"method": "regression", "name": name, "dim": x.shape[1], "n_splits": n_splits,
                      "model": model, "cv_r2": r2}
    from sklearn.cluster import KMeans

    if n_clusters > len(x):
        raise ValidationError(f"decompose(): 'n_clusters' ({n_clusters}) exceeds the number of samples")
    z = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    km = KMeans(n_clusters=n_clusters, n_init=4, random_state=rs).fit(z)
    return km.labels_.astype(np.intp), {"method": "vq", "name": name, "dim": x.shape[1],
                                        "n_clusters": n_clusters, "inertia": float(km.inertia_)}
