"""Contract, determinism, planted-truth and bad-input tests of ``interpret.mock.make_universe``."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import interpret as ip
from interpret.data.lines import LINE_NAMES
from interpret.exceptions import ValidationError
from interpret.mock.photometry import flux_from_asinh_magnitude
from interpret.mock.population import PHYSICAL_COLUMNS
from interpret.mock.universe import Universe, make_universe, simulate_catalog

BANDS = ("u", "g", "r", "i", "z", "W1", "W2", "W3", "W4")


@pytest.fixture(scope="module")
def uni() -> Universe:
    return make_universe(n=72, seed=3, progress=False)


# --- contract -----------------------------------------------------------------------------------------------
def test_contract_shapes_units_and_columns(uni):
    assert uni.bands.names == BANDS
    assert uni.images.dtype == np.float32 and uni.images.shape == (72, 9, 32, 32)
    assert uni.spectra.dtype == np.float32 and uni.spectra.shape == (72, uni.wavelength.size)
    assert uni.spectra_ivar.shape == uni.spectra.shape and np.all(uni.spectra_ivar > 0)
    assert 3800 <= uni.wavelength[0] < 3802 and 9190 < uni.wavelength[-1] <= 9200
    assert np.allclose(np.diff(np.log10(uni.wavelength)), 1e-4)
    for col in (*PHYSICAL_COLUMNS, *BANDS, *(f"{b}_err" for b in BANDS), "flux_Halpha", "r_eff_arcsec"):
        assert col in uni.catalog.columns
    assert np.isfinite(uni.catalog.to_numpy(dtype=float)).all()
    assert uni.catalog["redshift"].between(0.01, 1.0).all()
    assert set(uni.catalog["is_quiescent"].unique()) <= {0, 1}
    assert uni.seed == 3 and uni.config["image_size"] == 32 and len(uni) == 72


def test_truth_dag_covers_catalogue_and_ir_lines_are_catalogue_lines(uni):
    dag = uni.truth.dag
    assert isinstance(dag, nx.DiGraph) and nx.is_directed_acyclic_graph(dag)
    assert set(dag.nodes) == set(uni.catalog.columns)
    assert set(dag.predecessors("sersic_n")) == {"bulge_frac"}
    assert "dust_av" in set(dag.predecessors("u")) and "dust_av" not in set(dag.predecessors("W4"))
    assert set(uni.truth.ir_lines) == {"W1", "W2", "W3", "W4"}
    for lines in uni.truth.ir_lines.values():
        assert lines and set(lines) <= set(LINE_NAMES)
    assert "Halpha" in uni.truth.ir_lines["W3"] and "Mgb" in uni.truth.ir_lines["W1"]
    assert "Halpha" not in uni.truth.ir_lines["W1"]


def test_ir_drivers_are_the_quantities_whose_intervention_moves_the_band():
    """do(x) on a listed driver moves the band in the galaxies it touches; the AGN sets W3 too (torus)."""
    from interpret.mock.truth import IR_DRIVERS

    base = simulate_catalog(600, seed=3)
    agn = base["agn_frac"].to_numpy() > 0.01
    off = simulate_catalog(600, seed=3, interventions={"agn_frac": 0.0})
    for band in ("W1", "W2", "W3", "W4"):
        shift = np.median(np.abs(base[band] - off[band])[agn])
        assert ("agn_frac" in IR_DRIVERS[band]) == (shift > 0.1), (band, shift)
    assert {"[OIII]5007", "Halpha"} <= set(ip.mock.make_universe(20, seed=0, images=False, spectra=False,
                                                                   progress=False).truth.ir_lines["W3"])


# --- determinism --------------------------------------------------------------------------------------------
def test_same_seed_same_universe_independent_of_chunking(uni):
    again = make_universe(n=72, seed=3, chunk_size=64, progress=False)
    pd.testing.assert_frame_equal(uni.catalog, again.catalog)
    np.testing.assert_array_equal(uni.images, again.images)
    np.testing.assert_array_equal(uni.spectra, again.spectra)
    other = make_universe(n=72, seed=4, images=False, spectra=False, progress=False)
    assert not np.allclose(other.catalog["log_mstar"], uni.catalog["log_mstar"])


def test_parallel_workers_give_identical_results(uni):
    import joblib

    with joblib.parallel_config(backend="threading", n_jobs=2):
        par = make_universe(n=72, seed=3, chunk_size=32, progress=False)
    np.testing.assert_array_equal(par.images, uni.images)
    pd.testing.assert_frame_equal(par.catalog, uni.catalog)
    assert "n=72" in repr(par)


# --- planted truth: interventions ---------------------------------------------------------------------------
def _perturb(col: str, cat: pd.DataFrame) -> np.ndarray:
    x = cat[col].to_numpy(dtype=float)
    if col == "is_quiescent":
        return 1.0 - x
    if col == "redshift":
        return np.where(x < 0.5, x + 0.45, x - 0.45)
    if col in ("bulge_frac", "agn_frac", "axis_ratio"):
        return np.clip(x + 0.2, 0.0, 0.95)
    return x * 1.05 + 0.1


@pytest.mark.parametrize("col", PHYSICAL_COLUMNS)
def test_intervening_changes_exactly_the_descendants(col):
    base = simulate_catalog(48, seed=7)
    dag = make_universe(2, seed=7, images=False, spectra=False, progress=False).truth.dag
    do = simulate_catalog(48, seed=7, interventions={col: _perturb(col, base)})
    changed = {c for c in base.columns if not np.array_equal(base[c].to_numpy(), do[c].to_numpy())}
    allowed = nx.descendants(dag, col) | {col}
    assert changed <= allowed, f"do({col}) changed non-descendants {sorted(changed - allowed)}"
    children = set(dag.successors(col))
    assert children <= changed, f"do({col}) left its children {sorted(children - changed)} unchanged"


def test_universe_intervene_keeps_non_descendants(uni):
    do = uni.intervene({"dust_av": 0.0})
    for col in ("log_mstar", "log_sfr", "metallicity", "W3", "W4", "r_eff"):
        np.testing.assert_array_equal(do.catalog[col], uni.catalog[col])
    assert (do.catalog["u"] < uni.catalog["u"]).mean() > 0.9   # no dust: brighter in u


# --- consistency of the observables -------------------------------------------------------------------------
def test_images_sum_to_catalogue_fluxes(uni):
    sums = uni.images.sum(axis=(2, 3))
    sky = 10 ** (-0.4 * np.array([uni.config["depths"][b] for b in BANDS])) / 5 * 1e9
    fwhm = ip.mock.images.psf_fwhm_arcsec(BANDS) / uni.config["pixel_scale"]
    pix = ip.mock.images.pixel_noise(sky, fwhm)
    tol = 5 * pix * uni.config["image_size"]
    assert np.all(np.abs(sums - uni.true_flux) < tol[None, :])
    soft = 10 ** (-0.4 * np.array([uni.config["depths"][b] for b in BANDS])) / 5
    cat_flux = flux_from_asinh_magnitude(uni.catalog[list(BANDS)].to_numpy(), soft) * 1e9
    err = np.sqrt(sky**2 + (0.01 * uni.true_flux) ** 2)
    assert np.mean(np.abs(cat_flux - uni.true_flux) < 4 * err) > 0.99
    deep = make_universe(n=6, seed=3, spectra=False, depths={b: 40.0 for b in BANDS}, progress=False)
    np.testing.assert_allclose(deep.images.sum(axis=(2, 3)), deep.true_flux, rtol=2e-3)


def test_noise_free_magnitudes_are_the_catalogue_without_its_injected_noise():
    u = make_universe(n=3000, seed=5, images=False, spectra=False, progress=False)
    clean = u.noise_free_magnitudes()
    assert list(clean.columns) == list(BANDS) and clean.index.equals(u.catalog.index)
    for b in BANDS:   # the catalogue minus the noise-free magnitude is the injected noise: unbiased, err-sized
        d = u.catalog[b] - clean[b]
        rms_err = float(np.sqrt((u.catalog[f"{b}_err"] ** 2).mean()))
        assert abs(float(d.mean())) < 0.1 * rms_err + 0.002, b
        assert 0.9 < float(d.std()) / rms_err < 1.1, b
    deep = make_universe(n=5, seed=5, images=False, spectra=False, depths={b: 40.0 for b in BANDS}, progress=False)
    np.testing.assert_allclose(deep.noise_free_magnitudes(["W3"])["W3"], deep.catalog["W3"], atol=0.05)
    with pytest.raises(ValidationError, match="unknown bands"):
        u.noise_free_magnitudes(["W5"])


def test_subset_and_save_load_round_trip(uni, tmp_path):
    sub = uni.subset([0, 5, 7])
    assert len(sub) == 3 and sub.images.shape[0] == 3
    np.testing.assert_array_equal(sub.spectra[1], uni.spectra[5])
    assert sub.catalog["log_mstar"].iloc[2] == uni.catalog["log_mstar"].iloc[7]
    path = tmp_path / "u.h5"
    uni.save(path)
    back = Universe.load(path)
    pd.testing.assert_frame_equal(back.catalog, uni.catalog)
    np.testing.assert_array_equal(back.images, uni.images)
    assert back.bands.names == uni.bands.names and back.config == uni.config
    assert set(back.truth.dag.edges) == set(uni.truth.dag.edges) and back.truth.ir_lines == uni.truth.ir_lines
    pd.testing.assert_frame_equal(back.noise_free_magnitudes(), uni.noise_free_magnitudes())


def test_custom_bands_and_no_images():
    u = make_universe(20, seed=1, bands="sdss", image_size=16, spectra=False, progress=False)
    assert u.images.shape == (20, 5, 16, 16) and u.spectra is None and "W1" not in u.catalog


def test_narrow_redshift_range_gives_finite_spectra():
    u = make_universe(6, seed=0, redshift_range=(0.1, 0.1001), images=False, progress=False)
    assert np.isfinite(u.spectra).all() and u.catalog["redshift"].between(0.1, 0.1001).all()


# --- bad input ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "'n' must be >= 1"),
        ({"n": -5}, "'n' must be >= 1"),
        ({"bands": ["sdss:r", "Q7"]}, "Q7"),
        ({"image_size": 16}, "too small for the PSF"),
        ({"redshift_range": (0.5, 0.2)}, "redshift_range"),
        ({"redshift_range": (-0.1, 0.5)}, "redshift_range"),
        ({"redshift_range": (0.1, 12.0)}, "redshift_range"),
        ({"interventions": {"colour": 1.0}}, "unknown column"),
        ({"depths": {"K": 20.0}}, "unknown bands"),
    ],
)
def test_bad_input_raises_clear_errors(kwargs, match):
    kwargs = {"n": 5, **kwargs}
    with pytest.raises(ValidationError, match=match):
        make_universe(seed=0, progress=False, **kwargs)
