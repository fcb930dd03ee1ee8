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
``r <- r * c**omega`` with ``c = sum_t a b`` is the multiplicative step of the alternating minimisation,
over-relaxed (``omega = 2``) and accelerated by heavy-ball momentum on ``log r`` (``m <- m**0.5 * c**omega``,
``r <- r * m``), which halves the iterations; the momentum restarts and ``omega`` is damped when the
objective rises, and if the accelerated iteration stalls the plain one (no momentum, ``omega = 1.9``) takes
over from ``Q0``. ``(log a, log b)`` are dual variables of the exponential-cone program, so every iterate
gives a rigorous lower bound on the optimum. Every check estimates the gap from ``k x k`` and ``k x |T|``
arrays only: the objective of the unrounded ``Q`` needs just its marginals, ``sum_xt Q(x,t) log a +
sum_yt Q(y,t) log b - sum_xy r c log c``. The exact evaluation below, which forms the whole ``Q`` and costs
as much as ~25 iterations, runs (on a copy of the iterate) only when that estimate reaches ``tol``, every
16th check, and at exit; the estimate is never part of the certificate.

The certificate has two halves. Each exactly evaluated iterate is rounded *exactly* onto ``Δ_P``
(Altschuler, Weed & Rigollet 2017, Algorithm 2, slice by slice), so its objective is a rigorous upper
bound; the best feasible iterate and the best dual bound are kept. The solver stops when the gap between
them is non-negative and below ``tol`` bits and the returned ``Q`` meets the marginals to ``1e-10``; that
bounds the error of every atom. Coupling entries are floored at ``1e-200`` so that they cannot underflow
(which used to make the scalings, and the gap, grow with more iterations). When the gap stalls or
``max_iter`` is reached, the problem is handed to the exponential-cone solver Clarabel
(:func:`broja_clarabel`), and the result says which solver certified it (``certified_by``); if neither can,
a :class:`~interpret.exceptions.ConvergenceWarning` is raised and ``converged`` is False.

