"""Baselines (reference inputs) for path and perturbation attribution methods.

A baseline is what the model sees when "nothing is there": ``"zeros"`` (blank sky / zero flux),
``"mean"`` (the sample mean galaxy), ``"blurred"`` (each input Gaussian-blurred along its spatial or spectral
axes, keeping colours and total flux but removing structure; Sturmfels et al. 2020, doi:10.23915/distill.00022),
or a user array (one per galaxy, or one broadcast to all).

Examples
--------
>>> import numpy as np
>>> from interpret.attribution.baselines import make_baselines
>>> x = np.ones((4, 3, 8, 8), dtype=np.float32)
>>> make_baselines((x,), "mean")[0].shape
(4, 3, 8, 8)
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter

from ..exceptions import ValidationError

__all__ = ["BASELINES", "TABULAR_MAX_COLUMNS", "make_baselines", "default_baselines", "check_baseline_output",
           "baseline_distribution"]

BASELINES = ("zeros", "mean", "blurred")
TABULAR_MAX_COLUMNS = 64   # a 2-D input with at most this many columns is tabular (catalogue features)
FAR_OUTSIDE = 0.5          # f(baseline) beyond the predictions' 1-99 % range by this fraction of it: warn


def default_baselines(inputs: tuple[np.ndarray, ...]) -> tuple[str, ...]:
    """The reference used when ``baselines=None``, per input.

    Tabular inputs (2-D with at most :data:`TABULAR_MAX_COLUMNS` columns: magnitudes, colours, catalogue
    features) get ``"mean"``: zero magnitudes are not "no signal" but an impossibly bright galaxy, and shift
    the per-band shares a lot. Images and spectra get ``"zeros"`` (blank sky, no flux). For the training mean,
    pass it explicitly: ``baselines=x_train.mean(axis=0)``.

    Examples
    --------
    >>> default_baselines((np.ones((10, 5)), np.ones((10, 3, 8, 8)), np.ones((10, 3000))))
    ('mean', 'zeros', 'zeros')
    """
    return tuple("mean" if x.ndim == 2 and x.shape[1] <= TABULAR_MAX_COLUMNS else "zeros" for x in inputs)


def check_baseline_output(output: np.ndarray, baseline_output: np.ndarray, func: str = "attribute") -> None:
    """Warn (:class:`~interpret.exceptions.BaselineWarning`) when f(baseline) is far outside the predictions.

    "Far" means beyond the 1-99 % range of ``output`` by more than half its width; attributions then explain
    the jump from an input the model never sees (e.g. z = -0.27 at zero magnitudes).
    """
    out = np.asarray(output, dtype=float).ravel()
    base = np.asarray(baseline_output, dtype=float).ravel()
    if out.size < 2 or not np.isfinite(out).all() or not np.isfinite(base).any():
        return
    lo, hi = np.percentile(out, [1, 99])
    width = hi - lo
    if width <= 0:
        return
    far = (base < lo - FAR_OUTSIDE * width) | (base > hi + FAR_OUTSIDE * width)
    if far.any():
        import warnings

        from ..exceptions import BaselineWarning

        warnings.warn(f"{func}(): f(baseline) is far outside the predictions' range for {int(far.sum())} of "
                      f"{far.size} galaxies (median f(baseline) {np.median(base):.3g}, predictions {lo:.3g} to "
                      f"{hi:.3g}); the attributions explain the change from an input the model never sees. "
                      f"Pass baselines='mean', the training mean (x_train.mean(axis=0)) or another reference",
                      BaselineWarning, stacklevel=3)


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of every galaxy along its spatial/spectral axes (not along galaxies or bands)."""
    if x.ndim == 2:       # (N, L) spectra or (N, F) catalogue columns: blur along L
        sig = (0.0, sigma)
    elif x.ndim >= 3:     # (N, C, H, W) images or (N, C, L): blur the trailing (spatial) axes only
        n_sp = 2 if x.ndim >= 4 else 1
        sig = (0.0,) * (x.ndim - n_sp) + (sigma,) * n_sp
    else:
        return x.copy()
    return gaussian_filter(x.astype(np.float64), sigma=sig, mode="nearest").astype(x.dtype)


def _shared(one: np.ndarray, x: np.ndarray) -> np.ndarray:
    """One baseline shared by every galaxy as a read-only broadcast view of ``x``'s shape (no n-sized copy)."""
    return np.broadcast_to(np.ascontiguousarray(one, dtype=x.dtype), x.shape)


