"""Perturbation methods: occlusion and feature ablation (work without gradients, e.g. for sklearn models).

References: Zeiler & Fergus 2014 (occlusion, arXiv:1311.2901).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from captum import attr as cattr

from .._validation import check_int
from ..exceptions import ValidationError
from . import _batching as B
from .baselines import make_baselines
from .methods import AttributionMethod, MethodOutput, _func, register
from .result import Attribution

__all__ = ["Occlusion", "FeatureAblation", "default_window", "default_feature_mask"]


def default_window(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Occlusion patch for one galaxy's input shape: 1 band x ~1/8 of each image side; ~1/64 of a spectrum."""
    if len(shape) == 3:
        return (1, max(1, shape[1] // 8), max(1, shape[2] // 8))
    if len(shape) == 2:
        return (1, max(1, shape[1] // 32))
    return (max(1, shape[0] // 64),)


def default_feature_mask(inputs: tuple[np.ndarray, ...]) -> tuple[torch.Tensor, ...]:
    """One feature per band for images (N, C, ...), one per column for 1-D inputs; ids unique across inputs."""
    masks, offset = [], 0
    for x in inputs:
        shape = x.shape[1:]
        if len(shape) >= 2:
            ids = np.broadcast_to(np.arange(shape[0]).reshape((-1,) + (1,) * (len(shape) - 1)), shape)
        else:
            ids = np.arange(int(np.prod(shape))).reshape(shape)
        masks.append(torch.as_tensor(ids + offset, dtype=torch.long)[None])
        offset += int(ids.max()) + 1
    return tuple(masks)


def _forward_module(model):
    return model.module if model.module is not None else model.forward


def _per_input(value: Any) -> tuple | None:
    """A window / strides given for one input (a flat tuple of ints) as a tuple with one entry per input."""
    if value is None:
        return None
    value = tuple(value)
    if value and isinstance(value[0], (int, np.integer)):
        value = (value,)
    return tuple(tuple(int(v) for v in w) for w in value)


def _check_shapes(value: tuple, name: str, shapes: list, func: str) -> None:
    if len(value) != len(shapes):
        raise ValidationError(f"{func}(): '{name}' has {len(value)} entries for {len(shapes)} inputs; pass one "
                              "patch shape per input")
    for w, s in zip(value, shapes):
        if len(w) != len(s) or min(w, default=1) < 1:
            raise ValidationError(f"{func}(): occlusion '{name}' {tuple(w)} must have one positive entry per "
                                  f"axis of one galaxy's input {tuple(s)}")


@register
class Occlusion(AttributionMethod):
    """Occlusion: slide a patch replaced by the baseline over every galaxy and record the output change.

    Works with any estimator (torch module, sklearn model, anything with ``predict``): it needs forward passes
    only.

    References: Zeiler & Fergus 2014, arXiv:1311.2901.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import interpret as ip
    >>> cnn = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 8 * 8, 1))
    >>> x = np.ones((3, 2, 8, 8), np.float32)
    >>> ip.Occlusion(cnn, progress=False).attribute(x, window=(1, 4, 4), baselines="zeros").values.shape
    (3, 2, 8, 8)
    """

    name = "occlusion"
    needs_module = False
    single_reference = True

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None,
                  window: tuple[int, ...] | tuple[tuple[int, ...], ...] | None = None,
                  strides: tuple[int, ...] | tuple[tuple[int, ...], ...] | None = None,
                  perturbations_per_eval: int = 8, seed: int | np.random.Generator | None = None) -> Attribution:
        """Occlusion map of output ``target`` for the galaxies ``x``.

        Parameters
        ----------
        x : ndarray or tuple of ndarray
            Inputs (N, ...), or a tuple of them for multi-input models.
        target : int, str or None
            Output to explain; required for multi-output models.
        baselines : str, float, ndarray or tuple, optional
            What fills the patch, as for :meth:`IntegratedGradients.attribute` (default: the mean for tabular
            inputs, zeros for images and spectra).
        window : tuple of int, or tuple of them (one per input), optional
            Patch shape per galaxy (one entry per axis of one galaxy's input); default
            :func:`default_window`: one band by ~1/8 of each image side, ~1/64 of a spectrum.
        strides : tuple of int, or tuple of them, optional
            Step of the patch; default: the window (non-overlapping patches).
        perturbations_per_eval : int, default 8
            Patches evaluated per forward pass.
        seed : int or Generator, optional
            Unused (deterministic).

        Returns
        -------
        Attribution
        """
        f = _func(self)
        opts = {"window": _per_input(window), "strides": _per_input(strides),
                "perturbations_per_eval": check_int(perturbations_per_eval, "perturbations_per_eval", f,
                                                    minimum=1)}
        return self._run(x, target, baselines, opts, seed)

    def _compute(self, model, chunks, baselines, o, *, progress, seed):
        func = "Occlusion.attribute"
        shapes = [x.shape[1:] for x in chunks.inputs]
        window = o["window"] or tuple(default_window(s) for s in shapes)
        _check_shapes(window, "window", shapes, func)
        strides = o["strides"] or window
        _check_shapes(strides, "strides", shapes, func)
        algo = cattr.Occlusion(_forward_module(model))
        return _run_perturbation(self.name, chunks, baselines, progress, o, lambda xs, bs, ppe: algo.attribute(
            xs, sliding_window_shapes=window, strides=strides, baselines=bs, perturbations_per_eval=ppe))


@register
class FeatureAblation(AttributionMethod):
    """Feature ablation: replace each feature group by the baseline and record the output change.

    Groups default to one per band for images (N, C, ...) and one per column for catalogues and spectra
    (:func:`default_feature_mask`). Works with any estimator: it needs forward passes only.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import interpret as ip
    >>> lin = torch.nn.Linear(3, 1)
    >>> x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    >>> ip.FeatureAblation(lin, progress=False).attribute(x, baselines="zeros").values.shape
    (5, 3)
    """

    name = "feature_ablation"
    needs_module = False
    single_reference = True

    def attribute(self, x: Any, *, target: int | str | None = None, baselines: Any = None,
                  feature_mask: np.ndarray | tuple[np.ndarray, ...] | None = None, perturbations_per_eval: int = 8,
                  seed: int | np.random.Generator | None = None) -> Attribution:
        """Feature-ablation attributions of output ``target`` for the galaxies ``x``.

        Parameters
        ----------
        x : ndarray or tuple of ndarray
            Inputs (N, ...), or a tuple of them for multi-input models.
        target : int, str or None
            Output to explain; required for multi-output models.
        baselines : str, float, ndarray or tuple, optional
            Replacement values, as for :meth:`IntegratedGradients.attribute` (default: the mean for tabular
            inputs, zeros for images and spectra).
        feature_mask : int ndarray, or tuple of them (one per input), optional
            Group ids shaped like one galaxy's input; equal ids are ablated together. Default
            :func:`default_feature_mask`.
        perturbations_per_eval : int, default 8
            Ablations evaluated per forward pass.
        seed : int or Generator, optional
            Unused (deterministic).

        Returns
        -------
        Attribution
        """
        f = _func(self)
        if feature_mask is not None:
            masks = feature_mask if isinstance(feature_mask, tuple) else (feature_mask,)
            for m in masks:
                if np.asarray(m).dtype.kind not in "iub":
                    raise ValidationError(f"{f}(): 'feature_mask' must hold integer group ids; got dtype "
                                          f"{np.asarray(m).dtype}")
        opts = {"feature_mask": feature_mask,
                "perturbations_per_eval": check_int(perturbations_per_eval, "perturbations_per_eval", f,
                                                    minimum=1)}
        return self._run(x, target, baselines, opts, seed)

    def _compute(self, model, chunks, baselines, o, *, progress, seed):
        mask = o["feature_mask"]
        if mask is None:
            masks = default_feature_mask(chunks.inputs)
        else:
            mask = mask if isinstance(mask, tuple) else (mask,)
            if len(mask) != len(chunks.inputs):
                raise ValidationError(f"FeatureAblation.attribute(): 'feature_mask' has {len(mask)} entries for "
                                      f"{len(chunks.inputs)} inputs; pass one mask per input")
            try:
                masks = tuple(torch.as_tensor(np.asarray(m), dtype=torch.long).reshape((1,) + x.shape[1:])
                              for m, x in zip(mask, chunks.inputs))
            except RuntimeError as exc:
                raise ValidationError("FeatureAblation.attribute(): 'feature_mask' must be shaped like one "
                                      f"galaxy's input {tuple(chunks.inputs[0].shape[1:])}") from exc
        masks = tuple(m.to(chunks.device) for m in masks)
        algo = cattr.FeatureAblation(_forward_module(model))
        return _run_perturbation(self.name, chunks, baselines, progress, o, lambda xs, bs, ppe: algo.attribute(
            xs, baselines=bs, feature_mask=masks, perturbations_per_eval=ppe))


def _run_perturbation(name: str, chunks, baselines, progress, opts: dict, call) -> MethodOutput:
    """Run a captum perturbation method chunk by chunk: ``call(inputs, baselines, perturbations_per_eval)``."""
    ppe = opts["perturbations_per_eval"]
    base = make_baselines(chunks.inputs, baselines)

    def one(sl):
        xs, bs = chunks.tensors(chunks.inputs, sl), chunks.tensors(base, sl)
        with torch.no_grad():
            return B.as_tuple(call(xs, bs, ppe))

    return MethodOutput(B.to_numpy(chunks.run(one, progress=progress, desc=name)))
