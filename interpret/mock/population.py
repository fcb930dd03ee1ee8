"""The physical galaxy population of the mock universe: one structural equation per catalogue column.

Every column is drawn by a small function of its *parents* plus its own noise term (an independent random
stream per column), in the topological order of :data:`PARENTS`. That table is the planted causal graph of
the physical layer: the simulator reads exactly these parents and nothing else, which the tests check by
intervention. Each relation cites the literature it follows.

Interventions (Pearl's do-operator) replace a column's structural equation by a given value while every
noise stream stays the same, so descendants change and non-descendants are bit-identical.

Examples
--------
>>> from interpret.mock.population import simulate_population
>>> pop = simulate_population(5, seed=0)
>>> list(pop.columns[:3])
['redshift', 'log_mstar', 'is_quiescent']
>>> bool((simulate_population(5, seed=0, interventions={"dust_av": 0.0})["dust_av"] == 0).all())
True
"""
from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._seeding import int_seed
from .._validation import check_int
from ..exceptions import ValidationError

__all__ = [
    "PARENTS",
    "PHYSICAL_COLUMNS",
    "DERIVED_COLUMNS",
    "simulate_population",
    "cosmology_table",
    "cosmology",
    "mass_function_pdf",
    "quenched_fraction",
    "main_sequence_sfr",
    "mass_metallicity",
    "size_mass",
    "agn_probability",
]

#: Parents of each physical column, in topological (generation) order: the planted physical DAG.
PARENTS: dict[str, tuple[str, ...]] = {
    "redshift": (),
    "log_mstar": (),
    "is_quiescent": ("log_mstar", "redshift"),
    "log_sfr": ("log_mstar", "redshift", "is_quiescent"),
    "age": ("log_mstar", "redshift", "is_quiescent"),
    "metallicity": ("log_mstar",),
    "dust_av": ("log_mstar", "log_sfr"),
    "bulge_frac": ("log_mstar", "is_quiescent"),
    "sersic_n": ("bulge_frac",),
    "r_eff": ("log_mstar", "redshift", "is_quiescent"),
    "axis_ratio": ("bulge_frac",),
    "position_angle": (),
    "agn_frac": ("log_mstar",),
}
#: Physical columns in generation order.
PHYSICAL_COLUMNS: tuple[str, ...] = tuple(PARENTS)
#: Measured angular size (5 % measurement noise) of the disk half-light radius [arcsec].
DERIVED_COLUMNS: dict[str, tuple[str, ...]] = {"r_eff_arcsec": ("r_eff", "redshift")}

