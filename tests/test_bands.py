"""Bands: real speclite curves, pivot wavelengths, AB photometry known answers, BandSet contract."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interpret.data import bands as bd
from interpret.data.bands import SDSS, WISE, Band, BandSet, get_bandset
from interpret.exceptions import ValidationError

C_A = 2.99792458e18
WAVE = np.linspace(900.0, 300_000.0, 120_000)


def flat_ab(wave, mag=0.0):
    """f_lambda of a flat f_nu source of AB magnitude ``mag`` (erg/s/cm^2/A)."""
    return 3631e-23 * 10 ** (-0.4 * mag) * C_A / wave**2


# --- known answers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("bandset", [SDSS, WISE], ids=["sdss", "wise"])
def test_flat_3631jy_is_ab_zero(bandset):
    np.testing.assert_allclose(bandset.ab_magnitudes(WAVE, flat_ab(WAVE)), 0.0, atol=1e-3)


def test_flat_source_magnitude_and_maggies():
    mags = SDSS.ab_magnitudes(WAVE, flat_ab(WAVE, 20.0))
    np.testing.assert_allclose(mags, 20.0, atol=1e-3)
    np.testing.assert_allclose(SDSS.ab_maggies(WAVE, flat_ab(WAVE, 20.0)), 1e-8, rtol=1e-3)


def test_redshift_of_flat_fnu_source_brightens_by_one_plus_z():
    # f_obs(l) = f(l / (1+z)) / (1+z); for f_nu = const that is (1+z) x brighter in f_nu.
    z = np.array([0.0, 0.1, 0.5])
    flux = np.tile(flat_ab(WAVE), (3, 1))
    mags = (SDSS + WISE).ab_magnitudes(WAVE, flux, redshift=z, chunk_size=2)
    np.testing.assert_allclose(mags, (-2.5 * np.log10(1 + z))[:, None] * np.ones((1, 9)), atol=1e-3)


def test_shifted_kernel_matches_speclite_on_a_real_shape():
    rng = np.random.default_rng(1)
    wave = np.linspace(1000, 40_000, 30_000)
    flux = flat_ab(wave) * (1 + 0.3 * np.sin(wave / 500.0 + rng.uniform(0, 6, (4, 1))))
    z = 0.3
    direct = SDSS.ab_maggies(wave * (1 + z), flux / (1 + z))
    shifted = SDSS.ab_maggies(wave, flux, redshift=np.full(4, z))
    np.testing.assert_allclose(shifted, direct, rtol=2e-4)


def test_pivot_wavelengths_from_curves():
    # SDSS pivot wavelengths (Doi et al. 2010 curves with atmosphere) are near 3590/4700/6180/7500/8900 A.
    np.testing.assert_allclose(SDSS.wavelengths, [3590, 4700, 6180, 7500, 8900], rtol=0.01)
    np.testing.assert_allclose(WISE.wavelengths[:2], [33_700, 46_200], rtol=0.01)
    wave, resp = SDSS["r"].transmission
    assert wave.shape == resp.shape and wave[0] < SDSS["r"].wavelength < wave[-1]
    assert resp.max() > 0


def test_single_spectrum_returns_1d():
    assert SDSS.ab_magnitudes(WAVE, flat_ab(WAVE)).shape == (5,)
    assert SDSS.ab_magnitudes(WAVE, np.tile(flat_ab(WAVE), (3, 1))).shape == (3, 5)


def test_non_positive_flux_gives_nan():
    mags = SDSS.ab_magnitudes(WAVE, -flat_ab(WAVE))
    assert np.isnan(mags).all()


# --- contract -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("survey", bd.SURVEYS)
def test_every_standard_set_loads_with_real_curves(survey):
    bs = get_bandset(survey)
    assert len(bs) >= 2 and len(set(bs.names)) == len(bs)
    assert np.all(np.diff(bs.wavelengths) > 0)
    assert all(b.speclite_name and b.survey == survey for b in bs)
    assert np.isfinite(bs.depths).all()


@pytest.mark.parametrize("const, survey", [("SDSS", "sdss"), ("WISE", "wise"), ("UNWISE", "unwise"),
                                           ("HSC", "hsc"), ("PANSTARRS", "panstarrs"), ("GALEX", "galex"),
                                           ("LEGACY", "legacy"), ("LSST", "lsst"), ("TWOMASS", "2mass")])
def test_module_constants(const, survey):
    assert getattr(bd, const) == get_bandset(survey)


def test_expected_names():
    assert get_bandset("sdss").names == ("u", "g", "r", "i", "z")
    assert get_bandset("wise").names == ("W1", "W2", "W3", "W4")
    assert get_bandset("unwise").names == ("W1", "W2")
    assert get_bandset("galex").names == ("FUV", "NUV")
    assert get_bandset("2mass").names == ("J", "H", "Ks")
    assert get_bandset("lsst").names == ("u", "g", "r", "i", "z", "y")
    assert get_bandset("legacy").names == ("g", "r", "z")


def test_bandset_sequence_protocol():
    bs = get_bandset("sdss+wise")
    assert bs.survey == "sdss+wise" and SDSS.survey == "sdss"
    assert bs.names == SDSS.names + WISE.names
    assert bs[0] is bs["u"] and bs.index("W2") == 6
    assert bs[1:3].names == ("g", "r") and isinstance(bs[1:3], BandSet)
    assert bs.subset(["W1", "r"]).names == ("W1", "r")
    assert "W3" in bs and "y" not in bs
    assert [b.name for b in bs] == list(bs.names)
    assert hash(bs) == hash(SDSS + WISE)
    assert "sdss+wise" in repr(bs)
    frame = bs.to_frame()
    assert isinstance(frame, pd.DataFrame) and list(frame.index) == list(bs.names)


def test_band_is_frozen():
    with pytest.raises(AttributeError):
        SDSS["r"].wavelength = 1.0  # type: ignore[misc]


def test_get_bandset_forms():
    assert get_bandset(["sdss:r", "W1"]).names == ("r", "W1")
    assert get_bandset("NUV")[0].survey == "galex"
    assert get_bandset(SDSS) is SDSS
    assert get_bandset("twomass") == get_bandset("2mass")


# --- refusals -------------------------------------------------------------------------------------------
def test_unknown_band_lists_valid_names():
    with pytest.raises(ValidationError, match="valid names are u, g, r, i, z"):
        SDSS["W9"]


def test_unknown_survey_lists_surveys():
    with pytest.raises(ValidationError, match="valid surveys are sdss"):
        get_bandset("sdsss")


def test_ambiguous_bare_band():
    with pytest.raises(ValidationError, match="ambiguous.*'sdss:g'"):
        get_bandset("g")


def test_duplicate_names_refused():
    with pytest.raises(ValidationError, match="appears twice"):
        get_bandset("sdss+hsc")


def test_grid_not_covering_band():
    wave = np.linspace(3000, 9000, 1000)
    with pytest.raises(ValidationError, match="does not cover band 'u'"):
        SDSS.ab_maggies(wave, flat_ab(wave))
    with pytest.raises(ValidationError, match="rest frame"):
        SDSS.subset(["g"]).ab_maggies(wave, flat_ab(wave), redshift=2.0)


def test_bad_shapes_and_redshift():
    with pytest.raises(ValidationError, match="flux_lambda"):
        SDSS.ab_maggies(WAVE, np.ones(5))
    with pytest.raises(ValidationError, match="strictly increasing"):
        SDSS.ab_maggies(WAVE[::-1], flat_ab(WAVE))
    with pytest.raises(ValidationError, match="redshift"):
        SDSS.ab_maggies(WAVE, np.tile(flat_ab(WAVE), (2, 1)), redshift=[0.1, 0.2, 0.3])


def test_band_without_curve():
    b = Band("x", "custom", 5000.0)
    with pytest.raises(ValidationError, match="no filter curve"):
        _ = b.transmission