References
----------
Bertschinger, Rauh, Olbrich, Jost & Ay (2014), "Quantifying unique information", arXiv:1311.2852.
Makkeh, Theis & Vicente (2018), "BROJA-2PID: a robust estimator for bivariate partial information
decomposition", arXiv:1802.02485 (the exponential-cone formulation our duality certificate comes from).
Altschuler, Weed & Rigollet (2017), "Near-linear time approximation algorithms for optimal transport via
Sinkhorn iteration", arXiv:1705.09634 (the rounding onto the transportation polytope).
Goulart & Chen (2024), "Clarabel: an interior-point solver for conic programs", arXiv:2405.12762.
"""
from __future__ import annotations

import dataclasses
import logging
import time
import warnings

import numpy as np

from ..exceptions import ConvergenceWarning, ValidationError

__all__ = ["BrojaSolution", "broja_solve", "broja_clarabel", "broja_cone_objective"]

logger = logging.getLogger(__name__)
_LN2 = np.log(2.0)
_TINY = 1e-300
_FLOOR = 1e-200  # coupling entries stay above this: below it they underflow and the scalings blow up
_MARGINAL_TOL = 1e-10  # largest marginal violation of a certified Q (probability units)
_ROUNDOFF = 1e-12  # nats: a gap above -_ROUNDOFF is floating-point noise around zero, below it a bug
_PLAIN_OMEGA = 1.9  # over-relaxation of the plain (momentum-free) iteration that takes over from a stall
_CHECK_SWEEPS = 1  # before the O(k^2 |T|) gap estimate
_EXACT_SWEEPS = 19  # more before rounding Q for the exact upper bound
_EXACT_EVERY = 16  # checks between exact (rounded) evaluations while the estimated gap exceeds tol
_STALL_CHECKS = 20  # gap evaluations over which progress is extrapolated to decide on the fallback
_FALLBACK_MAX_CELLS = 20_000  # Clarabel: 1.4 s at 4,096 cells, 40 s at 32,768; beyond this, warn


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
        Whether the result is certified: ``0 <= gap <= tol`` (up to ``1e-12`` of round-off) and
        ``marginal_error <= 1e-10``.
    q : numpy.ndarray, shape (kx, ky, kt)
        The optimal distribution ``Q`` (the best feasible iterate).
    certified_by : str or None
        ``"scaling"`` (this solver's duality certificate), ``"clarabel"`` (the conic fallback's primal-dual
        certificate) or None (not certified; a ConvergenceWarning was raised).
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
    certified_by: str | None = None


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
    """Scaling variables of the alternating minimisation (marginals stored as (k, T)), updated in place."""

    def __init__(self, pxt: np.ndarray, pyt: np.ndarray):
        self.pxt, self.pyt = pxt, pyt
        pt = pxt.sum(0)
        inv_pt = np.where(pt > 0, 1.0 / np.where(pt > 0, pt, 1.0), 0.0)
        # Start from the conditionally independent Q0(x,y,t) = p(x,t) p(y,t) / p(t), which is feasible.
        self.r = (pxt * inv_pt) @ pyt.T
        self.r /= self.r.sum()
        self.a = np.ones_like(pxt)
        self.b = np.ones_like(pyt)
        self.m = np.ones_like(self.r)  # multiplicative momentum of the coupling update
        self._c = np.empty_like(self.r)  # work buffers: one iteration allocates nothing
        self._u, self._v = np.empty_like(pxt), np.empty_like(pyt)
        self._log_a = np.zeros_like(pxt)
        self._log_b = np.zeros_like(pyt)
        self._mask_x, self._mask_y = pxt > 0, pyt > 0

    def sinkhorn(self, sweeps: int) -> None:
        r, a, b, u, v = self.r, self.a, self.b, self._u, self._v
        for _ in range(sweeps):
            # Denominators are positive wherever the numerator is (the initial coupling covers every pair
            # that shares a target value), so the floor only guards 0/0.
            np.dot(r, b, out=u)
            np.maximum(u, _TINY, out=u)
            np.divide(self.pxt, u, out=a)
            np.dot(r.T, a, out=v)
            np.maximum(v, _TINY, out=v)
            np.divide(self.pyt, v, out=b)

    def update(self, steps: int, omega: float, momentum: float) -> None:
        """``steps`` coupling updates ``r <- r * m`` with ``m <- m**momentum * c**omega``, each followed by one
        Sinkhorn sweep.

        ``log m`` is the heavy-ball velocity of the multiplicative (mirror) step ``log r += omega log c``; a
        ``momentum`` of 0 is the plain over-relaxed update. The coupling is renormalised once at the end: the
        sweeps keep the mass of ``Q`` at one, so its scale only oscillates and the floor applies to a coupling
        of mass ~1.
        """
        r, c, m, a, b, u, v = self.r, self._c, self.m, self.a, self.b, self._u, self._v
        pxt, pyt, rt, bt = self.pxt, self.pyt, self.r.T, self.b.T
        for _ in range(steps):
            np.dot(a, bt, out=c)
            if omega == 2.0:
                np.multiply(c, c, out=c)
            else:
                np.power(c, omega, out=c)
            if momentum == 0.5:
                np.sqrt(m, out=m)
            elif momentum != 0.0:
                np.power(m, momentum, out=m)
            if momentum != 0.0:
                m *= c
                r *= m
            else:
                r *= c
            np.maximum(r, _FLOOR, out=r)
            # One Sinkhorn sweep (as in sinkhorn(), inlined: this loop is the solver's hot path).
            np.dot(r, b, out=u)
            np.maximum(u, _TINY, out=u)
            np.divide(pxt, u, out=a)
            np.dot(rt, a, out=v)
            np.maximum(v, _TINY, out=v)
            np.divide(pyt, v, out=b)
        r /= r.sum()
        np.maximum(r, _FLOOR, out=r)

    def copy(self) -> _State:
        """An independent copy (the scalings and coupling; fresh work buffers)."""
        new = _State.__new__(_State)
        new.__dict__.update(self.__dict__)
        for name in ("r", "a", "b", "m", "_c", "_u", "_v", "_log_a", "_log_b"):
            setattr(new, name, getattr(self, name).copy())
        return new

    def coupling_weights(self) -> np.ndarray:
        """``c(x, y) = sum_t a(x, t) b(y, t)``; equals 1 on the optimal support."""
        return self.a @ self.b.T

    def _logs(self) -> tuple[np.ndarray, np.ndarray]:
        np.log(self.a, where=self._mask_x, out=self._log_a)
        np.log(self.b, where=self._mask_y, out=self._log_b)
        return self._log_a, self._log_b

    def bounds(self, rounds: int = 3) -> tuple[float, float]:
        """(objective of the unrounded ``Q = r a b``, weak-duality lower bound), both nats, in ``O(k^2 |T|)``.

        The objective ``-H_Q(T | X, Y) = sum_xt Q(x,t) log a + sum_yt Q(y,t) log b - sum_xy r c log c`` needs
        only the marginals of ``Q``, not ``Q`` itself; it is the trigger for the exact (rounded) evaluation,
        never part of the certificate. The dual bound is rigorous: ``(log a, log b)`` is made dual-feasible
        (``sum_t a(x,t) b(y,t) <= 1`` for every pair) by shifting each row ``x`` and column ``y`` by its
        largest ``c(x, y)``; each shift can only raise the bound.
        """
        la, lb = self._logs()
        c = self.coupling_weights()
        qx = self.a * (self.r @ self.b)
        qy = self.b * (self.r.T @ self.a)
        rc = self.r * c
        objective = float((qx * la).sum() + (qy * lb).sum() - (rc * np.log(np.maximum(c, _TINY))).sum())
        return objective, self._dual(la, lb, c, rounds)

    def _dual(self, la: np.ndarray, lb: np.ndarray, c: np.ndarray, rounds: int) -> float:
        bound = float((self.pxt * la).sum() + (self.pyt * lb).sum())
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


def _round_feasible(q: np.ndarray, pxt: np.ndarray, pyt: np.ndarray) -> np.ndarray:
    """Round ``q`` exactly onto ``Δ_P`` (Altschuler et al. 2017, Alg. 2, in every target slice at once).

    Rows then columns are scaled down to their targets, and the missing mass goes on the outer product of the
    row and column deficits, which are non-zero only where ``p(x, t)`` and ``p(y, t)`` are; the L1 change is
    at most twice the marginal violation.
    """
    row = q.sum(1)
    q = q * np.minimum(1.0, np.divide(pxt, row, out=np.zeros_like(pxt), where=row > 0))[:, None, :]
    col = q.sum(0)
    q = q * np.minimum(1.0, np.divide(pyt, col, out=np.zeros_like(pyt), where=col > 0))[None, :, :]
    er, ec = np.maximum(pxt - q.sum(1), 0.0), np.maximum(pyt - q.sum(0), 0.0)
    mass = er.sum(0)
    return q + er[:, None, :] * ec[None, :, :] / np.where(mass > 0, mass, 1.0)[None, None, :]


def _marginal_error(q: np.ndarray, pxt: np.ndarray, pyt: np.ndarray) -> float:
    return float(max(np.abs(q.sum(1) - pxt).max(), np.abs(q.sum(0) - pyt).max()))


@dataclasses.dataclass
class _Best:
    """Best feasible iterate (upper bound) and best dual bound (lower bound) seen, in nats."""

    primal: float = np.inf
    dual: float = -np.inf
    q: np.ndarray | None = None

    @property
    def gap(self) -> float:
        return self.primal - self.dual

    def update(self, q: np.ndarray | None, primal: float, dual: float) -> None:
        if q is not None and np.isfinite(primal) and primal < self.primal:
            self.primal, self.q = primal, q
        if np.isfinite(dual) and dual > self.dual:
            self.dual = dual


def _hopeless(history: list[float], tol: float, it: int, max_iter: int, check_every: int, patient: bool) -> bool:
    """Whether the gap, extrapolated from its last ``_STALL_CHECKS`` evaluations, misses ``tol`` by max_iter.

    ``patient`` (no conic fallback to hand over to): only a gap that stopped shrinking counts as hopeless.
    """
    if len(history) <= _STALL_CHECKS:
        return False
    now, then = history[-1], history[-1 - _STALL_CHECKS]
    if now <= 0 or now >= then * (1.0 - 1e-3):
        return now > tol
    if patient:
        return False
    rate = np.log(now / then) / (_STALL_CHECKS * check_every)  # log-gap per iteration (negative)
    return it + np.log(tol / now) / rate > max_iter


def _iterate(state: _State, tol: float, max_iter: int, check_every: int, omega: float, sweeps: int,
             patient: bool = False, momentum: float = 0.0, best: _Best | None = None) -> tuple[int, _Best]:
    """Coupling updates until the certified gap (nats) is below ``tol``, or it stalls; return (iterations, best).

    Every ``check_every`` updates the gap is estimated in ``O(k^2 |T|)`` from the unrounded objective and the
    dual bound (:meth:`_State.bounds`). The exact upper bound (rounding ``Q`` onto ``Δ_P`` and evaluating it,
    ``O(k^2 |T|)`` with a much larger constant) is computed only when that estimate is within ``tol``, every
    ``_EXACT_EVERY`` checks (for the best-iterate record and the stall rule) and at exit.
    """
    it, previous, history, checks = 0, np.inf, [], 0
    best = _Best() if best is None else best
    lowest, lowest_state = np.inf, None  # iterate with the lowest estimated objective, for an exit short of tol
    state.sinkhorn(50)
    while it < max_iter:
        if sweeps == 1:
            state.update(check_every, omega, momentum)
        else:
            for _ in range(check_every):
                state.update(1, omega, momentum)
                state.sinkhorn(sweeps - 1)
        it += check_every
        state.sinkhorn(_CHECK_SWEEPS)
        estimate, dual = state.bounds()
        best.update(None, np.inf, dual)
        checks += 1
        if min(estimate, best.primal) - best.dual <= tol or checks % _EXACT_EVERY == 0:
            _evaluate_exact(state, best)
            gap = best.gap
        else:
            gap = min(estimate, best.primal) - best.dual
            if estimate < lowest:
                lowest, lowest_state = estimate, state.copy()
        history.append(gap)
        if -_ROUNDOFF <= best.gap <= tol or _hopeless(history, tol, it, max_iter, check_every, patient):
            break
        if estimate > previous + 1e-12:  # the step overshoots: restart the momentum, damp the over-relaxation
            state.m.fill(1.0)
            if omega > 1.0:
                omega = 1.0 + 0.5 * (omega - 1.0)
        previous = estimate
    if not -_ROUNDOFF <= best.gap <= tol:
        for candidate in (state, lowest_state):
            if candidate is not None:
                _evaluate_exact(candidate, best)
    return it, best


def _evaluate_exact(state: _State, best: _Best) -> None:
    """Round ``Q`` of (a copy of) ``state`` onto ``Δ_P``; record its objective (a rigorous upper bound) in ``best``.

    The live iterate is left untouched, so which checks are exact does not change the trajectory.
    """
    state = state.copy()
    state.sinkhorn(_EXACT_SWEEPS)
    q = _round_feasible(state.q(), state.pxt, state.pyt)
    best.update(q, _neg_cond_entropy(q), -np.inf)


def _certified(best: _Best, tol: float, pxt: np.ndarray, pyt: np.ndarray) -> bool:
    return bool(-_ROUNDOFF <= best.gap <= tol and best.q is not None
                and _marginal_error(best.q, pxt, pyt) <= _MARGINAL_TOL)


def broja_solve(
    p: np.ndarray,
    *,
    tol: float = 1e-5,
    max_iter: int = 200_000,
    omega: float = 2.0,
    momentum: float = 0.5,
    check_every: int = 25,
    sweeps: int = 1,
    fallback: bool = True,
) -> BrojaSolution:
    """Bivariate BROJA decomposition of a dense joint pmf ``p[x, y, t]``, in bits.

    Parameters
    ----------
    p : numpy.ndarray, shape (kx, ky, kt)
        Joint probability table of source X, source Y and target T (normalised here).
    tol : float, default 1e-5
        Stop when the certified duality gap on ``min I_Q(T; X, Y)`` is below ``tol`` bits (between a feasible
        ``Q`` and a dual bound, so every atom is within ``tol`` bits of the exact one).
    max_iter : int, default 200000
        Maximum coupling updates. The scaling stops earlier when its gap stops shrinking over 500 updates, or
        (when the conic fallback can take over) when the gap extrapolated from them would not reach ``tol``
        by ``max_iter``.
    omega : float, default 2.0
        Over-relaxation exponent of the multiplicative coupling update (1 is plain alternating minimisation).
    momentum : float, default 0.5
        Heavy-ball momentum of that update in ``[0, 1)``: the coupling is multiplied by ``m`` with
        ``m <- m**momentum * c**omega`` (0 is the plain over-relaxed update). It halves the iterations on
        binned and dense tables; the momentum restarts and ``omega`` is damped whenever the objective rises,
        and if the gap stalls the plain update (no momentum, ``omega <= 1.9``) restarts from ``Q0`` with the
        iterations left, keeping the bounds found so far.
    check_every : int, default 25
        Coupling updates between gap checks. A check estimates the gap in ``O(k^2 |T|)`` from the scalings;
        ``Q`` is rounded onto ``Δ_P`` and evaluated exactly (the certificate) when that estimate reaches
        ``tol``.
    sweeps : int, default 1
        Sinkhorn sweeps (row + column scaling of every slice) after each coupling update.
    fallback : bool, default True
        When the scaling cannot certify ``tol``, solve the exponential-cone program with Clarabel
        (:func:`broja_clarabel`; tables of up to 20,000 allowed cells). Without a certificate from either, a
        :class:`~interpret.exceptions.ConvergenceWarning` is raised and ``converged`` is False.

    Returns
    -------
    BrojaSolution
        Atoms, certified gap, diagnostics, the optimal ``Q`` and ``certified_by``.

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
    if not 0.0 <= momentum < 1.0:
        raise ValidationError(f"broja_solve(): 'momentum' must be in [0, 1); got {momentum!r}")
    pxt, pyt = p.sum(1), p.sum(0)
    patient = not fallback or _cells(pxt, pyt) > _FALLBACK_MAX_CELLS
    it, best = _iterate(_State(pxt, pyt), tol * _LN2, max_iter, check_every, omega, sweeps, patient, momentum)
    if momentum > 0.0 and it < max_iter and not _certified(best, tol * _LN2, pxt, pyt):
        # The accelerated iteration stalled (rare, on small sparse or near-deterministic tables): the plain one
        # restarts from Q0 with the remaining budget; the bounds found so far stay valid and are kept.
        more, best = _iterate(_State(pxt, pyt), tol * _LN2, max_iter - it, check_every, min(omega, _PLAIN_OMEGA),
                              sweeps, patient, 0.0, best)
        it += more
    certified_by = "scaling" if _certified(best, tol * _LN2, pxt, pyt) else None
    if certified_by is None and fallback:
        certified_by = _fallback(p, best, tol * _LN2, it)
    if certified_by is None:
        warnings.warn(f"broja_solve(): not certified: duality gap {best.gap / _LN2:.2e} bits after {it} "
                      f"iterations exceeds tol={tol:.1e}"
                      + ("" if fallback else "; fallback=True would try the conic solver"),
                      ConvergenceWarning, stacklevel=2)
    sol = _solution(p, best, it, time.perf_counter() - t0, certified_by)
    logger.debug("broja_solve: k=%s, %d iterations, gap %.1e bits, certified by %s, %.3f s", p.shape, it,
                 sol.gap, certified_by, sol.seconds)
    return sol


