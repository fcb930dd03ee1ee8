"""Users' paths through the image and spectrum studies (stellar_mass, band_utilization, optical_lines_to_ir)
that the end-to-end runs on the mock universe do not take: cutout files whose band names are a plain list
("u" is ambiguous in the filter registry), ``[data] bands`` choosing a subset or another order of the file's
bands, catalogues without the optional morphology columns, models whose attributions are all zero. Each one
crashed, silently mixed channels and names, or wrote NaN into the report; now it runs, or is refused at the
boundary with the culprit and the fix."""
from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from interpret.data.io import write_cutouts
from interpret.exceptions import ConfigError
from interpret.studies._data import StudyData, user_data
from interpret.studies.stellar_mass import Params as MassParams
from interpret.studies.stellar_mass import steps as mass_steps


def _ctx(tmp_path, data: dict, study: str = "stellar_mass") -> SimpleNamespace:
    return SimpleNamespace(config={"study": study, "data": data}, resolve=lambda p: tmp_path / p)


def _cutouts(tmp_path, bands=("u", "g", "r", "i", "z"), n=6, name="cut.h5"):
    """Cutouts whose channel k is filled with k (so a selection is visible in the values)."""
    images = np.broadcast_to(np.arange(len(bands), dtype=np.float32)[None, :, None, None], (n, len(bands), 4, 4))
    return write_cutouts(tmp_path / name, images, list(bands)).name


# --- [data] bands: a subset or reordering of the file's bands ---------------------------------------------------
@pytest.mark.parametrize("wanted", [["g", "r", "i"], ["z", "i", "r", "g", "u"], ["u", "g", "r", "i", "z"]])
def test_data_bands_select_the_files_channels_by_name(tmp_path, wanted):
    """``bands`` used to rename the channels in file order, so a subset left 5 channels under 3 names (a model
    trained on mismatched inputs) and another order mislabelled every band."""
    data = user_data(_ctx(tmp_path, {"images": _cutouts(tmp_path), "bands": wanted}))
    assert data.bands == wanted and data.images.shape[1] == len(wanted)
    assert [int(data.images[0, k, 0, 0]) for k in range(len(wanted))] == ["ugriz".index(b) for b in wanted]


def test_data_bands_name_the_channels_of_a_file_without_band_names(tmp_path):
    np.savez(tmp_path / "cut.npz", images=np.zeros((3, 2, 4, 4), np.float32))
    data = user_data(_ctx(tmp_path, {"images": "cut.npz", "bands": ["g", "r"]}))
    assert data.bands == ["g", "r"] and data.images.shape == (3, 2, 4, 4)
    with pytest.raises(ConfigError, match=r"names 1 band\(s\) \['g'\] but 'cut.npz' has 2 unnamed image channels"):
        user_data(_ctx(tmp_path, {"images": "cut.npz", "bands": ["g"]}))


def test_unnamed_channels_last_cutouts_are_refused_with_the_transpose(tmp_path):
    """Unnamed (n, H, W, C) cutouts were read as H 'bands' of H x C pixels and failed later for lacking a
    catalogue column 'band0'."""
    np.savez(tmp_path / "nhwc.npz", images=np.zeros((3, 8, 8, 5), np.float32))
    with pytest.raises(ConfigError, match=r"'nhwc.npz' has no band names \(shape \(3, 8, 8, 5\) looks channels-last "
                                          r"\(n, H, W, C\): write them as \(n, C, H, W\), .*transpose\(0, 3, 1, 2\)"):
        user_data(_ctx(tmp_path, {"images": "nhwc.npz"}))


@pytest.mark.parametrize(("wanted", "match"), [
    (["g", "Y"], r"\['Y'\] not among the bands of 'cut.h5' \(\['u', 'g', 'r', 'i', 'z'\]\)"),
    (["g", "g"], r"repeated names in the bands of 'cut.h5'"),
])
def test_data_bands_refuse_names_the_file_lacks(tmp_path, wanted, match):
    with pytest.raises(ConfigError, match=match):
        user_data(_ctx(tmp_path, {"images": _cutouts(tmp_path), "bands": wanted}))


