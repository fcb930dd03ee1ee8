"""The band_utilization study: known answers of its helpers, then end to end on tiny configs (mock and user files)."""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _study_checks import check_figures_and_report, tiny
from _study_checks import run_config as _run

import interpret as ip
import interpret.studies.band_utilization as bu
from interpret.exceptions import ConfigError

pytestmark = pytest.mark.xdist_group("band_utilization")   # one worker runs the shared study run


# --- known answers -----------------------------------------------------------------------------------------
def test_subset_metrics_match_interpret_metrics():
    rng = np.random.default_rng(0)
    z = rng.uniform(0.05, 1.0, 50)
    pred = z + rng.normal(0, 0.05, (3, 50))
    got = bu.subset_metrics(pred, z, 0.1)
    for k in range(3):
        assert got["sigma_nmad"][k] == pytest.approx(ip.metrics.sigma_nmad(z, pred[k], redshift=True))
        assert got["outlier_fraction"][k] == pytest.approx(
            ip.metrics.outlier_fraction(z, pred[k], threshold=0.1, redshift=True))
        assert got["bias"][k] == pytest.approx(ip.metrics.bias(z, pred[k], redshift=True))
        assert got["rmse"][k] == pytest.approx(ip.metrics.rmse(z, pred[k]))


def test_shapley_from_predictions_is_exact_and_efficient():
    # additive game: predictions = truth + 0.1 for every missing band 0, +0.02 for band 1, band 2 ignored
    z = np.linspace(0.1, 0.9, 40)
    masks = ip.ablation.subsets.all_masks(3)
    preds = z[None, :] + 0.1 * (~masks[:, [0]]) + 0.02 * (~masks[:, [1]])
    p = bu.Params(outlier_threshold=0.15, n_boot=3, shapley_strategy="mean")
    r = bu.shapley_from_predictions({"predictions": preds, "z_true": z}, ["a", "b", "c"], "rmse", p, seed=0)
    assert r.values["c"] == pytest.approx(0.0, abs=1e-12)
    assert r.values["a"] > r.values["b"] > 0          # positive = the band helps
    assert abs(r.efficiency_gap) < 1e-12
    assert r.v_all == pytest.approx(0.0, abs=1e-12) and r.v_none == pytest.approx(0.12)


def test_subsets_and_group_names():
    bands = ["u", "g", "W1", "W2"]
    got = bu.subsets(bands, {"no_WISE": ["W1", "W2"], "no_J": ["J"], "all": bands})
    assert got[-1] == {"drop": ["W1", "W2"]} and len(got) == 5      # unknown band / every band: skipped
    names = bu.group_names(bands, {"no_WISE": ["W2", "W1"], "no_W3": ["W1", "W3"]})
    assert names[("W1", "W2")] == "no WISE" and names[("W1",)] == "no W1"     # partial groups ignored


def _two_band_net() -> Any:
    """A two-input "photo-z network" z = 0.5 + 0.1 (a - b): it never reads band c or any image pixel."""
    import torch

    class Net(torch.nn.Module):
        def forward(self, image: Any, mags: Any) -> Any:
            return (0.5 + 0.1 * (mags[:, 0] - mags[:, 1]) + 0.0 * image.sum(dim=(1, 2, 3))).unsqueeze(1)

    return ip.load_estimator(Net(), input_names=["image", "magnitudes"])


