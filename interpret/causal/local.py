"""``local_dependence()``: correlation between a target and a query variable inside each galaxy's
neighbourhood in a learned embedding, optionally conditioned on a third variable, with a permutation null.

After Zhang et al. (code ``QiufanLin/InterpretSM``): if, among galaxies the network places close together,
the target still correlates with the query (e.g. inclination) after regressing out a conditioning variable
(e.g. redshift), the embedding has not absorbed the query's information.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .._compat import renamed_keywords
from .._results import Result
from .._validation import as_generator, check_array, check_choice, check_int, check_same_length
from ..exceptions import EstimationWarning, ValidationError

__all__ = ["local_dependence", "LocalDependence"]


@dataclass(frozen=True)
class LocalDependence(Result):
    """Per-galaxy neighbourhood correlations and their permutation p-values.

    Attributes
    ----------
    correlation : ndarray, shape (n,)
        Pearson correlation of target and query (residuals, if conditioned) among the k neighbours.
    p_value : ndarray, shape (n,)
        Permutation p-value of ``correlation`` (``(1 + #null as extreme) / (1 + n_perm)``).
    null_std : ndarray, shape (n,)
        Standard deviation of the permutation null correlations.
    efficiency : ndarray, shape (n,)
        Fraction of the target's neighbourhood variance explained by a polynomial in the query
        (Zhang et al.'s "predictive efficiency").
    k, n_perm, degree : int
        Neighbours, permutations and polynomial degree used for regressions.
    conditioned : bool
        Whether a conditioning variable was regressed out.
    alternative : str
        ``"two-sided"``, ``"greater"`` or ``"less"``.
    """

    correlation: np.ndarray
    p_value: np.ndarray
    null_std: np.ndarray
    efficiency: np.ndarray
    k: int = 100
    n_perm: int = 100
    degree: int = 2
    conditioned: bool = False
    alternative: str = "two-sided"

    def to_frame(self) -> pd.DataFrame:
        """One row per galaxy: ``correlation``, ``p_value``, ``null_std``, ``efficiency``."""
        return pd.DataFrame({"correlation": self.correlation, "p_value": self.p_value,
                             "null_std": self.null_std, "efficiency": self.efficiency})

    def fraction_significant(self, alpha: float = 0.05) -> float:
        """Fraction of galaxies whose neighbourhood correlation is significant at level ``alpha``."""
        return float(np.mean(self.p_value < alpha))


def _neighbours(embedding: np.ndarray, reference: np.ndarray | None, k: int) -> np.ndarray:
    """(n, k) indices of each row's k nearest reference rows (itself included if it is a reference row)."""
    ref = np.arange(len(embedding)) if reference is None else reference
    tree = cKDTree(embedding[ref])
    _, idx = tree.query(embedding, k=k)
    return ref[np.asarray(idx).reshape(len(embedding), k)]


def _poly(c: np.ndarray, degree: int) -> np.ndarray:
    """(n, k, 1 + m*degree) design: intercept and powers of each neighbourhood-standardised condition."""
    z = (c - c.mean(1, keepdims=True)) / np.maximum(c.std(1, keepdims=True), 1e-12)
    cols = [np.ones(c.shape[:2] + (1,))] + [z ** d for d in range(1, degree + 1)]
    return np.concatenate(cols, axis=2)


def _residualise(y: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Residuals of each row of y (n, k) after least squares on its design (n, k, q), all rows at once."""
    dtd = np.einsum("nki,nkj->nij", design, design) + 1e-9 * np.eye(design.shape[2])
    beta = np.linalg.solve(dtd, np.einsum("nki,nk->ni", design, y)[..., None])[..., 0]
    return y - np.einsum("nkq,nq->nk", design, beta)


def _rowcorr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))


def _extreme(null: np.ndarray, obs: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "greater":
        return null >= obs
    if alternative == "less":
        return null <= obs
    return np.abs(null) >= np.abs(obs)


def _validate(embedding: Any, target: Any, query: Any, condition: Any, reference: Any,
              k: int) -> tuple[np.ndarray, ...]:
    f = "local_dependence"
    emb = check_array(embedding, "embedding", f, ndim=(1, 2), dtype=float)
    emb = emb[:, None] if emb.ndim == 1 else emb
    t = check_array(target, "target", f, ndim=1, dtype=float)
    q = check_array(query, "query", f, ndim=1, dtype=float)
    c = None
    if condition is not None:
        c = check_array(condition, "condition", f, ndim=(1, 2), dtype=float)
        c = c[:, None] if c.ndim == 1 else c
        check_same_length(f, embedding=emb, condition=c)
    check_same_length(f, embedding=emb, target=t, query=q)
    ref = None
    if reference is not None:
        ref = np.asarray(reference)
        ref = np.flatnonzero(ref) if ref.dtype == bool else ref.astype(int)
        if ref.size == 0 or ref.min() < 0 or ref.max() >= len(emb):
            raise ValidationError(f"{f}(): 'reference' must index rows of 'embedding' (0..{len(emb) - 1})")
    n_ref = len(emb) if ref is None else ref.size
    if k > n_ref:
        raise ValidationError(f"{f}(): 'k' = {k} exceeds the {n_ref} reference rows; lower k")
    return emb, t, q, c, ref


@renamed_keywords(n_perm="n_permutations")
def local_dependence(
    embedding: Any,
    target: Any,
    query: Any,
    k: int = 100,
    condition: Any = None,
    *,
    reference: Any = None,
    degree: int = 2,
    n_permutations: int = 100,
    alternative: str = "two-sided",
    seed: int | np.random.Generator | None = None,
) -> LocalDependence:
    """Neighbourhood (conditional) correlation test in an embedding, vectorised over galaxies.

    Parameters
    ----------
    embedding : array of shape (n, d)
        Latent vectors (or any coordinates) defining neighbourhoods.
    target, query : array of shape (n,)
        E.g. the network's stellar-mass estimate and a nuisance property such as inclination.
    k : int, default 100
        Neighbours per galaxy (found with a KD-tree; a reference galaxy is its own first neighbour).
    condition : array of shape (n,) or (n, m), optional
        Variable(s) regressed out of target and query inside each neighbourhood (polynomial of ``degree``).
    reference : int or bool array, optional
        Rows neighbours are drawn from (e.g. the training set); default all rows.
    degree : int, default 2
        Polynomial degree of the within-neighbourhood regressions (Zhang et al. use quadratic).
    n_permutations : int, default 100
        Permutations of the query inside each neighbourhood for the null distribution.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
    seed : int or Generator, optional
        Seed of the permutations.

    Returns
    -------
    LocalDependence

    References
    ----------
    Zhang, Lin et al. (2024), "Interpreting stellar-mass estimates from deep learning with causal analysis";
    code: https://github.com/QiufanLin/InterpretSM

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> emb = rng.normal(size=(500, 2)); q = rng.normal(size=500)
    >>> r = local_dependence(emb, q + 0.3 * rng.normal(size=500), q, k=50, n_permutations=50, seed=0)
    >>> r.fraction_significant() > 0.9
    True
    """
    k = check_int(k, "k", "local_dependence", minimum=degree + 3)
    check_int(degree, "degree", "local_dependence", minimum=1)
    n_permutations = check_int(n_permutations, "n_permutations", "local_dependence", minimum=1)
    check_choice(alternative, "alternative", "local_dependence", ("two-sided", "greater", "less"))
    emb, t, q, c, ref = _validate(embedding, target, query, condition, reference, k)
    idx = _neighbours(emb, ref, k)
    tn, qn = t[idx], q[idx]
    if c is not None:
        design = _poly(c[idx], degree)
        tn, qn = _residualise(tn, design), _residualise(qn, design)
    r = _rowcorr(tn, qn)
    efficiency = 1.0 - _residualise(tn, _poly(qn[..., None], degree)).var(1) / np.maximum(tn.var(1), 1e-300)
    rng = as_generator(seed)
    exceed = np.zeros(len(r))
    s1, s2 = np.zeros(len(r)), np.zeros(len(r))
    for _ in range(n_permutations):              # loop over permutations, vectorised over galaxies
        null = _rowcorr(tn, rng.permuted(qn, axis=1))
        exceed += _extreme(null, r, alternative)
        s1 += null
        s2 += null * null
    bad = ~np.isfinite(r)
    if bad.any():
        warnings.warn(f"local_dependence(): {int(bad.sum())} neighbourhoods have a constant target or query "
                      "(correlation undefined, set to NaN); increase k", EstimationWarning, stacklevel=2)
    p = np.where(bad, np.nan, (1.0 + exceed) / (1.0 + n_permutations))
    null_std = np.sqrt(np.maximum(s2 / n_permutations - (s1 / n_permutations) ** 2, 0.0))
    return LocalDependence(correlation=r, p_value=p, null_std=null_std, efficiency=efficiency, k=k,
                           n_perm=n_permutations, degree=degree, conditioned=c is not None, alternative=alternative)
