"""Small option objects for :func:`band_ablation` and :func:`band_shapley`.

Options that travel together are one object instead of several keywords:

* :class:`Fill` - how removed bands are filled in mask mode: the strategy and the galaxies its statistics
  come from (``strategy="mean"`` is shorthand for ``Fill("mean")``);
* :class:`RetrainSpec` - refit a model on every band subset instead of masking (``fit``, ``cv``,
  ``test_size``);
* :class:`Batching` - rows per forward pass and the memory bound of one stacked input;
* :class:`ShapleySampling` - exact or permutation-sampled Shapley values and interactions.

The keywords they replace (``mode``, ``fit``, ``test_size``, ``cv``, ``reference``, ``band_axis``,
``batch_size``, ``max_bytes``, and for ``band_shapley`` ``exact``, ``max_exact_bands``, ``n_permutations``,
``interactions``, ``n_interaction_samples``) still work until 0.4, with a ``FutureWarning``.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LinearRegression
>>> from interpret.ablation import RetrainSpec, band_ablation
>>> x = np.random.default_rng(0).normal(size=(200, 3))
>>> y = x[:, 0] + 0.5 * x[:, 1]
>>> spec = RetrainSpec(lambda xs, ys: LinearRegression().fit(xs, ys), test_size=0.3)
>>> t = band_ablation(None, x, y, bands=["g", "r", "i"], retrain=spec, metrics="rmse", seed=0,
...                   progress=False).table
>>> t["label"].tolist()
['all', '-g', '-r', '-i']
"""
from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from .._compat import REMOVED_IN
from ..exceptions import ValidationError
from .masking import DEFAULT_MAX_BYTES
from .strategies import FillStrategy

__all__ = ["Fill", "RetrainSpec", "Batching", "ShapleySampling"]

F = TypeVar("F", bound=Callable[..., Any])
MAX_EXACT_BANDS = 12


@dataclasses.dataclass(frozen=True, eq=False)
class Fill:
    """How a removed band is filled in mask mode.

    Parameters
    ----------
    strategy : str or FillStrategy, default "mean"
        One of ``interpret.ablation.STRATEGIES`` ("zero", "mean", "median", "noise", "inpaint") or an
        instance (e.g. ``Noise(sigma={"u": 0.3})``); see :mod:`interpret.ablation.strategies`.
    reference : same type as x, optional
        Galaxies the fill statistics are computed from (e.g. the training set); default the scored ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.ablation import Fill, band_ablation
    >>> rng = np.random.default_rng(0)
    >>> x_train, x = rng.normal(2.0, 1.0, size=(2, 200, 2))
    >>> model = lambda a: a[:, 0] + 0.5 * a[:, 1]
    >>> for fill in (Fill("zero"), Fill("mean", reference=x_train)):   # zero: far off the data (mean 2)
    ...     t = band_ablation(model, x, model(x), bands=["g", "r"], strategy=fill, metrics="rmse",
    ...                       progress=False).table
    ...     print(fill.strategy, t["rmse"].round(1).tolist())
    zero [0.0, 2.2, 1.1]
    mean [0.0, 1.0, 0.5]
    """

    strategy: str | FillStrategy = "mean"
    reference: Any = None

    @classmethod
    def of(cls, value: Any) -> Fill:
        """A Fill from ``value``: a Fill, a strategy name or a FillStrategy instance."""
        return value if isinstance(value, Fill) else cls(value)


