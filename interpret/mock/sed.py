"""Rest-frame spectral energy distributions of the mock galaxies.

Stellar continuum
    A non-negative mix of the five kcorrect v4 SED templates (Blanton & Roweis 2007, AJ 133, 734,
    arXiv:astro-ph/0606170), read from the installed ``kcorrect`` package (never copied). They are
    Bruzual & Charlot (2003) populations covering 600 Å – 320 µm, in erg/s/cm²/Å at 10 pc per solar mass
    formed, with the remaining mass (``MREMAIN``), metallicity (``METS``) and mass formed in the last 300 Myr
    and 1 Gyr (``M300``, ``M1000``) of each. The nebular lines built into two of them are interpolated over
    (:data:`NEBULAR_MASK_LINES`) so that every emission line is set explicitly by the physics below, and
    beyond 2.5 µm they continue as a stellar Rayleigh–Jeans tail (f_λ ∝ λ⁻⁴): their own mid-IR excess is
    replaced because dust emission is modelled explicitly, so that W3/W4 follow star formation and AGN.
    The mix follows the catalogue. Star formation: the youngest template (light-to-mass ratio of a ~10 Myr
    population) carries ``SFR × 10 Myr`` of formed mass and the extended-star-formation template (54 % of
    its mass formed in the last 300 Myr) the remainder, so that the mix's mass formed in the last 300 Myr is
    exactly ``SFR × 300 Myr`` (kcorrect's own SFR definition; young stars are capped at half the mass).
    The rest of the stellar mass is old: a share ``0.25 × clip((8 Gyr - age) / 6 Gyr, 0, 1)`` in the
    intermediate-age template, the remainder split between the solar old template and the metal-rich
    (very red) one by ``metallicity`` (at most 15 % in the latter, reached at Z = 0.05). The bulge is a
    share ``bulge_frac`` of the old part, so bulges are redder than disks (colour gradients in the images).
    Why the templates rather than an analytic young + old model: they are real stellar-population spectra
    with Balmer and 4000 Å breaks, absorption features and a near-IR tail to 30 µm for the WISE bands, and
    carry the per-template masses needed to tie the mix to M* and SFR. With this mapping a main-sequence
    galaxy at z ≈ 0 has u - r ≈ 1.2–1.6 and an old quiescent one u - r ≈ 2.5 (Strateva et al. 2001).
Absorption lines
    Gaussian dips (Ca II H&K, Sr II, G band, Mg b, Fe5270/5335, Na D, Ca II triplet) on top of the template
    features, with equivalent widths growing with age and metallicity as Lick indices do (Worthey 1994,
    ApJS 95, 107; Thomas, Maraston & Bender 2003, arXiv:astro-ph/0302439).
Emission lines
    Hα = SFR / 7.9e-42 erg/s (Kennicutt 1998, arXiv:astro-ph/9807187); Balmer series and He I from Case B
    (Osterbrock & Ferland 2006); [N II]/Hα and [O III]/Hβ from the N2 and O3N2 metallicity calibrations
    (Pettini & Pagel 2004, arXiv:astro-ph/0401128); [O II] from SFR with the metallicity dependence of
    Kewley et al. 2004 (arXiv:astro-ph/0401172); an AGN narrow-line region with intrinsic L[O III] =
    L_bol / 600 - the relation for extinction-corrected [O III] (Kauffmann & Heckman 2009, arXiv:0812.1224;
    L_bol / 3500 holds for the *observed* line, Heckman et al. 2004, arXiv:astro-ph/0406218, and the mock
    attenuates every line itself, so that one would count the dust twice) - and Seyfert line ratios (Kewley et al. 2006,
    arXiv:astro-ph/0605681) boosting [O III], [Ne III], [N II] and [S II].
Dust
    Calzetti et al. 2000 (arXiv:astro-ph/9911459) attenuation, R_V = 4.05; nebular lines see
    E(B-V)_gas = E(B-V)_star / 0.44. Below 1200 Å the curve is extended linearly, above 2.2 µm it follows
    its own form until it reaches zero (3.1 µm).
Infrared
    PAH, warm dust and AGN dust emission from :mod:`interpret.mock.infrared`.

All rest-frame SEDs are in erg/s/cm²/Å "at 10 pc" (kcorrect's convention, an absolute-magnitude flux).

Examples
--------
>>> from interpret.mock.population import simulate_population
>>> from interpret.mock.sed import rest_frame_sed, coarse_grid
>>> pop = simulate_population(3, seed=1)
>>> total, bulge = rest_frame_sed(pop, coarse_grid())
>>> total.shape == bulge.shape == (3, coarse_grid().wave.size)
True
"""
from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..data.lines import get_line
from .infrared import ir_luminosities, ir_shapes

