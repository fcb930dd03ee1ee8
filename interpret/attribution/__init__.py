"""Attribution maps for images, spectra and catalogues, and their aggregation to bands, radii and lines.

Built on captum (Kokhlikyan et al. 2020, arXiv:2009.07896) with a fused Integrated-Gradients engine.

Examples
--------
>>> import numpy as np, torch
>>> import interpret as ip
>>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 1))
>>> a = ip.attribution.attribute(model, np.ones((4, 3, 8, 8), np.float32), progress=False)
>>> a.per_band(["g", "r", "i"]).shape[0]
3

Each method is also a class that binds the model once and takes typed options:

>>> ig = ip.attribution.IntegratedGradients(model, progress=False)
>>> ig.attribute(np.ones((4, 3, 8, 8), np.float32), n_steps=16).values.shape
(4, 3, 8, 8)
"""
from __future__ import annotations

from .aggregate import mean_map, per_band, per_wavelength, radial_profile
from .baselines import BASELINES, make_baselines
from .core import attribute
from .fused_ig import RULES, fused_integrated_gradients, path_nodes
from .lines import line_importance
from .methods import (
    METHODS,
    AttributionMethod,
    DeepLift,
    DeepLiftShap,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
    register,
)
from .perturbation import FeatureAblation, Occlusion
from .result import Attribution
from .sanity import CompletenessCheck, RandomizationTest, completeness_check, randomization_test

__all__ = [
    "attribute", "Attribution", "METHODS", "AttributionMethod", "register", "BASELINES", "RULES",
    "IntegratedGradients", "Saliency", "InputXGradient", "DeepLift", "DeepLiftShap", "GradientShap", "SmoothGrad",
    "Occlusion", "FeatureAblation",
    "make_baselines", "path_nodes", "fused_integrated_gradients",
    "per_band", "radial_profile", "mean_map", "per_wavelength",
    "line_importance", "completeness_check", "randomization_test", "CompletenessCheck", "RandomizationTest",
]
