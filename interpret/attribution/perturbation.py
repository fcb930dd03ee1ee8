"""Perturbation methods: occlusion and feature ablation (work without gradients, e.g. for sklearn models).

References: Zeiler & Fergus 2014 (occlusion, arXiv:1311.2901).
"""
from __future__ import annotations

import numpy as np
import torch
from captum import attr as cattr

from .._validation import check_int
from ..exceptions import ValidationError
from . import _batching as B
from .baselines import make_baselines
from .methods import AttributionMethod, MethodOutput, register

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


@register
class Occlusion(AttributionMethod):
    """Slide a patch (``window``, default :func:`default_window`) replaced by the baseline; output change.

    Options: ``window`` (per-galaxy patch shape, or a tuple of them for multi-input), ``strides``
    (default: the window, i.e. non-overlapping patches), ``perturbations_per_eval`` (default 8).
    """

    name = "occlusion"
    needs_module = False
    options = ("window", "strides", "perturbations_per_eval")

    def compute(self, model, chunks, baselines, *, progress, seed):
        shapes = [x.shape[1:] for x in chunks.inputs]
        window = self.opts.get("window") or tuple(default_window(s) for s in shapes)
        if len(chunks.inputs) == 1 and window and isinstance(window[0], (int, np.integer)):
            window = (tuple(window),)
        for w, s in zip(window, shapes):
            if len(w) != len(s):
                raise ValidationError(f"attribute(): occlusion 'window' {tuple(w)} must have one entry per "
                                      f"axis of one galaxy's input {tuple(s)}")
        strides = self.opts.get("strides") or window
        if len(chunks.inputs) == 1 and strides and isinstance(strides[0], (int, np.integer)):
            strides = (tuple(strides),)
        algo = cattr.Occlusion(_forward_module(model))
        return _run_perturbation(self, chunks, baselines, progress, lambda xs, bs, ppe: algo.attribute(
            xs, sliding_window_shapes=tuple(map(tuple, window)), strides=tuple(map(tuple, strides)),
            baselines=bs, perturbations_per_eval=ppe))


@register
class FeatureAblation(AttributionMethod):
    """Replace each feature group (``feature_mask``; default one group per band) by the baseline.

    Options: ``feature_mask`` (integer array per input shaped like one galaxy's input, or a tuple of
    them; equal ids are ablated together), ``perturbations_per_eval`` (default 8).
    """

    name = "feature_ablation"
    needs_module = False
    options = ("feature_mask", "perturbations_per_eval")

    def compute(self, model, chunks, baselines, *, progress, seed):
        mask = self.opts.get("feature_mask")
        if mask is None:
            masks = default_feature_mask(chunks.inputs)
        else:
            mask = mask if isinstance(mask, tuple) else (mask,)
            masks = tuple(torch.as_tensor(np.asarray(m), dtype=torch.long).reshape((1,) + x.shape[1:])
                          for m, x in zip(mask, chunks.inputs))
        masks = tuple(m.to(chunks.device) for m in masks)
        algo = cattr.FeatureAblation(_forward_module(model))
        return _run_perturbation(self, chunks, baselines, progress, lambda xs, bs, ppe: algo.attribute(
            xs, baselines=bs, feature_mask=masks, perturbations_per_eval=ppe))


def _run_perturbation(method: AttributionMethod, chunks, baselines, progress, call) -> MethodOutput:
    """Run a captum perturbation method chunk by chunk: ``call(inputs, baselines, perturbations_per_eval)``."""
    ppe = check_int(method.opts.get("perturbations_per_eval", 8), "perturbations_per_eval", "attribute",
                    minimum=1)
    base = make_baselines(chunks.inputs, baselines)

    def one(sl):
        xs, bs = chunks.tensors(chunks.inputs, sl), chunks.tensors(base, sl)
        with torch.no_grad():
            return B.as_tuple(call(xs, bs, ppe))

    return MethodOutput(B.to_numpy(chunks.run(one, progress=progress, desc=method.name)))
