"""``decompose()``: partial-information decomposition of I(target; sources), in bits.

The binned route (default) discretises every variable (:mod:`interpret.pid.discretize`), builds the joint
pmf with one flat-index ``np.bincount`` (:mod:`interpret.pid.estimation`) and evaluates a registered
measure (:mod:`interpret.pid.measures`); ``method="knn"`` hands over to
:func:`interpret.pid.knn.knn_decompose`. Options that travel together are small objects
(:mod:`interpret.pid.options`): ``Binning``, ``Reduction``, ``Resampling``, ``KNN``.
"""
from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._compat import renamed_keywords
from .._guards import check_numeric_rows, check_resamples
from .._seeding import int_seed
from .._validation import check_choice, check_finite, check_same_length
from ..exceptions import ConvergenceWarning, CostWarning, EstimationWarning, ValidationError
from ._result import PIDResult
from .discretize import Binned, bin_variable, reduce_source
from .estimation import bootstrap, check_occupancy, joint_counts, shuffle_null
from .measures import cost_seconds, get_measure, measure_atoms
from .options import KNN, Binning, BinsSpec, Reduction, Resampling, legacy_keywords

__all__ = ["decompose"]

logger = logging.getLogger(__name__)
_FUNC = "decompose"
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
                reduction: Reduction, seed: int | None) -> tuple[list[Binned], dict[str, Any]]:
    """Bin every source (after reducing multi-dimensional ones) and the target (last)."""
    binned, reductions = [], {}
    for name, x in sources.items():
        k = _bins_for(bins, name)
        if x.ndim == 2 and x.shape[1] > 1:
            reduce = reduction.method
            summary, rec = reduce_source(x, target, method=reduce, n_splits=reduction.n_splits, seed=seed,
                                         name=name, n_clusters=k if k is not None else 8,
                                         regressor=reduction.regressor)
            reductions[name] = rec
            if reduce == "regression" and k is not None and np.unique(summary).size < k:
                warnings.warn(f"{_FUNC}(): the cross-fitted summary of source '{name}' takes only "
                              f"{np.unique(summary).size} distinct values for {k} bins (its regressor could hardly "
                              f"split {len(summary)} rows in {reduction.n_splits} folds), so I(target; {name}) is "
                              "capped far below the source's information: pass more rows, fewer n_splits, or "
                              "Reduction(regressor=...) with a model that suits them", EstimationWarning,
                              stacklevel=4)
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


def _knn_options(method: str | KNN, options: dict[str, Any]) -> KNN:
    """The kNN route's options: ``method`` (a KNN or "knn") updated by any of its fields given as keywords."""
    spec = method if isinstance(method, KNN) else KNN()
    fields = {f.name for f in dataclasses.fields(KNN)}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise ValidationError(f"{_FUNC}(): {unknown} are not options of the kNN route; valid ones are "
                              f"{sorted(fields)} (or method=KNN(...))")
    return dataclasses.replace(spec, **options) if options else spec


def _knn(target: Any, sources: Any, measure: str | None, spec: KNN, resampling: Resampling, seed: Any,
         n_jobs: Any, progress: Any) -> PIDResult:
    from .knn import knn_decompose

    if resampling.bias_correction is not None:
        raise ValidationError(f"{_FUNC}(): bias_correction={resampling.bias_correction!r} applies to the binned "
                              "route; the kNN estimate has no plug-in bias to shuffle away - drop it")
    return knn_decompose(target, sources, measure="mmi" if measure is None else measure, k=spec.k,
                         n_boot=resampling.n_boot, ci_level=resampling.ci_level, subsample=spec.subsample,
                         jitter=spec.jitter, scaling=spec.scaling, seed=seed, n_jobs=n_jobs, progress=progress)


