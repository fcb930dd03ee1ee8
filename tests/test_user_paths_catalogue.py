"""Users' paths through the catalogue studies (photoz, sdss_real) that the end-to-end runs do not take: catalogues
written from pandas, target columns not named ``redshift``, small or lopsided splits, models whose inputs or
outputs do not fit the columns. Each one crashed deep inside a step, or quietly scored rows the model was fitted
on; now it runs, or is refused at the boundary with the culprit and the fix."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interpret.data import read_catalog
from interpret.data.io import write_catalog
from interpret.exceptions import DataFileError
from interpret.studies._data import StudyData
from interpret.studies.photoz import Params, steps


def _catalogue(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.02, 0.5, n)
    r = rng.normal(17.5, 0.8, n)
    cat = pd.DataFrame({"u": r + 1.4 + 3.5 * z, "g": r + 0.4 + 2.0 * z, "r": r, "i": r - 0.2 - 0.5 * z,
                        "z": r - 0.3 - 0.8 * z, "redshift": z})
    cat[list("ugriz")] += rng.normal(0, 0.03, (n, 5))
    cat["split"] = np.where(np.arange(n) % 4 == 0, "test", "train")
    return cat


# --- write_catalog: pandas' text columns ---------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["fits", "h5", "ecsv"])
def test_write_catalog_stores_pandas_text_columns(tmp_path, ext):
    """A DataFrame's split column (object dtype, one missing label) used to fail in astropy's FITS writer."""
    text = "tést" if ext != "fits" else "test"
    frame = pd.DataFrame({"z": [0.1, 0.2, 0.3], "split": ["train", None, text],
                          "flux": pd.Series([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])})
    back = read_catalog(write_catalog(frame, tmp_path / f"c.{ext}"))
    assert back["split"].tolist() == ["train", "", text]
    assert back["z"].tolist() == [0.1, 0.2, 0.3] and back["flux_1"].tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(DataFileError, match=r"column 'mixed' mixes Python types \['dict', 'str'\]"):
        write_catalog({"mixed": np.array(["a", {}], dtype=object)}, tmp_path / f"m.{ext}")
    if ext == "fits":
        with pytest.raises(DataFileError, match=r"ASCII text only; column 'split' has 1 other values \(e.g. 'tést'\)"):
            write_catalog(frame.assign(split=["a", "b", "tést"]), tmp_path / "u.fits")


# --- photoz: the reference model on a user's catalogue --------------------------------------------------------
def test_reference_model_fits_only_the_users_non_test_rows_and_any_target_name(tmp_path):
    """Without [model] the reference MLP used to be fitted on a seeded 70 % of *all* rows, the user's test rows
    included (optimistic metrics), and required the target to be called 'redshift'."""
    cat = _catalogue().rename(columns={"redshift": "Z_SPEC"})
    labels = cat["split"].to_numpy(dtype=object)
    data = StudyData(catalog=cat, source="user", split=labels)
    est = steps.reference_estimator(data, list("ugriz"), Params(fast=True), seed=0, target="Z_SPEC",
                                    cache_dir=tmp_path)
    report = est.training
    assert report.n_train + report.n_val + report.n_test == (labels != "test").sum() == 150


@pytest.mark.parametrize(("labels", "reference", "match"), [
    (["test"] * 5 + ["train"] * 195, False, r"the split marks 5 test rows; .* need at least 20; mark more rows"),
    (["test"] * 1 + ["train"] * 199, False, "marks 1 test row; "),
    (["test"] * 195 + ["train"] * 5, True, r"leaves 5 rows that are not 'test' to fit the reference model on"),
])
def test_split_too_small_is_refused_before_any_step(labels, reference, match):
    """5 test rows used to crash in the causal search ('discover(): data has 5 rows'), 1 in the PID folds."""
    args = {"catalog": _catalogue(), "columns": list("ugriz"), "split": labels, "seed": 0}
    if not reference:
        args["est"] = lambda x: x[:, 0] * 0.0
    with pytest.raises(ValueError, match=match):
        steps.run_all(Params(fast=True), **args)


def test_reference_split_too_small_names_the_catalogue_size_needed():
    with pytest.raises(ValueError, match=r"seeded split holds out 6 test rows; .* give at least 134 galaxies"):
        steps.run_all(Params(fast=True), catalog=_catalogue(40), columns=list("ugriz"), seed=0)


@pytest.mark.parametrize(("change", "match"), [
    (lambda c: c.assign(g=np.where(np.arange(len(c)) == 3, np.inf, c["g"])),
     r"g \(1\) have infinite values \(inf\) in 1 rows \(3\)"),
    (lambda c: c.assign(i=c["split"]), r"input column\(s\) 'i' \((object|str), e.g. 'test'\) are not numeric"),
    (lambda c: c.assign(redshift=c["split"]), r"target column 'redshift' \((object|str), e.g. 'test'\) is not numeric"),
])
def test_bad_values_are_refused_naming_the_column(change, match):
    """An inf magnitude used to fail in band_ablation (rows numbered within the test subset), a text column in
    numpy's float conversion."""
    with pytest.raises(ValueError, match=match):
        steps.run_all(Params(fast=True), catalog=change(_catalogue()), columns=list("ugriz"), split="split",
                      est=lambda x: x[:, 0] * 0.0, seed=0)


