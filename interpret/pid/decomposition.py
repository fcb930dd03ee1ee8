"""``decompose()``: partial-information decomposition of I(target; sources), in bits.

The binned route (default) discretises every variable (:mod:`interpret.pid.discretize`), builds the joint
pmf with one flat-index ``np.bincount`` (:mod:`interpret.pid.estimation`) and evaluates a registered
measure (:mod:`interpret.pid.measures`); ``method="knn"`` hands over to
:func:`interpret.pid.knn.knn_decompose`.
"""
from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._compat import renamed_keywords
from .._guards import check_numeric_rows, check_resamples
from .._seeding import int_seed
from .._validation import check_choice, check_finite, check_fraction, check_int, check_same_length
from ..exceptions import ConvergenceWarning, CostWarning, EstimationWarning, ValidationError
from ._result import PIDResult
from .discretize import Binned, bin_variable, reduce_source
from .estimation import bootstrap, check_occupancy, joint_counts, shuffle_null
from .measures import cost_seconds, get_measure, measure_atoms

__all__ = ["decompose"]

logger = logging.getLogger(__name__)
_FUNC = "decompose"
BinsSpec = int | None | Mapping[str, int | None]
_RESAMPLE_TOL = 1e-4  # bits: BROJA accuracy of bootstrap / shuffle resamples
_UNCERTIFIED = "__uncertified__"  # key of the per-resample flag returned by _Atoms
_COST_LIMIT_S = 30.0  # warn before a measure expected to take longer than this (all evaluations)


def _as_sources(sources: Any) -> dict[str, np.ndarray]:
    if isinstance(sources, Mapping):
        named = {str(k): v for k, v in sources.items()}
    elif isinstance(sources, Sequence) and not isinstance(sources, (str, bytes)):
        named = {f"s{i}": v for i, v in enumerate(sources)}
    else:
        raise ValidationError(f"{_FUNC}(): 'sources' must be a dict of name -> array (or a list of arrays); "
                              f"got {type(sources).__name__}")
    if len(named) < 2:
        raise ValidationError(f"{_FUNC}(): 'sources' needs at least 2 sources for a decomposition; got "
                              f"{len(named)}; use interpret.pid.mutual_information for one source")
    bad = [k for k in named if any(c in k for c in "{},")]
    if bad:
        raise ValidationError(f"{_FUNC}(): source names must not contain braces or commas; got {bad}")
    return {k: np.asarray(v) for k, v in named.items()}


def _check_inputs(target: Any, sources: dict[str, np.ndarray]) -> np.ndarray:
    target = np.asarray(target)
    if target.ndim == 2 and target.shape[1] == 1:
        target = target[:, 0]
    if target.ndim != 1:
        raise ValidationError(f"{_FUNC}(): 'target' must be 1-D; got shape {target.shape}")
    check_same_length(_FUNC, target=target, **{f"sources['{k}']": v for k, v in sources.items()})
    for name, arr in [("target", target), *((f"sources['{k}']", v) for k, v in sources.items())]:
        if arr.ndim not in (1, 2):
            raise ValidationError(f"{_FUNC}(): '{name}' must be 1-D or 2-D; got shape {arr.shape}")
        check_finite(arr, name, _FUNC)
        flat = arr.reshape(len(arr), -1)
        if len(arr) and (flat == flat[:1]).all():
            raise ValidationError(f"{_FUNC}(): '{name}' is constant (every row equals {flat[0].tolist()}); "
                                  "a constant variable carries no information: drop it")
    return target


def _bins_for(bins: BinsSpec, name: str) -> int | None:
    if isinstance(bins, Mapping):
        return bins.get(name, 8)
    return bins


def _discretise(target: np.ndarray, sources: dict[str, np.ndarray], bins: BinsSpec, strategy: str,
                reduce: str, n_splits: int, regressor: Any, seed: int | None
                ) -> tuple[list[Binned], dict[str, Any]]:
    """Bin every source (after reducing multi-dimensional ones) and the target (last)."""
    binned, reductions = [], {}
    for name, x in sources.items():
        k = _bins_for(bins, name)
        if x.ndim == 2 and x.shape[1] > 1:
            summary, rec = reduce_source(x, target, method=reduce, n_splits=n_splits, seed=seed, name=name,
                                         n_clusters=k if k is not None else 8, regressor=regressor)
            reductions[name] = rec
            binned.append(bin_variable(summary, None if reduce == "vq" else k, strategy=strategy, name=name))
            continue
        if k is None and np.asarray(x).dtype.kind == "f" and np.unique(x).size > 64:
            raise ValidationError(f"{_FUNC}(): bins=None for '{name}' treats it as discrete, but it has "
                                  f"{np.unique(x).size} distinct float values; give a number of bins")
        binned.append(bin_variable(x.reshape(len(x)), k, strategy=strategy, name=name))
    binned.append(bin_variable(target, _bins_for(bins, "target"), strategy=strategy, name="target"))
    record = {"binning": {n: b.record for n, b in zip([*sources, "target"], binned)}, "reductions": reductions}
    return binned, record