def _one(x: np.ndarray, spec: Any, i: int, blur_sigma: float) -> np.ndarray:
    if isinstance(spec, str):
        if spec == "zeros":
            return _shared(np.zeros((1,) + x.shape[1:], dtype=x.dtype), x)
        if spec == "mean":
            return _shared(x.mean(axis=0, keepdims=True), x)
        if spec == "blurred":
            return _blur(x, blur_sigma)
        raise ValidationError(f"attribute(): unknown baselines {spec!r}; valid values are "
                              f"{', '.join(map(repr, BASELINES))} or an array")
    if np.isscalar(spec):
        return _shared(np.full((1,) + x.shape[1:], float(spec), dtype=x.dtype), x)
    arr = np.asarray(spec, dtype=x.dtype)
    if arr.shape == x.shape:
        return np.ascontiguousarray(arr)
    if arr.shape == x.shape[1:] or (arr.ndim == x.ndim and arr.shape[0] == 1 and arr.shape[1:] == x.shape[1:]):
        return _shared(arr.reshape((1,) + x.shape[1:]), x)
    raise ValidationError(f"attribute(): baselines for input {i} have shape {arr.shape}; expected {x.shape} "
                          f"(one per galaxy) or {x.shape[1:]} (shared)")


def make_baselines(inputs: tuple[np.ndarray, ...], baselines: Any = None, *,
                   blur_sigma: float = 2.0) -> tuple[np.ndarray, ...]:
    """One baseline per galaxy for every input.

    Parameters
    ----------
    inputs : tuple of ndarray
        The inputs, each (N, ...).
    baselines : str, float, ndarray or tuple of those, default None
        ``None``/``"zeros"``, ``"mean"``, ``"blurred"``, a scalar, an array shaped like the input (or like one
        galaxy), or a tuple with one of these per input.
    blur_sigma : float, default 2.0
        Gaussian sigma in pixels for ``"blurred"``.

    Returns
    -------
    tuple of ndarray
        Baselines with exactly the shapes of ``inputs``. A baseline shared by all galaxies (zeros, mean, a
        scalar, one galaxy's shape) is a read-only broadcast view: no copy of the size of the inputs.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(5, 2, 8, 8))         # 5 galaxies, 2 bands, 8 x 8 pixels
    >>> zeros, = make_baselines((x,))
    >>> mean, = make_baselines((x,), "mean")
    >>> blurred, = make_baselines((x,), "blurred", blur_sigma=1.0)
    >>> zeros.shape, bool(np.allclose(mean[0], x.mean(axis=0))), mean.flags.writeable   # shared: a view
    ((5, 2, 8, 8), True, False)
    >>> bool(blurred.std() < x.std())                                   # structure smoothed away
    True

    :func:`~interpret.attribution.attribute` builds them from its ``baselines=``:

    >>> import torch
    >>> from interpret.attribution import attribute
    >>> _ = torch.manual_seed(0)
    >>> m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(128, 1))
    >>> a = attribute(m, x.astype("float32"), baselines="blurred", n_steps=8, progress=False)
    >>> a.input_values(0).shape
    (5, 2, 8, 8)
    """
    if baselines is None:
        baselines = "zeros"
    if isinstance(baselines, tuple):
        if len(baselines) != len(inputs):
            raise ValidationError(f"attribute(): 'baselines' has {len(baselines)} entries for {len(inputs)} inputs")
        specs = baselines
    else:
        specs = (baselines,) * len(inputs)
    return tuple(_one(x, s, i, blur_sigma) for i, (x, s) in enumerate(zip(inputs, specs)))


def baseline_distribution(inputs: tuple[np.ndarray, ...], baselines: Any, *, n_baselines: int,
                          rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A set of reference inputs for the SHAP-style methods (DeepLiftShap, GradientShap).

    ``None`` draws ``n_baselines`` galaxies at random from the inputs themselves (the expectation over the
    data distribution of Lundberg & Lee 2017, arXiv:1705.07874); a string gives its single baseline (mean /
    zeros / blurred mean); an array with a first dimension different from N is used as the distribution.
    """
    n = inputs[0].shape[0]
    if baselines is None:
        idx = rng.choice(n, size=min(n_baselines, n), replace=False)
        return tuple(x[np.sort(idx)] for x in inputs)
    specs = baselines if isinstance(baselines, tuple) else (baselines,) * len(inputs)
    out = []
    for i, (x, spec) in enumerate(zip(inputs, specs)):
        if isinstance(spec, str) or np.isscalar(spec):
            out.append(_one(x, spec, i, 2.0).mean(axis=0, keepdims=True).astype(x.dtype))
        else:
            arr = np.asarray(spec, dtype=x.dtype)
            if arr.shape[1:] != x.shape[1:]:
                arr = arr.reshape((1,) + x.shape[1:]) if arr.shape == x.shape[1:] else arr
            if arr.shape[1:] != x.shape[1:]:
                raise ValidationError(f"attribute(): baseline distribution for input {i} has shape {arr.shape}; "
                                      f"expected (K, {', '.join(map(str, x.shape[1:]))})")
            out.append(arr)
    return tuple(out)
