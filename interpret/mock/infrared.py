"""Mid-infrared emission of the mock galaxies: PAH bands, warm dust and AGN-heated torus dust.

The stellar templates (:mod:`interpret.mock.sed`) carry no dust emission, so the WISE bands are driven by:

* **W1/W2 (3.4/4.6 µm)** - the old stars' Rayleigh–Jeans tail (from the templates) plus AGN hot dust
  (T ≈ 1300 K, grains at their sublimation temperature; Stern et al. 2012, arXiv:1205.0811).
* **W3 (12 µm)** - PAH bands (3.3 - 17 µm; Smith et al. 2007, arXiv:astro-ph/0610913), luminosity ∝ SFR and
  suppressed at low metallicity, where PAHs are destroyed (Draine et al. 2007, arXiv:astro-ph/0703213;
  Engelbracht et al. 2005, arXiv:astro-ph/0506214).
* **W4 (22 µm)** - warm dust continuum (110 K modified blackbody) ∝ SFR (Calzetti et al. 2007,
  arXiv:0705.3377), plus the AGN torus (T ≈ 350 K).

Star-formation dust luminosity follows ``L_IR = SFR / 4.5e-44 erg/s`` (Kennicutt 1998, arXiv:astro-ph/9807187).

Examples
--------
>>> import numpy as np
>>> from interpret.mock.infrared import ir_shapes, IR_COMPONENTS
>>> wave = np.geomspace(1e4, 3e5, 2000)
>>> shapes = ir_shapes(wave)
>>> shapes.shape == (len(IR_COMPONENTS), 2000)
True
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "IR_COMPONENTS",
    "PAH_FEATURES",
    "pah_shape",
    "modified_blackbody",
    "ir_shapes",
    "ir_luminosities",
    "pah_metallicity_factor",
    "agn_bolometric_luminosity",
]

#: Dust-emission components, in the order of :func:`ir_shapes` / :func:`ir_luminosities`.
IR_COMPONENTS: tuple[str, ...] = ("pah", "warm_dust", "agn_hot", "agn_torus")

#: PAH features: (centre µm, FWHM µm, fraction of the PAH power) - main complexes of Smith et al. 2007 (Table 3).
PAH_FEATURES: tuple[tuple[float, float, float], ...] = (
    (3.29, 0.04, 0.03), (6.22, 0.19, 0.14), (7.70, 0.50, 0.40), (8.60, 0.34, 0.09),
    (11.30, 0.22, 0.15), (12.70, 0.45, 0.10), (17.00, 1.10, 0.09),
)
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz
_H = 6.62607015e-27  # erg s
_C = 2.99792458e10  # cm / s
_K = 1.380649e-16  # erg / K
_L_EDD_PER_MSUN = 1.26e38  # erg / s
_L_IR_PER_SFR = 1.0 / 4.5e-44  # erg/s per Msun/yr, Kennicutt 1998


#: Wavelength grid [Angstrom] over which every dust-emission shape is normalised to unit area.
_NORM_WAVE = np.geomspace(1e3, 1e7, 20000)


def _unit_area(shape_fn, wave: np.ndarray) -> np.ndarray:
    """``shape_fn(wave)`` divided by its integral over :data:`_NORM_WAVE` (not over ``wave``, which may be a
    short window such as an optical spectrum)."""
    area = float(_trapezoid(shape_fn(_NORM_WAVE), _NORM_WAVE))
    return shape_fn(np.asarray(wave, dtype=float)) / area


def _pah(wave: np.ndarray) -> np.ndarray:
    lam = np.asarray(wave, dtype=float) / 1e4
    out = np.zeros_like(lam)
    for centre, fwhm, power in PAH_FEATURES:
        gamma = fwhm / 2.0
        out += power * (gamma / np.pi) / ((lam - centre) ** 2 + gamma**2)
    out[lam < 2.5] = 0.0
    return out


def pah_shape(wave: np.ndarray) -> np.ndarray:
    """PAH emission spectrum f_λ on ``wave`` (Angstrom), Lorentzian (Drude-like) bands, unit area (1/Angstrom)."""
    return _unit_area(_pah, wave)


def _mbb(temperature: float, beta: float):
    def shape(wave: np.ndarray) -> np.ndarray:
        lam_cm = np.asarray(wave, dtype=float) * 1e-8
        x = np.minimum(_H * _C / (lam_cm * _K * temperature), 700.0)
        return lam_cm ** (-5.0 - beta) / np.expm1(x) * 1e-30
    return shape


def modified_blackbody(wave: np.ndarray, temperature: float, beta: float = 1.5) -> np.ndarray:
    """Optically thin modified blackbody ``λ^-β B_λ(T)`` on ``wave`` (Angstrom), unit area (1/Angstrom)."""
    return _unit_area(_mbb(temperature, beta), wave)


def ir_shapes(wave: np.ndarray) -> np.ndarray:
    """Unit-area f_λ shapes of :data:`IR_COMPONENTS` on ``wave`` (Angstrom), shape (4, L)."""
    return np.stack([
        pah_shape(wave),
        modified_blackbody(wave, 110.0, 1.5),   # warm small-grain continuum
        modified_blackbody(wave, 1300.0, 0.0),  # AGN hot dust (sublimation)
        modified_blackbody(wave, 350.0, 1.0),   # AGN torus
    ])


def pah_metallicity_factor(metallicity: np.ndarray) -> np.ndarray:
    """PAH suppression at low metallicity: a logistic in 12 + log(O/H) centred at 8.2, width 0.1 dex.

    PAH emission relative to dust drops sharply below 12 + log(O/H) ≈ 8.1–8.2 (Engelbracht et al. 2005;
    Draine et al. 2007 q_PAH).
    """
    return 1.0 / (1.0 + np.exp(-(np.asarray(metallicity) - 8.2) / 0.1))


def agn_bolometric_luminosity(agn_frac: np.ndarray, log_mstar: np.ndarray) -> np.ndarray:
    """AGN bolometric luminosity [erg/s] = agn_frac × 0.1 L_Edd(M_BH), M_BH = 0.002 M* (Häring & Rix 2004)."""
    return np.asarray(agn_frac) * 0.1 * _L_EDD_PER_MSUN * 0.002 * 10.0 ** np.asarray(log_mstar)


def ir_luminosities(log_sfr: np.ndarray, metallicity: np.ndarray, agn_frac: np.ndarray,
                    log_mstar: np.ndarray) -> np.ndarray:
    """Luminosities [erg/s] of :data:`IR_COMPONENTS`, shape (n, 4).

    PAH: 0.15 L_IR × PAH metallicity factor (PAHs carry 10–20 % of L_IR, Smith et al. 2007); warm dust
    (110 K, β = 1.5): 0.25 L_IR (L_IR = SFR/4.5e-44, Kennicutt 1998). A main-sequence galaxy at z = 0.1 then
    has W2 - W3 ≈ 3.7 and W3 - W4 ≈ 2.4 (Vega), inside the star-forming locus of Jarrett et al. 2011
    (arXiv:1106.3101);
    AGN hot dust: 0.10 L_bol; AGN torus: 0.20 L_bol (Type-2 AGN re-radiate their disk in the mid-IR).
    """
    l_ir = _L_IR_PER_SFR * 10.0 ** np.asarray(log_sfr)
    l_agn = agn_bolometric_luminosity(agn_frac, log_mstar)
    return np.column_stack([0.15 * l_ir * pah_metallicity_factor(metallicity), 0.25 * l_ir,
                            0.10 * l_agn, 0.20 * l_agn])
