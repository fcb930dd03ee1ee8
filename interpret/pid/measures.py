"""The registry of PID measures: every redundancy measure of the installed dit that works here, each
registered in one place by one small :func:`register` call.

A measure maps a dense joint pmf ``p[s_1, ..., s_m, t]`` (target on the last axis) to the atoms of the
redundancy lattice, in bits. Most measures run dit's own class on a ``dit.Distribution`` built from the
dense pmf. Two have our own fast bivariate implementations: ``"broja"`` (:mod:`interpret.pid.broja`; dit's
default BROJA path is never used) and ``"ccs"`` (iterative proportional fitting for the maximum-entropy
distribution instead of dit's generic optimiser; the pointwise-coinformation step is dit's formula).

Measures flagged ``can_be_negative`` can return negative atoms by design: ``ccs``, ``pm``, ``sx``,
``ct``, ``do``, ``delta``, ``deltalambda`` (found negative on random 2 x 2 x 2 tables or known to be; any
measure's atoms can also be slightly negative from optimiser tolerance).
Measures flagged ``max_sources=2`` define redundancy (or unique information) for two sources only; dit
extends some of them to more sources heuristically, which we do not expose.

Not registered (listed in :data:`NOT_REGISTERED`):

- ``PID_GH`` (Griffith & Ho): dit 2.3 fails its own known-answer test, depending on the optimiser's random
  start. dit's ``tests/pid/test_igh.py::test_pid_gh1`` expects a redundancy of 0.1226 bits on the AND gate
  (and is marked flaky, with 5 reruns); one run for issue 18 gave 0.0887, and 8 seeds here gave 0.0957,
  0.1221, 0.1223 and 0.1226 (five times), taking 0.3-18 s each on that 2 x 2 x 2 table. A number that depends
  on the seed by more than the atoms' own size is not offered.
- ``PID_Prec`` (precision-based redundancy): needs the optional ``pypoman`` polyhedron package, which is not
  a dependency (and not installed here), so it could not be tested against dit's own AND/SUM answers.

``rav`` and ``rav2`` search every partition of the occupied source outcomes (a Bell number of them), and
``gk`` and ``sx`` grow steeply with the number of occupied cells once there are 3 sources:
:func:`cost_seconds` estimates the time of one evaluation from the table and :func:`interpret.pid.decompose`
warns (:class:`~interpret.exceptions.CostWarning`) before a run expected to exceed 30 s.

dit's optimisers draw restarts from NumPy's global random state; :func:`measure_atoms` seeds it for the
duration of the call (and restores it), so the same ``seed`` gives the same atoms.

References
----------
Williams & Beer (2010), arXiv:1004.2515 (the lattice and I_min); see each measure's ``reference``.
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._seeding import numpy_global_seed
from .._validation import check_choice
from ..exceptions import ConvergenceWarning, ValidationError
from ._result import atom_label

__all__ = ["Measure", "MEASURES", "NOT_REGISTERED", "register", "get_measure", "measure_atoms", "ccs_redundancy",
           "cost_seconds"]

logger = logging.getLogger(__name__)

FastFunc = Callable[..., tuple[dict[str, float], dict[str, Any]]]
CostFunc = Callable[[int, int, int], float]   # (sources, occupied cells, occupied source outcomes) -> seconds


@dataclasses.dataclass(frozen=True)
class Measure:
    """One PID measure.

    Attributes
    ----------
    name : str
        Key in :data:`MEASURES` (``measure=`` of :func:`interpret.pid.decompose`).
    dit_class : str
        Class in ``dit.pid`` that defines it (our fast path, if any, reproduces it).
    max_sources : int or None
        Largest number of sources supported (None: any).
    can_be_negative : bool
        Whether atoms can be negative by design.
    description, reference : str
        One line each; the reference gives an arXiv id or DOI.
    dit_kwargs : dict
        Keyword arguments passed to the dit class.
    fast : callable, optional
        Our own implementation for two sources, ``fast(pmf, names, **options) -> (atoms, details)``.
    dit_module : str, default "dit.pid"
        Module that holds ``dit_class`` (``PID_RAV2`` is not re-exported by ``dit.pid``).
    cost : callable, optional
        ``cost(n_sources, n_cells, n_source_outcomes) -> seconds`` of one evaluation, for measures that can
        take minutes (see :func:`cost_seconds`).
    """

    name: str
    dit_class: str
    max_sources: int | None
    can_be_negative: bool
    description: str
    reference: str
    dit_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    fast: FastFunc | None = None
    dit_module: str = "dit.pid"
    cost: CostFunc | None = None

    def supports(self, n_sources: int) -> bool:
        """Whether ``n_sources`` sources can be decomposed with this measure."""
        return n_sources >= 2 and (self.max_sources is None or n_sources <= self.max_sources)


MEASURES: dict[str, Measure] = {}
NOT_REGISTERED: dict[str, str] = {
    "PID_Prec": "needs the optional 'pypoman' package (not a dependency), so dit's own answers cannot be checked",
    "PID_GH": "dit 2.3 fails its own AND-gate test depending on the random start (redundancy 0.0887 or 0.0957 "
              "bits in some runs, expected 0.1226; dit marks the test flaky); 0.3-18 s on a 2 x 2 x 2 table",
}


def register(name: str, dit_class: str, *, max_sources: int | None = None, can_be_negative: bool = False,
             description: str, reference: str, fast: FastFunc | None = None, dit_module: str = "dit.pid",
             cost: CostFunc | None = None, **dit_kwargs: Any) -> Measure:
    """Add a measure to :data:`MEASURES` (names must be unique).

    Examples
    --------
    A measure needs a dit class (used for three or more sources) and may bring its own two-source
    ``fast(pmf, names) -> (atoms, details)``; here minimum mutual information written out by hand:

    >>> import numpy as np
    >>> from interpret.pid import decompose
    >>> from interpret.pid.estimation import entropy_bits as H
    >>> from interpret.pid.measures import MEASURES, register
    >>> def mmi_by_hand(pmf, names):
    ...     t = pmf.sum((0, 1))                                  # pmf axes: (source a, source b, target)
    ...     i_a = H(pmf.sum((1, 2))) + H(t) - H(pmf.sum(1))
    ...     i_b = H(pmf.sum((0, 2))) + H(t) - H(pmf.sum(0))
    ...     i_ab = H(pmf.sum(2)) + H(t) - H(pmf)
    ...     red, (a, b) = min(i_a, i_b), names
    ...     atoms = {f"{{{a}}}{{{b}}}": red, f"{{{a}}}": i_a - red, f"{{{b}}}": i_b - red,
    ...              f"{{{a},{b}}}": i_ab - i_a - i_b + red}
    ...     return atoms, {"solver": "by hand"}
    >>> m = register("mmi_by_hand", "PID_MMI", description="MMI, two sources by hand",
    ...              reference="arXiv:1411.2832", fast=mmi_by_hand)
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 2000), rng.integers(0, 2, 2000)
    >>> r = decompose(a ^ b, {"a": a, "b": b}, measure="mmi_by_hand", bins=None)
    >>> round(r.synergy, 2), r.details["solver"]
    (1.0, {'solver': 'by hand'})
    >>> del MEASURES["mmi_by_hand"]                     # registrations are global: undo the example's
    """
    if name in MEASURES:
        raise ValueError(f"PID measure {name!r} is already registered")
    MEASURES[name] = Measure(name, dit_class, max_sources, can_be_negative, description, reference,
                             dict(dit_kwargs), fast, dit_module, cost)
    return MEASURES[name]


def get_measure(name: str, n_sources: int, func: str = "decompose") -> Measure:
    """Look up ``name`` and check it supports ``n_sources``; messages list the valid choices.

    Examples
    --------
    >>> from interpret.pid.measures import get_measure
    >>> m = get_measure("broja", 2)
    >>> m.dit_class, m.max_sources, m.supports(3)
    ('PID_BROJA', 2, False)
    >>> get_measure("broja", 3)
    Traceback (most recent call last):
        ...
    interpret.exceptions.ValidationError: decompose(): measure 'broja' supports at most 2 sources; got 3; ...
    """
    check_choice(name, "measure", func, sorted(MEASURES))
    m = MEASURES[name]
    if not m.supports(n_sources):
        ok = sorted(k for k, v in MEASURES.items() if v.supports(n_sources))
        raise ValidationError(f"{func}(): measure {name!r} supports at most {m.max_sources} sources; got "
                              f"{n_sources}; measures for {n_sources} sources: {', '.join(ok)}")
    return m


# --- dit bridge -----------------------------------------------------------------------------------------
def to_dit(pmf: np.ndarray) -> Any:
    """``dit.Distribution`` over tuple outcomes from a dense pmf (nonzero cells only).

    Symbols are decimal strings: some dit measures (e.g. ``PID_Proj``) fail on integer symbols.
    """
    import dit

    idx = np.flatnonzero(pmf)
    outcomes = list(zip(*(np.char.mod("%d", c).tolist() for c in np.unravel_index(idx, pmf.shape))))
    return dit.Distribution(outcomes, pmf.ravel()[idx], base="linear")


def _dit_atoms(measure: Measure, pmf: np.ndarray, names: tuple[str, ...], seed: int | None = None,
               **options: Any) -> dict[str, float]:
    cls = getattr(importlib.import_module(measure.dit_module), measure.dit_class)
    m = pmf.ndim - 1
    with numpy_global_seed(seed):
        pid = cls(to_dit(pmf), [[i] for i in range(m)], [m], **{**measure.dit_kwargs, **options})
    return {atom_label(node, names): float(pid.get_pi(node)) for node in _ordered_lattice(pid)}


def _ordered_lattice(pid: Any) -> list:
    """Nodes bottom (redundancy) to top (synergy): more parts first, then smaller parts, then source order."""
    return sorted(pid._lattice, key=lambda node: (-len(node), tuple(len(p) for p in node), node))


def measure_atoms(name: str, pmf: np.ndarray, names: tuple[str, ...], *, seed: int | None = None, **options: Any
                  ) -> tuple[dict[str, float], dict[str, Any]]:
    """Atoms (bits, lattice order bottom -> top) of the pmf ``p[s_1, ..., s_m, t]`` under measure ``name``.

    ``solver="ours"`` (default) uses our fast path where one exists, ``"dit"`` forces dit's class;
    ``seed`` seeds dit's optimisers; other options go to the measure.

    Returns
    -------
    atoms : dict of str -> float
    details : dict
        Solver diagnostics (our solvers) or ``{"solver": "dit"}``.

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.pid.measures import measure_atoms
    >>> pmf = np.zeros((2, 2, 2))
    >>> for a in (0, 1):
    ...     for b in (0, 1):
    ...         pmf[a, b, a ^ b] = 0.25                      # target = a XOR b: all synergy
    >>> atoms, details = measure_atoms("broja", pmf, ("a", "b"))
    >>> {k: round(v, 3) for k, v in atoms.items()}
    {'{a}{b}': 0.0, '{a}': 0.0, '{b}': 0.0, '{a,b}': 1.0}
    """
    measure = get_measure(name, pmf.ndim - 1)
    solver = options.pop("solver", "ours")
    if measure.fast is not None and pmf.ndim == 3 and solver == "ours":
        return measure.fast(pmf, names, **options)
    return _dit_atoms(measure, pmf, names, seed=seed, **options), {"solver": f"dit.pid.{measure.dit_class}"}


# --- our fast bivariate paths ---------------------------------------------------------------------------
def _mi_bits(pab: np.ndarray) -> float:
    pa, pb = pab.sum(1, keepdims=True), pab.sum(0, keepdims=True)
    mask = pab > 0
    return float((pab[mask] * np.log2(pab[mask] / (pa * pb)[mask])).sum())


def _bivariate_atoms(pmf: np.ndarray, names: tuple[str, ...], redundancy: float) -> dict[str, float]:
    """Atoms of a two-source lattice from the redundancy (Möbius inversion)."""
    i_x, i_y = _mi_bits(pmf.sum(1)), _mi_bits(pmf.sum(0))
    i_xy = _mi_bits(pmf.reshape(-1, pmf.shape[2]))
    a, b = names
    redundancy = float(redundancy)
    return {f"{{{a}}}{{{b}}}": redundancy, f"{{{a}}}": i_x - redundancy, f"{{{b}}}": i_y - redundancy,
            f"{{{a},{b}}}": i_xy - i_x - i_y + redundancy}


def _broja_fast(pmf: np.ndarray, names: tuple[str, ...], **options: Any) -> tuple[dict[str, float], dict]:
    from .broja import broja_solve

    sol = broja_solve(pmf, **options)
    details = {"solver": "interpret.pid.broja", "gap_bits": sol.gap, "iterations": sol.iterations,
               "seconds": sol.seconds, "converged": sol.converged, "certified_by": sol.certified_by,
               "marginal_error": sol.marginal_error}
    return _bivariate_atoms(pmf, names, sol.redundancy), details


_IPF_PROBE = 500  # plain IPF sweeps before the support of the maximum-entropy distribution is computed
_IPF_WARN = 1e-10  # marginal error above which ccs warns that its maximum-entropy step did not converge


def _maxent_pairwise(pmf: np.ndarray, tol: float = 1e-12, max_iter: int = 5_000) -> tuple[np.ndarray, int, float]:
    """Maximum-entropy q(x, y, t) with the pairwise marginals of ``pmf`` (iterative proportional fitting).

    Returns q, the sweeps used and the largest marginal violation left. IPF converges linearly when the
    maximum-entropy distribution has every cell the marginals allow, but only sublinearly when they force
    further zeros (dit's ``gband``: 8.3e-6 after 5,000 sweeps, uniques 0.499975 instead of 0.5). So when
    ``_IPF_PROBE`` sweeps do not reach ``tol``, the support is found by one linear program
    (:func:`_maxent_support`) and IPF restarts on it, where it converges linearly.
    """
    q, it, err = _ipf(pmf, np.full(pmf.shape, 1.0 / pmf.size), tol, min(max_iter, _IPF_PROBE))
    if err >= tol and it < max_iter:
        keep = _maxent_support(pmf)
        q, more, err = _ipf(pmf, keep / keep.sum(), tol, max_iter - it)
        it += more
    return q, it, float(err)


def _ipf(pmf: np.ndarray, q: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, int, float]:
    pxy, pxt, pyt = pmf.sum(2), pmf.sum(1), pmf.sum(0)
    err, it = np.inf, 0
    while it < max_iter:
        it += 1
        q *= _ratio(pxy, q.sum(2))[:, :, None]
        q *= _ratio(pxt, q.sum(1))[:, None, :]
        q *= _ratio(pyt, q.sum(0))[None, :, :]
        err = max(np.abs(q.sum(2) - pxy).max(), np.abs(q.sum(1) - pxt).max())
        if err < tol:
            break
    return q, it, float(err)


def _maxent_support(pmf: np.ndarray) -> np.ndarray:
    """Cells that are positive in some distribution with the pairwise marginals of ``pmf`` (boolean mask).

    The maximum-entropy distribution is positive exactly there. One LP on the homogenised cone
    ``{(y, λ) : A y = λ b, y >= 0}``: maximise ``sum_c t_c`` with ``0 <= t_c <= min(y_c, 1)``; scaling a
    relative-interior point up makes every cell that can be positive reach ``t_c = 1``.
    """
    import scipy.sparse as sp
    from scipy.optimize import linprog

    kx, ky, kt = pmf.shape
    pxy, pxt, pyt = pmf.sum(2), pmf.sum(1), pmf.sum(0)
    xs, ys, ts = np.nonzero((pxy[:, :, None] > 0) & (pxt[:, None, :] > 0) & (pyt[None, :, :] > 0))
    n, cells = xs.size, np.arange(xs.size)
    blocks = []
    for keys, target in ((xs * ky + ys, pxy), (xs * kt + ts, pxt), (ys * kt + ts, pyt)):
        rows, inv = np.unique(keys, return_inverse=True)
        a = sp.csr_matrix((np.ones(n), (inv, cells)), shape=(rows.size, n))
        blocks.append(sp.hstack([a, sp.csr_matrix((rows.size, n)), -target.ravel()[rows][:, None]]))
    a_eq = sp.vstack(blocks).tocsr()
    a_ub = sp.hstack([-sp.eye(n), sp.eye(n), sp.csr_matrix((n, 1))]).tocsr()
    res = linprog(np.r_[np.zeros(n), -np.ones(n), 0.0], A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq,
                  b_eq=np.zeros(a_eq.shape[0]), bounds=[(0, None)] * n + [(0, 1)] * n + [(0, None)], method="highs")
    keep = np.zeros(pmf.shape, dtype=bool)
    keep[xs, ys, ts] = res.x[n:2 * n] > 0.5 if res.status == 0 else True
    return keep


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _sign(v: np.ndarray) -> np.ndarray:
    """Sign with dit's tolerance (values close to zero count as zero)."""
    return np.sign(np.where(np.isclose(v, 0.0), 0.0, v))


def ccs_redundancy(pmf: np.ndarray) -> tuple[float, dict[str, Any]]:
    """Ince's I_ccs redundancy of two sources (bits) and IPF diagnostics.

    Same definition as ``dit.pid.PID_CCS`` (average pointwise co-information under the maximum-entropy
    distribution with the source-source and source-target marginals, over events whose co-information
    agrees in sign with the pointwise source-target and joint informations), with the maximum-entropy
    step done by iterative proportional fitting on the dense table.
    """
    q, iters, err = _maxent_pairwise(pmf)
    if err > _IPF_WARN:
        warnings.warn(f"ccs: the maximum-entropy step stopped after {iters} IPF sweeps with a marginal error of "
                      f"{err:.1e} (tolerance {_IPF_WARN:.0e}); the atoms are approximate", ConvergenceWarning,
                      stacklevel=2)
    qx, qy, qt = q.sum((1, 2)), q.sum((0, 2)), q.sum((0, 1))
    qxy, qxt, qyt = q.sum(2), q.sum(1), q.sum(0)
    e = q > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi_x = np.log2(qxt[:, None, :] / (qx[:, None, None] * qt[None, None, :]))
        pmi_y = np.log2(qyt[None, :, :] / (qy[None, :, None] * qt[None, None, :]))
        joint = np.log2(q / (qxy[:, :, None] * qt[None, None, :]))
        coinfo = np.log2(qxy[:, :, None] * qxt[:, None, :] * qyt[None, :, :]
                         / (qx[:, None, None] * qy[None, :, None] * qt[None, None, :] * q))
    s = _sign(coinfo)
    keep = e & (s == _sign(pmi_x)) & (s == _sign(pmi_y)) & (s == _sign(joint))
    red = float((q[keep] * np.where(np.isclose(coinfo[keep], 0.0), 0.0, coinfo[keep])).sum())
    return red, {"ipf_iterations": iters, "ipf_marginal_error": err}


def _ccs_fast(pmf: np.ndarray, names: tuple[str, ...], **options: Any) -> tuple[dict[str, float], dict]:
    red, diag = ccs_redundancy(pmf)
    return _bivariate_atoms(pmf, names, red), {"solver": "interpret.pid.measures.ccs_redundancy", **diag}


# --- cost of the slow dit measures ----------------------------------------------------------------------
# One evaluation, in seconds, fitted on random sparse tables (dit 2.3, 2 cores; import time excluded):
# sx 3 sources: 2.6 s at 16 cells, 11 s at 32; gk 3 sources: 0.2 s at 13 source outcomes, 10-20 s at 17,
# > 300 s on a full 3 x 3 x 3 x 3 table; rav 2 sources: 0.9 s at 5 source outcomes, 4.3 s at 6; 3 sources:
# 7.1 s at 5. Order-of-magnitude estimates, for a warning only.
_LATTICE_NODES = {2: 4, 3: 18, 4: 166}


def _bell(n: int) -> float:
    """Number of partitions of an ``n``-set (Bell number; inf beyond 100)."""
    if n > 100:
        return math.inf
    row = [1]
    for _ in range(n):
        nxt = [row[-1]]
        for v in row:
            nxt.append(nxt[-1] + v)
        row = nxt
    return float(row[0])


def _sx_cost(m: int, cells: int, src: int) -> float:
    return 6e-4 * cells**2 * _LATTICE_NODES.get(m, 1e4)


def _gk_cost(m: int, cells: int, src: int) -> float:
    return 0.0 if m < 3 else 0.2 * 2.7 ** max(src - 13, 0) * (1.0 if m == 3 else 10.0)


def _rav_cost(m: int, cells: int, src: int) -> float:
    return 0.02 * 7.0 ** (m - 2) * _bell(src)


def cost_seconds(name: str, pmf: np.ndarray) -> float:
    """Rough wall time (s) of one evaluation of measure ``name`` on the pmf ``p[s_1, ..., s_m, t]``.

    0 for measures without a cost model (fast ones). Used by :func:`interpret.pid.decompose` to warn before
    long runs; an order-of-magnitude estimate.

    Examples
    --------
    >>> import numpy as np
    >>> cost_seconds("rav", np.full((3, 3, 3), 1 / 27)) > 60       # 9 source outcomes: 21,147 partitions
    True
    >>> cost_seconds("mmi", np.full((3, 3, 3), 1 / 27))
    0.0
    """
    measure = MEASURES[name]
    if measure.cost is None:
        return 0.0
    occupied = pmf > 0
    src = int(occupied.any(axis=-1).sum())
    return float(measure.cost(pmf.ndim - 1, int(occupied.sum()), src))


# --- the registry ----------------------------------------------------------------------------------------
register("wb", "PID_WB", description="Williams & Beer I_min: minimum specific information",
         reference="Williams & Beer 2010, arXiv:1004.2515")
register("mmi", "PID_MMI", description="Minimum mutual information (equals BROJA for Gaussians, 1-D target)",
         reference="Barrett 2015, arXiv:1411.2832")
register("broja", "PID_BROJA", max_sources=2, fast=_broja_fast, method="cone",
         description="BROJA/Griffith unique information; our certified scaling solver",
         reference="Bertschinger et al. 2014, arXiv:1311.2852")
register("broja_dit", "PID_BROJA", max_sources=2, method="cone",
         description="BROJA through dit's exponential-cone program (ECOS), for comparison",
         reference="Makkeh, Theis & Vicente 2018, arXiv:1802.02485")
register("ccs", "PID_CCS", can_be_negative=True, fast=_ccs_fast,
         description="Common change in surprisal (pointwise co-information)",
         reference="Ince 2017, arXiv:1602.05063")
register("gk", "PID_GK", cost=_gk_cost, description="Gács-Körner common information of the sources (I_wedge)",
         reference="Griffith et al. 2014, arXiv:1310.1538")
register("pm", "PID_PM", can_be_negative=True, description="Pointwise informative/misinformative (I_pm)",
         reference="Finn & Lizier 2018, arXiv:1801.09010")
register("sx", "PID_SX", can_be_negative=True, cost=_sx_cost, description="Shared exclusions (I_sx)",
         reference="Makkeh, Gutknecht & Wibral 2021, arXiv:2002.03356")
register("rav", "PID_RAV", cost=_rav_cost, description="Redundancy as auxiliary variable (I_RAV)",
         reference="dit.pid.PID_RAV (maximum co-information auxiliary variable)")
register("rav2", "PID_RAV2", dit_module="dit.pid.measures.irav", cost=_rav_cost,
         description="Redundancy as auxiliary variable, maximising the CorEx O-information (I_RAV2)",
         reference="dit.pid.measures.irav.PID_RAV2 (auxiliary variable of maximum O-information)")
register("rdr", "PID_RDR", description="Reachable decision regions (I_rdr)",
         reference="Mages & Rohner 2024, arXiv:2407.04415")
register("dep", "PID_dep", max_sources=2, description="Dependency-constraint unique information (I_dep)",
         reference="James, Emenheiser & Crutchfield 2018, arXiv:1709.06653")
register("ra", "PID_RA", max_sources=2, description="Reproducibility-analysis unique information after Zwick (I_RA)",
         reference="dit.pid.PID_RA (after Zwick's reconstructability analysis)")
register("mes", "PID_MES", max_sources=2, description="Maximum-entropy redundancy (I_ME*)",
         reference="dit.pid.PID_MES")
register("rr", "PID_RR", max_sources=2, description="Rescaled redundancy (I_rr)",
         reference="dit.pid.PID_RR (rescaled MMI, as in Goodwell & Kumar 2017)")
register("proj", "PID_Proj", max_sources=2, description="Projected information (I_proj)",
         reference="Harder, Salge & Polani 2013, doi:10.1103/PhysRevE.87.012130")
register("ct", "PID_CT", max_sources=2, can_be_negative=True, description="Causal-tensor redundancy of Sigtermans (I_triangle)",
         reference="dit.pid.PID_CT (Sigtermans 2020, causal tensors)")
register("ig", "PID_IG", max_sources=2, description="Information-geometric redundancy (I_IG)",
         reference="Niu & Quinn 2019, ISIT (information geometry)")
register("ipid", "PID_IPID", max_sources=2, description="Interpretable PID via the delta framework (I_IPID)",
         reference="Banerjee et al. 2023, arXiv:2302.11873")
register("delta", "PID_Delta", max_sources=2, can_be_negative=True,
         description="Delta-PID (I_delta)", reference="Banerjee et al. 2023, arXiv:2302.11873")
register("deltalambda", "PID_DeltaLambda", max_sources=2, can_be_negative=True,
         description="Delta-lambda PID (I_delta_lambda)", reference="Banerjee et al. 2023, arXiv:2302.11873")
register("deg", "PID_Deg", max_sources=2, description="Degradation redundancy (I_d_cap)",
         reference="Kolchinsky 2022, Entropy 24, 403; arXiv:1908.08642")
register("mc", "PID_MC", max_sources=2, description="More-capable redundancy (I_mc_cap)",
         reference="Gomes & Figueiredo 2023, Entropy 25, 975")
register("do", "PID_Do", max_sources=2, can_be_negative=True, description="Interventional (do-calculus) redundancy (I_do)",
         reference="Lyu, Clark & Raviv 2024, arXiv:2402.03554")
register("skar_nw", "PID_SKAR_nw", max_sources=2, description="Secret-key-agreement rate, no communication",
         reference="James, Emenheiser & Crutchfield 2019, unique information and secret key agreement")
register("skar_owa", "PID_SKAR_owa", max_sources=2, description="Secret-key-agreement rate, one-way (source a)",
         reference="James, Emenheiser & Crutchfield 2019, unique information and secret key agreement")
register("skar_owb", "PID_SKAR_owb", max_sources=2, description="Secret-key-agreement rate, one-way (source b)",
         reference="James, Emenheiser & Crutchfield 2019, unique information and secret key agreement")
register("skar_tw", "PID_SKAR_tw", max_sources=2, description="Secret-key-agreement rate, two-way",
         reference="James, Emenheiser & Crutchfield 2019, unique information and secret key agreement")