def test_bands_naming_a_flux_column_may_cover_more_than_the_columns():
    """``fluxes = {FLUX = "{band}"}`` with ``bands = ugriz`` and ``columns = griz`` was refused (exit 1, a bare
    ValueError): ``bands`` both names the flux vector's bands and maps columns to bands."""
    assert steps.column_bands(list("griz"), list("ugriz")) == {b: (b,) for b in "griz"}
    assert steps.column_bands(["MAG_G", "g-r"], ["g", "g-r"]) == {"MAG_G": ("g",), "g-r": ("g", "r")}
    with pytest.raises(ValueError, match=r"\[data\] bands has 2 entries for 3 columns; give one band per input"):
        steps.column_bands(["MAG_G", "MAG_R", "MAG_I"], ["g", "r"])


def test_non_detection_flags_in_the_inputs_get_a_report_line():
    """99 / -9999 magnitudes are finite, so they ran silently as magnitudes."""
    cat = _catalogue()
    assert steps.sentinel_note(cat, list("ugriz")) is None
    cat.loc[[2, 7], "u"] = 99.0
    cat.loc[9, "z"] = -9999.0
    assert steps.sentinel_note(cat, list("ugriz")).startswith("Input column(s) u (2), z (1) hold -9999, 99 in 3 rows")


@pytest.mark.parametrize(("est", "match"), [
    (lambda x: x @ np.ones(4), r"the model fails on the 5 input columns \['u', 'g', 'r', 'i', 'z'\]"),
    (lambda x: x[:, :2], r"returns shape \(2,\) per galaxy .* one redshift per galaxy"),
])
def test_models_that_do_not_fit_the_columns_are_refused(est, match):
    """A model with other inputs failed deep in torch; one with two outputs per galaxy was silently flattened
    into 2n predictions and scored on the wrong rows."""
    with pytest.raises(ValueError, match=match):
        steps.run_all(Params(fast=True), catalog=_catalogue(), columns=list("ugriz"), split="split", est=est,
                      seed=0)


_TINY = Params(n_boot=2, n_attribution=10, n_boot_shapley=0, retrain="none", pid_n_boot=0, pid_n_splits=2,
               pid_bins=3, causal_n_boot=2)


