"""Analytic information quantities of jointly Gaussian variables: the known answers the estimators are tested on.

For a 1-D target T and Gaussian sources, I(T; S) = -1/2 log2(1 - R²_S) with R²_S the squared multiple
correlation of T on S, and the MMI decomposition equals BROJA's (Barrett 2015, arXiv:1411.2832). The neural
route classifies quantile bins of T, so its own known answer is I(bin(T); S), computed here by quadrature: given
S, T is Gaussian around its linear prediction, so the bin probabilities depend on S only through it.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special, stats

from ._mmi import mmi_atoms, source_sets

__all__ = ["gaussian_r2", "gaussian_mi", "binned_gaussian_mi", "gaussian_mmi", "gaussian_sample"]


def gaussian_r2(cov: np.ndarray, target: int, source: Sequence[int]) -> float:
    """Squared multiple correlation of variable ``target`` on variables ``source`` under covariance ``cov``."""
    cov = np.asarray(cov, dtype=float)
    s = list(source)
    c_ts = cov[target, s]
    return float(c_ts @ np.linalg.solve(cov[np.ix_(s, s)], c_ts) / cov[target, target])


def gaussian_mi(cov: np.ndarray, target: int, source: Sequence[int]) -> float:
    """I(X_target; X_source) in bits for a zero-mean Gaussian with covariance ``cov``."""
    return float(-0.5 * np.log2(1.0 - gaussian_r2(cov, target, source)))


def binned_gaussian_mi(r2: float, n_classes: int, *, binning: str = "quantile", n_nodes: int = 200) -> float:
    """I(bin(T); S) in bits when T has unit variance, R² on S is ``r2``, and T is cut into ``n_classes`` bins.

    ``binning="quantile"`` uses equal-probability bins; ``"uniform"`` uses equal-width bins over ±4 σ
    (the outer bins extend to infinity). Computed by Gauss–Hermite quadrature over the linear prediction.
    """
    if binning == "quantile":
        edges = stats.norm.ppf(np.linspace(0, 1, n_classes + 1))
    else:
        edges = np.concatenate([[-np.inf], np.linspace(-4, 4, n_classes + 1)[1:-1], [np.inf]])
    x, w = special.roots_hermitenorm(n_nodes)
    w = w / w.sum()
    z = np.sqrt(r2) * x[:, None]
    sd = np.sqrt(1.0 - r2)
    p = np.diff(stats.norm.cdf((edges[None, :] - z) / sd), axis=1)
    prior = np.diff(stats.norm.cdf(edges))
    h_cond = -(w[:, None] * special.xlogy(p, p)).sum() / np.log(2)
    return float(-(special.xlogy(prior, prior)).sum() / np.log(2) - h_cond)


def gaussian_mmi(cov: np.ndarray, names: Sequence[str] = ("a", "b"), *, n_classes: int | None = None,
                 binning: str = "quantile") -> dict[str, float]:
    """Analytic MMI atoms (bits) for variable 0 as target and variables 1.. as 1-D sources.

    With ``n_classes`` the target is binned first (the neural route's known answer).
    """
    m = len(names)
    info = {}
    for s in source_sets(m):
        idx = [i + 1 for i in s]
        info[s] = (gaussian_mi(cov, 0, idx) if n_classes is None else
                   binned_gaussian_mi(gaussian_r2(cov, 0, idx), n_classes, binning=binning))
    return mmi_atoms(info, list(names))


def gaussian_sample(cov: np.ndarray, n: int, seed: int | None = 0) -> np.ndarray:
    """``n`` draws (rows) from a zero-mean Gaussian with covariance ``cov``."""
    return np.random.default_rng(seed).multivariate_normal(np.zeros(len(cov)), cov, size=n)
