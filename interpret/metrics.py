"""Accuracy metrics for point and probabilistic estimates of galaxy properties.

Every metric takes scikit-learn's argument order, ``metric(y_true, y_pred, *, redshift=False, ...)``.

Conventions
-----------
* Residuals are plain, ``y_pred - y_true`` (units of ``y``), unless the target is declared a redshift:
  ``redshift=True`` switches every residual metric (:func:`bias`, :func:`sigma_nmad`,
  :func:`outlier_fraction`, :func:`rmse`, :func:`mae`, :func:`crps`) to the photo-z form
  ``dz = (y_pred - y_true) / (1 + y_true)``. :func:`r2` and :func:`pit` accept the flag and are unchanged by it.
* The old ``normalize=`` keyword still works for one minor version (with a ``FutureWarning``); use
  ``redshift=``.
* :func:`pit` and :func:`crps` take a predictive distribution: Gaussian (``y_pred`` = means, ``sigma``),
  Gaussian mixture (``y_pred`` = component means (n, K), ``sigma`` (n, K), ``weights`` (n, K)) or samples
  (``y_pred`` of shape (n, S), no ``sigma``).
* :data:`METRICS` maps names to the scalar metrics; :func:`get_metric` resolves a name or callable. Each
  function carries ``greater_is_better`` (True only for ``r2``).

Examples
--------
>>> import numpy as np
>>> from interpret import metrics
>>> z_true = np.array([0.1, 0.2, 0.3, 0.4])
>>> z_pred = np.array([0.1, 0.2, 0.3, 1.0])
>>> round(metrics.outlier_fraction(z_true, z_pred, redshift=True), 3)
0.25
>>> metrics.get_metric("sigma_nmad")(z_true, z_pred, redshift=True)
0.0

References
----------
Hoaglin, Mosteller & Tukey (1983) for the NMAD; Ilbert et al. (2006), arXiv:astro-ph/0603217, for the
photo-z statistics; Gneiting & Raftery (2007), doi:10.1198/016214506000001437, for the CRPS.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from ._results import Result
from ._validation import check_array, check_same_length
from .exceptions import ValidationError

__all__ = [
    "NMAD_SCALE",
    "residuals",
    "bias",
    "sigma_nmad",
    "outlier_fraction",
    "rmse",
    "mae",
    "r2",
    "pit",
    "crps",
    "METRICS",
    "get_metric",
    "MetricReport",
    "evaluate",
]

NMAD_SCALE = 1.4826  # 1 / Phi^-1(3/4): makes the median absolute deviation a std for Gaussian residuals


def _declared_redshift(redshift: bool, normalize: bool | None, func: str) -> bool:
    """``redshift``, or the deprecated ``normalize`` keyword (with a FutureWarning) when it is given."""
    if normalize is None:
        return bool(redshift)
    warnings.warn(f"{func}(): 'normalize' is deprecated and will be removed in 0.4; pass redshift={bool(normalize)} "
                  f"(the (1 + y_true) photo-z normalisation applies only when the target is declared a redshift)",
                  FutureWarning, stacklevel=3)
    return bool(normalize)


def _pair(y_true: Any, y_pred: Any, func: str) -> tuple[np.ndarray, np.ndarray]:
    t = check_array(y_true, "y_true", func, ndim=(1, 2), dtype=float)
    p = check_array(y_pred, "y_pred", func, ndim=(1, 2), dtype=float)
    check_same_length(func, y_true=t, y_pred=p)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if p.shape != t.shape:
        raise ValidationError(f"{func}(): 'y_pred' has shape {p.shape} but 'y_true' has {t.shape}; pass "
                              f"matching arrays (one column per output)")
    return t, p


def residuals(y_true: Any, y_pred: Any, *, redshift: bool = False, func: str = "residuals") -> np.ndarray:
    """Residuals ``y_pred - y_true``, or ``(y_pred - y_true) / (1 + y_true)`` for a redshift target.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,) or (n, k)
        True and predicted values.
    redshift : bool, default False
        The target is a redshift: divide by ``1 + y_true`` (the photo-z ``dz``); requires ``y_true > -1``.

    Returns
    -------
    numpy.ndarray
        Same shape as the inputs.

    Examples
    --------
    >>> residuals([0.1], [0.22], redshift=True).round(3).tolist()
    [0.109]
    """
    t, p = _pair(y_true, y_pred, func)
    if not redshift:
        return p - t
    if np.any(t <= -1):
        raise ValidationError(f"{func}(): 'y_true' has values <= -1, so (1 + y_true) normalisation is undefined; "
                              f"pass redshift=False for targets that are not redshifts")
    return (p - t) / (1.0 + t)


def _vector(dz: np.ndarray, func: str) -> np.ndarray:
    if dz.ndim != 1:
        raise ValidationError(f"{func}(): expects one output per row; got shape {dz.shape}; call it per column")
    return dz


def bias(y_true: Any, y_pred: Any, *, redshift: bool = False, statistic: str = "mean",
         normalize: bool | None = None) -> float:
    """Mean (or median) residual ``<y_pred - y_true>``; ``<dz>`` for a redshift target.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,)
    redshift : bool, default False
        The target is a redshift: use ``dz = (y_pred - y_true) / (1 + y_true)`` (dimensionless).
    statistic : {"mean", "median"}, default "mean"
    normalize : bool, optional
        Deprecated alias of ``redshift`` (FutureWarning; removed in 0.4).

    Examples
    --------
    >>> round(bias([1.0, 2.0], [1.1, 2.2]), 6)
    0.15
    >>> round(bias([0.1], [0.32], redshift=True), 6)  # (0.32 - 0.1) / 1.1
    0.2
    """
    redshift = _declared_redshift(redshift, normalize, "bias")
    dz = _vector(residuals(y_true, y_pred, redshift=redshift, func="bias"), "bias")
    if statistic not in ("mean", "median"):
        raise ValidationError(f"bias(): unknown statistic {statistic!r}; valid values are 'mean', 'median'")
    return float(np.mean(dz) if statistic == "mean" else np.median(dz))


def sigma_nmad(y_true: Any, y_pred: Any, *, redshift: bool = False, normalize: bool | None = None) -> float:
    """Normalised median absolute deviation of the residuals ``r``: ``1.4826 * median(|r - median(r)|)``.

    Robust scatter; equals the standard deviation for Gaussian residuals.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,)
    redshift : bool, default False
        The target is a redshift: ``r`` is the photo-z ``dz`` (dimensionless); else ``y_pred - y_true``.
    normalize : bool, optional
        Deprecated alias of ``redshift`` (FutureWarning; removed in 0.4).

    Examples
    --------
    >>> sigma_nmad([0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 2.0, 4.0])
    1.4826
    """
    redshift = _declared_redshift(redshift, normalize, "sigma_nmad")
    dz = _vector(residuals(y_true, y_pred, redshift=redshift, func="sigma_nmad"), "sigma_nmad")
    return float(NMAD_SCALE * np.median(np.abs(dz - np.median(dz))))


def outlier_fraction(y_true: Any, y_pred: Any, *, threshold: float = 0.15, redshift: bool = False,
                     normalize: bool | None = None) -> float:
    """Fraction of catastrophic outliers, ``|r| > threshold`` (strictly greater).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,)
    threshold : float, default 0.15
        Outlier cut on ``|r|``: on ``|dz|`` for a redshift target (0.15 is the usual photo-z choice), else in
        units of ``y`` (choose it for your target).
    redshift : bool, default False
        The target is a redshift: ``r`` is the photo-z ``dz``; else ``y_pred - y_true``.
    normalize : bool, optional
        Deprecated alias of ``redshift`` (FutureWarning; removed in 0.4).

    Examples
    --------
    >>> outlier_fraction([0.1, 0.1], [0.5, 0.1], redshift=True)
    0.5
    """
    redshift = _declared_redshift(redshift, normalize, "outlier_fraction")
    if not np.isfinite(threshold) or threshold <= 0:
        raise ValidationError(f"outlier_fraction(): 'threshold' must be a positive number; got {threshold!r}")
    dz = _vector(residuals(y_true, y_pred, redshift=redshift, func="outlier_fraction"), "outlier_fraction")
    return float(np.mean(np.abs(dz) > threshold))


def rmse(y_true: Any, y_pred: Any, *, redshift: bool = False, normalize: bool | None = None) -> float:
    """Root-mean-square error ``sqrt(mean(r**2))`` over all rows (and columns).

    ``r`` is ``y_pred - y_true``, or the photo-z ``dz`` with ``redshift=True`` (``normalize``: deprecated alias).

    Examples
    --------
    >>> rmse([0.0, 4.0], [3.0, 0.0])
    3.5355339059327378
    """
    redshift = _declared_redshift(redshift, normalize, "rmse")
    r = residuals(y_true, y_pred, redshift=redshift, func="rmse")
    return float(np.sqrt(np.mean(r**2)))


def mae(y_true: Any, y_pred: Any, *, redshift: bool = False, normalize: bool | None = None) -> float:
    """Mean absolute error ``mean(|r|)`` over all rows (and columns).

    ``r`` is ``y_pred - y_true``, or the photo-z ``dz`` with ``redshift=True`` (``normalize``: deprecated alias).

    Examples
    --------
    >>> mae([0.0, 4.0], [3.0, 0.0])
    3.5
    """
    redshift = _declared_redshift(redshift, normalize, "mae")
    return float(np.mean(np.abs(residuals(y_true, y_pred, redshift=redshift, func="mae"))))


def r2(y_true: Any, y_pred: Any, *, redshift: bool = False) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (averaged over columns for 2-D input).

    ``redshift`` is accepted so that every metric takes the same keywords; R^2 always uses the values.

    Examples
    --------
    >>> r2([1.0, 2.0, 4.0], [1.0, 2.0, 3.0])
    0.7857142857142857
    """
    t, p = _pair(y_true, y_pred, "r2")
    ss_res = np.sum((t - p) ** 2, axis=0)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    if np.any(ss_tot == 0):
        raise ValidationError("r2(): 'y_true' is constant (in some column), so R^2 is undefined; use rmse")
    return float(np.mean(1.0 - ss_res / ss_tot))


