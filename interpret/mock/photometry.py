"""Synthetic photometry of the mock galaxies through real filter curves, with a per-band noise model.

Each band's speclite response (via :mod:`interpret.data.bands`) is interpolated onto every galaxy's
redshifted rest-frame grid in chunks, so the photon-counting AB integral

``maggies = (1+z) ∫ f_rest(λ) R((1+z) λ) λ dλ / ∫ f_AB(λ) R(λ) λ dλ``

(Fukugita et al. 1996; ``f_rest`` the rest-frame SED dimmed by the luminosity distance) is one weighted sum
over the grid for all galaxies at once. Observed fluxes get Gaussian noise from the band's 5σ depth plus a
1 % calibration floor; magnitudes are asinh magnitudes (Lupton, Gunn & Szalay 1999, arXiv:astro-ph/9903081,
the SDSS convention), equal to AB magnitudes for well-detected sources and finite for negative fluxes.

Examples
--------
>>> import numpy as np
>>> from interpret.mock.photometry import asinh_magnitude, flux_from_asinh_magnitude
>>> m = asinh_magnitude(np.array([1e-8, -1e-10]), 1e-10)
>>> bool(np.allclose(flux_from_asinh_magnitude(m, 1e-10), [1e-8, -1e-10]))
True
"""
from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np

from ..data.bands import Band, BandSet
from ..exceptions import ValidationError
from .sed import SEDGrid

__all__ = [
    "band_maggies",
    "flux_noise",
    "sky_sigma",
    "asinh_magnitude",
    "asinh_magnitude_error",
    "flux_from_asinh_magnitude",
    "band_depths",
    "CALIBRATION_FLOOR",
    "DEFAULT_DEPTH",
    "DEEP_OFFSET",
]

#: Fractional calibration-error floor added in quadrature to the sky noise.
CALIBRATION_FLOOR = 0.01
#: 5σ depth (AB) used for bands that do not carry one.
DEFAULT_DEPTH = 22.0
#: Magnitudes added to a band's survey depth by ``depths="deep"`` (the mock's default), by band name first,
#: then by survey.
DEEP_OFFSET: dict[str, float] = {"W3": 3.5, "W4": 4.0, "sdss": 2.0, "wise": 2.5, "unwise": 1.5}
_AB_FNU = 3631e-23
_C_ANGSTROM = 2.99792458e18
_LN10 = np.log(10.0)


def _trapz_weights(x: np.ndarray) -> np.ndarray:
    w = np.zeros_like(x)
    d = np.diff(x)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


@functools.cache
def _zero_point(band: Band) -> float:
    fw, fr = band.transmission
    return float(np.sum(_AB_FNU * _C_ANGSTROM / fw**2 * fr * fw * _trapz_weights(fw)))


def band_depths(bands: BandSet, depths: str | Mapping[str, float] | None = "deep") -> np.ndarray:
    """5σ point-source depths (AB) per band.

    Parameters
    ----------
    bands : BandSet
    depths : {"deep", "survey"} or dict, default "deep"
        ``"survey"``: each band's published survey depth (22 where unknown). ``"deep"``: the survey depth
        plus :data:`DEEP_OFFSET` (SDSS +2.0 mag ≈ the Stripe 82 co-add, about 2 mag deeper than single-epoch
        SDSS: Annis et al. 2014, arXiv:1111.6619; Jiang et al. 2014, arXiv:1405.7382, 1.9-2.2 mag;
        W1/W2 +2.5, W3 +3.5, W4 +4.0 mag, a hypothetical deep mid-IR survey), so that most
        z <= 1 galaxies are detected in every default band. A dict maps band names to depths and uses ``"deep"`` for the others.
    """
    if depths is None:
        depths = "deep"
    if isinstance(depths, str):
        if depths not in ("deep", "survey"):
            raise ValidationError(f"make_universe(): unknown depths {depths!r}; valid values are 'deep', "
                                  "'survey' or a dict {band: 5-sigma AB depth}")
        mode, given = depths, {}
    else:
        mode, given = "deep", dict(depths)
    unknown = set(given) - set(bands.names)
    if unknown:
        raise ValidationError(f"make_universe(): 'depths' names unknown bands {sorted(unknown)}; "
                              f"valid names are {', '.join(bands.names)}")
    out = []
    for b in bands:
        base = b.depth if b.depth is not None else DEFAULT_DEPTH
        if mode == "deep":
            base += DEEP_OFFSET.get(b.name, DEEP_OFFSET.get(b.survey.lower(), 0.0))
        out.append(float(given.get(b.name, base)))
    return np.asarray(out, dtype=float)