@dataclasses.dataclass(frozen=True)
class RetrainSpec:
    """Retrain-mode ablation: a model is refitted on every band subset and scored on held-out galaxies.

    Parameters
    ----------
    fit : callable
        ``fit(x_subset, y_train) -> model with predict``; ``x_subset`` is ``x`` without the dropped bands
        (same container type). May accept ``seed=`` (an int).
    cv : int, optional
        Cross-validation folds (out-of-fold predictions pooled); overrides ``test_size``.
    test_size : float, optional
        Held-out fraction (default 0.25).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from interpret.ablation import RetrainSpec, band_ablation
    >>> x = np.random.default_rng(0).normal(size=(150, 2))
    >>> y = x[:, 0] + 0.5 * x[:, 1]
    >>> spec = RetrainSpec(lambda xs, ys: LinearRegression().fit(xs, ys), cv=3)     # 3-fold, pooled
    >>> t = band_ablation(None, x, y, bands=["g", "r"], retrain=spec, metrics="rmse", seed=0,
    ...                   progress=False).table
    >>> t[["label", "rmse"]].round(1).values.tolist()
    [['all', 0.0], ['-g', 1.0], ['-r', 0.5]]
    """

    fit: Callable[..., Any]
    cv: int | None = None
    test_size: float | None = None

    def __post_init__(self) -> None:
        if not callable(self.fit):
            raise ValidationError(f"RetrainSpec(): 'fit' must be a callable fit(x_subset, y) -> model; "
                                  f"got {type(self.fit).__name__}")


@dataclasses.dataclass(frozen=True)
class Batching:
    """Batching and memory policy of masked predictions.

    Parameters
    ----------
    batch_size : int, default 1024
        Rows per forward pass; several masked subsets share each pass.
    max_bytes : int, default 256 MiB
        Memory bound of one stacked (multi-subset) input.
    first_layer : bool, optional
        The first-layer shortcut (:mod:`interpret.ablation.first_layer`): when a torch model's first layer on
        a band input is ``nn.Linear`` / ``nn.ConvNd`` and the fill is static (zero, mean, median, noise), each
        band's contribution to that layer is computed once per galaxy and summed per subset (same values).
        None (default): used where it applies and passes its check against the plain path; False: never;
        True: required (an error where it does not apply).

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.ablation import Batching, band_ablation
    >>> x = np.random.default_rng(0).normal(size=(300, 3))
    >>> model = lambda a: a.sum(axis=1)
    >>> small = band_ablation(model, x, model(x), bands=["g", "r", "i"], metrics="rmse",
    ...                       batching=Batching(batch_size=64), progress=False)
    >>> default = band_ablation(model, x, model(x), bands=["g", "r", "i"], metrics="rmse", progress=False)
    >>> np.allclose(small.table["rmse"], default.table["rmse"])         # batching changes memory, not values
    True
    """

    batch_size: int = 1024
    max_bytes: int = DEFAULT_MAX_BYTES
    first_layer: bool | None = None


@dataclasses.dataclass(frozen=True)
class ShapleySampling:
    """Exact or sampled Shapley values and interaction indices.

    Parameters
    ----------
    exact : bool, optional
        Evaluate all ``2^B`` subsets (default: when ``B <= max_exact_bands``), else sample permutations.
    max_exact_bands : int, default 12
        Largest band count computed exactly by default.
    n_permutations : int, default 200
        Permutations sampled when not exact (rounded up to an even number: antithetic pairs).
    interactions : bool, optional
        Compute pairwise interaction indices (default: when exact; they are free then).
    n_interaction_samples : int, optional
        Subsets per pair when interactions are sampled (default ``n_permutations``).

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.ablation import ShapleySampling, band_shapley
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> model = lambda a: a @ np.array([1.0, 0.5, 0.2, 0.0])
    >>> s = band_shapley(model, x, model(x), bands=["u", "g", "r", "i"], metric="mae", seed=0, progress=False,
    ...                  sampling=ShapleySampling(exact=False, n_permutations=20))
    >>> s.values.round(1).tolist(), s.standard_errors is not None
    ([0.6, 0.2, 0.1, 0.0], True)
    """

    exact: bool | None = None
    max_exact_bands: int = MAX_EXACT_BANDS
    n_permutations: int = 200
    interactions: bool | None = None
    n_interaction_samples: int | None = None


# --- the old keywords, for one minor version ---------------------------------------------------------------
_RETRAIN = ("mode", "fit", "test_size", "cv")
_BATCHING = ("batch_size", "max_bytes")
_SAMPLING = ("exact", "max_exact_bands", "n_permutations", "interactions", "n_interaction_samples")
_NEW = {**dict.fromkeys(_RETRAIN, "retrain=RetrainSpec(fit, cv=..., test_size=...)"),
        "reference": "strategy=Fill(strategy, reference=...)", "band_axis": "band_layout=<axis or axes>",
        **dict.fromkeys(_BATCHING, "batching=Batching(batch_size=..., max_bytes=...)"),
        **{k: f"sampling=ShapleySampling({k}=...)" for k in _SAMPLING}}