# --- predictive distributions ----------------------------------------------------------------------------
def _distribution(y_true: Any, y_pred: Any, sigma: Any, weights: Any, func: str):
    t = check_array(y_true, "y_true", func, ndim=(1, 2), dtype=float)
    if t.ndim == 2:
        if t.shape[1] != 1:
            raise ValidationError(f"{func}(): 'y_true' must have one value per row; got shape {t.shape}")
        t = t[:, 0]
    m = check_array(y_pred, "y_pred", func, ndim=(1, 2), dtype=float)
    check_same_length(func, y_pred=m, y_true=t)
    if sigma is None:
        if weights is not None:
            raise ValidationError(f"{func}(): 'weights' needs 'sigma' (a Gaussian mixture); for samples omit both")
        return "samples" if m.ndim == 2 else "point", t, m, None, None
    s = check_array(sigma, "sigma", func, ndim=(0, 1, 2), dtype=float)
    try:
        s = np.broadcast_to(s if s.ndim != 1 or m.ndim == 1 else s[:, None], m.shape)
    except ValueError as exc:
        raise ValidationError(f"{func}(): 'sigma' has shape {s.shape}; expected {m.shape} like 'y_pred' "
                              f"(or a scalar)") from exc
    if np.any(s <= 0):
        raise ValidationError(f"{func}(): 'sigma' must be > 0 everywhere; got {int((s <= 0).sum())} values <= 0")
    if m.ndim == 1:
        return "gaussian", t, m, s, None
    w = np.full(m.shape, 1.0 / m.shape[1]) if weights is None else check_array(weights, "weights", func, ndim=2)
    if w.shape != m.shape or np.any(w < 0):
        raise ValidationError(f"{func}(): 'weights' must be non-negative with shape {m.shape}; got {w.shape}")
    w = w / w.sum(axis=1, keepdims=True)
    return "gmm", t, m, s, w


