"""The real SDSS sample read from the installed kcorrect package."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

import interpret as ip
from interpret import datasets as ds
from interpret.exceptions import ValidationError


@pytest.fixture(scope="module")
def mass_cache(tmp_path_factory):
    # shared with tests/test_train.py so the kcorrect fit runs once per session
    path = tmp_path_factory.getbasetemp() / "interpret-cache"
    path.mkdir(exist_ok=True)
    for stale in path.glob("sdss-mstar-*.npz"):
        stale.unlink()
    return path


@pytest.fixture(scope="module")
def sdss(mass_cache):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INTERPRET_CACHE_DIR", str(mass_cache))
        return ds.sdss_sample()  # the kcorrect mass fit (~5-10 s), cached for the rest of the session


@pytest.fixture(scope="module")
def raw():
    return fits.getdata(ds.kcorrect_catalog_path(), 1)


# --- known answers ---------------------------------------------------------------------------------------
def test_r_magnitude_by_hand(sdss, raw):
    row = 7
    flux = raw["MODELFLUX"][row, 2]
    ivar = raw["MODELFLUX_IVAR"][row, 2]
    ext = raw["EXTINCTION"][row, 2]
    expected = 22.5 - 2.5 * np.log10(flux) - ext + 0.010
    assert sdss.catalog.loc[row, "r"] == pytest.approx(expected, abs=1e-5)
    assert sdss.catalog.loc[row, "r_err"] == pytest.approx(1.0857362 / (flux * np.sqrt(ivar)), rel=1e-5)


def test_twomass_and_galex_conversions(sdss, raw):
    cat = sdss.catalog
    ebv = raw["EXTINCTION"][:, 2] / 2.751
    j_ab = raw["J_M_EXT"] + 0.9017 - 0.902 * ebv
    ok = raw["J_M_EXT"] > 0
    np.testing.assert_allclose(cat["J"].to_numpy()[ok], j_ab[ok], atol=2e-3)
    nuv = raw["NUV_FLUX_AUTO"]
    has = nuv > 0
    np.testing.assert_allclose(cat["NUV"].to_numpy()[has], 20.08 - 2.5 * np.log10(nuv[has]) - 8.20 * ebv[has],
                               atol=1e-4)
    assert cat["NUV"].isna().sum() == (~has).sum()


def test_redshift_and_shape(sdss, raw):
    assert len(sdss) == 10_000
    np.testing.assert_allclose(sdss.catalog["redshift"].to_numpy(), raw["Z"], rtol=1e-6)
    assert 0.09 < sdss.catalog["redshift"].median() < 0.11


def test_stellar_masses_are_plausible(sdss):
    lm = sdss.catalog["log_mstar"].to_numpy()
    assert np.isfinite(lm).all()
    assert 10.5 < np.median(lm) < 11.2            # SDSS main sample (Planck18, Chabrier)
    # mass correlates with luminosity: brighter absolute magnitude -> more massive
    from astropy.cosmology import Planck18
    abs_r = sdss.catalog["r"] - Planck18.distmod(sdss.catalog["redshift"].to_numpy()).value
    assert np.corrcoef(abs_r, lm)[0, 1] < -0.8


# --- contract -------------------------------------------------------------------------------------------
def test_catalog_columns_and_bands(sdss):
    names = ("FUV", "NUV", "u", "g", "r", "i", "z", "J", "H", "Ks")
    assert sdss.bands.names == names
    for b in names:
        assert b in sdss.catalog and f"{b}_err" in sdss.catalog
    assert np.all(np.diff(sdss.bands.wavelengths) > 0)
    assert "kcorrect" in sdss.source and "Blanton" in sdss.source
    assert sdss.magnitudes(["g", "r"]).shape == (10_000, 2)
    assert sdss.magnitudes().shape == (10_000, 10)
    # ugriz complete except the 12 non-positive u fluxes
    assert sdss.catalog[["g", "r", "i", "z"]].notna().all().all()
    assert sdss.catalog["u"].isna().sum() == 12


def test_masses_cached_and_reused(sdss, mass_cache, monkeypatch):
    files = list(mass_cache.glob("sdss-mstar-*.npz"))
    assert len(files) == 1
    monkeypatch.setenv("INTERPRET_CACHE_DIR", str(mass_cache))
    monkeypatch.setattr(ds, "_kcorrect_log_mstar", _fail)
    again = ds.sdss_sample()
    np.testing.assert_array_equal(again.catalog["log_mstar"], sdss.catalog["log_mstar"])
    assert again.meta["mass_seconds"] == 0.0


def _fail(*args, **kwargs):
    raise AssertionError("the cache should have been used")


def test_no_masses_and_petro(monkeypatch, tmp_path):
    monkeypatch.setenv("INTERPRET_CACHE_DIR", str(tmp_path))
    petro = ds.sdss_sample(with_masses=False, flux="petro")
    assert "log_mstar" not in petro.catalog and petro.meta["flux"] == "petro"
    assert not list(tmp_path.glob("*.npz"))
    assert ip.datasets.sdss_sample is ds.sdss_sample


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("INTERPRET_CACHE_DIR", str(tmp_path / "sub"))
    assert ds.cache_dir() == tmp_path / "sub" and (tmp_path / "sub").is_dir()


# --- refusals -------------------------------------------------------------------------------------------
def test_bad_flux_and_band(sdss):
    with pytest.raises(ValidationError, match="flux"):
        ds.sdss_sample(flux="cmodel")
    with pytest.raises(ValidationError, match="unknown band 'W1'"):
        sdss.magnitudes(["W1"])