def _convert(func: str, old: dict[str, Any], kwargs: dict[str, Any]) -> None:
    if any(k in old for k in _RETRAIN):
        mode = old.get("mode", "retrain" if "fit" in old else "mask")
        if mode not in ("mask", "retrain"):
            raise ValidationError(f"{func}(): unknown mode {mode!r}; valid values are 'mask', 'retrain'")
        rest = {k: old[k] for k in ("fit", "test_size", "cv") if old.get(k) is not None}
        if mode == "retrain":
            if kwargs.get("retrain") is not None or rest.get("fit") is None:
                raise ValidationError(f"{func}(): mode='retrain' needs fit= (better: retrain=RetrainSpec(fit))")
            kwargs["retrain"] = RetrainSpec(**rest)
        elif rest:
            raise ValidationError(f"{func}(): 'fit', 'cv' and 'test_size' only apply to mode='retrain'")
    if "reference" in old:
        kwargs["strategy"] = Fill(Fill.of(kwargs.get("strategy", "mean")).strategy, old["reference"])
    if "band_axis" in old and old["band_axis"] is not None:
        if kwargs.get("band_layout") is not None:
            raise ValidationError(f"{func}(): give band_layout only (band_axis is its old name for axes)")
        kwargs["band_layout"] = old["band_axis"]
    if any(k in old for k in _BATCHING):
        kwargs["batching"] = Batching(**{k: old[k] for k in _BATCHING if k in old})
    if any(k in old for k in _SAMPLING):
        kwargs["sampling"] = ShapleySampling(**{k: old[k] for k in _SAMPLING if k in old})


def legacy_keywords(func: F) -> F:
    """Accept the keywords the option objects replace, with one FutureWarning naming the new spelling."""
    names = {*_RETRAIN, "reference", "band_axis", *_BATCHING}
    if func.__name__ == "band_shapley":
        names |= set(_SAMPLING)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        old = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        if old:
            new = dict.fromkeys(_NEW[k] for k in sorted(old))
            warnings.warn(f"{func.__name__}(): {', '.join(sorted(old))} {'is' if len(old) == 1 else 'are'} "
                          f"removed in {REMOVED_IN}; use {', '.join(new)}", FutureWarning, stacklevel=2)
            _convert(func.__name__, old, kwargs)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def split_layout(band_layout: Any) -> tuple[Any, Any]:
    """``(band_axis, band_layout)`` for the engine: an int or a sequence of ints/None is a band axis."""
    if band_layout is None or isinstance(band_layout, int):
        return band_layout, None
    if isinstance(band_layout, (list, tuple)) and all(a is None or isinstance(a, int) for a in band_layout):
        return tuple(band_layout), None
    return None, band_layout


def engine_kwargs(strategy: Any, retrain: RetrainSpec | None, band_layout: Any, batching: Batching | None,
                  func: str) -> dict[str, Any]:
    """The option objects unpacked into the keywords of :func:`interpret.ablation._engine.prepare`."""
    if retrain is not None and not isinstance(retrain, RetrainSpec):
        raise ValidationError(f"{func}(): 'retrain' must be a RetrainSpec(fit, cv=None, test_size=None); "
                              f"got {type(retrain).__name__}")
    batching = Batching() if batching is None else batching
    if not isinstance(batching, Batching):
        raise ValidationError(f"{func}(): 'batching' must be a Batching(batch_size, max_bytes); "
                              f"got {type(batching).__name__}")
    fill = Fill.of(strategy)
    band_axis, layout = split_layout(band_layout)
    return {"mode": "mask" if retrain is None else "retrain", "strategy": fill.strategy,
            "reference": fill.reference, "fit": getattr(retrain, "fit", None),
            "test_size": getattr(retrain, "test_size", None), "cv": getattr(retrain, "cv", None),
            "band_axis": band_axis, "band_layout": layout, "batch_size": batching.batch_size,
            "max_bytes": batching.max_bytes, "first_layer": batching.first_layer}
