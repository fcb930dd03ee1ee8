"""Our BROJA solver for two sources: scaling on the transportation-polytope structure, certified by duality.

BROJA (Bertschinger et al. 2014) defines the unique information of ``X`` about ``T`` as
``UI(T; X \\ Y) = min_{Q in Δ_P} I_Q(T; X | Y)``, where ``Δ_P`` holds the distributions with the same
``p(x, t)`` and ``p(y, t)`` as ``P``. Every atom follows from the single number
``I* = min_{Q in Δ_P} I_Q(T; X, Y)``:

* ``UI_X = I* - I(T; Y)``, ``UI_Y = I* - I(T; X)``,
* ``SI = I(T; X) + I(T; Y) - I*`` (redundancy), ``CI = I_P(T; X, Y) - I*`` (synergy).

The solver writes ``I*`` as an alternating minimisation of ``KL(Q || r(x, y) p(t))`` over ``Q in Δ_P`` and
the coupling ``r`` (Csiszár & Tusnády 1984). For a fixed ``r`` the I-projection onto ``Δ_P`` splits into
one transportation problem per ``t`` with a shared kernel ``r``, so ``Q(x, y, t) = r(x, y) a(x, t) b(y, t)``
and one Sinkhorn sweep over all slices is two ``k x k`` by ``k x |T|`` matrix products. The coupling update
``r <- r * sum_t a b`` (over-relaxed, with a safeguarded exponent) is the multiplicative step of the
alternating minimisation. ``(log a, log b)`` are dual variables of the exponential-cone program, so every
iterate gives a rigorous lower bound on the optimum; the solver stops when the duality gap is below ``tol``
bits, which bounds the error of every atom.

References
----------
Bertschinger, Rauh, Olbrich, Jost & Ay (2014), "Quantifying unique information", arXiv:1311.2852.
Makkeh, Theis & Vicente (2018), "BROJA-2PID: a robust estimator for bivariate partial information
decomposition", arXiv:1802.02485 (the exponential-cone formulation our duality certificate comes from).
"""
from __future__ import annotations

import dataclasses
import logging
import time
import warnings

import numpy as np

from ..exceptions import ConvergenceWarning, ValidationError

__all__ = ["BrojaSolution", "broja_solve", "broja_cone_objective"]

logger = logging.getLogger(__name__)
_LN2 = np.log(2.0)
_TINY = 1e-300


@dataclasses.dataclass(frozen=True)
class BrojaSolution:
    """Output of :func:`broja_solve`; all information values in bits.

    Attributes
    ----------
    redundancy, unique_x, unique_y, synergy, mutual_information : float
        The four BROJA atoms and ``I(T; X, Y)`` of the input distribution.
    min_joint_information : float
        ``I* = min_{Q in Δ_P} I_Q(T; X, Y)``.
    gap : float
        Certified duality gap at exit (bits): ``I*`` is known to within ``gap``.
    marginal_error : float
        Largest absolute violation of the ``p(x, t)`` / ``p(y, t)`` constraints by the returned ``q``.
    iterations : int
        Sinkhorn/coupling sweeps used.
    seconds : float
        Wall-clock time.
    converged : bool
        Whether ``gap <= tol`` was reached.
    q : numpy.ndarray, shape (kx, ky, kt)
        The optimal distribution ``Q``.
    """

    redundancy: float
    unique_x: float
    unique_y: float
    synergy: float
    mutual_information: float
    min_joint_information: float
    gap: float
    marginal_error: float
    iterations: int
    seconds: float
    converged: bool
    q: np.ndarray


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _mi(pxt: np.ndarray) -> float:
    """I(X; T) in nats from the joint p(x, t)."""
    return _entropy(pxt.sum(1)) + _entropy(pxt.sum(0)) - _entropy(pxt)