def test_steps_run_without_a_runner_and_figures_render_from_their_dict():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    n, bands = 120, ["a", "b", "c"]
    mags = rng.normal(20, 1, (n, 3))
    cat = pd.DataFrame(mags, columns=bands).assign(redshift=0.5 + 0.1 * (mags[:, 0] - mags[:, 1])
                                                    + rng.normal(0, 0.01, n))
    data = SimpleNamespace(catalog=cat, images=rng.normal(0, 1, (n, 3, 4, 4)).astype(np.float32), bands=bands)
    est = _two_band_net()
    p = bu.Params(groups={"no_ab": ["a", "b"], "no_J": ["J"]}, hgb_max_iter=10, n_shapley=12, n_boot=5,
                  n_attribution=6, ig_steps=4, batch_size=64)
    out = bu.steps.run_all(p, data=data, est=est, seed=0)
    n_test = len(out["predictions"]["test"])
    assert n_test == len(out["predictions"]["z_phot"]) == 18 and out["metrics"]["n_test"].eq(n_test).all()
    assert out["metrics"].set_index("metric").loc["sigma_nmad", "value"] < 0.02     # the noise is 0.01 in z
    tab = out["subset_metrics"]
    assert out["modes"] == ["mask_mean", "mask_inpaint", "retrain"] and list(out["tables"]) == [
        "metrics", "subset_metrics", "compare_mean", "compare_inpaint", "shapley", "interactions", "attribution"]
    assert list(tab.loc[tab["mode"] == "retrain", "subset"]) == ["all bands", "no a", "no b", "no c", "no ab"]
    masked_c = tab[tab["mode"].str.startswith("mask_") & (tab["subset"] == "no c")]
    assert (masked_c[["delta_sigma_nmad", "delta_rmse", "delta_bias"]] == 0).all().all()   # c is never read
    for metric, r in out["shapley"].items():
        assert r.values["c"] == pytest.approx(0.0, abs=1e-12), metric
        assert r.values.sum() == pytest.approx(r.v_none - r.v_all)                        # efficiency
        assert len(r.subset_values) == 2 ** 3 and r.details["n_samples"] == 12
    assert out["shapley"]["sigma_nmad"].values["a"] > 0                                     # a helps
    inter = out["shapley"]["sigma_nmad"].interactions
    np.testing.assert_allclose(inter.loc["c", ["a", "b"]], 0.0, atol=1e-12)
    attr = out["attribution"].set_index("band")
    assert attr["share"].sum() == pytest.approx(1.0) and attr.loc["c", "share"] == 0.0
    assert (attr["image_share"] == 0).all() and attr.loc[["a", "b"], "magnitude_share"].gt(0.1).all()
    assert len(out["notes"]) >= 6 and out["notes"][0].startswith("120 galaxies (user); bands a b c")
    assert any("fill, 8 subsets x" in n for n in out["notes"])        # 2^3 subsets of the user's bands
    panels = {"ablation": 2, "subset_metrics": 3, "shapley": 3}     # one per fill / metric
    for fig_fn in bu.figures.FIGURES:                                 # figures read the dict only
        name = fig_fn.__name__.removeprefix("fig_")
        assert set(bu.figures.NEEDS[name]) <= set(out), name
        fig = fig_fn(out)
        try:
            assert len(fig.axes) >= panels.get(name, 1), name
            texts = [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title("left") for ax in fig.axes]
            assert not any("512" in t or "9 bands" in t for t in texts), (name, texts)   # no mock-only counts
        finally:
            plt.close(fig)


# --- end to end --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mock_run(study_run):
    """The shared run of the tiny configuration (conftest.study_run)."""
    return study_run("band_utilization")


def test_mock_run_end_to_end(mock_run):
    tmp, ctx = mock_run
    manifest = check_figures_and_report(ctx, bu.FIGURES)
    tab = ctx.tables["subset_metrics"]
    assert set(tab["mode"]) == {"mask_mean", "mask_inpaint", "retrain"}
    assert (tab.groupby("mode").size() == 1 + 9 + 3).all()     # all, leave-one-out, 3 new groups ("no u" = -u)
    assert tab[["sigma_nmad", "outlier_fraction", "rmse"]].ge(0).all().all()
    for metric in ("sigma_nmad", "outlier_fraction", "rmse"):
        r = ctx.load(f"shapley_{metric}")
        assert abs(r.efficiency_gap) < 1e-9 and r.standard_errors.notna().all()
    attr = ctx.tables["attribution"]
    assert attr["share"].sum() == pytest.approx(1.0) and len(attr) == 9
    assert len(ctx.notes) >= 6 and manifest["notes"] == ctx.notes