__all__ = [
    "EMISSION_LINES",
    "ABSORPTION_LINES",
    "NEBULAR_MASK_LINES",
    "TemplateBasis",
    "SEDGrid",
    "load_templates",
    "coarse_grid",
    "fine_grid",
    "calzetti_k",
    "stellar_coefficients",
    "emission_line_luminosities",
    "absorption_equivalent_widths",
    "rest_frame_sed",
    "attenuated_line_fluxes_10pc",
    "L_TO_10PC",
    "SIGMA_V_KMS",
    "AGN_BOL_PER_OIII",
]

#: Emission lines the simulator sets (names from :mod:`interpret.data.lines`).
EMISSION_LINES: tuple[str, ...] = (
    "[OII]3727", "[OII]3729", "[NeIII]3869", "Hdelta", "Hgamma", "Hbeta", "[OIII]4959", "[OIII]5007",
    "HeI5876", "[NII]6548", "Halpha", "[NII]6584", "[SII]6717", "[SII]6731",
)
#: Absorption lines with age/metallicity-dependent depth: name -> (EW at age 5 Gyr, solar [Å], sigma [Å]).
ABSORPTION_LINES: dict[str, tuple[float, float]] = {
    "CaII_K": (3.0, 4.0), "CaII_H": (2.5, 4.0), "SrII4077": (0.5, 1.5), "SrII4216": (0.4, 1.5),
    "Gband": (2.0, 8.0), "Mgb": (2.0, 8.0), "Fe5270": (1.2, 8.0), "Fe5335": (1.0, 8.0), "NaD": (1.5, 6.0),
    "CaII8498": (0.6, 2.0), "CaII8542": (1.5, 2.0), "CaII8662": (1.2, 2.0),
}
#: Vacuum wavelengths (Å) of nebular lines interpolated out of the kcorrect templates.
NEBULAR_MASK_LINES: tuple[float, ...] = (
    1215.67, 1240.8, 1549.0, 1640.4, 1908.7, 2799.0, 3727.09, 3729.88, 3836.5, 3869.86, 3890.2, 3971.2,
    4102.9, 4341.7, 4364.4, 4472.7, 4687.0, 4862.7, 4960.3, 5008.2, 5877.3, 6302.0, 6313.8, 6365.5, 6549.9,
    6564.6, 6585.3, 6680.0, 6718.3, 6732.7, 7067.0, 7137.8, 7321.0, 7332.0, 7753.2, 9017.4, 9071.1, 9231.5,
    9533.2, 10052.1, 10833.0, 10941.0, 12821.6, 18756.0, 21661.0, 26259.0, 40523.0,
)
#: Conversion from luminosity [erg/s] to flux at 10 pc [erg/s/cm²]: 1 / (4π (10 pc)²).
L_TO_10PC = 1.0 / (4.0 * np.pi * (10.0 * 3.0856775814913673e18) ** 2)
#: Emission-line velocity dispersion (gas 80 km/s and R = 2000 instrument, in quadrature), km/s.
#: L_bol / L[O III] for the intrinsic (extinction-corrected) line (Kauffmann & Heckman 2009).
AGN_BOL_PER_OIII = 600.0
SIGMA_V_KMS = float(np.hypot(80.0, 2.99792458e5 / 2000.0 / 2.3548))
_C_KMS = 2.99792458e5
_R_V = 4.05
_Z_SUN = 0.02  # BC03 solar metallicity, as in the kcorrect templates
_OH_SUN = 8.69  # Asplund et al. 2009
_BURST_YR = 1e7  # formed mass of the very young template = SFR x 10 Myr
_RJ_FROM = 2.5e4  # Angstrom: templates continue as a Rayleigh-Jeans tail beyond this


