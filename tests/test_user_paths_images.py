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


@pytest.mark.parametrize(("wanted", "match"), [
    (["g", "Y"], r"\['Y'\] not among the bands of 'cut.h5' \(\['u', 'g', 'r', 'i', 'z'\]\)"),
    (["g", "g"], r"repeated names in the bands of 'cut.h5'"),
])
def test_data_bands_refuse_names_the_file_lacks(tmp_path, wanted, match):
    with pytest.raises(ConfigError, match=match):
        user_data(_ctx(tmp_path, {"images": _cutouts(tmp_path), "bands": wanted}))


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
