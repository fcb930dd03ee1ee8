"""Which spectral lines does a spectrum model look at? Attribution in line windows vs nearby continuum.

For every catalogue feature (:mod:`interpret.data.lines`) covered by the spectra, the attribution inside the
feature's window is compared with what the neighbouring continuum (side bands free of other features) would
put in a window of the same width. The *excess* is averaged over galaxies with a bootstrap confidence
interval, and features are ranked by it.

Examples
--------
>>> import numpy as np
>>> from interpret.attribution import line_importance
>>> wl = np.linspace(6000.0, 7000.0, 1001)
>>> v = np.random.default_rng(0).normal(0, 1e-3, (20, wl.size))
>>> v[:, np.abs(wl - 6564.61) < 8] += 1.0
>>> line_importance(v, wl, n_boot=100, seed=0).index[0]
'Halpha'
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._compat import renamed_keywords
from .._guards import check_memory
from .._validation import as_generator, check_array, check_choice, check_fraction, check_int
from ..data.lines import LINES, Line, get_line
from ..exceptions import ValidationError
from .aggregate import normalize_maps

__all__ = ["line_importance"]

_FUNC = "line_importance"


def _redshifts(redshift: Any, n: int, frame: str) -> np.ndarray:
    if frame == "rest":
        if redshift is not None and np.any(np.asarray(redshift, dtype=float) != 0):
            raise ValidationError(f"{_FUNC}(): frame='rest' means 'wavelength' is already rest-frame; drop "
                                  "'redshift' or use frame='observed'")
        return np.zeros(n)
    z = np.zeros(n) if redshift is None else np.asarray(redshift, dtype=float)
    z = np.broadcast_to(z, (n,)) if z.ndim == 0 else z
    if z.shape != (n,):
        raise ValidationError(f"{_FUNC}(): 'redshift' must be a scalar or have one value per galaxy ({n}); "
                              f"got shape {z.shape}")
    if not np.all(np.isfinite(z)) or np.any(z <= -1):
        raise ValidationError(f"{_FUNC}(): 'redshift' must be finite and > -1")
    return z


def _window_sums(cs: np.ndarray, wl: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per-galaxy sum of the quantity whose row-wise cumulative sum is ``cs`` (N, L+1) over [lo, hi]."""
    i0 = np.searchsorted(wl, lo, side="left")
    i1 = np.searchsorted(wl, hi, side="right")
    rows = np.arange(cs.shape[0])
    return cs[rows, i1] - cs[rows, i0]


