"""Small option objects for :func:`interpret.pid.decompose`.

Options that travel together are one object instead of several keywords (as ``Fill``, ``RetrainSpec`` and
``Batching`` are for band ablation):

* :class:`Binning` - bins per variable, how their edges are placed and the occupancy warning threshold
  (``bins=8`` is shorthand for ``Binning(8)``);
* :class:`Reduction` - how a multi-column source is reduced to one variable before binning
  (``reduce="vq"`` is shorthand for ``Reduction("vq")``);
* :class:`Resampling` - bootstrap intervals and the shuffle-null bias correction (both routes take
  ``n_boot`` and ``ci_level``; the kNN route's ``n_boot`` counts half-sample replicates);
* :class:`KNN` - the options of the kNN route (``method=KNN(k=5)``; ``method="knn"`` is ``KNN()``).

The keywords they replace (``strategy``, ``min_samples_per_bin``, ``n_splits``, ``regressor``, ``n_boot``,
``ci_level``, ``bias_correction``, ``n_shuffles``) still work until 0.4, with a ``FutureWarning``.

Examples
--------
>>> import numpy as np
>>> from interpret.pid import Binning, Resampling, decompose
>>> rng = np.random.default_rng(0)
>>> a, b = rng.integers(0, 2, 2000), rng.integers(0, 2, 2000)
>>> r = decompose(a ^ b, {"a": a, "b": b}, measure="mmi", bins=Binning(None),
...               resampling=Resampling(n_boot=10, ci_level=0.8), seed=0, progress=False)
>>> round(r.synergy, 1), r.ci_level
(1.0, 0.8)
"""
from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._compat import REMOVED_IN
from .._validation import check_choice, check_fraction, check_int
from ..exceptions import ValidationError

__all__ = ["Binning", "Reduction", "Resampling", "KNN"]

F = TypeVar("F", bound=Callable[..., Any])
BinsSpec = int | None | Mapping[str, int | None]


@dataclasses.dataclass(frozen=True)
class Binning:
    """How every variable is discretised on the binned route.

    Parameters
    ----------
    bins : int, None or dict, default 8
        Bins per variable; ``None`` uses the values as discrete symbols; a dict maps source names and
        ``"target"`` to their own number (missing names get 8).
    strategy : {"quantile", "uniform"}, default "quantile"
        Equal-count or equal-width bins.
    min_samples_per_bin : float, default 10
        Warn (:class:`~interpret.exceptions.EstimationWarning`) below this many samples per occupied joint bin.

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.pid import Binning, decompose
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(2, 2000))
    >>> r = decompose(x + y, {"x": x, "y": y}, bins=Binning(4, strategy="uniform"), progress=False)
    >>> r.details["binning"]["target"]["n_bins"], r.details["binning"]["x"]["strategy"]
    (4, 'uniform')
    """

    bins: BinsSpec = 8
    strategy: str = "quantile"
    min_samples_per_bin: float = 10.0

    def __post_init__(self) -> None:
        check_choice(self.strategy, "strategy", "Binning", ("quantile", "uniform"))
        if isinstance(self.bins, bool) or not (self.bins is None or isinstance(self.bins, (int, Mapping))):
            raise ValidationError(f"Binning(): 'bins' must be an int, None or a dict of name -> int; "
                                  f"got {self.bins!r}")
        if not float(self.min_samples_per_bin) >= 0:
            raise ValidationError(f"Binning(): 'min_samples_per_bin' must be >= 0; got {self.min_samples_per_bin}")

    @classmethod
    def of(cls, value: Any) -> Binning:
        """A Binning from ``value``: a Binning, or the ``bins`` of one (int, None or dict)."""
        return value if isinstance(value, Binning) else cls(value)


@dataclasses.dataclass(frozen=True)
class Reduction:
    """How a source with several columns is reduced to one variable before binning (binned route).

    Parameters
    ----------
    method : {"regression", "vq"}, default "regression"
        ``"regression"``: cross-fitted prediction of the target from the columns; ``"vq"``: k-means codes
        (see :func:`interpret.pid.discretize.reduce_source`).
    n_splits : int, default 5
        Cross-fitting folds of the regression reduction.
    regressor : sklearn regressor, optional
        Model of the regression reduction (default ``HistGradientBoostingRegressor``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from interpret.pid import Reduction, decompose
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(600, 3)), rng.normal(size=600)
    >>> red = Reduction("regression", n_splits=3, regressor=LinearRegression())
    >>> r = decompose(x[:, 0] + y, {"x": x, "y": y}, bins=4, reduce=red, seed=0, progress=False)
    >>> r.details["reductions"]["x"]["method"], r.details["reductions"]["x"]["dim"]
    ('regression', 3)
    """

    method: str = "regression"
    n_splits: int = 5
    regressor: Any = None

    def __post_init__(self) -> None:
        check_choice(self.method, "method", "Reduction", ("regression", "vq"))
        check_int(self.n_splits, "n_splits", "Reduction", minimum=2)

    @classmethod
    def of(cls, value: Any) -> Reduction:
        """A Reduction from ``value``: a Reduction or a method name."""
        return value if isinstance(value, Reduction) else cls(value)


