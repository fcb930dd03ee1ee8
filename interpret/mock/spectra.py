"""SDSS-like optical spectra of the mock galaxies.

The rest-frame SED (:func:`interpret.mock.sed.rest_frame_sed`) is built on a rest-frame log-λ grid with the
same step as the observed one (Δlog10 λ = 1e-4, 69 km/s per pixel, as SDSS), so redshifting is a shift by
``log10(1+z) / 1e-4`` pixels done by linear interpolation for all galaxies of a chunk at once. Emission
lines have a 80 km/s gas dispersion plus the instrumental resolution R = 2000, added in quadrature.
The observed spectrum is ``f_10pc(λ/(1+z)) (10 pc / d_L)² / (1+z)`` in **1e-17 erg/s/cm²/Å** (SDSS units),
total-flux (aperture-corrected), over 3800–9200 Å by default.

Noise: Gaussian with ``σ² = σ_sky² + 0.01 (σ_sky / 1.5)² |f|`` per pixel (sky plus the source's own shot
noise, both in 1e-17 units). SDSS-like spectra have σ_sky ≈ 1.5 and there the shot-noise coefficient is 0.01:
a 45-minute SDSS exposure collects about 120 photons per 1.4 Å pixel per 1e-17 erg/s/cm²/Å at 6000 Å (4.1 m²
of aperture, 25 % throughput), so the variance of a flux f from its own photons is about f / 120. A deeper
spectrum lowers both terms together: both variances fall as 1 / exposure, hence the ``(σ_sky / 1.5)²``. The default σ_sky = 0.15, ten times lower than SDSS (a deep, stacked spectroscopic field rather than a wide survey; a
hundred times the exposure), keeps the lines that set the mid-infrared in this mock (Hβ, [O III], [O II] and
the Balmer decrement) measurable out to z ≈ 1, where Hα has left the window. Pass ``spectral_noise=1.5`` for
SDSS depth. ``spectra_ivar`` is ``1 / σ²``.

Examples
--------
>>> from interpret.mock.spectra import observed_grid
>>> w = observed_grid()
>>> bool(3800 <= w[0] < 3801 and 9195 < w[-1] <= 9200), w.size
(True, 3840)
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .sed import SEDGrid, fine_grid, rest_frame_sed

__all__ = ["OBSERVED_RANGE", "DLOG", "DEFAULT_SKY_SIGMA", "SDSS_SKY_SIGMA", "SDSS_SHOT_COEFF", "observed_grid", "rest_grid_for",
           "noise_free_spectra", "spectral_sigma"]

#: Default observed wavelength range [Angstrom] (SDSS spectrograph).
OBSERVED_RANGE = (3800.0, 9200.0)
#: Pixel size in log10(wavelength) (SDSS).
DLOG = 1e-4
#: Default per-pixel sky noise [1e-17 erg/s/cm^2/A].
DEFAULT_SKY_SIGMA = 0.15
#: Per-pixel sky noise of a single SDSS exposure [1e-17 erg/s/cm^2/A] and the shot-noise variance per unit
#: flux at that depth (photons of the source itself; both variances scale as 1 / exposure).
SDSS_SKY_SIGMA = 1.5
SDSS_SHOT_COEFF = 0.01


def observed_grid(lo: float = OBSERVED_RANGE[0], hi: float = OBSERVED_RANGE[1], dlog: float = DLOG) -> np.ndarray:
    """Observed-frame log-λ grid [Angstrom]: pixels at integer multiples of ``dlog`` in log10 λ within [lo, hi]."""
    i0 = int(np.ceil(np.log10(lo) / dlog - 1e-9))
    i1 = int(np.floor(np.log10(hi) / dlog + 1e-9))
    return 10.0 ** (np.arange(i0, i1 + 1) * dlog)


def rest_grid_for(wave_obs: np.ndarray, redshift_range: tuple[float, float], dlog: float = DLOG) -> SEDGrid:
    """The cached rest-frame fine grid covering ``wave_obs`` for every redshift in ``redshift_range``."""
    lo = np.floor(wave_obs[0] / (1 + redshift_range[1])) - 5.0
    hi = np.ceil(wave_obs[-1] / (1 + redshift_range[0])) + 5.0
    return fine_grid(float(lo), float(hi), dlog)


def noise_free_spectra(pop: Mapping[str, np.ndarray], redshift: np.ndarray, d_l_pc: np.ndarray,
                       wave_obs: np.ndarray, grid: SEDGrid, dlog: float = DLOG) -> np.ndarray:
    """Observed spectra [1e-17 erg/s/cm²/Å] on ``wave_obs``, shape (n, L), float32, without noise.

    Parameters
    ----------
    pop : mapping of arrays
        Physical columns of the galaxies (see :func:`interpret.mock.sed.rest_frame_sed`).
    redshift, d_l_pc : numpy.ndarray, shape (n,)
    wave_obs : numpy.ndarray, shape (L,)
        From :func:`observed_grid` (same ``dlog``).
    grid : SEDGrid
        From :func:`rest_grid_for`.
    """
    rest, _ = rest_frame_sed(pop, grid, bulge=False)
    x = (np.log10(wave_obs)[None, :] - np.log10(1.0 + redshift)[:, None] - np.log10(grid.wave[0])) / dlog
    i0 = np.clip(np.floor(x).astype(np.int64), 0, grid.wave.size - 2)
    frac = x - i0
    spec = np.take_along_axis(rest, i0, axis=1) * (1 - frac) + np.take_along_axis(rest, i0 + 1, axis=1) * frac
    spec *= ((10.0 / d_l_pc) ** 2 / (1.0 + redshift) * 1e17)[:, None]
    return spec.astype(np.float32)


def spectral_sigma(spec: np.ndarray, sky_sigma: float) -> np.ndarray:
    """Per-pixel noise σ [1e-17 erg/s/cm²/Å]: ``sqrt(σ_sky² + 0.01 (σ_sky / 1.5)² |f|)``.

    The exposure that sets the sky noise sets the source's shot noise too (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> float(spectral_sigma(np.array([0.0]), 1.5)[0]), round(float(spectral_sigma(np.array([100.0]), 1.5)[0]), 3)
    (1.5, 1.803)
    >>> round(float(spectral_sigma(np.array([100.0]), 0.15)[0]), 4)   # ten times deeper: both terms / 10
    0.1803
    """
    shot = SDSS_SHOT_COEFF * (float(sky_sigma) / SDSS_SKY_SIGMA) ** 2
    return np.sqrt(np.float32(sky_sigma) ** 2 + np.float32(shot) * np.abs(spec)).astype(np.float32)