@dataclass(frozen=True)
class TemplateBasis:
    """The kcorrect v4 template basis (line-free), with its per-template physical properties."""

    wave: np.ndarray       # (L,) Angstrom, rest frame
    flux: np.ndarray       # (5, L) erg/s/cm^2/A at 10 pc per Msun formed, nebular lines removed
    flux_raw: np.ndarray   # (5, L) as shipped
    mremain: np.ndarray    # (5,) remaining stellar mass per Msun formed
    mets: np.ndarray       # (5,) metallicity Z
    m300: np.ndarray       # (5,) fraction formed in the last 300 Myr
    m1000: np.ndarray      # (5,) fraction formed in the last 1 Gyr


def _template_path() -> str:
    import kcorrect

    return os.path.join(os.path.dirname(kcorrect.__file__), "data", "templates", "kcorrect-default-v4.fits")


@functools.cache
def load_templates() -> TemplateBasis:
    """Read kcorrect's default v4 templates from the installed package and remove their nebular lines.

    Returns
    -------
    TemplateBasis

    References
    ----------
    Blanton & Roweis 2007, AJ 133, 734 (arXiv:astro-ph/0606170).
    """
    from astropy.io import fits

    with fits.open(_template_path()) as hdul:
        wave = np.asarray(hdul["FLUX"].data["wave"][0], dtype=float)
        raw = np.asarray(hdul["FLUX"].data["flux"][0], dtype=float)
        props = {k: np.asarray(hdul[k.upper()].data, dtype=float) for k in ("mremain", "mets", "m300", "m1000")}
    lw = np.log10(wave)
    step = np.median(np.diff(lw))
    mask = np.zeros(wave.size, dtype=bool)
    for lam in NEBULAR_MASK_LINES:
        mask |= np.abs(lw - np.log10(lam)) < 5 * step
    clean = raw.copy()
    for t in range(raw.shape[0]):
        clean[t, mask] = np.interp(lw[mask], lw[~mask], raw[t, ~mask])
    # beyond 2.5 um: a stellar Rayleigh-Jeans tail (f_lambda ~ lambda^-4); the templates' own mid-IR excess
    # is replaced because dust emission is modelled explicitly (interpret.mock.infrared)
    i0 = np.searchsorted(wave, _RJ_FROM)
    clean[:, i0:] = clean[:, [i0 - 1]] * (wave[i0:] / wave[i0 - 1])[None, :] ** -4.0
    return TemplateBasis(wave, clean, raw, **props)


def calzetti_k(wave: np.ndarray) -> np.ndarray:
    """Calzetti et al. (2000) attenuation curve k(λ) = A_λ / E(B-V)_star for ``wave`` in Angstrom.

    Linear extension below 1200 Å, zero where the 0.63–2.2 µm form goes negative (> 3.1 µm).
    """
    lam = np.asarray(wave, dtype=float) / 1e4

    def blue(x: np.ndarray) -> np.ndarray:
        return 2.659 * (-2.156 + 1.509 / x - 0.198 / x**2 + 0.011 / x**3) + _R_V

    def red(x: np.ndarray) -> np.ndarray:
        return 2.659 * (-1.857 + 1.040 / x) + _R_V

    slope = (blue(np.array(0.12)) - blue(np.array(0.121))) / 0.001
    k = np.where(lam < 0.63, blue(np.maximum(lam, 0.12)), red(lam))
    k = np.where(lam < 0.12, blue(np.array(0.12)) + slope * (0.12 - lam), k)
    return np.maximum(k, 0.0)


