"""Multi-band image cutouts of the mock galaxies: bulge + disk Sérsic profiles, per-band PSF and noise.

Every galaxy is a disk (Sérsic n = 1, half-light radius ``r_eff``, axis ratio ``axis_ratio``) plus a bulge
(Sérsic index ``sersic_n``, half-light radius 0.5 ``r_eff``, rounder: q_b = 0.5 + 0.5 q), sharing the
position angle. Angular sizes follow from the Planck 2018 angular-diameter distance. Each band's image is
``F_band [f_bulge,band B + (1 - f_bulge,band) D]`` where ``f_bulge,band`` is the bulge's share of that
band's flux from its own (old, redder) SED: bulges are redder than disks, so images carry colour gradients.
Profiles are convolved with a Gaussian PSF of the survey's FWHM (SDSS ≈ 1.3", WISE 6–12"; Wright et al.
2010, arXiv:1008.0031), truncated at the stamp edge and re-normalised, so the noise-free stamp sums exactly
to the catalogue's band flux. Gaussian sky noise per pixel follows the band's 5σ point-source depth over the
PSF's noise-equivalent area ``4π σ_PSF²``.

Units: **nanomaggies per pixel** (1 nanomaggy = 3.631 µJy, AB 22.5); the pixel scale (default 0.8″) is
common to all bands, coarser than SDSS's 0.396″ so that the WISE PSFs fit the stamp.

Examples
--------
>>> import numpy as np
>>> from interpret.mock.images import sersic_b, psf_fwhm_arcsec
>>> round(float(sersic_b(np.array(4.0))[()]), 3)
7.669
>>> psf_fwhm_arcsec(["r", "W4"]).tolist()
[1.32, 12.0]
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.fft

from ..exceptions import ValidationError

__all__ = [
    "PSF_FWHM_ARCSEC",
    "DEFAULT_PIXEL_SCALE",
    "psf_fwhm_arcsec",
    "check_image_size",
    "sersic_b",
    "render_profiles",
    "render_images",
    "pixel_noise",
]

#: Typical PSF FWHM [arcsec] per band name (SDSS DR7 median seeing; WISE: Wright et al. 2010).
PSF_FWHM_ARCSEC: dict[str, float] = {
    "u": 1.53, "g": 1.44, "r": 1.32, "i": 1.26, "z": 1.29,
    "W1": 6.1, "W2": 6.4, "W3": 6.5, "W4": 12.0,
    "FUV": 4.2, "NUV": 5.3, "J": 2.9, "H": 2.8, "Ks": 2.9, "y": 1.0,
}
_SURVEY_FWHM = {"hsc": 0.6, "lsst": 0.7, "legacy": 1.3, "panstarrs": 1.1, "galex": 5.0, "2mass": 2.9,
                "unwise": 6.3, "sdss": 1.35, "wise": 6.3}
#: Default pixel scale [arcsec/pixel], common to all bands.
DEFAULT_PIXEL_SCALE = 0.8


def psf_fwhm_arcsec(names: Sequence[str], surveys: Sequence[str] | None = None) -> np.ndarray:
    """PSF FWHM [arcsec] per band: survey-specific value, else the band-name table, else 1.3″."""
    out = []
    for i, name in enumerate(names):
        survey = surveys[i].lower() if surveys is not None else None
        if survey in ("hsc", "lsst", "legacy", "panstarrs"):
            out.append(_SURVEY_FWHM[survey])
        else:
            out.append(PSF_FWHM_ARCSEC.get(name, _SURVEY_FWHM.get(survey or "", 1.3)))
    return np.asarray(out, dtype=float)


def check_image_size(image_size: int, fwhm_px: np.ndarray, names: Sequence[str], func: str) -> None:
    """Raise unless the stamp is at least 8 pixels and twice the broadest PSF FWHM."""
    need = max(8, int(np.ceil(2.0 * float(np.max(fwhm_px)))))
    if image_size < need:
        worst = names[int(np.argmax(fwhm_px))]
        raise ValidationError(
            f"{func}(): 'image_size' {image_size} is too small for the PSF of band {worst!r} "
            f"(FWHM {float(np.max(fwhm_px)):.1f} pixels); use image_size >= {need}, a coarser 'pixel_scale', "
            "or drop that band"
        )


def sersic_b(n: np.ndarray) -> np.ndarray:
    """Sérsic b_n with half the light inside R_e (Ciotti & Bertin 1999, arXiv:astro-ph/9911078, eq. 18)."""
    n = np.asarray(n, dtype=float)
    return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n**2)


def render_profiles(r_e_px: np.ndarray, n: np.ndarray, q: np.ndarray, pa_deg: np.ndarray,
                    size: int) -> np.ndarray:
    """Unit-sum elliptical Sérsic profiles on a ``size``×``size`` grid centred at pixel ``size // 2``.

    Parameters
    ----------
    r_e_px, n, q, pa_deg : numpy.ndarray, shape (m,)
        Half-light radius along the major axis [pixels], Sérsic index, axis ratio, position angle [deg,
        counter-clockwise from +x].
    size : int

    Returns
    -------
    numpy.ndarray, float32, shape (m, size, size)
    """
    c = np.arange(size, dtype=np.float32) - size // 2
    theta = np.deg2rad(pa_deg).astype(np.float32)[:, None, None]
    cos, sin = np.cos(theta), np.sin(theta)
    dx, dy = c[None, None, :], c[None, :, None]
    xp = dx * cos + dy * sin
    yp = (-dx * sin + dy * cos) / np.asarray(q, dtype=np.float32)[:, None, None]
    r = np.sqrt(xp**2 + yp**2 + np.float32(0.0625))  # quarter-pixel softening of the core
    rr = r / np.maximum(np.asarray(r_e_px, dtype=np.float32), np.float32(0.05))[:, None, None]
    nn = np.asarray(n, dtype=np.float32)[:, None, None]
    img = np.exp(-sersic_b(nn).astype(np.float32) * rr ** (1.0 / nn))
    img /= img.sum(axis=(1, 2), keepdims=True)
    return img


def pixel_noise(sigma_flux_nmgy: np.ndarray, fwhm_px: np.ndarray) -> np.ndarray:
    """Per-pixel sky σ [nanomaggies] giving point-source flux error ``sigma_flux`` over a Gaussian PSF."""
    sig = fwhm_px / 2.3548
    return sigma_flux_nmgy / np.sqrt(4.0 * np.pi * sig**2)


def render_images(flux_nmgy: np.ndarray, bulge_nmgy: np.ndarray, morph: dict[str, np.ndarray],
                  fwhm_px: np.ndarray, sigma_pix: np.ndarray, image_size: int,
                  rng: np.random.Generator | None) -> np.ndarray:
    """Render noisy multi-band cutouts.

    Parameters
    ----------
    flux_nmgy, bulge_nmgy : numpy.ndarray, shape (m, B)
        Noise-free band fluxes of the galaxy and of its bulge [nanomaggies].
    morph : dict of arrays, shape (m,)
        ``r_eff_px`` (disk half-light radius in pixels), ``sersic_n``, ``axis_ratio``, ``position_angle``.
    fwhm_px, sigma_pix : numpy.ndarray, shape (B,)
        PSF FWHM and per-pixel noise σ per band.
    image_size : int
    rng : numpy.random.Generator or None
        Noise generator; None renders noise-free images.

    Returns
    -------
    numpy.ndarray, float32, shape (m, B, image_size, image_size)
    """
    h = image_size
    pad = int(np.ceil(3.0 * float(np.max(fwhm_px)) / 2.3548))
    size = int(scipy.fft.next_fast_len(h + 2 * pad, real=True))
    size += size % 2
    q = morph["axis_ratio"]
    disk = render_profiles(morph["r_eff_px"], np.ones_like(q), q, morph["position_angle"], size)
    bulge = render_profiles(0.5 * morph["r_eff_px"], morph["sersic_n"], 0.5 + 0.5 * q,
                            morph["position_angle"], size)
    spec = scipy.fft.rfft2(np.stack([bulge, disk], axis=1), workers=1)       # (m, 2, P, P/2+1)
    ky = scipy.fft.fftfreq(size)[:, None]
    kx = scipy.fft.rfftfreq(size)[None, :]
    s0 = size // 2 - h // 2  # crop so the centre pixel size//2 lands on h//2
    out = np.empty((flux_nmgy.shape[0], len(fwhm_px), h, h), dtype=np.float32)
    safe = np.where(flux_nmgy != 0, flux_nmgy, 1.0)
    frac = np.clip(bulge_nmgy / safe, 0.0, 1.0).astype(np.float32)             # bulge share per band
    for b, fwhm in enumerate(fwhm_px):
        sig = fwhm / 2.3548
        otf = np.exp(-2.0 * np.pi**2 * sig**2 * (kx**2 + ky**2)).astype(np.float32)
        mix = spec[:, 0] * frac[:, b, None, None] + spec[:, 1] * (1 - frac[:, b, None, None])
        conv = scipy.fft.irfft2(mix * otf, s=(size, size), workers=1)[:, s0:s0 + h, s0:s0 + h]
        conv *= (flux_nmgy[:, b] / np.maximum(conv.sum(axis=(1, 2)), 1e-30)).astype(np.float32)[:, None, None]
        if rng is not None:
            conv += sigma_pix[b] * rng.standard_normal(conv.shape, dtype=np.float32)
        out[:, b] = conv
    return out