def test_exact_shapley_matches_band_shapley(mock_run):
    _, ctx = mock_run
    data, bands = ctx.load("data"), ctx.load("bands")
    sub, pred = ctx.load("all_subsets"), ctx.load("predictions")
    est = bu.photoz_model(ctx, data)
    split = bu.steps.held_out_split(data, ctx.seed)
    rows = sub["rows"]
    assert np.array_equal(rows, split["test"][pred["shapley_rows"]])
    ref = ip.ablation.band_shapley(est, bu.steps.inputs(data, bands, rows), sub["z_true"], bands=bands,
                                   metric="sigma_nmad", redshift=True, seed=ctx.seed, progress=False, n_jobs=1,
                                   strategy=ip.ablation.Fill("mean", reference=bu.steps.inputs(data, bands, split["train"])))
    mine = ctx.load("shapley_sigma_nmad")
    np.testing.assert_allclose(mine.values.to_numpy(), ref.values.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(mine.interactions.to_numpy(), ref.interactions.to_numpy(), atol=1e-6)


def test_rerun_loads_the_reference_weights(mock_run):
    tmp, _ = mock_run
    ctx = _run(tmp, "tiny", tiny("band_utilization"))
    report = ctx.load("estimator").training
    assert report.seconds == 0.0 and report.config["train_seconds"] > 0    # weights loaded, not retrained


def test_user_files_with_and_without_model(tmp_path, mock_run):
    u = ip.mock.make_universe(n=150, seed=3, spectra=False, progress=False)
    bands = ["g", "r", "i", "W1"]
    idx = [list(u.bands.names).index(b) for b in bands]
    ip.data.write_catalog(u.catalog[[*bands, "redshift"]], tmp_path / "cat.parquet")
    ip.data.write_cutouts(tmp_path / "cut.h5", u.images[:, idx], bands)
    data_block = '[data]\ncatalog = "../cat.parquet"\nimages = "../cut.h5"\n'
    text = tiny("band_utilization", 150).replace("n = 150\n", "") + data_block
    ctx = _run(tmp_path, "user", text)
    assert ctx.load("bands") == bands and ctx.load("data").source == "user"
    groups = set(ctx.tables["subset_metrics"]["subset"])
    assert groups == {"all bands", "no g", "no r", "no i", "no W1"}   # groups with missing bands are skipped
    stem = next((tmp_path / "user" / "cache" / "models").glob("photoz-*.json"))
    cfg = json.loads(stem.read_text())["config"]
    kwargs = ", ".join(f"{k} = {v}" for k, v in cfg["model_kwargs"].items())
    model_block = (f'[model]\npath = "{stem.with_suffix(".pt")}"\nfactory = "interpret.mock.models:ImageCatalogNet"\n'
                   f'factory_kwargs = {{{kwargs}}}\ninput_names = ["image", "magnitudes"]\n')
    ctx2 = _run(tmp_path, "user_model", text + model_block)
    np.testing.assert_allclose(ctx2.load("predictions")["z_phot"], ctx.load("predictions")["z_phot"], rtol=1e-5)
    assert not (tmp_path / "user_model" / "cache" / "models").exists()
    # the user's split: held-out numbers on exactly its test rows
    cat = u.catalog[[*bands, "redshift"]].assign(split=np.where(np.arange(150) % 3 == 0, "test", "train"))
    ip.data.write_catalog(cat, tmp_path / "cat_split.parquet")
    ctx3 = _run(tmp_path, "user_split", text.replace("cat.parquet", "cat_split.parquet").replace(
        "[data]\n", '[data]\nsplit = "split"\n') + model_block)
    np.testing.assert_array_equal(ctx3.load("predictions")["test"], np.arange(0, 150, 3))


def test_bad_config_keys(tmp_path):
    with pytest.raises(ConfigError, match="unknown fill strategies"):
        _run(tmp_path, "bad2", tiny("band_utilization", 50).replace('"inpaint"', '"paint"'))