class _Atoms:
    """Picklable map pmf -> atoms + mutual information (used by bootstrap / shuffle tasks)."""

    def __init__(self, measure: str, names: tuple[str, ...], options: dict[str, Any]):
        self.measure, self.names, self.options = measure, names, dict(options)
        if measure == "broja" and options.get("solver") == "ours":
            # resamples only need accuracy far below their sampling spread
            self.options.setdefault("tol", _RESAMPLE_TOL)

    def __call__(self, pmf: np.ndarray) -> dict[str, float]:
        # Resamples are counted, not warned one by one: a ConvergenceWarning marks the resample uncertified
        # (decompose() reports the count); other warnings of the measure are repeated per resample, so dropped.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("ignore")
            warnings.simplefilter("always", ConvergenceWarning)
            atoms, _ = measure_atoms(self.measure, pmf, self.names, **dict(self.options))
        uncertified = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        return {**atoms, "mutual_information": _mi_bits(pmf), _UNCERTIFIED: float(uncertified)}


def _warn_nan_atoms(measure: str, atoms: dict[str, float], details: dict[str, Any]) -> None:
    """Name the atoms a measure left undefined (dit returns NaN where its lattice solve cannot resolve them)."""
    nan = [label for label, value in atoms.items() if not np.isfinite(value)]
    details["nan_atoms"] = nan
    if nan:
        shown = ", ".join(nan[:10]) + (f" and {len(nan) - 10} more" if len(nan) > 10 else "")
        warnings.warn(f"{_FUNC}(): measure {measure!r} left {len(nan)} of {len(atoms)} atoms undefined (NaN): "
                      f"{shown} (all in details['nan_atoms']); use fewer sources or bins, or another measure "
                      "(e.g. 'mmi' or 'wb')", EstimationWarning, stacklevel=4)


def _warn_cost(measure: str, pmf: np.ndarray, n_evals: int) -> None:
    """CostWarning before a slow dit measure (rav, rav2; gk, sx with 3+ sources) on a large table."""
    each = cost_seconds(measure, pmf)
    if each * n_evals <= _COST_LIMIT_S:
        return
    cells, src = int((pmf > 0).sum()), int((pmf > 0).any(axis=-1).sum())
    runs = f" x {n_evals} evaluations (estimate + resamples)" if n_evals > 1 else ""
    warnings.warn(f"{_FUNC}(): measure {measure!r} with {pmf.ndim - 1} sources on {cells} occupied cells "
                  f"({src} source outcomes) is expected to take ~{each:.0f} s per evaluation{runs}; use fewer "
                  "bins, or measure='mmi', 'wb' or 'pm' (fast for any number of sources)", CostWarning,
                  stacklevel=4)


def _pop_uncertified(draws: dict[str, np.ndarray], kind: str, counts: dict[str, int], stacklevel: int) -> None:
    """Move the per-resample flags out of ``draws`` into ``counts[kind]``; warn once when any is set."""
    n = int(draws.pop(_UNCERTIFIED).sum())
    counts[kind] = n
    if n:
        size = len(next(iter(draws.values())))
        warnings.warn(f"{_FUNC}(): {n} of {size} {kind} resamples were not certified by the measure's solver "
                      "(their atoms are kept; see PIDResult.uncertified_resamples and the solver's gap)",
                      ConvergenceWarning, stacklevel=stacklevel + 1)


def _mi_bits(pmf: np.ndarray) -> float:
    pst = pmf.reshape(-1, pmf.shape[-1])
    ps, pt = pst.sum(1, keepdims=True), pst.sum(0, keepdims=True)
    mask = pst > 0
    return float((pst[mask] * np.log2(pst[mask] / (ps * pt)[mask])).sum())


def _knn(target: Any, sources: Any, measure: str | None, seed: Any, n_jobs: Any, progress: Any,
         n_boot: int, kwargs: dict[str, Any]) -> PIDResult:
    from .knn import knn_decompose

    kw = dict(kwargs)
    if measure is not None:
        kw["measure"] = measure
    if n_boot:
        kw["n_boot"] = n_boot
    return knn_decompose(target, sources, seed=seed, n_jobs=n_jobs, progress=progress, **kw)


