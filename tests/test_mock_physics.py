"""Known-answer tests of the mock universe's physics: relations, SED pieces, photometry, images, spectra."""
from __future__ import annotations

import numpy as np
import pytest

from interpret.data.bands import get_bandset
from interpret.data.lines import get_line
from interpret.mock import images as mimg
from interpret.mock import population as mpop
from interpret.mock import sed as msed
from interpret.mock.photometry import (
    asinh_magnitude,
    asinh_magnitude_error,
    band_maggies,
    flux_from_asinh_magnitude,
)
from interpret.mock.spectra import noise_free_spectra, observed_grid, rest_grid_for


def _pop(n: int = 6, **over: float) -> dict[str, np.ndarray]:
    base = dict(log_mstar=10.5, log_sfr=0.5, age=4.0, metallicity=8.9, dust_av=0.5, bulge_frac=0.3,
                agn_frac=0.0, redshift=0.1)
    base.update(over)
    return {k: np.full(n, float(v)) for k, v in base.items()}


# --- literature relations -----------------------------------------------------------------------------------
def test_relations_match_published_values():
    # Tremonti+04 eq. 3 at log M = 10; Speagle+14 at z ~ 0 (t = 13.8 Gyr); Calzetti k(V) = R_V
    assert mpop.mass_metallicity(np.array([10.0]))[0] == pytest.approx(-1.492 + 18.47 - 8.026, abs=1e-3)
    t = mpop.cosmology_table()["age_gyr"][0]
    expected = (0.84 - 0.026 * t) * 10 - (6.51 - 0.11 * t)
    assert mpop.main_sequence_sfr(np.array([10.0]), np.array([1e-4]))[0] == pytest.approx(expected, abs=1e-3)
    assert msed.calzetti_k(np.array([5500.0]))[0] == pytest.approx(4.05, abs=0.02)
    assert msed.calzetti_k(np.array([4.0e4]))[0] == 0.0
    assert mimg.sersic_b(np.array(1.0))[()] == pytest.approx(1.678, abs=1e-3)


def test_mass_function_and_quenching_trends():
    m = np.array([9.5, 10.5, 11.5])
    assert np.all(np.diff(mpop.quenched_fraction(m, np.zeros(3))) > 0)
    assert mpop.quenched_fraction(np.array([10.8]), np.array([1.0]))[0] < mpop.quenched_fraction(
        np.array([10.8]), np.array([0.0]))[0]
    pdf = mpop.mass_function_pdf(np.array([9.0, 10.0, 11.5]))
    assert pdf[0] > pdf[1] > pdf[2]


def test_halpha_follows_kennicutt_and_agn_boosts_oiii():
    p = _pop(1, log_sfr=1.0)
    lum = msed.emission_line_luminosities(p)
    ha = msed.EMISSION_LINES.index("Halpha")
    assert lum[0, ha] == pytest.approx(10.0 / 7.9e-42, rel=1e-9)
    o3 = msed.EMISSION_LINES.index("[OIII]5007")
    agn = msed.emission_line_luminosities(_pop(1, log_sfr=1.0, agn_frac=0.3))
    assert agn[0, o3] > 1.5 * lum[0, o3]


def test_absorption_deepens_with_age_and_metallicity():
    young = msed.absorption_equivalent_widths(_pop(1, age=1.0, metallicity=8.5))
    old = msed.absorption_equivalent_widths(_pop(1, age=9.0, metallicity=9.1))
    assert np.all(old > young)


def test_templates_are_line_free_and_masses_are_consistent():
    basis = msed.load_templates()
    i = np.argmin(np.abs(basis.wave - get_line("Halpha").wavelength))
    young = basis.flux[1]
    assert young[i] < 1.2 * np.median(young[i - 30:i + 30])          # built-in Halpha removed
    total, bulge = msed.stellar_coefficients(_pop(3))
    mass = total @ basis.mremain
    assert np.allclose(mass, 10**10.5, rtol=1e-9)
    assert np.all(bulge <= total + 1e-6)


def test_quiescent_galaxies_are_redder():
    bands = get_bandset("sdss")
    grid = msed.coarse_grid()
    sf, _ = msed.rest_frame_sed(_pop(1, log_sfr=1.0, age=2.0, dust_av=0.0), grid)
    q, _ = msed.rest_frame_sed(_pop(1, log_sfr=-1.5, age=9.0, dust_av=0.0), grid)
    d_l = np.array([1e8])
    m_sf = -2.5 * np.log10(band_maggies(sf, grid, np.array([0.05]), d_l, bands))[0]
    m_q = -2.5 * np.log10(band_maggies(q, grid, np.array([0.05]), d_l, bands))[0]
    assert (m_q[0] - m_q[2]) > (m_sf[0] - m_sf[2]) + 0.8          # u - r
    assert 2.0 < m_q[0] - m_q[2] < 3.2                               # red sequence, Strateva+01


def test_infrared_drivers_agn_heats_w1_w2_and_pahs_need_metals():
    bands = get_bandset("wise")
    grid = msed.coarse_grid()
    z, d_l = np.array([0.1]), np.array([4.6e8])

    def mags(**over):
        sed, _ = msed.rest_frame_sed(_pop(1, **over), grid)
        return -2.5 * np.log10(band_maggies(sed, grid, z, d_l, bands))[0]

    quiet, agn = mags(), mags(agn_frac=0.5)
    assert (agn[0] - agn[1]) > (quiet[0] - quiet[1]) + 0.3          # W1 - W2 redder (Stern et al. 2012)
    rich, poor = mags(metallicity=9.0), mags(metallicity=7.9)
    assert (poor[2] - poor[3]) > (rich[2] - rich[3]) + 0.5          # W3 (PAH) fades at low metallicity
    sfr_lo, sfr_hi = mags(log_sfr=0.0), mags(log_sfr=1.0)
    assert sfr_lo[3] - sfr_hi[3] > 2.0                               # W4 ~ warm dust ~ SFR


