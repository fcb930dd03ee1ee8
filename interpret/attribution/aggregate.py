"""Aggregate attribution maps: mass per band, radial profiles, stacked mean maps, per-wavelength curves.

All functions take a ``values`` array (N, ...) of attributions (galaxies first) and return small tables.
Per-galaxy normalisation (``normalize=True``) divides each galaxy's map by its total absolute attribution so
that every galaxy counts equally in the stack.

Examples
--------
>>> import numpy as np
>>> from interpret.attribution.aggregate import per_band
>>> v = np.zeros((2, 3, 4, 4)); v[:, 1] = 1.0
>>> per_band(v, ["g", "r", "i"])["abs_fraction"].tolist()
[0.0, 1.0, 0.0]
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ValidationError

__all__ = ["band_names", "per_band", "radial_profile", "mean_map", "per_wavelength", "normalize_maps"]


def band_names(bands: Any, n: int, func: str = "per_band") -> list[str]:
    """Names from a BandSet (``.names``), a sequence of names, or None (``band_0`` ...)."""
    if bands is None:
        return [f"band_{i}" for i in range(n)]
    names = list(getattr(bands, "names", bands))
    names = [str(getattr(b, "name", b)) for b in names]
    if len(names) != n:
        raise ValidationError(f"{func}(): 'bands' has {len(names)} names but the attribution has {n} channels "
                              "along axis 1; pass the image bands in channel order")
    return names


def normalize_maps(values: np.ndarray) -> np.ndarray:
    """Divide each galaxy's map by its total absolute attribution (all-zero maps stay zero)."""
    flat = np.abs(values.reshape(values.shape[0], -1)).sum(axis=1)
    scale = np.where(flat > 0, flat, 1.0).reshape((-1,) + (1,) * (values.ndim - 1))
    return values / scale


def per_band(values: np.ndarray, bands: Any = None) -> pd.DataFrame:
    """Signed and absolute attribution mass per band (axis 1), averaged over galaxies.

    Parameters
    ----------
    values : ndarray, shape (N, C, ...)
    bands : BandSet, sequence of str or None
        Channel names in order.

    Returns
    -------
    DataFrame indexed by band with columns ``signed`` (mean per-galaxy sum), ``absolute`` (mean per-galaxy
    sum of |a|), ``signed_fraction`` and ``abs_fraction`` (of the total absolute mass), and
    ``abs_fraction_std`` (spread of the per-galaxy absolute fraction across galaxies).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((4, 3, 5, 5))                                  # 4 galaxies, bands g, r, i
    >>> a[:, 0] = 0.3                                                # all attribution in g and r
    >>> a[:, 1] = -0.1
    >>> t = per_band(a, ["g", "r", "i"])
    >>> t["signed"].round(2).to_dict(), t["abs_fraction"].round(2).to_dict()
    ({'g': 7.5, 'r': -2.5, 'i': 0.0}, {'g': 0.75, 'r': 0.25, 'i': 0.0})
    """
    if values.ndim < 2:
        raise ValidationError("per_band(): attributions need a band axis (axis 1); got a 1-D array")
    names = band_names(bands, values.shape[1])
    red = tuple(range(2, values.ndim))
    signed = values.sum(axis=red) if red else values
    absolute = np.abs(values).sum(axis=red) if red else np.abs(values)
    tot = absolute.sum()
    tot = tot if tot > 0 else 1.0
    per_gal = absolute / np.where(absolute.sum(1, keepdims=True) > 0, absolute.sum(1, keepdims=True), 1.0)
    frame = pd.DataFrame({
        "signed": signed.mean(0), "absolute": absolute.mean(0),
        "signed_fraction": signed.sum(0) / tot, "abs_fraction": absolute.sum(0) / tot,
        "abs_fraction_std": per_gal.std(0),
    }, index=pd.Index(names, name="band"))
    return frame


def _radii(shape: tuple[int, int], center: Sequence[float] | None) -> np.ndarray:
    h, w = shape
    cy, cx = ((h - 1) / 2.0, (w - 1) / 2.0) if center is None else (float(center[0]), float(center[1]))
    yy, xx = np.mgrid[0:h, 0:w]
    return np.hypot(yy - cy, xx - cx)