def test_n_says_it_does_not_subsample_the_users_files(tmp_path):
    """``n = 5000`` (or ``--n 100``) with [data] files was ignored without a word."""
    from interpret.studies._data import study_data

    ctx = _ctx(tmp_path, {"images": _cutouts(tmp_path)})
    ctx.config["n"], ctx.notes = 100, []
    assert len(study_data(ctx, 3000)) == 6
    assert ctx.notes == ["n = 100 applies to the mock universe only: all 6 rows of the [data] files are used "
                         "(subsample the files to run on fewer)."]
    ctx.config["n"], ctx.notes = None, []
    study_data(ctx, 3000)
    assert ctx.notes == []


# --- [data] target: the study's target column under the user's name ---------------------------------------------
def test_data_target_names_the_catalogues_target_column(tmp_path):
    """``[data] target`` was accepted and ignored by the image studies: a catalogue with 'LOGMSTAR' was refused
    for lacking 'log_mstar' although the config named it."""
    from interpret.studies._data import with_target

    cat = pd.DataFrame({"LOGMSTAR": [10.0, 11.0], "log_mstar": [0.0, 0.0], "g": [18.0, 19.0]})
    data = StudyData(catalog=cat, source="user")
    out = with_target(data, "LOGMSTAR", "log_mstar", "stellar_mass")
    assert out.catalog.columns.tolist() == ["log_mstar", "g"] and out.catalog["log_mstar"].tolist() == [10.0, 11.0]
    assert with_target(data, None, "log_mstar", "stellar_mass") is data
    with pytest.raises(ConfigError, match=r"stellar_mass: \[data\] catalog lacks column\(s\) \['MASS'\] \(\[data\] "
                                          r"target, read as 'log_mstar'\)"):
        with_target(data, "MASS", "log_mstar", "stellar_mass")
    from interpret.studies import optical_lines_to_ir
    assert "target" not in optical_lines_to_ir.DATA_KEYS      # its targets are the W1..W4 columns


# --- stellar_mass: the reference CNN on a user's cutouts ---------------------------------------------------------
def test_stellar_mass_trains_on_cutouts_named_by_a_plain_band_list():
    """``trainable`` looked the names up in the filter registry: SDSS-like bands ["u", "g", ...] stopped the
    study with "band 'u' is ambiguous" before any training."""
    from interpret.mock.train import _make_task

    n = 8
    cat = pd.DataFrame({b: np.full(n, 18.0) for b in "ugriz"} | {"redshift": 0.1, "log_mstar": 10.0})
    data = StudyData(catalog=cat, bands=list("ugriz"), images=np.ones((n, 5, 8, 8), np.float32), source="user")
    assert mass_steps.band_names(data) == list("ugriz")
    task = _make_task(mass_steps.trainable(data), "stellar_mass", None)
    assert task.feature_names["image"] == list("ugriz")


def test_stellar_mass_takes_the_pixel_scale_the_cutout_file_states(tmp_path):
    """Cutouts written with ``pixel_scale=0.262`` (DECaLS) were measured with SDSS's default 0.396"/px: every
    R_e aperture of the growth curves was 1.5x too small, silently."""
    images = np.zeros((2, 1, 4, 4), np.float32)
    write_cutouts(tmp_path / "c.h5", images, ["r"], pixel_scale=0.262)
    data = user_data(_ctx(tmp_path, {"images": "c.h5"}))
    p, note = mass_steps.file_pixel_scale(MassParams(), data)
    assert p.pixel_scale == 0.262 and note == "Pixel scale 0.262 arcsec/px from the cutout file (R_e apertures)."
    p, note = mass_steps.file_pixel_scale(MassParams(pixel_scale=0.2), data)
    assert p.pixel_scale == 0.2 and "file gives a pixel scale of 0.262 arcsec/px; params.pixel_scale = 0.2" in note
    assert mass_steps.file_pixel_scale(MassParams(), StudyData(catalog=pd.DataFrame()))[1] is None