def test_model_with_a_column_output_is_scored_like_a_flat_one():
    kw = {"catalog": _catalogue(), "columns": list("ugriz"), "split": "split", "seed": 0}
    flat = steps.run_all(_TINY, est=lambda x: 0.1 * (x[:, 0] - x[:, 1]) ** 2, **kw)
    column = steps.run_all(_TINY, est=lambda x: 0.1 * (x[:, :1] - x[:, 1:2]) ** 2, **kw)
    pd.testing.assert_frame_equal(flat["tables"]["metrics"], column["tables"]["metrics"])
    assert flat["edge_stability"] is not None


def test_model_linear_in_the_colours_skips_the_causal_search_with_a_note():
    """Its prediction is a combination of the colour nodes: the Fisher-z search used to fail on the singular
    correlation matrix, ending the whole run."""
    out = steps.run_all(_TINY, est=lambda x: 0.1 * (x[:, 0] - x[:, 1]), catalog=_catalogue(),
                        columns=list("ugriz"), split="split", seed=0)
    assert out["edge_stability"] is None
    assert any(n.startswith("Causal discovery skipped: on the test rows, columns are perfectly collinear")
               for n in out["notes"])


# --- sdss_real: the user-data path -------------------------------------------------------------------------------
def _sdss_like(n: int = 200) -> pd.DataFrame:
    cat = _catalogue(n)
    return cat.assign(log_mstar=10.0 + 0.5 * (cat["z"] - cat["z"].mean()))


def test_sdss_real_cut_drops_infinite_magnitudes():
    """An inf magnitude passed the 'finite magnitudes' cut (notna) and failed in the model's predictions."""
    from interpret.studies.sdss_real import steps as sdss

    cat = _sdss_like(5)
    cat.loc[1, "g"] = np.inf
    ds = sdss.select_sample(cat, list("ugriz"), split=cat["split"].to_numpy())
    assert len(ds) == 4 and ds.meta["n_cut"] == 4 and list(ds.meta["split"]) == ["test", "train", "train", "test"]


@pytest.mark.parametrize(("labels", "match"), [
    (["test"] * 5 + ["train"] * 195, r"the split marks 5 of the 200 galaxies .* as test rows; .* at least 20: mark"),
    (["test"] * 190 + ["train"] * 10, r"the split leaves 10 galaxies that are not 'test' .* at least 40"),
])
def test_sdss_real_small_splits_are_refused_before_training(labels, match):
    """5 test rows crashed in the causal search; an all-test split in the reference trainer (TypeError)."""
    from interpret.studies.sdss_real import Params as SdssParams
    from interpret.studies.sdss_real import steps as sdss

    data = sdss.select_sample(_sdss_like(), list("ugriz"), split=np.array(labels, dtype=object))
    with pytest.raises(ValueError, match=match):
        sdss.run_all(SdssParams(bands=tuple("ugriz")), data=data, seed=0)


def test_sdss_real_model_that_does_not_take_the_bands_is_refused():
    """A photo-z model for u g r i z with bands = g r i z failed deep in torch."""
    from interpret.studies.sdss_real import Params as SdssParams
    from interpret.studies.sdss_real import steps as sdss

    est = {"photoz": lambda x: x @ np.ones(5)}
    with pytest.raises(ValueError, match=r"estimators\['photoz'\]: the photo-z model fails on its 4 inputs "
                                         r"\['g', 'r', 'i', 'z'\]"):
        sdss.run_all(SdssParams(bands=tuple("griz")), data=_sdss_like(), estimators=est, seed=0)
    two = {"stellar_mass": lambda x: x[:, :2]}
    with pytest.raises(ValueError, match=r"the stellar mass model returns shape \(2,\) per galaxy"):
        sdss.run_all(SdssParams(bands=tuple("griz")), data=_sdss_like(), estimators=two, seed=0)