def _check_pmf(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    if p.ndim != 3:
        raise ValidationError(f"broja_solve(): 'p' must have shape (kx, ky, kt); got shape {p.shape}")
    if not np.all(np.isfinite(p)) or (p < 0).any():
        raise ValidationError("broja_solve(): 'p' must be finite and non-negative")
    total = p.sum()
    if total <= 0:
        raise ValidationError("broja_solve(): 'p' sums to zero; pass a probability table")
    return p / total


class _State:
    """Scaling variables of the alternating minimisation (marginals stored as (k, T))."""

    def __init__(self, pxt: np.ndarray, pyt: np.ndarray):
        self.pxt, self.pyt = pxt, pyt
        pt = pxt.sum(0)
        inv_pt = np.where(pt > 0, 1.0 / np.where(pt > 0, pt, 1.0), 0.0)
        # Start from the conditionally independent Q0(x,y,t) = p(x,t) p(y,t) / p(t), which is feasible.
        self.r = (pxt * inv_pt) @ pyt.T
        self.r /= self.r.sum()
        self.a = np.ones_like(pxt)
        self.b = np.ones_like(pyt)

    def sinkhorn(self, sweeps: int) -> None:
        r, a, b = self.r, self.a, self.b
        rt = r.T
        for _ in range(sweeps):
            # Denominators are positive wherever the numerator is (the initial coupling covers every pair
            # that shares a target value), so the floor only guards 0/0.
            a = self.pxt / np.maximum(r @ b, _TINY)
            b = self.pyt / np.maximum(rt @ a, _TINY)
        self.a, self.b = a, b

    def coupling_weights(self) -> np.ndarray:
        """``c(x, y) = sum_t a(x, t) b(y, t)``; equals 1 on the optimal support."""
        return self.a @ self.b.T

    def dual_bound(self, rounds: int = 3) -> float:
        """Weak-duality lower bound on ``min -H_Q(T | X, Y)`` (nats) from the current scalings.

        ``(log a, log b)`` is made dual-feasible (``sum_t a(x,t) b(y,t) <= 1`` for every pair) by shifting
        each row ``x`` and column ``y`` by its largest ``c(x, y)``; each shift can only raise the bound.
        """
        la = np.log(self.a, where=self.pxt > 0, out=np.zeros_like(self.a))
        lb = np.log(self.b, where=self.pyt > 0, out=np.zeros_like(self.b))
        bound = float((self.pxt * la).sum() + (self.pyt * lb).sum())
        c = self.coupling_weights()
        px, py = self.pxt.sum(1), self.pyt.sum(1)
        for _ in range(rounds):
            log_row = np.log(np.maximum(c.max(1), _TINY))
            c = c / np.exp(log_row)[:, None]
            log_col = np.log(np.maximum(c.max(0), _TINY))
            c = c / np.exp(log_col)[None, :]
            bound -= float(px @ log_row + py @ log_col)
        return bound

    def q(self) -> np.ndarray:
        return self.r[:, :, None] * self.a[:, None, :] * self.b[None, :, :]


def _neg_cond_entropy(q: np.ndarray) -> float:
    """``-H_Q(T | X, Y)`` in nats for q of shape (kx, ky, kt)."""
    qxy = q.sum(2, keepdims=True)
    mask = q > 0
    return float((q[mask] * np.log(q[mask] / np.broadcast_to(qxy, q.shape)[mask])).sum())


def _iterate(state: _State, tol: float, max_iter: int, check_every: int, omega: float, sweeps: int) -> tuple[int, float, float]:
    """Run coupling updates until the certified gap (nats) is below ``tol``; return (iterations, primal, gap)."""
    it, primal, gap = 0, np.inf, np.inf
    state.sinkhorn(50)
    while it < max_iter:
        previous = primal
        for _ in range(check_every):
            r_new = state.r * state.coupling_weights() ** omega
            state.r = r_new / r_new.sum()
            state.sinkhorn(sweeps)
            it += 1
        state.sinkhorn(20)
        primal = _neg_cond_entropy(state.q())
        gap = primal - state.dual_bound()
        if gap <= tol:
            break
        if primal > previous + 1e-12 and omega > 1.0:  # over-relaxation overshoots: damp it
            omega = 1.0 + 0.5 * (omega - 1.0)
    return it, primal, gap


def broja_solve(
    p: np.ndarray,
    *,
    tol: float = 1e-5,
    max_iter: int = 200_000,
    omega: float = 1.9,
    check_every: int = 25,
    sweeps: int = 1,
) -> BrojaSolution:
    """Bivariate BROJA decomposition of a dense joint pmf ``p[x, y, t]``, in bits.

    Parameters
    ----------
    p : numpy.ndarray, shape (kx, ky, kt)
        Joint probability table of source X, source Y and target T (normalised here).
    tol : float, default 1e-5
        Stop when the certified duality gap on ``min I_Q(T; X, Y)`` is below ``tol`` bits.
    max_iter : int, default 200000
        Maximum coupling updates; a :class:`~interpret.exceptions.ConvergenceWarning` is raised if reached.
    omega : float, default 1.9
        Over-relaxation exponent of the multiplicative coupling update (1 is plain alternating minimisation).
    check_every : int, default 25
        Coupling updates between duality-gap evaluations.
    sweeps : int, default 1
        Sinkhorn sweeps (row + column scaling of every slice) after each coupling update.

    Returns
    -------
    BrojaSolution
        Atoms, certified gap, diagnostics and the optimal ``Q``.

    References
    ----------
    Bertschinger et al. (2014), arXiv:1311.2852; Makkeh, Theis & Vicente (2018), arXiv:1802.02485.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.zeros((2, 2, 4)); p[0, 0, 0] = p[0, 1, 1] = p[1, 0, 2] = p[1, 1, 3] = 0.25  # two-bit copy
    >>> s = broja_solve(p)
    >>> round(s.unique_x, 6), round(s.unique_y, 6), abs(round(s.redundancy, 6)), abs(round(s.synergy, 6))
    (1.0, 1.0, 0.0, 0.0)
    """
    t0 = time.perf_counter()
    p = _check_pmf(p)
    pxt, pyt = p.sum(1), p.sum(0)
    state = _State(pxt, pyt)
    it, primal, gap = _iterate(state, tol * _LN2, max_iter, check_every, omega, sweeps)
    q = state.q()
    marginal_error = float(max(np.abs(q.sum(1) - pxt).max(), np.abs(q.sum(0) - pyt).max()))
    converged = gap <= tol * _LN2
    if not converged:
        warnings.warn(f"broja_solve(): duality gap {gap / _LN2:.2e} bits after {it} iterations exceeds "
                      f"tol={tol:.1e}; raise max_iter", ConvergenceWarning, stacklevel=2)
    h_t = _entropy(p.sum((0, 1)))
    i_star = (h_t + primal) / _LN2
    i_x, i_y = _mi(pxt) / _LN2, _mi(pyt) / _LN2
    i_xy = _mi(p.reshape(-1, p.shape[2])) / _LN2
    i_star, i_x, i_y, i_xy = float(i_star), float(i_x), float(i_y), float(i_xy)
    sol = BrojaSolution(
        redundancy=i_x + i_y - i_star, unique_x=i_star - i_y, unique_y=i_star - i_x, synergy=i_xy - i_star,
        mutual_information=i_xy, min_joint_information=i_star, gap=float(max(gap, 0.0) / _LN2),
        marginal_error=marginal_error, iterations=it, seconds=time.perf_counter() - t0, converged=bool(converged),
        q=q,
    )
    logger.debug("broja_solve: k=%s, %d iterations, gap %.1e bits, %.3f s", p.shape, it, sol.gap, sol.seconds)
    return sol


def broja_cone_objective(p: np.ndarray, *, solver: str = "CLARABEL") -> float:
    """``min_{Q in Δ_P} I_Q(T; X, Y)`` in bits from a generic exponential-cone program (cvxpy).

    The objective ``-H_Q(T | X, Y)`` is written as a sum of ``rel_entr(q(x,y,t), q(x,y))`` terms over the
    support allowed by the marginals, with sparse marginal constraints. Used to check :func:`broja_solve`
    and as the "generic" baseline in ``benchmarks/bench_pid.py``; slow beyond ``k ~ 16``.

    Parameters
    ----------
    p : numpy.ndarray, shape (kx, ky, kt)
        Joint pmf.
    solver : str, default "CLARABEL"
        cvxpy solver name.

    Returns
    -------
    float
        The optimum ``I*`` in bits.
    """
    import cvxpy as cp
    import scipy.sparse as sp

    p = _check_pmf(p)
    kx, ky, kt = p.shape
    pxt, pyt = p.sum(1), p.sum(0)
    xs, ys, ts = np.nonzero((pxt[:, None, :] > 0) & (pyt[None, :, :] > 0))
    n = xs.size
    q = cp.Variable(n, nonneg=True)
    pair = xs * ky + ys
    uniq, pair_idx = np.unique(pair, return_inverse=True)
    ones = np.ones(n)
    a_xy = sp.csr_matrix((ones, (pair_idx, np.arange(n))), shape=(uniq.size, n))
    a_xt = sp.csr_matrix((ones, (xs * kt + ts, np.arange(n))), shape=(kx * kt, n))
    a_yt = sp.csr_matrix((ones, (ys * kt + ts, np.arange(n))), shape=(ky * kt, n))
    qxy = a_xy @ q
    objective = cp.Minimize(cp.sum(cp.rel_entr(q, a_xy.T @ qxy)))
    cons = [a_xt @ q == pxt.ravel(), a_yt @ q == pyt.ravel()]
    prob = cp.Problem(objective, cons)
    prob.solve(solver=solver)
    return float((_entropy(p.sum((0, 1))) + prob.value) / _LN2)