def _fallback(p: np.ndarray, best: _Best, tol: float, it: int) -> str | None:
    """Improve ``best`` with Clarabel's solution; return "clarabel" when that certifies ``tol`` (nats)."""
    pxt, pyt = p.sum(1), p.sum(0)
    cells = _cells(pxt, pyt)
    if cells > _FALLBACK_MAX_CELLS:
        logger.warning("broja_solve: gap %.1e bits after %d iterations; %d cells is too large for the conic "
                       "fallback", best.gap / _LN2, it, cells)
        return None
    logger.info("broja_solve: gap %.1e bits after %d iterations; falling back to Clarabel (%d cells)",
                best.gap / _LN2, it, cells)
    q, primal, dual = _clarabel(p)
    if q is None:
        return None
    q = _round_feasible(q, pxt, pyt)
    best.update(q, _neg_cond_entropy(q), min(dual, primal))
    return "clarabel" if _certified(best, tol, pxt, pyt) else None


def _cells(pxt: np.ndarray, pyt: np.ndarray) -> int:
    """Cells ``(x, y, t)`` that ``Δ_P`` allows to be non-zero."""
    return int(((pxt[:, None, :] > 0) & (pyt[None, :, :] > 0)).sum())


def _solution(p: np.ndarray, best: _Best, it: int, seconds: float, certified_by: str | None) -> BrojaSolution:
    pxt, pyt = p.sum(1), p.sum(0)
    i_star = float((_entropy(p.sum((0, 1))) + best.primal) / _LN2)
    i_x, i_y = float(_mi(pxt) / _LN2), float(_mi(pyt) / _LN2)
    i_xy = float(_mi(p.reshape(-1, p.shape[2])) / _LN2)
    return BrojaSolution(
        redundancy=i_x + i_y - i_star, unique_x=i_star - i_y, unique_y=i_star - i_x, synergy=i_xy - i_star,
        mutual_information=i_xy, min_joint_information=i_star, gap=float(best.gap / _LN2),
        marginal_error=_marginal_error(best.q, pxt, pyt), iterations=it, seconds=seconds,
        converged=certified_by is not None, q=best.q, certified_by=certified_by,
    )