def _line_mask(wl: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(N, L) True where a pixel lies inside any narrow feature's window (observed frame).

    Broad breaks (D4000, +-125 A) are not masked: they would swallow the side bands of the lines they contain.
    """
    mask = np.zeros((z.size, wl.size), dtype=bool)
    for line in (f for f in LINES if f.kind != "break"):
        lo, hi = (line.wavelength - line.window) * (1 + z), (line.wavelength + line.window) * (1 + z)
        mask |= (wl[None, :] >= lo[:, None]) & (wl[None, :] <= hi[:, None])
    return mask


def _score(line: Line, a: np.ndarray, wl: np.ndarray, z: np.ndarray, cum: dict, cont_w: float,
           gap: float) -> dict:
    s = 1.0 + z
    c, hw = line.wavelength * s, line.window * s
    covered = (c - hw >= wl[0]) & (c + hw <= wl[-1])
    mass = _window_sums(cum["a"], wl, c - hw, c + hw)
    npix = _window_sums(cum["n"], wl, c - hw, c + hw)
    cw, g = cont_w * s, gap * s
    cmass = sum(_window_sums(cum["ca"], wl, lo, hi) for lo, hi in
                ((c - hw - g - cw, c - hw - g), (c + hw + g, c + hw + g + cw)))
    cpix = sum(_window_sums(cum["cn"], wl, lo, hi) for lo, hi in
               ((c - hw - g - cw, c - hw - g), (c + hw + g, c + hw + g + cw)))
    dens = cmass / np.maximum(cpix, 1)
    return {"covered": covered & (npix > 0) & (cpix > 0), "window": mass, "continuum": dens * npix, "npix": npix,
            "window_density": mass / np.maximum(npix, 1), "continuum_density": dens}


def _bootstrap(x: np.ndarray, n_boot: int, ci: float, rng: np.random.Generator) -> tuple[float, float]:
    if x.size < 2 or n_boot == 0:
        return (np.nan, np.nan)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    q = (1.0 - ci) / 2.0
    return float(np.quantile(means, q)), float(np.quantile(means, 1.0 - q))


def _prepare(values: Any, wavelength: Any) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(values, "input_values"):
        values = values.input_values(0)
    v = check_array(values, "values", _FUNC, ndim=2).astype(float)
    wl = check_array(wavelength, "wavelength", _FUNC, ndim=1).astype(float)
    if wl.size != v.shape[1]:
        raise ValidationError(f"{_FUNC}(): 'wavelength' has {wl.size} pixels but 'values' has {v.shape[1]}")
    if np.any(np.diff(wl) <= 0):
        raise ValidationError(f"{_FUNC}(): 'wavelength' must be strictly increasing (Angstrom)")
    return v, wl


@renamed_keywords(ci="ci_level")
def line_importance(
    values: Any,
    wavelength: Any,
    lines: Sequence[str | Line] | None = None,
    redshift: float | np.ndarray | None = None,
    *,
    frame: str | None = None,
    absolute: bool = True,
    normalize: bool = True,
    continuum_width: float = 30.0,
    gap: float = 5.0,
    n_boot: int = 1000,
    ci_level: float = 0.9,
    min_coverage: float = 0.1,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Rank spectral features by the attribution they carry above the nearby continuum.

    Parameters
    ----------
    values : ndarray (N, L) or Attribution
        Per-galaxy attributions on the ``wavelength`` grid.
    wavelength : ndarray (L,)
        Strictly increasing wavelength grid in Angstrom (vacuum).
    lines : sequence of str or Line, optional
        Features to score; default every catalogue feature covered by the grid.
    redshift : float or ndarray (N,), optional
        Galaxy redshifts, for spectra on an observed-frame grid.
    frame : {"rest", "observed"}, optional
        Frame of ``wavelength``. "observed": each galaxy's windows are shifted and stretched by (1 + z);
        "rest": the grid is rest-frame (no ``redshift``). Default: "observed" when ``redshift`` is given.
    absolute : bool, default True
        Score |attribution| (importance) rather than the signed attribution.
    normalize : bool, default True
        Give every galaxy unit total absolute attribution, so values are fractions and galaxies weigh equally.
    continuum_width, gap : float, default 30.0 and 5.0
        Width of each of the two continuum side bands and their gap to the window, rest-frame Angstrom.
        Side-band pixels inside other narrow features' windows are excluded; a galaxy whose side bands hold
        no free pixel is not used for that feature.
    n_boot : int, default 1000
        Bootstrap resamples of galaxies for the confidence interval (0: none).
    ci_level : float, default 0.9
        Confidence level of the interval (``ci=``: its old name, FutureWarning).
    min_coverage : float, default 0.1
        Keep a feature only if at least this fraction of galaxies cover its whole window.
    seed : int or Generator, optional
        Bootstrap randomness.

    Returns
    -------
    DataFrame indexed by line name, sorted by ``excess`` (descending), columns: ``rank``, ``excess``
    (window minus continuum expectation, mean over galaxies), ``ci_low``, ``ci_high``, ``window``,
    ``continuum``, ``ratio`` (window / continuum attribution density), ``significant`` (``ci_low > 0``),
    ``n_galaxies``, ``wavelength`` (rest, Å), ``half_width`` (rest, Å), ``kind``, ``label``.

    Examples
    --------
    >>> import numpy as np
    >>> wl = np.arange(6400.0, 6700.0, 1.0)                          # rest-frame grid around H-alpha
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(0.0, 0.01, size=(40, wl.size))                 # 40 galaxies of small noise ...
    >>> a[:, np.abs(wl - 6564.6) < 3] += 0.2                         # ... plus attribution on H-alpha
    >>> t = line_importance(a, wl, lines=["Halpha", "[NII]6584"], n_boot=200, seed=0)
    >>> t.index.tolist(), t["significant"].tolist()
    (['Halpha', '[NII]6584'], [True, False])
    """
    v, wl = _prepare(values, wavelength)
    frame = frame or ("observed" if redshift is not None else "rest")
    check_choice(frame, "frame", _FUNC, ("rest", "observed"))
    n_boot = check_int(n_boot, "n_boot", _FUNC, minimum=0)
    check_memory(_FUNC, f"n_boot={n_boot} resamples of {len(v)} galaxies", 16.0 * n_boot * len(v), "'n_boot'",
                 hint="1000-10000 resamples give stable intervals")
    ci_level = check_fraction(ci_level, "ci_level", _FUNC)
    min_coverage = check_fraction(min_coverage, "min_coverage", _FUNC, inclusive=True)
    z = _redshifts(redshift, v.shape[0], frame)
    feats = list(LINES) if lines is None else [get_line(x) for x in lines]
    a = normalize_maps(v) if normalize else v
    a = np.abs(a) if absolute else a
    free = ~_line_mask(wl, z)
    pad = np.zeros((a.shape[0], 1))
    cum = {"a": np.hstack([pad, np.cumsum(a, 1)]), "n": np.hstack([pad, np.cumsum(np.ones_like(a), 1)]),
           "ca": np.hstack([pad, np.cumsum(a * free, 1)]), "cn": np.hstack([pad, np.cumsum(free, 1)])}
    rng = as_generator(seed)
    rows = []
    for line in feats:
        s = _score(line, a, wl, z, cum, continuum_width, gap)
        cov = s["covered"]
        if cov.mean() < min_coverage or not cov.any():
            continue
        excess = (s["window"] - s["continuum"])[cov]
        lo, hi = _bootstrap(excess, n_boot, ci_level, rng)
        cd = s["continuum_density"][cov].mean()
        rows.append({"name": line.name, "excess": excess.mean(), "ci_low": lo, "ci_high": hi,
                     "window": s["window"][cov].mean(), "continuum": s["continuum"][cov].mean(),
                     "ratio": s["window_density"][cov].mean() / cd if cd > 0 else np.inf,
                     "significant": bool(lo > 0), "n_galaxies": int(cov.sum()),
                     "wavelength": line.wavelength, "half_width": line.window, "kind": line.kind,
                     "label": line.label or line.name})
    if not rows:
        raise ValidationError(f"{_FUNC}(): no catalogue feature lies inside the wavelength range "
                              f"{wl[0]:.0f}-{wl[-1]:.0f} A for >= {min_coverage:.0%} of galaxies; check "
                              "'wavelength', 'redshift' and 'frame'")
    table = pd.DataFrame(rows).set_index("name").sort_values("excess", ascending=False)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