def pit(y_true: Any, y_pred: Any, *, sigma: Any = None, weights: Any = None, redshift: bool = False
        ) -> np.ndarray:
    """Probability integral transform ``PIT_i = F_i(y_true_i)``, the predictive CDF at the truth.

    A calibrated estimator gives PIT values uniform on [0, 1]; a U shape means over-confident, a hump
    under-confident, a slope a bias.

    Parameters
    ----------
    y_true : array-like, shape (n,)
    y_pred : array-like, shape (n,), (n, K) or (n, S)
        Gaussian means (n,) with ``sigma``; mixture component means (n, K) with ``sigma`` and optional
        ``weights`` (default equal); or predictive samples (n, S) without ``sigma``.
    sigma : array-like, optional
        Standard deviations, broadcastable to ``y_pred``.
    weights : array-like, shape (n, K), optional
        Mixture weights (normalised per row).
    redshift : bool, default False
        Accepted so that every metric takes the same keywords; the PIT does not depend on the scale of ``y``.

    Returns
    -------
    numpy.ndarray, shape (n,)
        For samples: ``(#{s < y} + 0.5 #{s == y}) / S``.

    Examples
    --------
    >>> pit([0.0, 1.0], [0.0, 0.0], sigma=1.0).round(4).tolist()
    [0.5, 0.8413]
    """
    kind, t, m, s, w = _distribution(y_true, y_pred, sigma, weights, "pit")
    if kind == "point":
        raise ValidationError("pit(): needs a predictive distribution; pass 'sigma' or samples of shape (n, S)")
    if kind == "samples":
        below = (m < t[:, None]).sum(axis=1) + 0.5 * (m == t[:, None]).sum(axis=1)
        return below / m.shape[1]
    if kind == "gaussian":
        return stats.norm.cdf(t, loc=m, scale=s)
    return np.sum(w * stats.norm.cdf(t[:, None], loc=m, scale=s), axis=1)


