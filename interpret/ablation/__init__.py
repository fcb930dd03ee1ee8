"""Band ablation: which bands does an estimator use, and what is each band worth?

* :func:`band_ablation` - metrics with band subsets removed, either **masked** (the trained model with the
  bands filled in: what the model *relies on*) or **retrained** (a model refitted without them: what
  *information* the bands carry); :func:`compare_modes` puts both side by side.
* :func:`band_shapley` - exact Shapley values over bands from all 2^B subsets (permutation sampling with
  standard errors above 12 bands) and pairwise Shapley interaction indices.
* Fill strategies (:data:`STRATEGIES`): zero, mean, median, noise, inpaint - see
  :mod:`interpret.ablation.strategies` for what each fill means and when zero-filling is ambiguous.
* Bands may be image channels, catalogue columns, or span several inputs (:class:`BandLayout`).
* Options that travel together are small objects (:mod:`interpret.ablation.options`): :class:`Fill`,
  :class:`RetrainSpec`, :class:`Batching`, :class:`ShapleySampling`.

Examples
--------
>>> import numpy as np
>>> from interpret.ablation import band_shapley
>>> x = np.random.default_rng(0).normal(size=(100, 2))
>>> s = band_shapley(lambda a: a[:, 0], x, x[:, 0], bands=["g", "r"], metric="rmse", progress=False)
>>> float(s.values["r"])
0.0
"""
from ._result import AblationResult, ShapleyResult
from .ablate import DEFAULT_METRICS, REDSHIFT_METRICS, band_ablation
from .band_layout import BandLayout, ModelInputs, Slot, resolve_layout
from .compare import compare_modes
from .masking import masked_predictions, masked_predictions_loop
from .options import Batching, Fill, RetrainSpec, ShapleySampling
from .shapley import MAX_EXACT_BANDS, band_shapley, exact_interactions, exact_shapley
from .strategies import (
    STRATEGIES,
    FillStrategy,
    Inpaint,
    Mean,
    Median,
    Noise,
    Zero,
    get_strategy,
    register_strategy,
)
from .subsets import SUBSET_SPECS, resolve_subsets

__all__ = [
    "band_ablation", "band_shapley", "compare_modes", "AblationResult", "ShapleyResult",
    "STRATEGIES", "FillStrategy", "Zero", "Mean", "Median", "Noise", "Inpaint", "get_strategy",
    "register_strategy", "SUBSET_SPECS", "resolve_subsets", "BandLayout", "Slot", "ModelInputs",
    "resolve_layout", "exact_shapley", "exact_interactions", "masked_predictions", "masked_predictions_loop",
    "MAX_EXACT_BANDS", "DEFAULT_METRICS", "REDSHIFT_METRICS", "Fill", "RetrainSpec", "Batching", "ShapleySampling",
]
