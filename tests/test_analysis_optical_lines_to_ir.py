"""The optical_lines_to_ir study: known answers of its helpers, then end to end on tiny configs (mock and user files)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _study_checks import check_figures_and_report, tiny
from _study_checks import run_config as _run

import interpret as ip
import interpret.studies.optical_lines_to_ir as olir
from interpret.exceptions import ConfigError

pytestmark = pytest.mark.xdist_group("optical_lines_to_ir")   # one worker runs the shared study run


# --- known answers -----------------------------------------------------------------------------------------
def test_rank_auc_and_average_precision():
    labels = np.array([True, True, False, False])
    assert olir.rank_auc(np.array([4.0, 3.0, 2.0, 1.0]), labels) == 1.0
    assert olir.rank_auc(np.array([1.0, 2.0, 3.0, 4.0]), labels) == 0.0
    assert olir.rank_auc(np.ones(4), labels) == 0.5                        # ties count one half
    assert np.isnan(olir.rank_auc(np.ones(4), np.zeros(4, bool)))
    assert olir.average_precision(np.array([True, False, True])) == pytest.approx((1 + 2 / 3) / 2)


def test_overlap_metrics_known_ranking():
    table = pd.DataFrame({"excess": [5.0, 4.0, 3.0, 2.0, 1.0],
                          "significant": [True, True, True, False, False]},
                         index=["Halpha", "Hbeta", "D4000", "Mgb", "NaD"])
    m = olir.overlap_metrics(table, ["Halpha", "D4000", "CaII8542"], k=2, n_perm=200, seed=0)
    assert m["n_truth"] == 2 and m["truth_missing"] == "CaII8542"         # not scored: not counted
    assert m["precision_at_k"] == 0.5 and m["recall_at_k"] == 0.5
    assert m["r_precision"] == 0.5 and m["chance"] == pytest.approx(0.4)
    assert m["precision_significant"] == pytest.approx(2 / 3) and m["recall_significant"] == 1.0
    assert m["auc"] == pytest.approx(5 / 6) and 0 < m["auc_p_value"] <= 1


def test_planted_lines_are_recovered_in_the_observed_frame():
    # attribution spikes at Halpha and [OIII]5007 placed at each galaxy's redshift -> both rank on top
    rng = np.random.default_rng(1)
    wl = np.geomspace(3800.0, 9200.0, 3000)
    z = rng.uniform(0.02, 0.3, 40)
    v = rng.normal(0, 1e-3, (40, wl.size))
    for line in ("Halpha", "[OIII]5007"):
        c = ip.data.lines.get_line(line).wavelength * (1 + z)
        v += np.exp(-0.5 * ((wl[None, :] - c[:, None]) / 3.0) ** 2)
    p = olir.Params(n_boot=50)
    table = olir.band_lines(v, wl, z, p, seed=0)
    assert set(table.index[:2]) == {"Halpha", "[OIII]5007"}
    m = olir.overlap_metrics(table, ["Halpha", "[OIII]5007"], k=2, n_perm=100, seed=0)
    assert m["precision_at_k"] == 1.0 and m["auc"] == 1.0 and m["auc_p_value"] < 0.05


def test_rest_frame_stack_aligns_lines():
    wl = np.geomspace(3800.0, 9200.0, 2000)
    z = np.array([0.05, 0.1, 0.2, 0.3])
    att = np.exp(-0.5 * ((wl[None, :] - 5000.0 * (1 + z[:, None])) / 2.0) ** 2)
    spectra = 1.0 + att
    out = olir.rest_frame_stack({"W1": att}, spectra, wl, z, step=1.0, min_fraction=0.5)
    peak = out["wavelength"][np.argmax(out["att_W1"])]
    assert abs(peak - 5000.0) < 2.0
    assert abs(out["wavelength"][np.argmax(out["spectrum"])] - 5000.0) < 2.0
    assert out["coverage"].min() >= 2
    # densities per rest Angstrom of unit-sum maps integrate to ~1 where every galaxy is covered
    assert np.trapezoid(out["att_W1"], out["wavelength"]) == pytest.approx(1.0, rel=0.05)


# --- end to end --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mock_run(study_run):
    """The shared run of the tiny configuration (conftest.study_run)."""
    return study_run("optical_lines_to_ir")


def test_mock_run_end_to_end(mock_run):
    _, ctx = mock_run
    manifest = check_figures_and_report(ctx, olir.FIGURES)
    names = [f.__name__.removeprefix("fig_") for f in olir.FIGURES]
    assert {"lines_W1", "lines_W2", "lines_W3", "lines_W4", "summary"} <= set(names)
    acc = ctx.tables["accuracy"]
    assert list(acc["band"]) == ["W1", "W2", "W3", "W4"] and (acc["ratio"] > 0).all()
    ov = ctx.tables["truth_overlap"].set_index("band")
    truth = ctx.load("data").truth.ir_lines
    for band in olir.IR_BANDS:
        table = ctx.load(f"lines_{band}")
        assert ov.loc[band, "n_truth"] == len(set(truth[band]) & set(table.index))
        assert 0 <= ov.loc[band, "precision_at_k"] <= 1 and 0 <= ov.loc[band, "auc"] <= 1
        assert table["excess"].is_monotonic_decreasing
    sanity = ctx.tables["sanity"]
    comp = sanity[sanity["check"] == "IG completeness"]
    assert len(comp) == 4 and (comp["median_relative_error"] < 0.3).all()      # 4 IG nodes only
    assert (sanity["band"] == "W3").sum() == 2                             # completeness + randomisation
    a = ctx.load("ig_W3")
    assert a.input_values(0).shape == (10, ctx.load("data").spectra.shape[1]) and a.target_name == "W3"
    assert len(ctx.notes) >= 7 and manifest["notes"] == ctx.notes
    # the mock's reference is fitted on the noise-free magnitudes, with the physical drivers as auxiliary targets
    tmp, _ = mock_run
    cfg = json.loads(next((tmp / "tiny" / "cache" / "models").glob("ir_from_spectra-*.json")).read_text())["config"]
    assert cfg["labels"] == "noise_free" and cfg["auxiliary_targets"] == list(ip.mock.train.IR_AUXILIARY)


def test_rerun_loads_the_reference_weights(mock_run):
    tmp, _ = mock_run
    ctx = _run(tmp, "tiny", tiny("optical_lines_to_ir"))
    assert ctx.timings["model"] < 5.0                      # weights loaded, not retrained


def test_user_files_with_and_without_model(tmp_path):
    u = ip.mock.make_universe(n=120, seed=3, images=False, progress=False)
    cols = ["redshift", *olir.IR_BANDS, *(f"{b}_err" for b in olir.IR_BANDS)]
    ip.data.write_catalog(u.catalog[cols], tmp_path / "cat.parquet")
    ip.data.write_spectra(tmp_path / "spec.h5", u.spectra, u.wavelength)
    text = (tiny("optical_lines_to_ir", 120).replace("n = 120\n", "").replace('randomization_bands = ["W3"]',
                                                                 'randomization_bands = []')
            + 'bands = ["W1", "W3"]\ntruth_lines = {W1 = ["D4000", "Mgb"], W3 = ["Halpha"]}\n'
            + '[data]\ncatalog = "../cat.parquet"\nspectra = "../spec.h5"\n')
    ctx = _run(tmp_path, "user", text)
    assert ctx.load("data").source == "user" and set(ctx.tables["truth_overlap"]["band"]) == {"W1", "W3"}
    assert (ctx.figure_dir / "lines_W2.png").exists()                       # placeholder: band not analysed
    stem = next((tmp_path / "user" / "cache" / "models").glob("ir_from_spectra-*.json"))
    report = json.loads(stem.read_text())
    cfg = report["config"]
    assert cfg["labels"] == "observed" and cfg["auxiliary_targets"] == []   # user data: no noise-free truth
    assert report["model"] == "interpret.mock.models:RestFrameSpectrumNet" and cfg["input_names"] == ["spectra",
                                                                                                      "redshift"]
    kwargs = ", ".join(f"{k} = {v}" for k, v in cfg["model_kwargs"].items())
    model_block = (f'[model]\npath = "{stem.with_suffix(".pt")}"\nfactory = "{report["model"]}"\n'
                   f'factory_kwargs = {{{kwargs}}}\noutput_names = ["W1", "W2", "W3", "W4"]\n'
                   'input_names = ["spectra", "redshift"]\n')
    ctx2 = _run(tmp_path, "user_model", text + model_block)
    np.testing.assert_allclose(ctx2.load("predictions")["pred"], ctx.load("predictions")["pred"], rtol=1e-5)
    np.testing.assert_allclose(ctx2.load("ig_W3").input_values(0), ctx.load("ig_W3").input_values(0), rtol=1e-4,
                               atol=1e-7)
    assert not (tmp_path / "user_model" / "cache" / "models").exists()
    # the user's split: held-out numbers on exactly its test rows
    cat = u.catalog[cols].assign(split=np.where(np.arange(120) % 3 == 0, "test", "train"))
    ip.data.write_catalog(cat, tmp_path / "cat_split.parquet")
    ctx3 = _run(tmp_path, "user_split", text.replace("cat.parquet", "cat_split.parquet").replace(
        "[data]\n", '[data]\nsplit = "split"\n') + model_block)
    np.testing.assert_array_equal(ctx3.load("predictions")["test"], np.arange(0, 120, 3))


def test_bad_config(tmp_path):
    with pytest.raises(ConfigError, match="subsets of"):
        _run(tmp_path, "bad2", tiny("optical_lines_to_ir", 50).replace('["W3"]', '["W5"]'))
    with pytest.raises(ip.exceptions.ValidationError, match="unknown line"):
        _run(tmp_path, "bad3", tiny("optical_lines_to_ir", 50) + 'truth_lines = {W1 = ["Hepsilon"]}\n')


# --- the pure steps without a runner -----------------------------------------------------------------------
def test_run_all_on_own_arrays_then_every_figure():
    # a linear "network" (every output = 1e-3 x total flux) on spectra with Halpha and [OIII]5007 at each
    # galaxy's redshift: IG from zero flux is exact (a * x), so the planted lines must top the W3 ranking
    import matplotlib.pyplot as plt
    import torch

    from interpret.studies._data import StudyData
    from interpret.studies.optical_lines_to_ir import figures, steps

    rng = np.random.default_rng(0)
    n, wl = 100, 3800.0 * 10 ** (5e-4 * np.arange(800))
    z = rng.uniform(0.02, 0.3, n)
    spectra = np.ones((n, wl.size))
    for line, amp in (("Halpha", 3.0), ("[OIII]5007", 2.0)):
        centre = ip.data.lines.get_line(line).wavelength * (1 + z)
        spectra += amp * np.exp(-0.5 * ((wl[None, :] - centre[:, None]) / 4.0) ** 2)
    net = torch.nn.Sequential(torch.nn.Linear(wl.size, 4))
    with torch.no_grad():
        net[0].weight.fill_(1e-3)
        net[0].bias.zero_()
    est = ip.load_estimator(net, output_names=list(olir.IR_BANDS))
    f = est.predict(spectra.astype(np.float32), progress=False)
    cat = pd.DataFrame({"redshift": z, **{b: f[:, j] - 0.1 for j, b in enumerate(olir.IR_BANDS)},
                        **{f"{b}_err": np.full(n, 0.05) for b in olir.IR_BANDS}})
    data = StudyData(catalog=cat, wavelength=wl, spectra=spectra, source="synthetic")
    p = olir.Params(bands=("W1", "W3"), n_boot=10, n_perm=50, ig_steps=8, top_k=2, randomization_bands=("W3",),
                    n_randomization=3, randomization_steps=2, truth_lines={"W3": ["Halpha", "[OIII]5007"]})
    out = steps.run_all(p, data=data, est=est, seed=0)

    test, rows = out["predictions"]["test"], out["predictions"]["attribution_rows"]
    assert len(test) == 15 and set(rows) <= set(test) and set(out["predictions"]["randomization_rows"]) <= set(rows)
    acc = out["accuracy"].set_index("band")
    assert list(acc.index) == list(olir.IR_BANDS) and np.allclose(acc["bias"], 0.1, atol=1e-5)   # pred - (pred - 0.1)
    assert (acc["scatter"] < 1e-5).all() and np.allclose(acc["injected_noise"], 0.05)
    assert out["ig_W3"].input_values(0).shape == (15, wl.size)
    assert list(out["lines_W3"].index[:2]) == ["Halpha", "[OIII]5007"]      # the stronger line first
    ov = out["truth_overlap"].set_index("band")
    assert list(ov.index) == ["W3"] and ov.loc["W3", "precision_at_k"] == 1.0 and ov.loc["W3", "auc"] == 1.0
    comp = out["sanity"][out["sanity"]["check"] == "IG completeness"]
    assert list(comp["band"]) == ["W1", "W3"] and (comp["fraction_passed"] == 1.0).all()
    assert all(np.median(e) < 1e-4 for e in out["completeness"].values())      # exact for a linear model
    assert out["randomization_bands"] == ["W3"] and len(out["randomization_W3"].scores) == 1
    stack = out["stack"]
    assert abs(stack["wavelength"][np.argmax(stack["att_W3"])] - 5007) < 5      # rest frame, aligned
    assert list(out["importance"].excess.columns) == ["W1", "W3"]
    assert out["notes"][0].startswith("Attribution baseline") and any("2/2 in the planted truth" in t
                                                                      for t in out["notes"])
    for name, fig_fn in figures.FIGURES.items():
        fig = fig_fn(out)
        try:
            assert fig.axes, name
        finally:
            plt.close(fig)
    assert set(figures.NEEDS) == set(figures.FIGURES) == set(olir.CAPTIONS)
    # the seed: an int reproduces every step; None draws one fresh int for the whole run (recorded)
    again = steps.run_all(p, data=data, est=est, seed=0)
    pd.testing.assert_frame_equal(again["lines_W3"], out["lines_W3"])
    np.testing.assert_array_equal(again["predictions"]["attribution_rows"], rows)
    fresh = [steps.run_all(p, data=data, est=est, seed=None)["seed"] for _ in range(2)]
    assert all(isinstance(s, int) for s in fresh) and fresh[0] != fresh[1]