def _clarabel(p: np.ndarray) -> tuple[np.ndarray | None, float, float]:
    """Clarabel at tolerance 1e-10, then 1e-8 if that stalls short of it (status "AlmostSolved")."""
    for tol in (1e-10, 1e-8):
        q, primal, dual = _clarabel_at(p, tol)
        if q is not None:
            break
    return q, primal, dual


def _clarabel_at(p: np.ndarray, tol: float) -> tuple[np.ndarray | None, float, float]:
    """``min -H_Q(T | X, Y)`` over ``Δ_P`` (nats) with Clarabel: (dense Q or None, primal, dual objective).

    Variables are ``q`` on the allowed cells, an epigraph ``τ`` per cell and the pair sums ``s(x, y)``;
    ``(-τ, q, s) ∈ K_exp`` is ``q log(q / s) <= τ``. One ``p(y, t)`` row per target value is dropped
    because it is implied by the others, so the equality constraints have full rank.
    """
    import clarabel
    import scipy.sparse as sp

    kx, ky, kt = p.shape
    pxt, pyt = p.sum(1), p.sum(0)
    xs, ys, ts = np.nonzero((pxt[:, None, :] > 0) & (pyt[None, :, :] > 0))
    n, cells = xs.size, np.arange(xs.size)
    pairs, pair_of = np.unique(xs * ky + ys, return_inverse=True)
    m, nv = pairs.size, 2 * n + pairs.size
    rows_x, row_x = np.unique(xs * kt + ts, return_inverse=True)
    keep = ys != np.argmax(pyt > 0, axis=0)[ts]
    rows_y, row_y = np.unique((ys * kt + ts)[keep], return_inverse=True)
    eq = sp.vstack([
        sp.csc_matrix((np.ones(n), (row_x, cells)), shape=(rows_x.size, nv)),
        sp.csc_matrix((np.ones(row_y.size), (row_y, cells[keep])), shape=(rows_y.size, nv)),
        sp.csc_matrix((np.r_[-np.ones(n), np.ones(m)], (np.r_[pair_of, np.arange(m)], np.r_[cells, 2 * n + np.arange(m)])),
                      shape=(m, nv)),
    ])
    cone = sp.csc_matrix((np.r_[np.ones(n), -np.ones(n), -np.ones(n)],
                          (np.r_[3 * cells, 3 * cells + 1, 3 * cells + 2], np.r_[n + cells, cells, 2 * n + pair_of])),
                         shape=(3 * n, nv))
    a = sp.vstack([eq, cone]).tocsc()
    b = np.r_[pxt.ravel()[rows_x], pyt.ravel()[rows_y], np.zeros(m + 3 * n)]
    c = np.r_[np.zeros(n), np.ones(n), np.zeros(m)]
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = tol
    cones = [clarabel.ZeroConeT(eq.shape[0])] + [clarabel.ExponentialConeT()] * n
    sol = clarabel.DefaultSolver(sp.csc_matrix((nv, nv)), c, a, b, cones, settings).solve()
    if str(sol.status) != "Solved":
        logger.info("broja_solve: Clarabel (tolerance %.0e) stopped with status %s", tol, sol.status)
        return None, np.inf, -np.inf
    q = np.zeros(p.shape)
    q[xs, ys, ts] = np.maximum(np.asarray(sol.x[:n]), 0.0)
    return q, float(sol.obj_val), float(sol.obj_val_dual)