# --- photometry ---------------------------------------------------------------------------------------------
def test_band_maggies_match_bandset_reference():
    bands = get_bandset("sdss+wise")
    grid = msed.coarse_grid()
    p = _pop(4, agn_frac=0.2)
    sed, _ = msed.rest_frame_sed(p, grid)
    z = np.array([0.05, 0.2, 0.5, 0.9])
    d_l = mpop.cosmology(z, "d_l_pc")
    ours = band_maggies(sed, grid, z, d_l, bands)
    ref = bands.ab_maggies(grid.wave, sed * ((10.0 / d_l) ** 2)[:, None], redshift=z)
    np.testing.assert_allclose(ours, ref, rtol=2e-3)


def test_asinh_magnitudes_match_ab_for_bright_sources_and_invert():
    f = np.array([1e-6, 1e-8, -1e-10])
    m = asinh_magnitude(f, 1e-10)
    assert m[0] == pytest.approx(15.0, abs=1e-6)
    np.testing.assert_allclose(flux_from_asinh_magnitude(m, 1e-10), f, rtol=1e-9)
    err = asinh_magnitude_error(np.array([1e-6]), np.array([1e-8]), 1e-10)
    assert err[0] == pytest.approx(2.5 / np.log(10) * 0.01, rel=1e-3)


# --- images -------------------------------------------------------------------------------------------------
def _morph(m: int, r_px: float = 2.0) -> dict[str, np.ndarray]:
    return {"r_eff_px": np.full(m, r_px), "sersic_n": np.full(m, 4.0), "axis_ratio": np.full(m, 0.6),
            "position_angle": np.full(m, 30.0)}


def test_noise_free_images_sum_to_band_flux_and_wise_is_broader():
    flux = np.array([[100.0, 50.0], [10.0, 5.0]])
    fwhm = np.array([1.6, 15.0])
    img = mimg.render_images(flux, 0.5 * flux, _morph(2), fwhm, np.zeros(2), 40, None)
    np.testing.assert_allclose(img.sum(axis=(2, 3)), flux, rtol=1e-4)
    c = np.arange(40) - 20
    r2 = c[None, :] ** 2 + c[:, None] ** 2
    width = [(img[0, b] * r2).sum() / img[0, b].sum() for b in range(2)]
    assert width[1] > 5 * width[0]


def test_bulge_light_makes_red_band_more_concentrated():
    flux = np.array([[100.0, 100.0]])
    bulge = np.array([[10.0, 80.0]])   # bulge share 10 % in the blue band, 80 % in the red band
    img = mimg.render_images(flux, bulge, _morph(1, 5.0), np.array([1.5, 1.5]), np.zeros(2), 32, None)
    core = img[0, :, 14:19, 14:19].sum(axis=(1, 2)) / img[0].sum(axis=(1, 2))
    assert core[1] > core[0] * 1.3


def test_image_size_check_names_band():
    with pytest.raises(ValueError, match="W4"):
        mimg.check_image_size(16, np.array([2.0, 15.0]), ["r", "W4"], "make_universe")


# --- spectra ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line", ["Halpha", "[OIII]5007", "Hbeta", "[OII]3729"])
def test_emission_lines_at_observed_wavelength(line):
    z = np.array([0.05, 0.12, 0.3, 0.6])
    p = _pop(4, log_sfr=1.5, dust_av=0.0, agn_frac=0.3, metallicity=8.5)
    wave = observed_grid()
    grid = rest_grid_for(wave, (0.01, 1.0))
    spec = noise_free_spectra(p, z, mpop.cosmology(z, "d_l_pc"), wave, grid)
    lam = get_line(line).wavelength * (1 + z)
    checked = 0
    for i in range(len(z)):
        if not wave[0] + 20 < lam[i] < wave[-1] - 20:
            continue
        win = np.abs(wave - lam[i]) < 6.0
        peak = wave[win][np.argmax(spec[i, win])]
        assert abs(peak - lam[i]) < 1.5 * lam[i] * np.log(10) * 1e-4 + 0.3
        checked += 1
    assert checked >= 2


# --- properties of the population ---------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**31 - 1), lo=st.floats(0.005, 1.5), width=st.floats(0.01, 1.5))
def test_population_stays_physical(n, seed, lo, width):
    hi = min(lo + width, 3.0)
    pop = mpop.simulate_population(n, seed, redshift_range=(lo, hi))
    assert len(pop) == n and np.isfinite(pop.to_numpy(dtype=float)).all()
    assert pop["redshift"].between(lo, hi).all()
    assert pop["bulge_frac"].between(0, 1).all() and pop["axis_ratio"].between(0.15, 1).all()
    assert pop["agn_frac"].between(0, 1).all() and (pop["sersic_n"] > 0.5).all() and (pop["r_eff"] > 0).all()
    assert (pop["age"] < mpop.cosmology(pop["redshift"].to_numpy(), "age_gyr")).all()
    again = mpop.simulate_population(n, seed, redshift_range=(lo, hi))
    assert pop.equals(again)