def test_sdss_real_config_refuses_a_tiny_test_split_naming_the_fix(tmp_path):
    from interpret.exceptions import ConfigError
    from interpret.runner import run_study

    cat = _sdss_like()
    cat["split"] = ["test"] * 5 + ["train"] * 195
    cat.to_parquet(tmp_path / "mine.parquet")
    (tmp_path / "mine.toml").write_text('study = "sdss_real"\n[data]\ncatalog = "mine.parquet"\n'
                                        'bands = ["u", "g", "r", "i", "z"]\nsplit = "split"\n')
    with pytest.raises(ConfigError, match=r"sdss_real: \[data\] the split marks 5 of the 200 galaxies"):
        run_study(tmp_path / "mine.toml", overrides={"out": str(tmp_path / "run")})


# --- photoz from a config: renamed columns, a (n, 1) scikit-learn model, n with [data] ------------------------------
def test_photoz_config_with_renamed_columns_a_column_output_model_and_n(tmp_path, monkeypatch):
    """The astronomer's catalogue: MAG_* columns mapped to bands, the target ZSPEC, the split SET with labels in
    capitals; a k-NN regressor fitted on a (n, 1) target saved with skops (``trusted``); ``n`` set although [data] is given
    (it used to be ignored without a word)."""
    import skops.io as sio
    from sklearn.neighbors import KNeighborsRegressor

    from interpret import runner

    monkeypatch.setattr(runner, "_draw", lambda *args: [])        # the compute path only: figures take seconds
    cat = _catalogue()
    train = (cat["split"] == "train").to_numpy()
    knn = KNeighborsRegressor(5).fit(cat.loc[train, list("ugriz")].to_numpy(), cat.loc[train, ["redshift"]])
    sio.dump(knn, tmp_path / "knn.skops")
    cat = cat.rename(columns={**{b: f"MAG_{b.upper()}" for b in "ugriz"}, "redshift": "ZSPEC", "split": "SET"})
    cat["SET"] = cat["SET"].str.upper()
    cat.to_parquet(tmp_path / "mine.parquet")
    (tmp_path / "mine.toml").write_text(
        'study = "photoz"\nseed = 0\nn = 50\njobs = 1\nprogress = false\n[data]\ncatalog = "mine.parquet"\n'
        'columns = ["MAG_U", "MAG_G", "MAG_R", "MAG_I", "MAG_Z"]\nbands = ["u", "g", "r", "i", "z"]\n'
        'target = "ZSPEC"\nsplit = "SET"\n[model]\npath = "knn.skops"\ntrusted = '
        '["sklearn.metrics._dist_metrics.EuclideanDistance64", "sklearn.neighbors._kd_tree.KDTree"]\n[params]\nn_boot = 2\nn_attribution = 10\n'
        'n_boot_shapley = 0\nretrain = "none"\npid_n_boot = 0\npid_n_splits = 2\npid_bins = 3\ncausal_n_boot = 2\n')
    ctx = runner.run_study(tmp_path / "mine.toml", overrides={"out": str(tmp_path / "run")}, report=False)
    metrics = ctx.tables["metrics"].iloc[0]
    assert metrics["n"] == 50 and metrics["sigma_nmad"] < 0.05
    assert sorted(ctx.tables["attribution_bands"].index) == sorted("ugriz")
    assert ctx.notes[1].startswith("n = 50 subsamples the default SDSS sample only: all 200 rows")


def test_sdss_real_n_beyond_the_sample_is_noted():
    """n = 5000 on a 200-galaxy catalogue used every galaxy without a word."""
    from types import SimpleNamespace

    from interpret.studies import sdss_real
    from interpret.studies.sdss_real import steps as sdss

    cat = _sdss_like()
    sample = sdss.select_sample(cat, list("ugriz"), n=5000, seed=0, split=cat["split"].to_numpy())
    ctx = SimpleNamespace(config={"n": 5000}, params=sdss_real.Params(), seed=0, notes=[])
    sdss_real._check_sample(ctx, sample, "[data]")
    assert ctx.notes == ["n = 5000 asked, but only 200 of the 200 galaxies pass the cuts: all of them are used."]