@renamed_keywords(estimator="method")
def decompose(
    target: Any,
    sources: Mapping[str, Any] | Sequence[Any],
    *,
    measure: str | None = None,
    bins: BinsSpec = 8,
    strategy: str = "quantile",
    reduce: str = "regression",
    n_splits: int = 5,
    regressor: Any = None,
    method: str = "binned",
    bias_correction: str | None = None,
    n_shuffles: int = 20,
    n_boot: int = 0,
    ci_level: float = 0.9,
    min_samples_per_bin: float = 10.0,
    solver: str = "ours",
    seed: int | np.random.Generator | None = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    **kwargs: Any,
) -> PIDResult:
    """Partial-information decomposition of I(target; sources) into redundant, unique and synergistic atoms.

    Parameters
    ----------
    target : array_like, shape (n,)
        The quantity explained (e.g. a network's stellar-mass estimate).
    sources : dict of str -> array_like, shape (n,) or (n, d)
        Two or more sources (three or more where ``MEASURES[measure].max_sources`` allows). A source with
        ``d > 1`` columns is first reduced to one variable (``reduce``), cross-fitted.
    measure : str, default "broja"
        Key of :data:`interpret.pid.MEASURES`. ``"broja"`` with two sources uses our certified solver.
    bins : int, None or dict, default 8
        Bins per variable; ``None`` uses the values as discrete symbols; a dict maps source names and
        ``"target"`` to their own number (missing names get 8).
    strategy : {"quantile", "uniform"}, default "quantile"
    reduce : {"regression", "vq"}, default "regression"
        Reduction of multi-dimensional sources (see :func:`interpret.pid.discretize.reduce_source`).
    n_splits : int, default 5
        Cross-fitting folds of the regression reduction.
    regressor : sklearn regressor, optional
        Model of the regression reduction (default ``HistGradientBoostingRegressor``).
    method : {"binned", "knn"}, default "binned"
        ``"knn"`` calls :func:`interpret.pid.knn.knn_decompose` with ``kwargs`` (no binning).
    bias_correction : {None, "shuffle"}, default None
        ``"shuffle"`` subtracts from every atom its mean over ``n_shuffles`` target permutations.
    n_shuffles : int, default 20
    n_boot : int, default 0
        Bootstrap resamples for percentile intervals (0: none). Resampling repeats rows, which inflates
        plug-in information beyond the data's own bias, so the draws are re-centred on the plug-in value
        before the percentiles are taken (and shifted by the shuffle bias like the estimate). BROJA
        resamples (bootstrap and shuffles) are solved to a certified 1e-4 bits, far below their spread;
        resamples a solver cannot certify are kept, counted in ``PIDResult.uncertified_resamples`` and reported
        by one :class:`~interpret.exceptions.ConvergenceWarning`.
    ci_level : float, default 0.9
    min_samples_per_bin : float, default 10
        Warn (:class:`~interpret.exceptions.EstimationWarning`) below this many samples per occupied joint bin.
    solver : {"ours", "dit"}, default "ours"
        ``"dit"`` forces dit's implementation for measures that have our own fast path (``"broja"`` then
        runs dit's exponential-cone program, never dit's default path; ``"dit-cone"`` is an alias).
    seed : int, Generator or None, default None
        Seeds the cross-fitting, shuffles, bootstrap and dit's optimisers (same int, same result; None: fresh).
    n_jobs : int, optional
        Workers for shuffles/bootstrap (:mod:`interpret.parallel`).
    progress : bool, optional
        None: a bar on a terminal when the work is long; False silences it.
    **kwargs
        Options of the measure (e.g. ``tol=`` of the BROJA solver) or of the kNN route.

    Returns
    -------
    PIDResult
        Atoms in bits; ``details`` records binning, reductions, occupancy, bias correction and solver.

    Warns
    -----
    CostWarning
        Before a measure expected to take more than 30 s in all (``rav``, ``rav2``; ``gk`` and ``sx`` with 3
        sources; see :func:`interpret.pid.measures.cost_seconds`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 4000), rng.integers(0, 2, 4000)
    >>> r = decompose(a ^ b, {"a": a, "b": b}, measure="broja", bins=None)
    >>> round(r.synergy, 2), round(r.redundancy, 2)
    (1.0, 0.0)
    """
    check_numeric_rows(_FUNC, target, sources)      # empty or string inputs, named before any reshaping
    check_resamples(_FUNC, "n_boot", n_boot)         # memory of the resamples, estimated before allocating
    check_resamples(_FUNC, "n_shuffles", n_shuffles if bias_correction else 0)
    check_choice(method, "method", _FUNC, ("binned", "knn"))
    seed = int_seed(seed) if isinstance(seed, np.random.Generator) else seed
    if method == "knn":
        return _knn(target, sources, measure, seed, n_jobs, progress, n_boot, kwargs)
    measure = "broja" if measure is None else measure
    named = _as_sources(sources)
    spec = get_measure(measure, len(named))
    check_choice(strategy, "strategy", _FUNC, ("quantile", "uniform"))
    check_choice(reduce, "reduce", _FUNC, ("regression", "vq"))
    check_choice(bias_correction, "bias_correction", _FUNC, (None, "shuffle"))
    check_choice(solver, "solver", _FUNC, ("ours", "dit", "dit-cone"))
    n_boot = check_int(n_boot, "n_boot", _FUNC, minimum=0)
    n_shuffles = check_int(n_shuffles, "n_shuffles", _FUNC, minimum=2)
    ci_level = check_fraction(ci_level, "ci_level", _FUNC)
    target = _check_inputs(target, named)
    binned, details = _discretise(target, named, bins, strategy, reduce, n_splits, regressor, seed)
    return _binned_result(spec.name, tuple(named), binned, details, solver, bias_correction, n_shuffles,
                          n_boot, ci_level, min_samples_per_bin, seed, n_jobs, progress, kwargs)