def radial_profile(values: np.ndarray, bands: Any = None, *, center: Sequence[float] | None = None,
                   n_bins: int = 8, r_max: float | None = None, absolute: bool = True,
                   normalize: bool = True) -> pd.DataFrame:
    """Mean attribution per pixel in circular annuli around the galaxy centre (core vs outskirts).

    Parameters
    ----------
    values : ndarray, shape (N, C, H, W) or (N, H, W)
    bands : BandSet, sequence of str or None
    center : (y, x) in pixels, optional
        Default: the image centre.
    n_bins : int, default 8
        Number of annuli of equal width out to ``r_max`` (default: half the smaller image side).
    absolute : bool, default True
        Profile of |attribution| (importance) rather than the signed value.
    normalize : bool, default True
        Normalise each galaxy's map to unit total absolute mass first.

    Returns
    -------
    DataFrame with one row per annulus: ``r_lo``, ``r_hi``, ``r_mid`` (pixels), ``n_pixels``, one column per
    band (mean per pixel, averaged over galaxies), ``total`` (summed over bands) and ``cumulative_fraction``
    (share of the total absolute mass inside ``r_hi``).

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[0:9, 0:9]
    >>> core = np.exp(-((yy - 4) ** 2 + (xx - 4) ** 2) / 2.0)       # attribution peaked on the centre
    >>> a = np.broadcast_to(core, (3, 2, 9, 9))                      # 3 galaxies, bands g, r
    >>> p = radial_profile(a, ["g", "r"], n_bins=3)
    >>> p["n_pixels"].tolist(), p["cumulative_fraction"].round(2).tolist()
    ([9, 16, 44], [0.78, 0.98, 1.0])
    """
    v = values[:, None] if values.ndim == 3 else values
    if v.ndim != 4:
        raise ValidationError(f"radial_profile(): needs images (N, C, H, W); got shape {values.shape}")
    names = band_names(bands, v.shape[1], "radial_profile")
    v = normalize_maps(v) if normalize else v
    v = np.abs(v) if absolute else v
    r = _radii(v.shape[2:], center)
    r_max = float(min(v.shape[2:]) / 2.0) if r_max is None else float(r_max)
    edges = np.linspace(0.0, r_max, n_bins + 1)
    which = np.digitize(r, edges[1:-1])
    which[r >= r_max] = -1
    mean_map = v.mean(axis=0)
    rows, abs_map = [], np.abs(mean_map).sum(0)
    tot = abs_map.sum() or 1.0
    for k in range(n_bins):
        sel = which == k
        row = {"r_lo": edges[k], "r_hi": edges[k + 1], "r_mid": 0.5 * (edges[k] + edges[k + 1]),
               "n_pixels": int(sel.sum())}
        for i, name in enumerate(names):
            row[name] = float(mean_map[i][sel].mean()) if sel.any() else np.nan
        row["total"] = float(mean_map[:, sel].sum(0).mean()) if sel.any() else np.nan
        row["cumulative_fraction"] = float(abs_map[r < edges[k + 1]].sum() / tot)
        rows.append(row)
    return pd.DataFrame(rows).rename_axis("annulus")


def mean_map(values: np.ndarray, *, absolute: bool = False, normalize: bool = False) -> np.ndarray:
    """Stacked mean map over galaxies, shape ``values.shape[1:]``.

    ``normalize=True`` gives every galaxy unit total absolute mass first; ``absolute=True`` stacks |a|.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[[1.0, -1.0]], [[3.0, 1.0]]])                  # 2 galaxies, shape (1, 2) each
    >>> mean_map(a).tolist(), mean_map(a, absolute=True).tolist()
    ([[2.0, 0.0]], [[2.0, 1.0]])
    >>> mean_map(a, normalize=True).tolist()                        # each galaxy to unit absolute mass first
    [[0.625, -0.125]]
    """
    v = normalize_maps(values) if normalize else values
    return (np.abs(v) if absolute else v).mean(axis=0)


def per_wavelength(values: np.ndarray, wavelength: np.ndarray | None = None, *,
                   normalize: bool = False) -> pd.DataFrame:
    """Attribution as a function of wavelength for spectra (N, L), averaged over galaxies.

    Returns a DataFrame indexed by wavelength (Å; pixel index when None) with columns ``mean``,
    ``abs_mean``, ``std`` and ``abs_fraction`` (share of the total absolute mass in each pixel).

    Examples
    --------
    >>> import numpy as np
    >>> wl = np.array([6540.0, 6560.0, 6580.0])
    >>> a = np.array([[0.1, 0.8, 0.1], [0.0, 0.6, -0.2]])              # 2 spectra, peaked near H-alpha
    >>> p = per_wavelength(a, wl)
    >>> p["mean"].round(2).tolist(), p["abs_fraction"].round(2).tolist(), float(p["abs_mean"].idxmax())
    ([0.05, 0.7, -0.05], [0.06, 0.78, 0.17], 6560.0)
    """
    if values.ndim != 2:
        raise ValidationError(f"per_wavelength(): needs spectra (N, L); got shape {values.shape}")
    v = normalize_maps(values) if normalize else values
    wl = np.arange(v.shape[1], dtype=float) if wavelength is None else np.asarray(wavelength, dtype=float)
    if wl.shape != (v.shape[1],):
        raise ValidationError(f"per_wavelength(): 'wavelength' has shape {wl.shape}; expected ({v.shape[1]},)")
    a = np.abs(v).mean(0)
    return pd.DataFrame({"mean": v.mean(0), "abs_mean": a, "std": v.std(0),
                         "abs_fraction": a / (a.sum() or 1.0)}, index=pd.Index(wl, name="wavelength"))