def band_maggies(sed: np.ndarray, grid: SEDGrid, redshift: np.ndarray, d_l_pc: np.ndarray,
                 bands: BandSet) -> np.ndarray:
    """Noise-free observed AB fluxes [maggies] of rest-frame SEDs at 10 pc, shape (n, n_bands).

    Parameters
    ----------
    sed : numpy.ndarray, shape (n, L)
        Rest-frame f_λ at 10 pc [erg/s/cm²/Å] on ``grid.wave``.
    grid : SEDGrid
    redshift, d_l_pc : numpy.ndarray, shape (n,)
        Redshift and luminosity distance [pc].
    bands : BandSet
    """
    wave = grid.wave
    w = _trapz_weights(wave) * wave
    dim = (10.0 / np.asarray(d_l_pc)) ** 2 * (1.0 + redshift)
    out = np.empty((sed.shape[0], len(bands)))
    for j, band in enumerate(bands):
        fw, fr = band.transmission
        lo = max(np.searchsorted(wave, fw[0] / (1 + redshift.max())) - 1, 0)
        hi = np.searchsorted(wave, fw[-1] / (1 + redshift.min())) + 1
        if lo == 0 or hi >= wave.size:
            raise ValidationError(f"make_universe(): band {band.name!r} is outside the SED model's rest-frame "
                                  f"range {wave[0]:.0f}-{wave[-1]:.0f} A at these redshifts; drop it or narrow "
                                  "'redshift_range'")
        resp = np.interp(wave[None, lo:hi] * (1.0 + redshift[:, None]), fw, fr, left=0.0, right=0.0)
        out[:, j] = np.einsum("nl,nl,l->n", sed[:, lo:hi], resp, w[lo:hi]) / _zero_point(band)
    return out * dim[:, None]


def sky_sigma(depths: np.ndarray | float) -> np.ndarray:
    """1σ sky noise [maggies] of a 5σ point-source depth (AB); also the asinh-magnitude softening."""
    return 10.0 ** (-0.4 * np.asarray(depths, dtype=float)) / 5.0


def flux_noise(maggies: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """1σ flux errors [maggies]: sky noise of the 5σ depth plus a 1 % calibration floor, in quadrature."""
    sky = sky_sigma(depths)
    return np.sqrt(sky[None, :] ** 2 + (CALIBRATION_FLOOR * maggies) ** 2)


def asinh_magnitude(maggies: np.ndarray, softening: np.ndarray | float) -> np.ndarray:
    """Asinh magnitude ``-2.5/ln10 [asinh(f / 2b) + ln b]`` (Lupton et al. 1999); b the softening [maggies]."""
    b = np.asarray(softening, dtype=float)
    return -2.5 / _LN10 * (np.arcsinh(maggies / (2.0 * b)) + np.log(b))


def asinh_magnitude_error(maggies: np.ndarray, sigma: np.ndarray, softening: np.ndarray | float) -> np.ndarray:
    """Propagated asinh-magnitude error ``2.5/ln10 σ / sqrt(f² + 4 b²)``."""
    b = np.asarray(softening, dtype=float)
    return 2.5 / _LN10 * sigma / np.sqrt(maggies**2 + 4.0 * b**2)


def flux_from_asinh_magnitude(mag: np.ndarray, softening: np.ndarray | float) -> np.ndarray:
    """Invert :func:`asinh_magnitude`: flux in maggies."""
    b = np.asarray(softening, dtype=float)
    return 2.0 * b * np.sinh(-_LN10 / 2.5 * np.asarray(mag) - np.log(b))