@dataclasses.dataclass(frozen=True)
class Resampling:
    """Confidence intervals and bias correction by resampling.

    Parameters
    ----------
    n_boot : int, default 0
        Resamples for intervals (0: none). Binned route: bootstrap resamples with replacement, re-centred
        on the plug-in value; kNN route: half-samples without replacement (duplicated rows would be
        zero-distance neighbours), rescaled to the full sample (see :mod:`interpret.pid.knn`).
    ci_level : float, default 0.9
        Confidence level of the intervals.
    bias_correction : {None, "shuffle"}, default None
        Binned route: subtract from every atom its mean over ``n_shuffles`` target permutations.
    n_shuffles : int, default 20
        Permutations of the shuffle null.

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.pid import Resampling, decompose
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 2, 2000), rng.integers(0, 2, 2000)
    >>> r = decompose(a ^ b, {"a": a, "b": b}, bins=None, seed=0, progress=False,
    ...               resampling=Resampling(n_boot=20, ci_level=0.8, bias_correction="shuffle", n_shuffles=5))
    >>> lo, hi = r.ci["{a,b}"]
    >>> round(r.synergy, 1), lo <= r.synergy <= hi, r.details["bias_correction"]["n_shuffles"]
    (1.0, True, 5)
    """

    n_boot: int = 0
    ci_level: float = 0.9
    bias_correction: str | None = None
    n_shuffles: int = 20

    def __post_init__(self) -> None:
        check_int(self.n_boot, "n_boot", "Resampling", minimum=0)
        check_fraction(self.ci_level, "ci_level", "Resampling")
        check_choice(self.bias_correction, "bias_correction", "Resampling", (None, "shuffle"))
        check_int(self.n_shuffles, "n_shuffles", "Resampling", minimum=2)


@dataclasses.dataclass(frozen=True)
class KNN:
    """The kNN (KSG) route of :func:`interpret.pid.decompose`: no binning, MMI atoms.

    Parameters
    ----------
    k : int, default 3
        Neighbours in the joint space.
    subsample : float, default 0.5
        Fraction of rows per half-sample replicate (intervals).
    jitter : float, default 1e-10
        Tie-breaking noise, in standard deviations of each column.
    scaling : {"standardize", "whiten"}, default "standardize"
        Per-variable preprocessing (see :mod:`interpret.pid.knn`).

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.pid import KNN, decompose
    >>> rng = np.random.default_rng(0)
    >>> x, y, noise = rng.normal(size=(3, 1000))
    >>> r = decompose(x + y + noise, {"x": x, "y": y}, method=KNN(k=5), seed=0, progress=False)
    >>> r.estimator, r.details["k"], r.synergy > 0
    ('knn', 5, True)
    """

    k: int = 3
    subsample: float = 0.5
    jitter: float = 1e-10
    scaling: str = "standardize"

    def __post_init__(self) -> None:
        check_int(self.k, "k", "KNN", minimum=1)
        check_fraction(self.subsample, "subsample", "KNN")
        check_choice(self.scaling, "scaling", "KNN", ("standardize", "whiten"))


# --- the old keywords, for one minor version ---------------------------------------------------------------
_BINNING = ("strategy", "min_samples_per_bin")
_REDUCTION = ("n_splits", "regressor")
_RESAMPLING = ("n_boot", "ci_level", "bias_correction", "n_shuffles")
_NEW = {**dict.fromkeys(_BINNING, ("bins", "Binning(bins, ")), **dict.fromkeys(_REDUCTION, ("reduce", "Reduction(method, ")),
        **dict.fromkeys(_RESAMPLING, ("resampling", "Resampling("))}


def _spelling(old: dict[str, Any]) -> str:
    """The new spelling of the old keywords, e.g. ``resampling=Resampling(n_boot=..., ci_level=...)``."""
    groups: dict[tuple[str, str], list[str]] = {}
    for key in (*_BINNING, *_REDUCTION, *_RESAMPLING):   # one order, whatever the caller's
        if key in old:
            groups.setdefault(_NEW[key], []).append(f"{key}=...")
    return ", ".join(f"{param}={cls}{', '.join(keys)})" for (param, cls), keys in groups.items())


def legacy_keywords(func: F) -> F:
    """Accept the keywords the option objects replace, with one FutureWarning naming the new spelling."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        old = {k: kwargs.pop(k) for k in list(kwargs) if k in _NEW}
        if not old:
            return func(*args, **kwargs)
        warnings.warn(f"{func.__name__}(): {', '.join(sorted(old))} {'is' if len(old) == 1 else 'are'} removed in "
                      f"{REMOVED_IN}; use {_spelling(old)}", FutureWarning, stacklevel=2)
        binning = {k: old[k] for k in _BINNING if k in old}
        if binning:
            kwargs["bins"] = dataclasses.replace(Binning.of(kwargs.get("bins", 8)), **binning)
        reduction = {k: old[k] for k in _REDUCTION if k in old}
        if reduction:
            kwargs["reduce"] = dataclasses.replace(Reduction.of(kwargs.get("reduce", "regression")), **reduction)
        resampling = {k: old[k] for k in _RESAMPLING if k in old}
        if resampling:
            base = kwargs.get("resampling") or Resampling()
            if not isinstance(base, Resampling):
                raise ValidationError(f"{func.__name__}(): 'resampling' must be a Resampling(n_boot, ci_level, "
                                      f"bias_correction, n_shuffles); got {type(base).__name__}")
            kwargs["resampling"] = dataclasses.replace(base, **resampling)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
