"""Shared set-up of band_ablation / band_shapley: validate inputs once, then score any set of keep-masks."""
from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .._validation import check_array, check_choice, check_int, check_same_length
from ..exceptions import ValidationError
from ._metrics import resolve_metrics
from .band_layout import BandLayout, ModelInputs, resolve_layout
from .masking import DEFAULT_MAX_BYTES, masked_predictions
from .retrain import retrained_predictions, split_indices
from .strategies import Filler, FillStrategy, get_strategy

__all__ = ["Probe", "prepare", "MODES", "DEFAULT_METRICS", "REDSHIFT_METRICS"]

logger = logging.getLogger(__name__)

MODES = ("mask", "retrain")
DEFAULT_METRICS = ("rmse", "bias", "sigma_nmad")                              # any target, plain residuals
REDSHIFT_METRICS = ("rmse", "bias", "sigma_nmad", "outlier_fraction")         # on dz = (z_pred - z) / (1 + z)
_PRED_BUDGET = 2**25        # predictions held in memory at once (floats), before reducing to metrics


@dataclasses.dataclass
class Probe:
    """Everything needed to score keep-masks: inputs, layout, target, and the mask or retrain machinery."""

    func: str
    inputs: ModelInputs
    layout: BandLayout
    y: np.ndarray
    mode: str
    scorers: dict[str, Callable[[np.ndarray, np.ndarray], float]]
    estimator: Any = None
    filler: Filler | None = None
    strategy: FillStrategy | None = None
    fit: Callable[..., Any] | None = None
    splits: list | None = None
    output: int | None = None
    batch_size: int = 1024
    max_bytes: int = DEFAULT_MAX_BYTES
    n_jobs: int | None = None
    progress: bool | None = None
    seed: Any = None
    first_layer: bool | None = None
    _plan: Any = dataclasses.field(default=None, repr=False)

    @property
    def n_scored(self) -> int:
        """Galaxies each metric is computed on."""
        return self.inputs.n if self.splits is None else sum(len(t) for _, t in self.splits)

    def score(self, masks: np.ndarray) -> np.ndarray:
        """Metric values, shape ``(m, n_metrics)``, for keep-masks ``(m, B)``."""
        if self.mode == "retrain":
            preds, rows = retrained_predictions(self.fit, self.inputs, self.y, self.layout, masks, self.splits,
                                                seed=self.seed, n_jobs=self.n_jobs, progress=self.progress,
                                                func=self.func)
            return self._reduce(preds, self.y[rows])
        step = max(1, _PRED_BUDGET // max(self.inputs.n, 1))
        predict = self._predictor()
        out = []
        for j in range(0, len(masks), step):
            preds = predict(self.estimator, self.inputs, self.layout, self.filler, masks[j:j + step],
                            batch_size=self.batch_size, max_bytes=self.max_bytes, n_jobs=self.n_jobs,
                            progress=self.progress)
            out.append(self._reduce(preds, self.y))
        return np.concatenate(out, axis=0)

    def _predictor(self) -> Callable[..., np.ndarray]:
        """masked_predictions, or the first-layer shortcut where it applies (planned and checked once)."""
        if self.first_layer is False:
            return masked_predictions
        if self._plan is None:
            from .first_layer import plan_first_layer

            self._plan = plan_first_layer(self.estimator, self.inputs, self.layout, self.filler,
                                          required=bool(self.first_layer), func=self.func) or False
        if self._plan is False:
            return masked_predictions
        from .first_layer import first_layer_predictions

        return functools.partial(first_layer_predictions, self._plan)

    @property
    def first_layer_name(self) -> str | None:
        """Name of the layer the shortcut went through (None: plain masked predictions)."""
        return self._plan.name if self._plan else None

    def _reduce(self, preds: np.ndarray, y: np.ndarray) -> np.ndarray:
        preds = self._select_output(preds, y)
        return np.array([[scorer(y, p) for scorer in self.scorers.values()] for p in preds], dtype=float)

    def _select_output(self, preds: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.output is not None:
            if preds.ndim != 3 or not -preds.shape[2] <= self.output < preds.shape[2]:
                raise ValidationError(f"{self.func}(): 'output'={self.output} but the estimator returns "
                                      f"predictions of shape {preds.shape[1:]}")
            preds = preds[:, :, self.output]
        if preds.shape[2:] != y.shape[1:]:
            raise ValidationError(f"{self.func}(): the estimator returns shape {preds.shape[1:]} but 'y' has "
                                  f"shape {y.shape}; pass output=<column index> to score one output")
        return preds


def _output_index(output: Any, estimator: Any, func: str) -> int | None:
    if output is None or isinstance(output, (int, np.integer)):
        return None if output is None else int(output)
    names = getattr(estimator, "output_names", None) or ()
    if output not in names:
        raise ValidationError(f"{func}(): unknown output {output!r}; the estimator's outputs are {list(names)}")
    return list(names).index(output)


def prepare(func: str, estimator: Any, x: Any, y: Any, *, bands: Any, mode: str, strategy: Any,
            metrics: Any, metric_kwargs: Mapping[str, Any] | None, fit: Any, test_size: float | None,
            cv: int | None, band_axis: Any, band_layout: Any, reference: Any, output: Any,
            batch_size: int, max_bytes: int, n_jobs: int | None, progress: bool | None, seed: Any,
            redshift: bool = False, first_layer: bool | None = None) -> Probe:
    """Validate every argument shared by band_ablation and band_shapley and build a :class:`Probe`.

    ``metrics=None`` means :data:`DEFAULT_METRICS` (generic), or :data:`REDSHIFT_METRICS` when the target is
    declared a redshift; ``redshift`` is passed to every metric that accepts it.
    """
    if metrics is None:
        metrics = REDSHIFT_METRICS if redshift else DEFAULT_METRICS
    check_choice(mode, "mode", func, MODES)
    batch_size = check_int(batch_size, "batch_size", func, minimum=1)
    max_bytes = check_int(max_bytes, "max_bytes", func, minimum=1)
    inputs = ModelInputs.from_x(x, func)
    y_arr = check_array(y, "y", func, ndim=(1, 2), dtype=float)
    check_same_length(func, x=inputs.arrays[0], y=y_arr)
    layout = resolve_layout(inputs, bands, band_axis=band_axis, band_layout=band_layout, func=func)
    scorers = resolve_metrics(metrics, func, metric_kwargs, redshift=redshift)
    common = dict(func=func, inputs=inputs, layout=layout, y=y_arr, mode=mode, scorers=scorers,
                  batch_size=batch_size, max_bytes=max_bytes, n_jobs=n_jobs, progress=progress, seed=seed)
    if mode == "retrain":
        if estimator is not None:
            raise ValidationError(f"{func}(): mode='retrain' refits models with 'fit' and does not use "
                                  f"'estimator'; pass None as the estimator")
        splits = split_indices(inputs.n, test_size=test_size, cv=cv, seed=seed, func=func)
        return Probe(**common, fit=fit, splits=splits)
    if estimator is None:
        raise ValidationError(f"{func}(): mode='mask' needs a trained 'estimator' (or use mode='retrain' "
                              f"with fit=)")
    if fit is not None or cv is not None or test_size is not None:
        raise ValidationError(f"{func}(): 'fit', 'cv' and 'test_size' only apply to mode='retrain'")
    from ..estimators import load_estimator

    est = load_estimator(estimator)
    strat = get_strategy(strategy, func)
    ref = inputs if reference is None else ModelInputs.from_x(reference, func)
    if reference is not None:
        _check_reference(ref, inputs, func)
    filler = strat.fit(ref, layout, seed)
    return Probe(**common, estimator=est, filler=filler, strategy=strat,
                 output=_output_index(output, est, func), first_layer=first_layer)


def _check_reference(ref: ModelInputs, inputs: ModelInputs, func: str) -> None:
    shapes = [a.shape[1:] for a in inputs.arrays]
    if len(ref.arrays) != len(inputs.arrays) or [a.shape[1:] for a in ref.arrays] != shapes:
        raise ValidationError(f"{func}(): 'reference' must hold the same inputs as 'x' (per-row shapes "
                              f"{shapes}); got {[a.shape[1:] for a in ref.arrays]}")
