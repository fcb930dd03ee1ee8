"""``attribute()``: the functional front door to every attribution method class."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from .._validation import check_choice
from ..exceptions import ValidationError
from ._pipeline import as_inputs
from .methods import METHODS
from .result import Attribution

__all__ = ["attribute", "as_inputs"]

_RENAMED = {("integrated_gradients", "amp"): "precision"}   # old option -> new, kept for one minor version


def _options(method: str, n_steps: Any, options: dict) -> dict:
    """``options`` checked against the method's ``attribute()`` keywords (old names mapped, with a warning)."""
    accepted = METHODS[method].option_names()
    options = dict(options)
    if n_steps is not None:
        options["n_steps"] = n_steps
    for (name, old), new in _RENAMED.items():
        if name == method and old in options:
            warnings.warn(f"attribute(): option {old!r} is deprecated and will be removed in 0.4; use "
                          f"{new}='bfloat16' instead of {old}=True", FutureWarning, stacklevel=3)
            if options.pop(old) and options.get(new) is None:
                options[new] = "bfloat16"
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        cls = METHODS[method].__name__
        raise ValidationError(f"attribute(): method {method!r} got unknown option(s) {', '.join(unknown)}; "
                              f"{cls}.attribute() accepts {', '.join(accepted) or 'no options'}")
    return options


def attribute(
    estimator: Any,
    x: Any,
    method: str = "integrated_gradients",
    *,
    baselines: Any = None,
    target: int | str | None = None,
    n_steps: int | str | None = None,
    batch_size: int | str = 64,
    device: str | torch.device | None = None,
    progress: bool | None = None,
    seed: int | np.random.Generator | None = None,
    **options: Any,
) -> Attribution:
    """Attribute one output of an estimator to its inputs, galaxy by galaxy: the functional front door.

    ``attribute(estimator, x, method=NAME, **options)`` is
    ``METHODS[NAME](estimator, device=..., batch_size=..., progress=...).attribute(x, target=...,
    baselines=..., seed=..., **options)``: each method is a class (:class:`IntegratedGradients`,
    :class:`Saliency`, ...) whose ``attribute()`` lists its options with their defaults. Bind a class yourself
    to attribute several inputs or targets with one model; use this function for one-off calls.

    Parameters
    ----------
    estimator : torch.nn.Module or Estimator
        A torch module, or an estimator from :func:`interpret.load_estimator`. Gradient methods need a
        differentiable module (``estimator.module``); for sklearn models or callables (``module is None``)
        only the perturbation methods ``occlusion`` and ``feature_ablation`` work.
    x : ndarray or tuple of ndarray
        Inputs (N, ...): images (N, C, H, W), spectra (N, L), catalogue features (N, F), or a tuple of these
        for multi-input models (e.g. ``(images, catalogue)``).
    method : str, default "integrated_gradients"
        A key of :data:`METHODS`: integrated_gradients (:class:`IntegratedGradients`), saliency
        (:class:`Saliency`), input_x_gradient (:class:`InputXGradient`), deeplift (:class:`DeepLift`),
        deeplift_shap (:class:`DeepLiftShap`), gradient_shap (:class:`GradientShap`), smoothgrad
        (:class:`SmoothGrad`), occlusion (:class:`Occlusion`), feature_ablation (:class:`FeatureAblation`).
    baselines : str, float, ndarray or tuple, optional
        Reference input: ``"zeros"``, ``"mean"``, ``"blurred"``, a scalar or an array (per galaxy or shared;
        e.g. the training mean ``x_train.mean(axis=0)``); one per input as a tuple. Default (None): the
        sample mean for tabular inputs (2-D, at most 64 columns) and zeros for images and spectra
        (:func:`interpret.attribution.baselines.default_baselines`). A
        :class:`~interpret.exceptions.BaselineWarning` says when f(baseline) is far outside the predictions'
        range. For deeplift_shap / gradient_shap: a distribution of reference inputs (default:
        ``n_baselines`` galaxies drawn from ``x``).
    target : int, str or None
        Output to explain, by index or output name; required for multi-output models.
    n_steps : int or "auto", optional
        Integration nodes of integrated_gradients (default 50; ``"auto"`` raises the nodes per galaxy until
        the completeness error is below ``rtol``). Refused by methods without nodes.
    batch_size : int or "auto", default 64
        Galaxies per chunk: memory is bounded by one chunk (times ``n_steps`` rows for IG, capped by
        ``rows_per_pass``). ``"auto"`` sizes the chunk (and IG's ``rows_per_pass``) to fit memory from a
        probe pass (:func:`interpret._memory.auto_batch_size`; budget option ``memory_budget`` in bytes).
    device : str or torch.device, optional
        "cpu" or "cuda" (inputs and a copy of the model are moved there); default: the estimator's device.
    progress : bool, optional
        Progress bar over chunks (None: on unless CI is set; False: silent).
    seed : int or Generator, optional
        Randomness of deeplift_shap, gradient_shap and smoothgrad (None: fresh; same seed and batch_size,
        same result); the deterministic methods ignore it.
    **options
        Keyword options of the method's ``attribute()`` (``METHODS[method].option_names()``), e.g.
        ``rule="trapezoid"``, ``engine="captum"``, ``nt_samples=32``, ``window=(1, 4, 4)``; for
        integrated_gradients ``precision="bfloat16"`` runs the path passes under autocast mixed precision
        (``params["completeness_max_rel_error"]`` then reports how well completeness still holds). An option
        the method does not take raises a ValidationError that lists the ones it does. ``memory_budget``
        (bytes) goes with ``batch_size="auto"``.

    Returns
    -------
    Attribution
        ``values`` shaped like ``x`` (a tuple for multi-input), the explained outputs, and for path methods
        the baseline outputs and completeness deltas.

    References
    ----------
    Sundararajan, Taly & Yan 2017, arXiv:1703.01365; Kokhlikyan et al. 2020 (captum), arXiv:2009.07896.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from interpret.attribution import attribute
    >>> model = torch.nn.Linear(4, 1)
    >>> a = attribute(model, np.ones((5, 4), np.float32), n_steps=16, progress=False)
    >>> a.values.shape, bool(np.abs(a.delta).max() < 1e-5)
    ((5, 4), True)
    >>> attribute(model, np.ones((5, 4), np.float32), method="saliency", n_samples=4)
    Traceback (most recent call last):
    ...
    interpret.exceptions.ValidationError: attribute(): method 'saliency' got unknown option(s) n_samples; Saliency.attribute() accepts abs
    """
    check_choice(method, "method", "attribute", sorted(METHODS))
    budget = options.pop("memory_budget", None)
    options = _options(method, n_steps, options)
    algo = METHODS[method](estimator, device=device, batch_size=batch_size, progress=progress,
                           memory_budget=budget)
    return algo.attribute(x, target=target, baselines=baselines, seed=seed, **options)