@legacy_keywords
@renamed_keywords(estimator="method")
def decompose(
    target: Any,
    sources: Mapping[str, Any] | Sequence[Any],
    *,
    method: str | KNN = "binned",
    measure: str | None = None,
    bins: BinsSpec | Binning = 8,
    reduce: str | Reduction = "regression",
    resampling: Resampling | None = None,
    seed: int | np.random.Generator | None = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    **options: Any,
) -> PIDResult:
    """Partial-information decomposition of I(target; sources) into redundant, unique and synergistic atoms.

    Which route to use, and what their differences mean: ``docs/pid_guide.md``.

    Parameters
    ----------
    target : array_like, shape (n,)
        The quantity explained (e.g. a network's stellar-mass estimate).
    sources : dict of str -> array_like, shape (n,) or (n, d)
        Two or more sources (three or more where ``MEASURES[measure].max_sources`` allows). A source with
        ``d > 1`` columns is reduced to one variable on the binned route (``reduce``), cross-fitted; the kNN
        route uses all its columns.
    method : {"binned", "knn"} or KNN, default "binned"
        ``"binned"``: discretise, then a registered measure on the joint pmf. ``"knn"`` or ``KNN(k=...)``:
        KSG mutual information of every source set and MMI atoms (:func:`interpret.pid.knn.knn_decompose`),
        no binning.
    measure : str, default "broja" (binned), "mmi" (kNN)
        Key of :data:`interpret.pid.MEASURES`. ``"broja"`` with two sources uses our certified solver.
    bins : int, None, dict or Binning, default 8
        Binned route: bins per variable (``None``: the values are discrete symbols; a dict maps source names
        and ``"target"`` to their own number, missing names get 8), or a :class:`~interpret.pid.Binning`
        that also sets the bin strategy and the occupancy warning threshold.
    reduce : {"regression", "vq"} or Reduction, default "regression"
        Binned route: reduction of multi-column sources (:class:`~interpret.pid.Reduction`, see
        :func:`interpret.pid.discretize.reduce_source`).
    resampling : Resampling, optional
        Intervals and bias correction (:class:`~interpret.pid.Resampling`; default: none). Binned route:
        ``n_boot`` bootstrap resamples re-centred on the plug-in value (resampling repeats rows, which inflates
        plug-in information beyond the data's own bias), shifted by the shuffle bias like the estimate;
        BROJA resamples are solved to a certified 1e-4 bits, and resamples a solver cannot certify are kept,
        counted in ``PIDResult.uncertified_resamples`` and reported by one
        :class:`~interpret.exceptions.ConvergenceWarning`. kNN route: ``n_boot`` half-sample replicates;
        failed (non-finite) ones are dropped, counted in ``uncertified_resamples`` and reported by one
        :class:`~interpret.exceptions.EstimationWarning`.
    seed : int, Generator or None, default None
        Seeds the cross-fitting, shuffles, bootstrap, jitter and dit's optimisers (same int, same result;
        None: fresh).
    n_jobs : int, optional
        Workers for the resamples (:mod:`interpret.parallel`).
    progress : bool, optional
        None: a bar on a terminal when the work is long; False silences it.
    **options
        Options of the measure (e.g. ``solver="dit"`` to force dit's implementation where we have our own
        fast path, ``tol=`` of the BROJA solver), or on the kNN route the fields of :class:`KNN`
        (``k=``, ``scaling=``...).

    Returns
    -------
    PIDResult
        Atoms in bits; ``ci`` and ``ci_level`` with ``n_boot > 0`` (same keys on both routes); ``details``
        records binning, reductions, occupancy, bias correction and solver (binned) or the information of
        every source set (kNN).

    Warns
    -----
    CostWarning
        Before a measure expected to take more than 30 s in all (``rav``, ``rav2``; ``gk`` and ``sx`` with 3
        sources; see :func:`interpret.pid.measures.cost_seconds`).
    FutureWarning
        For the keywords the option objects replace (``strategy``, ``min_samples_per_bin``, ``n_splits``,
        ``regressor``, ``n_boot``, ``ci_level``, ``bias_correction``, ``n_shuffles``), removed in 0.4.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 4000), rng.integers(0, 2, 4000)
    >>> r = decompose(a ^ b, {"a": a, "b": b}, measure="broja", bins=None)
    >>> round(r.synergy, 2), round(r.redundancy, 2)
    (1.0, 0.0)
    >>> x, y = rng.normal(size=(2, 3000))
    >>> k = decompose(x + y, {"x": x, "y": y}, method=KNN(k=4), resampling=Resampling(n_boot=8), seed=0,
    ...               progress=False)
    >>> sorted(k.ci) == sorted([*k.atoms, "mutual_information"])
    True
    """
    check_numeric_rows(_FUNC, target, sources)      # empty or string inputs, named before any reshaping
    resampling = Resampling() if resampling is None else resampling
    if not isinstance(resampling, Resampling):
        raise ValidationError(f"{_FUNC}(): 'resampling' must be a Resampling(n_boot, ci_level, bias_correction, "
                              f"n_shuffles); got {type(resampling).__name__}")
    check_resamples(_FUNC, "n_boot", resampling.n_boot)   # memory of the resamples, before allocating
    check_resamples(_FUNC, "n_shuffles", resampling.n_shuffles if resampling.bias_correction else 0)
    if not isinstance(method, KNN):
        check_choice(method, "method", _FUNC, ("binned", "knn"))
    seed = int_seed(seed) if isinstance(seed, np.random.Generator) else seed
    if method != "binned":
        return _knn(target, sources, measure, _knn_options(method, options), resampling, seed, n_jobs, progress)
    measure = "broja" if measure is None else measure
    named = _as_sources(sources)
    spec = get_measure(measure, len(named))
    binning, reduction = Binning.of(bins), Reduction.of(reduce)
    solver = options.pop("solver", "ours")
    check_choice(solver, "solver", _FUNC, ("ours", "dit", "dit-cone"))
    target = _check_inputs(target, named)
    binned, details = _discretise(target, named, binning.bins, binning.strategy, reduction, seed)
    return _binned_result(spec.name, tuple(named), binned, details, solver, resampling,
                          binning.min_samples_per_bin, seed, n_jobs, progress, options)


def _binned_result(measure: str, names: tuple[str, ...], binned: list[Binned], details: dict[str, Any],
                   solver: str, resampling: Resampling, min_per_bin: float, seed: int | None, n_jobs: int | None,
                   progress: bool | None, options: dict[str, Any]) -> PIDResult:
    bias_correction, n_shuffles = resampling.bias_correction, resampling.n_shuffles
    n_boot, ci_level = resampling.n_boot, resampling.ci_level
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