@dataclass(frozen=True)
class SEDGrid:
    """A rest-frame wavelength grid with the basis spectra sampled on it (all precomputed, read-only)."""

    wave: np.ndarray          # (L,) Angstrom
    templates: np.ndarray     # (5, L) line-free stellar templates
    k: np.ndarray             # (L,) Calzetti k(lambda)
    emission: np.ndarray      # (n_em, L) unit-area line profiles (1/A)
    absorption: np.ndarray    # (n_abs, L) unit-area dip profiles (1/A)
    ir: np.ndarray            # (n_ir, L) unit-area dust-emission shapes (1/A)


def _profiles(wave: np.ndarray, centres: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Unit-area (trapezoid on ``wave``) Gaussians, width at least one grid step."""
    step = np.interp(centres, wave[1:], np.diff(wave))
    sig = np.maximum(sigmas, step)[:, None]
    g = np.exp(-0.5 * ((wave[None, :] - centres[:, None]) / sig) ** 2)
    area = np.trapezoid(g, wave, axis=1) if hasattr(np, "trapezoid") else np.trapz(g, wave, axis=1)
    # lines not fully inside the grid keep their analytic normalisation (only the part inside is drawn)
    inside = (centres - 5 * sig[:, 0] > wave[0]) & (centres + 5 * sig[:, 0] < wave[-1])
    area = np.where(inside, area, sig[:, 0] * np.sqrt(2 * np.pi))
    return g / area[:, None]


def _bin_templates(basis: TemplateBasis, wave: np.ndarray) -> np.ndarray:
    """Flux-conserving average of the templates over the cells of ``wave`` (log-spaced grid)."""
    lw = np.log(wave)
    half = 0.5 * np.diff(lw)
    edges = np.exp(np.concatenate([[lw[0] - half[0]], lw[:-1] + half, [lw[-1] + half[-1]]]))
    tw = basis.wave
    cum = np.concatenate([np.zeros((basis.flux.shape[0], 1)),
                          np.cumsum(0.5 * (basis.flux[:, 1:] + basis.flux[:, :-1]) * np.diff(tw), axis=1)], axis=1)
    at = np.stack([np.interp(edges, tw, c) for c in cum])
    return np.diff(at, axis=1) / np.diff(edges)


def _make_grid(wave: np.ndarray, binned: bool) -> SEDGrid:
    basis = load_templates()
    templates = _bin_templates(basis, wave) if binned else \
        np.stack([np.interp(wave, basis.wave, f) for f in basis.flux])
    em_c = np.array([get_line(n).wavelength for n in EMISSION_LINES])
    ab_c = np.array([get_line(n).wavelength for n in ABSORPTION_LINES])
    ab_s = np.array([s for _, s in ABSORPTION_LINES.values()])
    grid = SEDGrid(wave=wave, templates=templates, k=calzetti_k(wave),
                   emission=_profiles(wave, em_c, em_c * SIGMA_V_KMS / _C_KMS),
                   absorption=_profiles(wave, ab_c, ab_s), ir=ir_shapes(wave))
    for arr in (grid.wave, grid.templates, grid.k, grid.emission, grid.absorption, grid.ir):
        arr.setflags(write=False)
    return grid


@functools.cache
def coarse_grid() -> SEDGrid:
    """Rest-frame grid for photometry: 700 Å – 30 µm, Δlog10 λ = 0.002 (1,316 points)."""
    return _make_grid(10.0 ** np.arange(np.log10(700.0), np.log10(3.0e5), 0.002), binned=True)


@functools.cache
def fine_grid(lo: float, hi: float, dlog: float = 1e-4) -> SEDGrid:
    """Rest-frame grid for spectra on [lo, hi] Angstrom with step ``dlog`` in log10 λ (SDSS: 1e-4)."""
    start = np.floor(np.log10(lo) / dlog) * dlog
    return _make_grid(10.0 ** np.arange(start, np.log10(hi) + dlog, dlog), binned=False)


def _pop(pop: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    return np.asarray(pop[key], dtype=float)


def stellar_coefficients(pop: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Formed-mass coefficients [Msun] of the five templates for the whole galaxy and for its bulge.

    Parameters
    ----------
    pop : mapping of arrays
        Needs log_mstar, log_sfr, age [Gyr], metallicity [12+log O/H], bulge_frac.

    Returns
    -------
    total, bulge : numpy.ndarray, shape (n, 5)
    """
    b = load_templates()
    mstar, sfr = 10.0 ** _pop(pop, "log_mstar"), 10.0 ** _pop(pop, "log_sfr")
    logz = np.log10(_Z_SUN) + _pop(pop, "metallicity") - _OH_SUN
    w_rich = 0.15 * np.clip((logz - np.log10(_Z_SUN)) / (np.log10(b.mets[0]) - np.log10(_Z_SUN)), 0.0, 1.0)
    young = np.zeros((mstar.size, 5))
    young[:, 1] = sfr * _BURST_YR                                  # stars of the last ~10 Myr
    young[:, 4] = sfr * (3e8 - _BURST_YR * b.m300[1]) / b.m300[4]  # the rest of the last 300 Myr
    young_rem = young @ b.mremain
    scale = np.minimum(1.0, 0.5 * mstar / np.maximum(young_rem, 1e-30))  # young stars <= half the mass
    young *= scale[:, None]
    m_old = mstar - young_rem * scale
    f_int = 0.25 * np.clip((8.0 - _pop(pop, "age")) / 6.0, 0.0, 1.0)
    old = np.zeros_like(young)
    old[:, 2] = f_int * m_old / b.mremain[2]
    old[:, 0] = w_rich * (1 - f_int) * m_old / b.mremain[0]
    old[:, 3] = (1 - w_rich) * (1 - f_int) * m_old / b.mremain[3]
    share = np.clip(_pop(pop, "bulge_frac") * mstar / m_old, 0.0, 1.0)
    return young + old, old * share[:, None]


def emission_line_luminosities(pop: Mapping[str, np.ndarray]) -> np.ndarray:
    """Intrinsic (unattenuated) luminosities [erg/s] of :data:`EMISSION_LINES`, shape (n, 14).

    Needs log_sfr, metallicity, agn_frac, log_mstar. Star formation and the AGN narrow-line region add up.
    """
    from .infrared import agn_bolometric_luminosity

    oh = _pop(pop, "metallicity")
    ha = 10.0 ** _pop(pop, "log_sfr") / 7.9e-42
    hb = ha / 2.86
    n2 = np.minimum((oh - 8.90) / 0.57, -0.2)
    o3hb = np.minimum((8.73 - oh) / 0.32 + n2, 0.8)
    nii = ha * 10.0**n2
    oiii = hb * 10.0**o3hb
    oii = ha * 10.0 ** (-0.8 * (oh - 8.7))
    sf = {"[OII]3727": oii / 2.3, "[OII]3729": oii * 1.3 / 2.3, "[NeIII]3869": 0.07 * oiii,
          "Hdelta": 0.259 * hb, "Hgamma": 0.468 * hb, "Hbeta": hb, "[OIII]4959": oiii / 2.98,
          "[OIII]5007": oiii, "HeI5876": 0.11 * hb, "[NII]6548": nii / 3.05, "Halpha": ha, "[NII]6584": nii,
          "[SII]6717": 0.3 * ha * 0.58, "[SII]6731": 0.3 * ha * 0.42}
    o3a = agn_bolometric_luminosity(_pop(pop, "agn_frac"), _pop(pop, "log_mstar")) / AGN_BOL_PER_OIII
    hba = o3a / 8.0
    haa = 3.1 * hba
    agn = {"[OII]3727": 0.35 * o3a / 2.3, "[OII]3729": 0.35 * o3a * 1.3 / 2.3, "[NeIII]3869": 0.09 * o3a,
           "Hdelta": 0.259 * hba, "Hgamma": 0.468 * hba, "Hbeta": hba, "[OIII]4959": o3a / 2.98,
           "[OIII]5007": o3a, "HeI5876": 0.11 * hba, "[NII]6548": 0.9 * haa / 3.05, "Halpha": haa,
           "[NII]6584": 0.9 * haa, "[SII]6717": 0.7 * haa * 0.55, "[SII]6731": 0.7 * haa * 0.45}
    return np.column_stack([sf[n] + agn[n] for n in EMISSION_LINES])


def absorption_equivalent_widths(pop: Mapping[str, np.ndarray]) -> np.ndarray:
    """Rest-frame equivalent widths [Å] of :data:`ABSORPTION_LINES`, shape (n, 12).

    ``EW = EW_0 (age / 5 Gyr)^0.35 10^(0.4 (12+log O/H - 8.69))``: deeper for older and more metal-rich
    populations (the Lick-index behaviour of Worthey 1994).
    """
    scale = (np.maximum(_pop(pop, "age"), 0.05) / 5.0) ** 0.35 * 10.0 ** (0.4 * (_pop(pop, "metallicity") - _OH_SUN))
    ew0 = np.array([e for e, _ in ABSORPTION_LINES.values()])
    return scale[:, None] * ew0[None, :]


def rest_frame_sed(pop: Mapping[str, np.ndarray], grid: SEDGrid, *,
                   bulge: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Rest-frame SEDs on ``grid`` [erg/s/cm²/Å at 10 pc]: the whole galaxy and its bulge.

    Parameters
    ----------
    pop : mapping of arrays, each shape (n,)
        Physical columns (log_mstar, log_sfr, age, metallicity, dust_av, bulge_frac, agn_frac).
    grid : SEDGrid
        From :func:`coarse_grid` (photometry) or :func:`fine_grid` (spectra).
    bulge : bool, default True
        Also return the bulge SED (else None).

    Returns
    -------
    total, bulge : numpy.ndarray, shape (n, L)
        ``total`` = attenuated stars with absorption dips + attenuated emission lines + dust emission;
        ``bulge`` = the attenuated bulge stars alone (a part of ``total``).
    """
    coeff, coeff_bulge = stellar_coefficients(pop)
    ew = absorption_equivalent_widths(pop)
    av = _pop(pop, "dust_av")
    # dust attenuation x absorption dips, shared by bulge and disk stars
    shade = np.exp((-0.4 * np.log(10.0) / _R_V) * av[:, None] * grid.k[None, :])
    shade *= np.clip(1.0 - ew @ grid.absorption, 0.0, None)
    total = coeff @ grid.templates
    total *= shade
    total += attenuated_line_fluxes_10pc(pop) @ grid.emission
    ir = ir_luminosities(_pop(pop, "log_sfr"), _pop(pop, "metallicity"), _pop(pop, "agn_frac"),
                         _pop(pop, "log_mstar")) * L_TO_10PC
    total += ir @ grid.ir
    if not bulge:
        return total, None
    bulge_sed = coeff_bulge @ grid.templates
    bulge_sed *= shade
    return total, bulge_sed


def attenuated_line_fluxes_10pc(pop: Mapping[str, np.ndarray]) -> np.ndarray:
    """Dust-attenuated emission-line fluxes at 10 pc [erg/s/cm²], shape (n, 14)."""
    av = _pop(pop, "dust_av")
    line_k = np.array([calzetti_k(get_line(n).wavelength) for n in EMISSION_LINES])
    return emission_line_luminosities(pop) * L_TO_10PC * 10.0 ** (-0.4 * (av / (_R_V * 0.44))[:, None] * line_k)