def _a_term(mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """E|X| for X ~ N(mu, var): ``2 sd phi(mu/sd) + mu (2 Phi(mu/sd) - 1)``."""
    sd = np.sqrt(var)
    z = mu / sd
    return 2 * sd * stats.norm.pdf(z) + mu * special.erf(z / np.sqrt(2))


def crps(y_true: Any, y_pred: Any, *, sigma: Any = None, weights: Any = None, reduce: bool = True,
         fair: bool = False, redshift: bool = False) -> float | np.ndarray:
    """Continuous ranked probability score ``int (F(x) - 1{x >= y})^2 dx`` (lower is better; units of y).

    Closed forms: Gaussian ``sigma [z(2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)]`` with ``z = (y - mu)/sigma``;
    Gaussian mixture ``sum_i w_i A(y - mu_i, s_i^2) - 1/2 sum_ij w_i w_j A(mu_i - mu_j, s_i^2 + s_j^2)``
    with ``A(m, v) = E|N(m, v)|`` (Grimit et al. 2006); samples ``E|X - y| - 1/2 E|X - X'|``. A point
    forecast (1-D ``y_pred`` without ``sigma``) gives the absolute error.

    Parameters
    ----------
    y_true, y_pred, sigma, weights
        As in :func:`pit`.
    reduce : bool, default True
        Return the mean over objects; ``False`` returns the per-object scores, shape (n,).
    fair : bool, default False
        For samples, use the unbiased ("fair") estimator with ``S (S - 1)`` in the spread term.
    redshift : bool, default False
        The target is a redshift: score the predictive distribution of ``dz``, i.e. divide each object's
        CRPS by ``1 + y_true`` (exact: the CRPS scales with an affine change of variable).

    Examples
    --------
    >>> round(crps([0.0], [0.0], sigma=1.0), 6)  # (sqrt(2) - 1) / sqrt(pi)
    0.233695

    References
    ----------
    Gneiting & Raftery (2007), doi:10.1198/016214506000001437; Grimit et al. (2006), doi:10.1256/qj.05.235.
    """
    kind, t, m, s, w = _distribution(y_true, y_pred, sigma, weights, "crps")
    if kind == "point":
        scores = np.abs(m - t)
    elif kind == "gaussian":
        z = (t - m) / s
        scores = s * (z * special.erf(z / np.sqrt(2)) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    elif kind == "gmm":
        first = np.sum(w * _a_term(t[:, None] - m, s**2), axis=1)
        pair = _a_term(m[:, :, None] - m[:, None, :], s[:, :, None] ** 2 + s[:, None, :] ** 2)
        scores = first - 0.5 * np.einsum("ni,nj,nij->n", w, w, pair)
    else:
        n_s = m.shape[1]
        if fair and n_s < 2:
            raise ValidationError("crps(): fair=True needs at least 2 samples per object")
        srt = np.sort(m, axis=1)
        ranks = 2 * np.arange(1, n_s + 1) - n_s - 1
        spread = 2 * (srt @ ranks) / (n_s * (n_s - 1) if fair else n_s**2)
        scores = np.mean(np.abs(m - t[:, None]), axis=1) - 0.5 * spread
    if redshift:
        if np.any(t <= -1):
            raise ValidationError("crps(): 'y_true' has values <= -1, so (1 + y_true) normalisation is undefined; "
                                  "pass redshift=False for targets that are not redshifts")
        scores = scores / (1.0 + t)
    return float(np.mean(scores)) if reduce else scores


# --- registry ----------------------------------------------------------------------------------------------
METRICS: dict[str, Callable[..., float]] = {
    "bias": bias, "sigma_nmad": sigma_nmad, "outlier_fraction": outlier_fraction,
    "rmse": rmse, "mae": mae, "r2": r2, "crps": crps,
}
for _f in METRICS.values():
    _f.greater_is_better = _f is r2  # type: ignore[attr-defined]


def get_metric(metric: str | Callable[..., float]) -> Callable[..., float]:
    """Resolve a metric name (a key of :data:`METRICS`) or pass a callable ``f(y_true, y_pred)`` through.

    Examples
    --------
    >>> get_metric("rmse") is rmse
    True
    """
    if callable(metric):
        return metric
    if isinstance(metric, str) and metric in METRICS:
        return METRICS[metric]
    raise ValidationError(f"get_metric(): unknown metric {metric!r}; valid names are {', '.join(METRICS)} "
                          f"(or pass a callable f(y_true, y_pred) -> float)")


# --- a report for plots ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricReport(Result):
    """Point predictions, truths, optional PIT values and the summary statistics of one estimator.

    Attributes
    ----------
    y_true, y_pred : numpy.ndarray, shape (n,)
    values : dict
        Metric name -> value (bias, sigma_nmad, outlier_fraction, rmse, mae, r2, and crps if available).
    pit : numpy.ndarray or None
        PIT values, shape (n,), when a predictive distribution was given.
    redshift : bool
        Whether the target was declared a redshift (photo-z ``dz`` residuals).
    threshold : float
        Outlier threshold on ``|dz|`` (redshift) or ``|y_pred - y_true|``.
    quantity : str
        Name of the predicted quantity (axis labels), e.g. ``"redshift"``.

    Examples
    --------
    :func:`evaluate` returns one; :func:`interpret.plots.metrics.plot_metric_report` draws it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.uniform(0.1, 1.0, 500)
    >>> z_phot = z + 0.02 * (1 + z) * rng.normal(size=500)          # photo-z scatter 0.02 (1 + z)
    >>> report = evaluate(z, z_phot, sigma=np.full(500, 0.03), redshift=True)
    >>> round(report.values["sigma_nmad"], 2), report.values["outlier_fraction"], report.pit.shape
    (0.02, 0.0, (500,))
    >>> report.to_frame()["metric"].tolist()
    ['bias', 'sigma_nmad', 'outlier_fraction', 'rmse', 'mae', 'r2', 'crps']
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    values: dict = field(default_factory=dict)
    pit: np.ndarray | None = None
    redshift: bool = False
    threshold: float = 0.15
    quantity: str = "y"

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: columns ``metric``, ``value``."""
        return pd.DataFrame({"metric": list(self.values), "value": [float(v) for v in self.values.values()]})


def evaluate(y_true: Any, y_pred: Any, *, sigma: Any = None, weights: Any = None, samples: Any = None,
             redshift: bool = False, threshold: float = 0.15, quantity: str | None = None,
             normalize: bool | None = None) -> MetricReport:
    """Compute every metric for point predictions (plus PIT/CRPS given a predictive distribution).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,)
        Truths and point predictions (e.g. the predictive mean).
    sigma, weights : array-like, optional
        Gaussian (``sigma`` (n,)) or mixture (``sigma``/``weights`` (n, K) with ``samples`` the component
        means (n, K)) predictive distribution.
    samples : array-like, shape (n, S) or (n, K), optional
        Predictive samples, or mixture component means when ``sigma`` is 2-D.
    redshift, threshold : see :func:`bias` and :func:`outlier_fraction`. ``redshift=True`` scores every
        residual metric (bias, sigma_nmad, outlier_fraction, rmse, mae, crps) on ``dz``.
    quantity : str, optional
        Axis label; default ``"redshift"`` when ``redshift=True``, else ``"y"``.
    normalize : bool, optional
        Deprecated alias of ``redshift`` (FutureWarning; removed in 0.4).

    Examples
    --------
    >>> rep = evaluate([0.1, 0.2, 0.3], [0.1, 0.2, 0.35], redshift=True)
    >>> sorted(rep.values)[:3]
    ['bias', 'mae', 'outlier_fraction']
    """
    redshift = _declared_redshift(redshift, normalize, "evaluate")
    t, p = _pair(y_true, y_pred, "evaluate")
    _vector(p, "evaluate")
    values = {"bias": bias(t, p, redshift=redshift), "sigma_nmad": sigma_nmad(t, p, redshift=redshift),
              "outlier_fraction": outlier_fraction(t, p, threshold=threshold, redshift=redshift),
              "rmse": rmse(t, p, redshift=redshift), "mae": mae(t, p, redshift=redshift)}
    if np.ptp(t) > 0:
        values["r2"] = r2(t, p)
    pit_values = None
    dist = samples if samples is not None else (p if sigma is not None else None)
    if dist is not None:
        pit_values = pit(t, dist, sigma=sigma, weights=weights)
        values["crps"] = crps(t, dist, sigma=sigma, weights=weights, redshift=redshift)
    return MetricReport(y_true=t, y_pred=p, values=values, pit=pit_values, redshift=redshift,
                        threshold=float(threshold), quantity=quantity or ("redshift" if redshift else "y"))