# --- stellar_mass: optional catalogue columns and degenerate attributions -----------------------------------------
def test_stellar_mass_says_which_columns_a_skipped_analysis_needs():
    p = MassParams()
    cat = pd.DataFrame({b: [18.0] for b in "ugriz"} | {"redshift": [0.1], "log_mstar": [10.0]})
    assert mass_steps.skipped_pair_note(cat, "phot_vs_morph", p) == (
        "PID pair 'phot_vs_morph' skipped: the catalogue lacks 'sersic_n' or 'r_eff_arcsec' (morphology).")
    notes = mass_steps.skipped_notes(cat, p)
    assert "growth curves in units of R_e skipped: the catalogue has no 'r_eff_arcsec'" in notes[0]
    assert notes[1].startswith("Local dependence skipped for ['sersic_n', 'r_eff_arcsec', 'axis_ratio']")
    full = cat.assign(sersic_n=[1.0], r_eff_arcsec=[1.0], axis_ratio=[0.5])
    assert mass_steps.skipped_notes(full, p) == []


def test_stellar_mass_growth_curves_of_all_zero_attributions_are_nan_without_warnings():
    """A model whose output ignores the cutouts (or a saturated one) has all-zero attributions: the quartiles
    over galaxies raised numpy's all-NaN RuntimeWarning (an error under pytest) and the report said 'nan %'."""
    rng = np.random.default_rng(0)
    n, rows = 12, np.arange(4)
    cat = pd.DataFrame({"r_eff_arcsec": rng.uniform(0.5, 2, n)})
    data = SimpleNamespace(catalog=cat, images=rng.normal(0, 1, (n, 2, 8, 8)))
    attr = SimpleNamespace(values=np.zeros((4, 2, 8, 8)),
                           per_band=lambda b: pd.DataFrame({"absolute": [0.0, 0.0]}, index=b),
                           radial_profile=lambda b, n_bins: pd.DataFrame({"total": np.zeros(n_bins)}))
    p = MassParams(n_attribution=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = mass_steps.attribution_tables(attr, data, {"analysis": rows}, ["g", "r"], p, seed=0)
    growth = out["attribution_growth"]
    assert growth["attribution_median"].isna().all() and growth["light_median"].notna().all()


# --- optical_lines_to_ir: rest-frame spectra, other grids, no expected lines ----------------------------------------
def _spectra_data(wave, z=True):
    cat = pd.DataFrame({"W1": [15.0, 15.5]} | ({"redshift": [0.1, 0.2]} if z else {}))
    return StudyData(catalog=cat, wavelength=np.asarray(wave, float), spectra=np.ones((2, len(wave))), source="user")


def test_optical_rest_frame_spectra_set_the_catalogue_redshift_aside():
    """Spectra already in the rest frame were shifted again by the catalogue redshift (reference network and
    line windows): ``spectra_frame = "rest"`` now reads the grid as rest frame."""
    from interpret.studies.optical_lines_to_ir import Params, steps

    data = _spectra_data(np.geomspace(3500, 7000, 50))
    assert steps.in_frame(data, Params()) is data
    rest = steps.in_frame(data, Params(spectra_frame="rest"))
    assert "redshift" not in rest.catalog and "redshift" in data.catalog and steps._redshift(rest) is None
    with pytest.raises(ConfigError, match=r"spectra_frame must be 'observed' or 'rest'; got 'restframe'"):
        Params(spectra_frame="restframe").validate()
    est = SimpleNamespace(input_names=("spectra", "redshift"))
    with pytest.raises(ConfigError, match=r"has no 'redshift' \(params.spectra_frame = 'rest' sets it aside"):
        steps.model_inputs(est, rest, np.arange(2))


def test_optical_notes_say_when_the_network_reads_the_observed_frame():
    from interpret.studies.optical_lines_to_ir import steps

    observed_only = SimpleNamespace(input_names=None)
    note = steps.grid_note(_spectra_data(np.linspace(3800, 9200, 50)), observed_only)
    assert "not log-uniform" in note and "resample to a log-lambda grid" in note
    assert "no redshift input" in steps.grid_note(_spectra_data(np.geomspace(3800, 9200, 50)), observed_only)
    assert steps.grid_note(_spectra_data(np.geomspace(3800, 9200, 50)), SimpleNamespace(
        input_names=("spectra", "redshift"))) is None
    assert steps.grid_note(_spectra_data(np.linspace(3800, 9200, 50), z=False), observed_only) is None


def test_optical_findings_rank_the_lines_of_bands_without_expected_lines():
    """User data carry no planted truth: the report said nothing about which lines the network uses."""
    from interpret.studies.optical_lines_to_ir import steps

    table = pd.DataFrame({"excess": [0.3, 0.2, 0.1], "significant": [True, True, False]},
                         index=["Halpha", "[NII]6584", "Hbeta"])
    overlap = pd.DataFrame({"band": ["W1"]})
    notes = steps.untested_lines({"W1": table, "W3": table}, overlap, 2)
    assert notes == ["W3: top-2 lines Halpha, [NII]6584 (2 of 3 lines significant); no expected lines to compare "
                     "with: params.truth_lines = {W3 = [...]} scores the ranking against them."]
    assert len(steps.untested_lines({"W3": table}, pd.DataFrame(), 2)) == 1


# --- a user model that does not fit the study's inputs --------------------------------------------------------------
def test_a_model_that_does_not_fit_the_cutouts_is_refused_with_the_config_key_that_fixes_it():
    """A 5-band model on 9-band cutouts failed with a TorchScript traceback that named neither the bands the
    study fed it nor ``[data] bands``."""
    import torch

    import interpret as ip
    from interpret.studies._models import user_model_inputs

    est = ip.load_estimator(torch.nn.Sequential(torch.nn.Conv2d(5, 1, 3), torch.nn.Flatten(), torch.nn.LazyLinear(1)))
    ctx = SimpleNamespace(config={"model": {"path": "my.pt"}})
    with pytest.raises(ConfigError, match=r"stellar_mass: your \[model\] failed on cutouts \(9 bands\): use "
                                          r"\[data\] bands \(TorchEstimator.predict\(\): .* expected x \(n, 5, H, W\).*"
                                          r"; Given groups=1, .* but got 9 channels instead\)$"):
        with user_model_inputs(ctx, "stellar_mass", "cutouts (9 bands)", "use [data] bands"):
            est.predict(np.zeros((2, 9, 8, 8), np.float32), progress=False)
    with pytest.raises(ValueError, match="the model failed on inputs"):     # the reference model: unchanged
        with user_model_inputs(SimpleNamespace(config={}), "stellar_mass", "cutouts", "use [data] bands"):
            est.predict(np.zeros((2, 9, 8, 8), np.float32), progress=False)


def test_optical_runs_a_torchscript_model_without_output_names_and_skips_randomisation():
    """A TorchScript spectrum -> W1-W4 model stopped the study twice: without ``output_names`` the attribution
    target 'W1' was unknown, with them the randomisation test failed on ``get_submodule`` of a ScriptModule."""
    import torch

    import interpret as ip
    from interpret.studies.optical_lines_to_ir import steps

    net = torch.nn.Linear(6, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)     # torch 2.9 deprecates jit; users still ship it
        scripted = ip.load_estimator(torch.jit.trace(net, torch.zeros(1, 6)))
    assert steps.output_target(scripted, "W3") == 2 and not steps.can_randomize(scripted)
    assert "Model randomisation skipped" in steps.randomization_note(scripted, steps.Params())
    named = ip.load_estimator(net, output_names=["W1", "W2", "W3", "W4"])
    assert steps.output_target(named, "W3") == "W3" and steps.can_randomize(named)


# --- masked pixels and missing magnitudes ----------------------------------------------------------------------------
def test_masked_pixels_are_set_to_zero_with_a_report_line(tmp_path):
    """A bad-pixel mask as NaN (0.1 % of pixels) put a NaN in nearly every cutout: the reference trainer
    dropped them all ("only 2 rows have finite inputs") and a user's model returned NaN."""
    from interpret.studies._data import finite_pixels

    images = np.ones((4, 2, 3, 3), np.float32)
    images[0, 1, 1, 1] = np.nan
    images[2, 0, 0, 0] = np.inf
    notes: list[str] = []
    out = finite_pixels(StudyData(catalog=pd.DataFrame(index=range(4)), images=images), notes)
    assert np.isfinite(out.images).all() and out.images[0, 1, 1, 1] == 0 and out.images.dtype == np.float32
    assert notes == ["2 of 4 cutouts had non-finite values (2 of 72 pixels, masked or bad); they are set to 0 "
                     "(sky / zero flux) for the networks and attributions."]
    clean = StudyData(catalog=pd.DataFrame(index=range(4)), images=np.ones((4, 2, 3, 3)))
    assert finite_pixels(clean, notes) is clean and len(notes) == 1


def test_band_utilization_refuses_missing_magnitudes_naming_columns_and_rows():
    """W4 non-detections as NaN reached the network and stopped the run at its first prediction."""
    from interpret.studies.band_utilization import steps as bu_steps

    cat = pd.DataFrame({"g": [18.0, 19.0, 20.0], "W4": [15.0, np.nan, np.nan], "redshift": [0.1, 0.2, 0.3]})
    data = StudyData(catalog=cat, bands=["g", "W4"], images=np.ones((3, 2, 4, 4)), source="user")
    with pytest.raises(ConfigError, match=r"missing or non-numeric values in W4 \(2 rows\) \(rows 1, 2\); drop "
                                          r"those rows, fill non-detections .* \[data\] bands = \[...\]"):
        bu_steps.band_names(data)


def test_stellar_mass_causal_discovery_leaves_out_rows_with_missing_magnitudes():
    """A missing u magnitude made a NaN colour, and discover() refused the whole analysis."""
    n = 6
    cat = pd.DataFrame({"redshift": np.linspace(0.1, 0.3, n), "log_mstar": np.linspace(9, 11, n),
                        "u": [20.0, np.nan, 20.5, 21.0, 20.2, 20.1], "g": 19.0, "r": 18.0})
    pred = {"analysis": np.arange(n), "mass_cnn": np.ones(n), "mass_phot": np.ones(n)}
    p = MassParams(colours=("u-g", "g-r"))
    frame = mass_steps.causal_frame(cat, pred, p)
    assert len(frame) == 5 and np.isfinite(frame.to_numpy()).all()
    assert mass_steps.causal_note(cat, pred, p) == ("Causal discovery uses the 5 of 6 analysis galaxies whose columns "
                                                   "are all finite; non-finite values in u-g (1).")
    assert mass_steps.causal_note(cat.fillna(20.0), pred, p) is None


def test_stellar_mass_says_why_a_torchscript_model_has_no_local_dependence():
    """A TorchScript CNN has no reachable embedding: the local-dependence analysis vanished from the report."""
    import torch

    import interpret as ip

    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3), torch.nn.Linear(3, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = ip.load_estimator(torch.jit.trace(net, torch.zeros(1, 1, 4, 4)))
    pred, emb = mass_steps.predict_and_embed(scripted, np.ones((2, 1, 4, 4), np.float32))
    assert pred.shape == (2,) and emb is None
    assert "state dict + [model] factory" in mass_steps.NO_EMBEDDING
    assert mass_steps.predict_and_embed(ip.load_estimator(net), np.ones((2, 1, 4, 4), np.float32))[1].shape == (2, 3)