_LOG_MASS_RANGE = (9.0, 12.0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


@functools.lru_cache(maxsize=8)
def cosmology_table(z_max: float = 3.5, n: int = 1024) -> dict[str, np.ndarray]:
    """Planck 2018 distances and ages tabulated on a redshift grid (interpolated later; astropy is slow per call).

    Parameters
    ----------
    z_max : float, default 3.5
        Largest tabulated redshift.
    n : int, default 1024
        Grid points.

    Returns
    -------
    dict of numpy.ndarray
        ``z``; ``d_l_pc`` luminosity distance (pc); ``age_gyr`` cosmic age (Gyr); ``kpc_per_arcsec``
        proper kpc per arcsec; ``dvdz`` comoving volume element (Mpc^3 / sr per unit z).

    References
    ----------
    Planck Collaboration 2020, A&A 641, A6 (arXiv:1807.06209), via ``astropy.cosmology.Planck18``.
    """
    from astropy.cosmology import Planck18

    z = np.linspace(1e-4, z_max, n)
    out = {
        "z": z,
        "d_l_pc": Planck18.luminosity_distance(z).to_value("pc"),
        "age_gyr": Planck18.age(z).to_value("Gyr"),
        "kpc_per_arcsec": Planck18.kpc_proper_per_arcmin(z).to_value("kpc / arcmin") / 60.0,
        "dvdz": Planck18.differential_comoving_volume(z).to_value("Mpc3 / sr"),
    }
    for v in out.values():
        v.setflags(write=False)
    return out


def cosmology(z: np.ndarray, key: str) -> np.ndarray:
    """Interpolate a :func:`cosmology_table` column (``d_l_pc``, ``age_gyr``, ``kpc_per_arcsec``, ``dvdz``) at ``z``."""
    tab = cosmology_table(max(3.5, float(np.ceil(np.max(z, initial=0.0))) + 1.0))
    return np.interp(z, tab["z"], tab[key])


# --- structural equations ---------------------------------------------------------------------------------
def _draw_redshift(n: int, rng: np.random.Generator, zrange: tuple[float, float]) -> np.ndarray:
    """Redshift from a Smail et al. (1994) survey distribution ``n(z) ∝ z² exp[-(z/z0)^1.5]``, truncated.

    ``z0 = 0.3 z_max``: the sample covers the whole requested range with most galaxies at z ≈ 0.2–0.6 z_max
    (median ≈ 0.42 z_max), where images and spectra of the default survey have useful signal-to-noise.
    References: Smail, Ellis & Fitchett 1994, MNRAS 270, 245 (arXiv:astro-ph/9402048).
    """
    lo, hi = zrange
    grid = np.linspace(lo, hi, 2048)
    z0 = 0.3 * hi
    pdf = grid**2 * np.exp(-((grid / z0) ** 1.5)) + 1e-12
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
    return np.interp(rng.random(n) * cdf[-1], cdf, grid)


def mass_function_pdf(log_mstar: np.ndarray) -> np.ndarray:
    """Double-Schechter galaxy stellar mass function per dex (unnormalised, z ≈ 0).

    ``φ(M) dlogM ∝ ln10 e^{-M/M*} [φ1 (M/M*)^{α1+1} + φ2 (M/M*)^{α2+1}]`` with log M* = 10.66,
    φ1 = 3.96e-3, α1 = -0.35, φ2 = 0.79e-3, α2 = -1.47.
    References: Baldry et al. 2012, MNRAS 421, 621 (arXiv:1111.5707).
    """
    x = 10.0 ** (np.asarray(log_mstar) - 10.66)
    return np.log(10) * np.exp(-x) * (3.96e-3 * x ** (1 - 0.35) + 0.79e-3 * x ** (1 - 1.47))


def _draw_log_mstar(n: int, rng: np.random.Generator) -> np.ndarray:
    """log10 stellar mass [Msun] drawn from :func:`mass_function_pdf` on 9-12 (inverse CDF)."""
    grid = np.linspace(*_LOG_MASS_RANGE, 2048)
    pdf = mass_function_pdf(grid)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
    return np.interp(rng.random(n) * cdf[-1], cdf, grid)


def quenched_fraction(log_mstar: np.ndarray, redshift: np.ndarray) -> np.ndarray:
    """Fraction of quiescent galaxies, a logistic in mass whose midpoint rises with redshift.

    ``f_q = 1 / (1 + exp(-(log M - (10.55 + 0.6 z)) / 0.3))``: about half of 10^10.5 Msun galaxies are red
    at z ≈ 0 and the quenching mass increases with z (mass quenching; Peng et al. 2010, ApJ 721, 193,
    arXiv:1003.4747; Baldry et al. 2006, arXiv:astro-ph/0607648).
    """
    return _sigmoid((np.asarray(log_mstar) - (10.55 + 0.6 * np.asarray(redshift))) / 0.3)


def main_sequence_sfr(log_mstar: np.ndarray, redshift: np.ndarray) -> np.ndarray:
    """Star-forming main sequence, log10 SFR [Msun/yr] (Speagle et al. 2014 eq. 28, Planck 2018 cosmic time).

    ``log SFR = (0.84 - 0.026 t) log M* - (6.51 - 0.11 t)``, t the age of the Universe in Gyr.
    References: Speagle et al. 2014, ApJS 214, 15 (arXiv:1405.2041).
    """
    t = cosmology(np.asarray(redshift, dtype=float), "age_gyr")
    return (0.84 - 0.026 * t) * np.asarray(log_mstar) - (6.51 - 0.11 * t)


def mass_metallicity(log_mstar: np.ndarray) -> np.ndarray:
    """Gas-phase mass–metallicity relation, 12 + log(O/H) (Tremonti et al. 2004 eq. 3).

    ``12 + log(O/H) = -1.492 + 1.847 x - 0.08026 x²``, x = log M*; valid for 8.5 < x < 11.5 (flat beyond).
    References: Tremonti et al. 2004, ApJ 613, 898 (arXiv:astro-ph/0405537).
    """
    x = np.clip(np.asarray(log_mstar, dtype=float), 8.5, 11.5)
    return -1.492 + 1.847 * x - 0.08026 * x**2


def size_mass(log_mstar: np.ndarray, redshift: np.ndarray, quiescent: np.ndarray) -> np.ndarray:
    """Mean log10 effective radius [kpc] from the type-dependent size–mass relation of van der Wel et al. 2014.

    ``R_eff = A (M*/5e10)^α (1+z)^β / 1.25^β``: late types log A = 0.86, α = 0.22, β = -0.75; early types
    log A = 0.60, α = 0.75, β = -1.48 (their Table 1 at z = 0.25 and Section 5). Early types are kept at
    least 0.25 dex smaller than late types of the same mass and redshift (their offset at 5e10 Msun); the
    published relations meet near 2e11 Msun and would cross above it.
    References: van der Wel et al. 2014, ApJ 788, 28 (arXiv:1404.2844).
    """
    q = np.asarray(quiescent, dtype=float)
    x = np.asarray(log_mstar) - np.log10(5e10)
    zterm = np.log10((1 + np.asarray(redshift)) / 1.25)
    late = 0.86 + 0.22 * x - 0.75 * zterm
    early = np.minimum(0.60 + 0.75 * x - 1.48 * zterm, late - 0.25)
    return np.where(q > 0.5, early, late)


def agn_probability(log_mstar: np.ndarray) -> np.ndarray:
    """Probability that a galaxy hosts an optically visible AGN, rising with stellar mass.

    A logistic from ~0 below 10^10 Msun to 0.6 above 10^11 Msun, following the AGN fraction of SDSS
    galaxies (Kauffmann et al. 2003, MNRAS 346, 1055, arXiv:astro-ph/0304239, their Fig. 5).
    """
    return 0.6 * _sigmoid((np.asarray(log_mstar) - 10.5) / 0.25)


def _eq_is_quiescent(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Bernoulli draw with :func:`quenched_fraction` (Peng et al. 2010)."""
    u = rng.random(len(p["log_mstar"]))
    return (u < quenched_fraction(p["log_mstar"], p["redshift"])).astype(np.int8)


def _eq_log_sfr(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Main sequence (Speagle+14), 0.25 dex scatter; quiescent galaxies 1.0 dex below with a broad 0.5 dex scatter
    (the quenched population spans the green valley to the red sequence; Renzini & Peng 2015, arXiv:1502.01027)."""
    e = rng.standard_normal(len(p["log_mstar"]))
    q = p["is_quiescent"].astype(bool)
    return main_sequence_sfr(p["log_mstar"], p["redshift"]) - 1.0 * q + np.where(q, 0.5, 0.25) * e


def _eq_age(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Mass-weighted stellar age [Gyr]: a mass- and type-dependent fraction of the cosmic age at z.

    ``age = 0.2 + (t_U(z) - 0.4) * sigmoid(0.2 + 0.4 (log M - 10.5) + 1.0 q + 0.6 ε)``; older for massive
    and quiescent galaxies (Gallazzi et al. 2005, MNRAS 362, 41, arXiv:astro-ph/0506539).
    """
    e = rng.standard_normal(len(p["log_mstar"]))
    t_u = cosmology(p["redshift"], "age_gyr")
    frac = _sigmoid(0.2 + 0.4 * (p["log_mstar"] - 10.5) + 1.0 * p["is_quiescent"] + 0.6 * e)
    return 0.2 + (t_u - 0.4) * frac


def _eq_metallicity(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Tremonti et al. 2004 mass–metallicity relation with 0.1 dex scatter, 12 + log(O/H)."""
    return mass_metallicity(p["log_mstar"]) + 0.1 * rng.standard_normal(len(p["log_mstar"]))


def _eq_dust_av(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """V-band attenuation [mag] rising with SFR and mass, ``A_V = softplus(-0.3 + 0.35 log SFR + 0.25 (log M - 10) + 0.45 ε)``.

    Dustier galaxies are the massive, star-forming ones (Garn & Best 2010, MNRAS 409, 421, arXiv:1007.1145;
    Zahid et al. 2013, arXiv:1310.4950).
    """
    e = rng.standard_normal(len(p["log_mstar"]))
    return _softplus(-0.3 + 0.35 * p["log_sfr"] + 0.25 * (p["log_mstar"] - 10.0) + 0.45 * e)


def _eq_bulge_frac(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Bulge-to-total stellar mass ratio, growing with mass and quiescence (Lang et al. 2014, arXiv:1402.0866).

    ``B/T = sigmoid(-1.0 + 0.5 (log M - 10.5) + 1.5 q + 0.9 ε)``.
    """
    e = rng.standard_normal(len(p["log_mstar"]))
    return _sigmoid(-1.0 + 0.5 * (p["log_mstar"] - 10.5) + 1.5 * p["is_quiescent"] + 0.9 * e)


def _eq_sersic_n(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Sérsic index of the bulge component: pseudo-bulges (n < 2) in low-B/T galaxies, classical bulges
    (n ≈ 4) in bulge-dominated ones (Fisher & Drory 2008, AJ 136, 773, arXiv:0803.0750).

    ``n = 0.5 + softplus(0.7 + 3.5 B/T + 0.5 ε)``, range ≈ 1–6.
    """
    e = rng.standard_normal(len(p["bulge_frac"]))
    return np.minimum(0.5 + _softplus(0.7 + 3.5 * p["bulge_frac"] + 0.5 * e), 8.0)


def _eq_r_eff(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Half-light radius of the disk [kpc]: van der Wel et al. 2014 with 0.16 (late) / 0.12 dex (early) scatter."""
    e = rng.standard_normal(len(p["log_mstar"]))
    q = p["is_quiescent"].astype(bool)
    return 10.0 ** (size_mass(p["log_mstar"], p["redshift"], q) + np.where(q, 0.12, 0.16) * e)


def _eq_axis_ratio(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Projected axis ratio b/a: thin disks seen at random inclinations, rounder when bulge-dominated.

    ``q = 0.15 + 0.85 sigmoid(0.2 + 2.5 B/T + 0.9 ε)`` (Padilla & Strauss 2008, arXiv:0802.0877).
    """
    e = rng.standard_normal(len(p["bulge_frac"]))
    return 0.15 + 0.85 * _sigmoid(0.2 + 2.5 * p["bulge_frac"] + 0.9 * e)


def _eq_agn_frac(p: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """AGN strength in [0, 1): zero unless active (probability :func:`agn_probability`), then Beta(1.2, 5).

    The AGN bolometric luminosity is ``agn_frac × 0.1 L_Edd(M_BH)`` with ``M_BH = 0.002 M*`` (Häring & Rix
    2004, arXiv:astro-ph/0402376), i.e. agn_frac is the Eddington ratio in units of 0.1.
    """
    n = len(p["log_mstar"])
    active = rng.random(n) < agn_probability(p["log_mstar"])
    return np.where(active, rng.beta(1.2, 5.0, n), 0.0)


_EQUATIONS: dict[str, Callable[[Mapping[str, np.ndarray], np.random.Generator], np.ndarray]] = {
    "is_quiescent": _eq_is_quiescent,
    "log_sfr": _eq_log_sfr,
    "age": _eq_age,
    "metallicity": _eq_metallicity,
    "dust_av": _eq_dust_av,
    "bulge_frac": _eq_bulge_frac,
    "sersic_n": _eq_sersic_n,
    "r_eff": _eq_r_eff,
    "axis_ratio": _eq_axis_ratio,
    "agn_frac": _eq_agn_frac,
}


def column_rng(seed: Any, name: str) -> np.random.Generator:
    """Independent random stream for column ``name`` derived from ``seed`` (same for every intervention)."""
    entropy = seed if isinstance(seed, (int, np.integer)) else 0
    return np.random.default_rng([int(entropy) & 0xFFFFFFFF, zlib.crc32(name.encode())])


def check_interventions(interventions: Mapping[str, Any] | None, n: int, valid: tuple[str, ...],
                        func: str) -> dict[str, np.ndarray]:
    """Validate ``interventions`` (column -> scalar or (n,) array); return them as float arrays."""
    out: dict[str, np.ndarray] = {}
    for key, value in (interventions or {}).items():
        if key not in valid:
            raise ValidationError(f"{func}(): cannot intervene on unknown column {key!r}; valid columns are "
                                  f"{', '.join(valid)}")
        arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)) if np.ndim(value) == 0 else \
            np.asarray(value, dtype=float)
        if arr.shape != (n,) or not np.all(np.isfinite(arr)):
            raise ValidationError(f"{func}(): intervention on {key!r} must be a finite scalar or an array of "
                                  f"shape ({n},); got shape {arr.shape}")
        out[key] = arr.astype(float).copy()
    return out


def simulate_population(n: int, seed: int | np.random.Generator | None = None, *, redshift_range: tuple[float, float] = (0.01, 1.0),
                        interventions: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Draw the physical columns of ``n`` galaxies from the structural equations.

    Parameters
    ----------
    n : int
        Number of galaxies (>= 1).
    seed : int, Generator or None, default None
        Seed (None: fresh randomness); each column has its own stream derived from it, so interventions leave the others unchanged.
    redshift_range : (float, float), default (0.01, 1.0)
        Inclusive redshift range, 0 < lo < hi <= 3.
    interventions : dict, optional
        ``{column: value}`` to set by the do-operator (scalar or array of shape (n,)).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PHYSICAL_COLUMNS` + :data:`DERIVED_COLUMNS`: redshift, log_mstar [Msun],
        is_quiescent (0/1), log_sfr [Msun/yr], age [Gyr], metallicity [12+log O/H], dust_av [mag],
        bulge_frac, sersic_n (bulge), r_eff [kpc, disk half-light radius], axis_ratio, position_angle [deg],
        agn_frac, r_eff_arcsec.
    """
    n = check_int(n, "n", "simulate_population", minimum=1)
    lo, hi = check_redshift_range(redshift_range, "simulate_population")
    do = check_interventions(interventions, n, PHYSICAL_COLUMNS, "simulate_population")
    seed = check_int(int_seed(seed), "seed", "simulate_population", minimum=0)
    cols: dict[str, np.ndarray] = {}
    for name in PHYSICAL_COLUMNS:
        rng = column_rng(seed, name)
        if name == "redshift":
            value = _draw_redshift(n, rng, (lo, hi))
        elif name == "log_mstar":
            value = _draw_log_mstar(n, rng)
        elif name == "position_angle":
            value = rng.uniform(0.0, 180.0, n)
        else:
            value = _EQUATIONS[name]({k: cols[k] for k in PARENTS[name]}, rng)
        cols[name] = do.get(name, value)
    cols["is_quiescent"] = np.asarray(cols["is_quiescent"]).astype(np.int8)
    noise = column_rng(seed, "r_eff_arcsec").standard_normal(n)
    cols["r_eff_arcsec"] = cols["r_eff"] / cosmology(cols["redshift"], "kpc_per_arcsec") * np.exp(0.05 * noise)
    return pd.DataFrame(cols)


def check_redshift_range(redshift_range: Any, func: str) -> tuple[float, float]:
    """Validate a (lo, hi) redshift range: finite, 0 < lo < hi <= 3."""
    try:
        lo, hi = (float(v) for v in redshift_range)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{func}(): 'redshift_range' must be a pair (lo, hi); got {redshift_range!r}") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 < lo < hi <= 3.0):
        raise ValidationError(f"{func}(): 'redshift_range' must satisfy 0 < lo < hi <= 3; got ({lo}, {hi}); "
                              "the SED model covers rest 1000 A - 30 um, enough for these redshifts")
    return lo, hi