def _binned_result(measure: str, names: tuple[str, ...], binned: list[Binned], details: dict[str, Any],
                   solver: str, bias_correction: str | None, n_shuffles: int, n_boot: int, ci_level: float,
                   min_per_bin: float, seed: int | None, n_jobs: int | None, progress: bool | None,
                   options: dict[str, Any]) -> PIDResult:
    codes, sizes = [b.codes for b in binned], [b.n_bins for b in binned]
    counts = joint_counts(codes, sizes)
    details["occupancy"] = check_occupancy(counts, min_per_bin=min_per_bin, stacklevel=3)
    pmf = counts / counts.sum()
    opts = {**options, "solver": "dit" if solver == "dit-cone" else solver}
    _warn_cost(measure, pmf, 1 + n_boot + (n_shuffles if bias_correction == "shuffle" else 0))
    atoms, details["solver"] = measure_atoms(measure, pmf, names, seed=seed, **opts)
    _warn_nan_atoms(measure, atoms, details)
    mi = _mi_bits(pmf)
    details["plugin_atoms"] = dict(atoms)
    func = _Atoms(measure, names, opts)
    uncertified: dict[str, int] = {}
    if bias_correction == "shuffle":
        null = shuffle_null(codes, sizes, func, n_shuffles=n_shuffles, seed=seed, n_jobs=n_jobs,
                            progress=progress)
        _pop_uncertified(null, "shuffle", uncertified, stacklevel=3)
        bias = {k: float(v.mean()) for k, v in null.items()}
        atoms = {k: v - bias[k] for k, v in atoms.items()}
        mi -= bias["mutual_information"]
        details["bias_correction"] = {"method": "shuffle", "n_shuffles": n_shuffles, "null_mean": bias,
                                      "null_std": {k: float(v.std()) for k, v in null.items()}}
    else:
        bias = {}
        details["bias_correction"] = None
    plugin = {**details["plugin_atoms"], "mutual_information": _mi_bits(pmf)}
    ci = _intervals(codes, sizes, func, n_boot, ci_level, bias, plugin, seed, n_jobs, progress, uncertified)
    return PIDResult(measure=measure, sources=names, atoms=atoms, mutual_information=mi, estimator="binned",
                     n_samples=int(counts.sum()), ci=ci, ci_level=ci_level if ci else None, details=details,
                     uncertified_resamples=uncertified)


def _intervals(codes: list[np.ndarray], sizes: list[int], func: _Atoms, n_boot: int, level: float,
               bias: dict[str, float], plugin: dict[str, float], seed: int | None, n_jobs: int | None,
               progress: bool | None, uncertified: dict[str, int]) -> dict[str, tuple[float, float]] | None:
    """Bias-corrected percentile intervals.

    A resample with replacement repeats rows, so plug-in information on it is biased upwards *more* than on the
    data; raw percentiles then sit above the estimate and can exclude it. Each atom's draws are therefore
    shifted so that their mean is the plug-in value (the bootstrap estimate of that extra bias, Efron &
    Tibshirani 1993, ch. 10), then the shuffle-null bias is subtracted as from the point estimate.
    """
    if not n_boot:
        return None
    draws = bootstrap(codes, sizes, func, n_boot=n_boot, seed=None if seed is None else seed + 1,
                      n_jobs=n_jobs, progress=progress)
    _pop_uncertified(draws, "bootstrap", uncertified, stacklevel=4)
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    out = {}
    for k, v in draws.items():
        shift = float(np.mean(v)) - plugin[k] if k in plugin else 0.0
        out[k] = tuple(float(x) - shift - bias.get(k, 0.0) for x in np.percentile(v, q))
    return out
