"""The stellar_mass study: known answers of its helpers, then end to end on tiny configs (mock and user files)."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from _study_checks import check_figures_and_report, tiny
from _study_checks import run_config as _run

import interpret as ip
import interpret.studies.stellar_mass as sm
from interpret.exceptions import ConfigError

pytestmark = pytest.mark.xdist_group("stellar_mass")   # one worker runs the shared study run


# --- known answers -----------------------------------------------------------------------------------------
def test_metrics_table_matches_interpret_metrics():
    rng = np.random.default_rng(0)
    y = rng.uniform(9, 11.5, 60)
    pred = {"test": np.arange(60), "mass_cnn": y + rng.normal(0, 0.2, 60), "mass_phot": y + 0.05}
    t = sm.metrics_table(pd.DataFrame({"log_mstar": y}), pred, sm.Params(n_boot_metrics=4, mass_outlier_dex=0.3),
                         0).set_index(["model", "metric"])["value"]
    assert t[("phot", "bias")] == pytest.approx(0.05) and t[("phot", "scatter")] == pytest.approx(0, abs=1e-12)
    assert t[("cnn", "sigma_nmad")] == pytest.approx(ip.metrics.sigma_nmad(y, pred["mass_cnn"]))
    assert t[("cnn", "outlier_fraction")] == pytest.approx(np.mean(np.abs(pred["mass_cnn"] - y) > 0.3))


def test_growth_curves_point_source_and_flat_image():
    vals = np.zeros((2, 1, 9, 9))
    vals[:, 0, 4, 4] = 1.0                        # all attribution in the central pixel
    img = np.ones((2, 1, 9, 9))                   # flat light: share inside r = area fraction
    c = sm.growth_curves(vals, img, np.array([1.0, 2.0]), grid=np.array([0.5, 1.0]))
    assert np.allclose(c["attribution"], 1.0)
    assert c["light"][0, 1] == pytest.approx(5 / 81) and c["light"][1, 1] == pytest.approx(13 / 81)
    assert c["light"][1, 0] == pytest.approx(5 / 81)     # 0.5 x R_e = 1 pixel


def test_augmented_truth_and_reference_graph_has_zero_shd():
    dag = nx.DiGraph([("redshift", "g"), ("log_mstar", "g"), ("log_mstar", "r"), ("redshift", "r"),
                      ("log_mstar", "sersic_n")])
    frame = pd.DataFrame(columns=["redshift", "log_mstar", "g-r", "r", "mass_cnn", "mass_phot"])
    g = sm.augmented_truth(dag, frame, ["g", "r"], phot_redshift=True)
    assert set(g.predecessors("g-r")) == {"g", "r"} and set(g.predecessors("mass_phot")) == {"g", "r", "redshift"}
    assert set(g.predecessors("__image__")) == {"redshift", "log_mstar", "sersic_n"}
    assert nx.is_directed_acyclic_graph(g)
    nodes = list(frame.columns)
    tiers = [["redshift"], ["log_mstar"], ["g-r", "r"], ["mass_cnn", "mass_phot"]]
    bk = ip.causal.as_background(tiers, "test")
    ref = ip.causal.reference_edges(g, nodes, method="pc", background=bk)
    graph = ip.causal.CausalGraph(nodes=tuple(nodes), edges=ref, method="pc", test="fisherz", alpha=0.01,
                                  n_samples=1, tiers=bk.tiers, background=bk.to_dict())
    assert graph.shd(g) == 0 and ("log_mstar", "mass_cnn", "-->") in ref


# --- end to end --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mock_run(study_run):
    """The shared run of the tiny configuration (conftest.study_run)."""
    return study_run("stellar_mass")


def test_mock_run_end_to_end(mock_run):
    _, ctx = mock_run
    manifest = check_figures_and_report(ctx, sm.FIGURES)
    m = ctx.tables["metrics"]
    assert set(m["model"]) == {"cnn", "phot"} and (m["n_test"] == 30).all()
    assert m.loc[m["metric"] == "scatter", "value"].between(0, 2).all()
    summary = ctx.tables["causal_summary"].set_index("method")
    assert set(summary.index) == {"pc", "fci"} and (summary["shd"] >= 0).all() and (summary["n_true_edges"] > 0).all()
    for method in ("pc", "fci"):
        freq = ctx.load(f"stability_{method}")
        assert np.allclose(freq.drop(columns="absent").sum(axis=1) + freq["absent"], 1.0)
    pid = ctx.tables["pid"]
    assert set(pid["pair"]) == {"phot_vs_morph", "colours_vs_morph", "phot_vs_cnn"}
    assert set(pid["measure"]) == {"broja", "mmi", "knn"}
    r = ctx.load("pid_phot_vs_cnn_broja")
    assert r.ci is not None and r.mutual_information > 0
    assert r.redundancy + sum(r.unique.values()) + r.synergy == pytest.approx(r.mutual_information, abs=1e-6)
    pw = ctx.load("pointwise")
    assert len(pw.atoms) == len(ctx.load("predictions")["analysis"])
    bands = ctx.tables["attribution_bands"]
    assert list(bands["band"]) == ["u", "g", "r", "i", "z"] and bands["abs_fraction"].sum() == pytest.approx(1.0)
    growth = ctx.tables["attribution_growth"]
    assert growth["attribution_median"].is_monotonic_increasing and growth["attribution_median"].iloc[-1] <= 1
    local = ctx.tables["local_dependence"]
    assert set(local["query"]) == {"sersic_n", "r_eff_arcsec", "axis_ratio", "g-r"}
    assert (local["n_trend"] == 1).all()       # k = 12 with a quadratic in z leaves room for one trend direction
    assert all(r.detrend == "linear" and r.n_trend == 1 for r in ctx.store["local"].values())
    assert local["fraction_significant"].between(0, 1).all()
    assert local["dataset_p_value"].between(0, 1).all() and local["fraction_fdr_significant"].between(0, 1).all()
    assert len(ctx.notes) >= 8 and manifest["notes"] == ctx.notes


KW = {"n_bands": 5, "image_size": 16, "channels": [4, 8, 8], "hidden": [8]}


def _tiny_model(images: np.ndarray, mass: np.ndarray) -> object:
    """A small reference-architecture CNN, briefly trained (state dict + factory, the documented route)."""
    import torch

    from interpret.mock.models import ImageCNN

    torch.manual_seed(0)
    model = ImageCNN(**KW)
    model.set_normalisation(y_mean=np.array([mass.mean()]), y_std=np.array([mass.std()]))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.tensor(np.array(images)), torch.tensor(np.array(mass), dtype=torch.float32)
    for _ in range(20):
        opt.zero_grad()
        loss = ((model(x).reshape(-1) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return model.eval()


def test_user_files_and_model(tmp_path):
    import torch

    u = ip.mock.make_universe(n=200, seed=4, bands="sdss", pixel_scale=0.396, redshift_range=(0.02, 0.4),
                              image_size=16, spectra=False, progress=False)
    cols = ["u", "g", "r", "i", "z", "redshift", "log_mstar", "sersic_n", "r_eff_arcsec"]
    split = np.array(["test", "val", "train", "train"] * 50)          # the user's own split
    ip.data.write_catalog(u.catalog[cols].assign(split=split), tmp_path / "cat.parquet")
    ip.data.write_cutouts(tmp_path / "cut.h5", u.images, list(u.bands.names))
    model = _tiny_model(u.images, u.catalog["log_mstar"].to_numpy())
    torch.save(model.state_dict(), tmp_path / "mass.pt")
    kwargs = ", ".join(f"{k} = {v}" for k, v in KW.items())
    text = (tiny("stellar_mass", 200).replace("n = 200\n", "")
            + '[data]\ncatalog = "../cat.parquet"\nimages = "../cut.h5"\nsplit = "split"\n[model]\npath = "../mass.pt"\n'
            + f'factory = "interpret.mock.models:ImageCNN"\nfactory_kwargs = {{{kwargs}}}\n')
    ctx = _run(tmp_path, "user", text)
    assert ctx.load("data").source == "user" and ctx.store["bands"] == ["u", "g", "r", "i", "z"]
    assert "shd" not in ctx.tables["causal_summary"]            # no planted truth for user data
    assert (ctx.figure_dir / "pid.png").exists() and "local_dependence" in ctx.tables
    assert not (tmp_path / "user" / "cache" / "models").exists()   # the user's model, not a trained one
    pred = ctx.load("predictions")
    with torch.no_grad():
        direct = model(torch.tensor(np.array(u.images[:5]))).numpy().reshape(-1)
    np.testing.assert_allclose(pred["mass_cnn"][:5], direct, rtol=1e-5)
    assert pred["embedding"].shape == (len(pred["analysis"]), 8)     # input of the last Linear layer
    np.testing.assert_array_equal(pred["test"], np.arange(0, 200, 4))        # exactly the user's test rows
    np.testing.assert_array_equal(pred["analysis"], np.flatnonzero(split != "train"))


def test_bad_config(tmp_path):
    with pytest.raises(ConfigError, match="unknown PID pair"):
        _run(tmp_path, "bad2", tiny("stellar_mass", 50) + "pointwise_pair = 'mass_vs_colour'\n")


# --- pure steps without a runner ---------------------------------------------------------------------------
def test_run_all_without_runner_feeds_every_figure():
    """``steps.run_all`` on a user's own arrays (no config, no run folder), then every figure from its dict.

    The mock's planted truth is dropped (as for user data): comparing with it costs ~15 s even at this size.
    """
    import dataclasses

    import matplotlib.pyplot as plt
    import torch

    from interpret.mock.models import ImageCNN
    from interpret.studies.stellar_mass import figures, steps

    p = sm.Params(fast=True, image_size=16, n_boot_metrics=5, causal_n_boot=2, pid_measures=("mmi",), pid_bins=3,
                  pid_n_boot=2, pid_n_splits=2, knn_k=3, pointwise_classes=3, pointwise_folds=2, pointwise_epochs=2,
                  pointwise_hidden=(4,), n_attribution=6, ig_steps=4, radial_bins=4, local_k=12, local_n_perm=5)
    data = dataclasses.replace(steps.mock_data(p, n=100, seed=3), truth=None)
    torch.manual_seed(0)
    model = ImageCNN(n_bands=5, image_size=16, channels=[4, 8, 8], hidden=[8]).eval()
    mass = data.catalog["log_mstar"].to_numpy(float)
    model.set_normalisation(y_mean=np.array([mass.mean()]), y_std=np.array([mass.std()]))
    out = steps.run_all(p, data=data, est=ip.load_estimator(model), seed=0)

    pred, tables = out["predictions"], out["tables"]
    split = ip.mock.reference_split(100, 0)
    np.testing.assert_array_equal(pred["test"], split.test)
    assert pred["mass_cnn"].shape == pred["mass_phot"].shape == (100,)
    assert pred["embedding"].shape == (len(pred["analysis"]), 8)          # input of the last Linear layer
    m = tables["metrics"].set_index(["model", "metric"])["value"]
    assert len(m) == 10 and m[("phot", "scatter")] == pytest.approx(np.std(pred["mass_phot"][split.test]
                                                                            - mass[split.test]))
    assert "shd" not in out["causal_summary"] and set(out["causal_summary"]["method"]) == {"pc", "fci"}
    freq = out["stability_pc"]
    assert np.allclose(freq.drop(columns="absent").sum(axis=1) + freq["absent"], 1.0)
    assert freq.attrs["tiers"][-1] == ["mass_cnn", "mass_phot"]
    assert set(out["pid"]) == {(pr, m) for pr in p.pid_pairs for m in ("mmi", "knn")}
    r = out["pid"][("phot_vs_cnn", "mmi")]
    assert r.redundancy + sum(r.unique.values()) + r.synergy == pytest.approx(r.mutual_information, abs=1e-6)
    assert len(out["pointwise"].atoms) == len(pred["analysis"])
    assert tables["attribution_bands"]["abs_fraction"].sum() == pytest.approx(1.0)
    assert out["growth"]["attribution"].shape == (6, len(steps.RE_GRID))
    assert np.all(np.diff(out["growth"]["attribution"], axis=1) >= -1e-12)   # |attribution| inside r grows
    assert set(tables["local_dependence"]["query"]) == set(p.local_queries)
    assert set(tables) == {"metrics", "edge_stability_pc", "edge_stability_fci", "causal_summary", "pid",
                           "attribution_bands", "attribution_radial", "attribution_growth", "local_dependence"}
    panels = {"predictions": 2, "causal_graphs": 2, "edge_stability": 2, "pid": 3, "attribution": 3,
              "local_dependence": 4}
    for fig_fn in figures.FIGURES:
        name = fig_fn.__name__.removeprefix("fig_")
        assert all(k in out for k in figures.NEEDS[name])
        fig = fig_fn(out)
        try:
            assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) >= panels.get(name, 1), name
        finally:
            plt.close(fig)
