"""Data I/O: magnitudes from fluxes (known answers, real SDSS catalogue), round trips of every format, errors."""
from __future__ import annotations

import importlib.resources

import h5py
import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.table import Table

from interpret.data.io import (
    Cutouts,
    Spectra,
    flux_to_mag,
    read_catalog,
    read_cutouts,
    read_spectra,
    write_catalog,
    write_cutouts,
    write_spectra,
)
from interpret.exceptions import DataFileError

SDSS = importlib.resources.files("kcorrect") / "data/test/gst_tests_small.fits"
UGRIZ = list("ugriz")


@pytest.fixture(scope="module")
def sdss_raw() -> Table:
    return Table.read(str(SDSS))


# --- known answers ---------------------------------------------------------------------------------------
def test_flux_to_mag_hand_computed():
    mag, err = flux_to_mag([1.0, 10.0, 0.0, -5.0, 4.0], [4.0, 0.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(mag[[0, 1, 4]], [22.5, 20.0, 22.5 - 2.5 * np.log10(4.0)])
    assert np.isnan(mag[2]) and np.isnan(mag[3])  # non-positive flux: no magnitude
    np.testing.assert_allclose(err[[0, 4]], [1.0857362 / 2.0, 1.0857362 / 4.0], rtol=1e-7)
    assert np.isnan(err[1:4]).all()  # ivar 0 or flux <= 0
    assert flux_to_mag([3631.0], unit="Jy")[0][0] == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(DataFileError, match="unknown flux unit 'ADU'"):
        flux_to_mag([1.0], unit="ADU")


def test_real_sdss_catalogue_magnitudes(sdss_raw):
    cat = read_catalog(SDSS, bands="ugriz", fluxes={"MODELFLUX": "{band}"}, extinction="EXTINCTION")
    assert len(cat) == 10000 and {"u", "g", "r", "i", "z", "r_err", "Z", "MODELFLUX_r", "EXTINCTION_z"} <= set(cat)
    flux = np.asarray(sdss_raw["MODELFLUX"], dtype=float)
    ivar = np.asarray(sdss_raw["MODELFLUX_IVAR"], dtype=float)
    ext = np.asarray(sdss_raw["EXTINCTION"], dtype=float)
    row = 0
    assert cat["g"][row] == pytest.approx(22.5 - 2.5 * np.log10(flux[row, 1]) - ext[row, 1], abs=1e-9)
    assert cat["g_err"][row] == pytest.approx(1.0857 / (flux[row, 1] * np.sqrt(ivar[row, 1])), rel=1e-4)
    assert cat["MODELFLUX_u"][row] == pytest.approx(flux[row, 0])
    # non-positive u fluxes are exactly the NaN magnitudes
    np.testing.assert_array_equal(cat["u"].isna().to_numpy(), flux[:, 0] <= 0)
    assert 0 < cat["u"].isna().sum() < 100 and cat[["g", "r", "i", "z"]].notna().all().all()
    # SDSS main galaxy sample: Petrosian r < 17.77, so extinction-corrected model r mostly brighter than that
    assert 14.0 < cat["r"].median() < 17.77 and (cat["g"] - cat["r"]).median() == pytest.approx(0.9, abs=0.3)
    assert 0 < cat["r_err"].median() < 0.02
    plain = read_catalog(SDSS, columns=["MODELFLUX", "MODELFLUX_IVAR"], bands=UGRIZ, fluxes=["MODELFLUX"])
    assert list(plain.columns[-2:]) == ["MODELFLUX_z_mag", "MODELFLUX_z_mag_err"]
    np.testing.assert_allclose(plain["MODELFLUX_g_mag"] - ext[:, 1], cat["g"], atol=1e-9)


# --- round trips ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["fits", "h5", "parquet", "ecsv", "csv"])
def test_catalog_round_trip_each_format(tmp_path, sdss_raw, ext):
    sub = sdss_raw[:50]
    cols = {"Z": np.asarray(sub["Z"]), "id": np.arange(50), "name": np.array([f"g{i}" for i in range(50)])}
    if ext != "csv":
        cols |= {"MODELFLUX": np.asarray(sub["MODELFLUX"]), "MODELFLUX_IVAR": np.asarray(sub["MODELFLUX_IVAR"])}
    else:  # CSV holds scalar columns only: pre-expanded
        cols |= {f"MODELFLUX_{b}": np.asarray(sub["MODELFLUX"][:, i]) for i, b in enumerate(UGRIZ)}
    path = write_catalog(cols, tmp_path / f"cat.{ext}")
    cat = read_catalog(path, bands=UGRIZ, fluxes={"MODELFLUX": "{band}"} if ext != "csv" else None)
    np.testing.assert_allclose(cat["Z"], cols["Z"], rtol=1e-6)
    np.testing.assert_array_equal(cat["id"], np.arange(50))
    assert cat["name"].tolist() == cols["name"].tolist()
    np.testing.assert_allclose(cat["MODELFLUX_r"], np.asarray(sub["MODELFLUX"][:, 2]), rtol=1e-6)
    if ext != "csv":
        expected, _ = flux_to_mag(np.asarray(sub["MODELFLUX"][:, 2]))
        np.testing.assert_allclose(cat["r"], expected, rtol=1e-6)
        assert cat["r_err"].notna().all()
    assert cat.attrs["source"] == str(path)


def test_catalog_dataframe_and_compound_hdf5(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    back = read_catalog(write_catalog(frame, tmp_path / "f.parquet"))
    pd.testing.assert_frame_equal(back, frame)
    rec = np.zeros(3, dtype=[("FLUX", "f4", (2,)), ("z", "f8")])
    rec["FLUX"] = [[1, 10], [100, 1000], [-1, 1]]
    with h5py.File(tmp_path / "t.hdf5", "w") as h5:
        h5.create_dataset("table", data=rec)
    cat = read_catalog(tmp_path / "t.hdf5", bands=["g", "r"], fluxes={"FLUX": "{band}"})
    np.testing.assert_allclose(cat["r"], [20.0, 15.0, 22.5])
    assert np.isnan(cat["g"][2]) and cat["r_err"].isna().all()  # no FLUX_IVAR: NaN errors
    Table({"FLUX": rec["FLUX"], "z": rec["z"]}).write(tmp_path / "astropy.h5", path="data", serialize_meta=True)
    np.testing.assert_array_equal(read_catalog(tmp_path / "astropy.h5", bands=["g", "r"])["FLUX_r"], rec["FLUX"][:, 1])


def test_cutouts_round_trip_each_format(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(4, 3, 9, 9)).astype(np.float32)
    for ext in ("fits", "npz", "h5"):
        path = write_cutouts(tmp_path / f"c.{ext}", images, ["g", "r", "z"], pixel_scale=0.262)
        cut = read_cutouts(path)
        assert isinstance(cut, Cutouts) and cut.bands == ("g", "r", "z") and len(cut) == 4
        assert cut.images.dtype == np.float32
        np.testing.assert_array_equal(cut.images, images)
        assert cut.meta["pixel_scale"] == pytest.approx(0.262)


def test_cutouts_cube_layouts(tmp_path):
    images = np.arange(2 * 2 * 3 * 3, dtype=">f8").reshape(2, 2, 3, 3)  # big-endian, as FITS stores it
    hdu = fits.PrimaryHDU(images)
    hdu.header["BANDS"] = "W1, W2"
    hdu.writeto(tmp_path / "cube.fits")
    cut = read_cutouts(tmp_path / "cube.fits")
    assert cut.bands == ("W1", "W2") and cut.images.dtype == np.float32
    np.testing.assert_array_equal(cut.images, images)
    np.savez(tmp_path / "nhwc.npz", images=np.moveaxis(images, 1, -1))
    nhwc = read_cutouts(tmp_path / "nhwc.npz", layout="NHWC", bands=["a", "b"])
    np.testing.assert_array_equal(nhwc.images, images)
    np.savez(tmp_path / "one.npz", images=images[0])  # (bands, H, W): a single object
    assert read_cutouts(tmp_path / "one.npz").images.shape == (1, 2, 3, 3)
    assert read_cutouts(tmp_path / "one.npz").bands == ("band0", "band1")


def test_spectra_round_trip_each_format(tmp_path):
    rng = np.random.default_rng(1)
    flux, wave = rng.normal(size=(3, 40)), np.linspace(3800.0, 9200.0, 40)
    ivar = rng.uniform(1, 2, size=(3, 40))
    unit = "1e-17 erg / (s cm2 Angstrom)"
    for ext in ("fits", "npz", "h5"):
        spec = read_spectra(write_spectra(tmp_path / f"s.{ext}", flux, wave, flux_unit=unit, ivar=ivar))
        assert isinstance(spec, Spectra) and spec.flux.dtype == np.float32 and spec.flux_unit == unit
        np.testing.assert_allclose(spec.flux, flux, rtol=1e-6)
        np.testing.assert_array_equal(spec.wavelength, wave)
        np.testing.assert_allclose(spec.ivar, ivar, rtol=1e-6)


def test_spectra_header_grids(tmp_path):
    flux = np.ones((2, 4), dtype=np.float32)
    sdss = fits.PrimaryHDU(flux)
    sdss.header.update({"COEFF0": 3.5, "COEFF1": 1e-4, "BUNIT": "1e-17 erg/s/cm^2/Ang"})
    sdss.writeto(tmp_path / "sdss.fits")
    spec = read_spectra(tmp_path / "sdss.fits")
    np.testing.assert_allclose(spec.wavelength, 10 ** (3.5 + 1e-4 * np.arange(4)))
    assert spec.flux_unit == "1e-17 erg/s/cm^2/Ang" and spec.ivar is None
    wcs = fits.PrimaryHDU(flux)
    wcs.header.update({"CRVAL1": 500.0, "CDELT1": 0.5, "CRPIX1": 2.0, "CUNIT1": "nm"})
    wcs.writeto(tmp_path / "wcs.fits")
    np.testing.assert_allclose(read_spectra(tmp_path / "wcs.fits").wavelength, [4995.0, 5000.0, 5005.0, 5010.0])
    np.savez(tmp_path / "um.npz", flux=flux, wavelength=np.array([1.0, 1.1, 1.2, 1.3]), wavelength_unit="um")
    np.testing.assert_allclose(read_spectra(tmp_path / "um.npz").wavelength, [1e4, 1.1e4, 1.2e4, 1.3e4])


# --- errors name the file, the column and the problem ------------------------------------------------------
def test_catalog_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.fits"):
        read_catalog(tmp_path / "nope.fits")
    (tmp_path / "cat.xyz").write_text("a")
    with pytest.raises(DataFileError, match=r"cat\.xyz.*supported: .*\.fits"):
        read_catalog(tmp_path / "cat.xyz")
    with pytest.raises(DataFileError, match=r"gst_tests_small\.fits' has no column\(s\) \['MODELMAG'\]"):
        read_catalog(SDSS, columns=["MODELMAG"])
    with pytest.raises(DataFileError, match="flux column 'CMODELFLUX' is not in"):
        read_catalog(SDSS, fluxes=["CMODELFLUX"])
    with pytest.raises(DataFileError, match="CSV cannot hold vector columns"):
        write_catalog({"F": np.ones((2, 3))}, tmp_path / "v.csv")
    write_catalog({"img": np.ones((2, 3, 3))}, tmp_path / "cube.fits")
    with pytest.raises(DataFileError, match=r"column 'img' of .*cube\.fits' has per-row shape \(3, 3\)"):
        read_catalog(tmp_path / "cube.fits")
    with h5py.File(tmp_path / "two.h5", "w") as h5:
        h5.create_dataset("a", data=np.ones(2))
        h5.create_dataset("b", data=np.ones(2))
    with pytest.raises(DataFileError, match=r"several HDF5 entries \['a', 'b'\]; pass key="):
        read_catalog(tmp_path / "two.h5")
    with pytest.raises(DataFileError, match="is a plain array, not a table"):
        read_catalog(tmp_path / "two.h5", key="a")
    with h5py.File(tmp_path / "pandas.h5", "w") as h5:  # the layout pandas.to_hdf writes
        h5.create_group("df").attrs["pandas_type"] = "frame"
    with pytest.raises(DataFileError, match="pandas.read_hdf"):
        read_catalog(tmp_path / "pandas.h5")
    write_catalog({"F": np.ones((2, 2)), "F_IVAR": np.ones((2, 3))}, tmp_path / "bad.parquet")
    with pytest.raises(DataFileError, match=r"'F_IVAR' has shape \(2, 3\) but 'F' has \(2, 2\)"):
        read_catalog(tmp_path / "bad.parquet", fluxes=["F"])


def test_cutout_and_spectra_errors(tmp_path):
    write_cutouts(tmp_path / "c.npz", np.zeros((1, 2, 4, 4)), ["g", "r"])
    with pytest.raises(DataFileError, match=r"3 band names \['g', 'r', 'i'\] for 2 image channels"):
        read_cutouts(tmp_path / "c.npz", bands=["g", "r", "i"])
    with pytest.raises(DataFileError, match="has no array 'cutouts'"):
        read_cutouts(tmp_path / "c.npz", key="cutouts")
    with pytest.raises(DataFileError, match="must be \\(n, 3, H, W\\)"):
        write_cutouts(tmp_path / "d.npz", np.zeros((1, 2, 4, 4)), ["g", "r", "i"])
    np.savez(tmp_path / "flat.npz", images=np.zeros((5, 4)))
    with pytest.raises(DataFileError, match=r"flat\.npz' have shape \(5, 4\)"):
        read_cutouts(tmp_path / "flat.npz")
    np.savez(tmp_path / "s.npz", flux=np.ones((2, 3)), wavelength=np.array([3.0, 2.0, 1.0]))
    with pytest.raises(DataFileError, match="strictly increasing"):
        read_spectra(tmp_path / "s.npz")
    np.savez(tmp_path / "s2.npz", flux=np.ones((2, 3)), wavelength=np.array([1.0, 2.0]))
    with pytest.raises(DataFileError, match="2 wavelengths for 3 flux pixels"):
        read_spectra(tmp_path / "s2.npz")
    fits.PrimaryHDU(np.ones((2, 3))).writeto(tmp_path / "nogrid.fits")
    with pytest.raises(DataFileError, match="has no wavelength grid"):
        read_spectra(tmp_path / "nogrid.fits")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        read_spectra(tmp_path / "missing.h5")