def broja_clarabel(p: np.ndarray, *, tol: float = 1e-5) -> BrojaSolution:
    """Bivariate BROJA decomposition with the exponential-cone solver Clarabel alone (no scaling), in bits.

    The conic fallback of :func:`broja_solve`, exposed for checks and benchmarks: typically exact to
    ``1e-7`` bits, but slow beyond ``k ~ 24`` (1.2 s at ``k = 16``). ``gap`` is the distance between the
    objective at Clarabel's ``Q`` rounded exactly onto the marginals and Clarabel's dual objective.

    Parameters
    ----------
    p : numpy.ndarray, shape (kx, ky, kt)
        Joint probability table of source X, source Y and target T (normalised here).
    tol : float, default 1e-5
        Certify (``converged=True``) when ``gap`` is below ``tol`` bits (as :func:`broja_solve`).

    Returns
    -------
    BrojaSolution
        ``certified_by="clarabel"``, or None with a ConvergenceWarning when Clarabel does not solve it.

    References
    ----------
    Goulart & Chen (2024), arXiv:2405.12762; Makkeh, Theis & Vicente (2018), arXiv:1802.02485.
    """
    t0 = time.perf_counter()
    p = _check_pmf(p)
    pxt, pyt = p.sum(1), p.sum(0)
    best = _Best()
    q, primal, dual = _clarabel(p)
    if q is not None:
        q = _round_feasible(q, pxt, pyt)
        best.update(q, _neg_cond_entropy(q), min(dual, primal))
    else:
        q = _round_feasible(_State(pxt, pyt).q(), pxt, pyt)
        best.update(q, _neg_cond_entropy(q), -np.inf)
    certified_by = "clarabel" if _certified(best, tol * _LN2, pxt, pyt) else None
    if certified_by is None:
        warnings.warn(f"broja_clarabel(): not certified: gap {best.gap / _LN2:.2e} bits exceeds tol={tol:.1e}",
                      ConvergenceWarning, stacklevel=2)
    return _solution(p, best, 0, time.perf_counter() - t0, certified_by)


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
