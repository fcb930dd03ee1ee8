"""End to end: the real-SDSS study (interpret.studies.sdss_real) on a tiny config, on the user's own files, and
with a bad config. Sizes are tiny (a few hundred galaxies, five bands, two-epoch MLPs, 2-3 bootstraps)."""
from __future__ import annotations

import html.parser
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _study_checks import tiny

from interpret.exceptions import ConfigError
from interpret.runner import run_study

pytestmark = pytest.mark.xdist_group("sdss_real")   # one worker runs the shared study run

FIGURES = ("sample", "predictions", "shapley", "interactions", "ablation", "pid", "causal_graph", "edge_stability")



def _img_files(report: str) -> list[str]:
    found: list[str] = []

    class Parser(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                found.append(dict(attrs).get("data-file", ""))

    Parser().feed(report)
    return found


def _check_outputs(out: Path, ctx) -> None:
    for name in FIGURES:
        assert (out / "figures" / f"{name}.png").is_file(), name
        assert (out / "figures" / f"{name}.pdf").is_file(), name
    assert sorted(_img_files((out / "report.html").read_text())) == sorted(f"{n}.png" for n in FIGURES)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["title"].startswith("Real SDSS galaxies")
    metrics = ctx.tables["metrics"].set_index(["task", "metric"])["value"]
    assert 0 < metrics[("photoz", "sigma_nmad")] < 0.2
    assert 0 < metrics[("stellar_mass", "rmse")] < 1.0
    for task in ("photoz", "stellar_mass"):
        shp = ctx.load(f"shapley_{task}_inpaint")
        assert abs(shp.efficiency_gap) < 1e-9
        assert shp.standard_errors is not None and (shp.standard_errors >= 0).all()
        abl = ctx.tables[f"ablation_{task}"]
        assert list(abl["label"])[0] == "all" and len(abl) == 1 + len(shp.bands)
        assert {f"delta_{ctx.load(f'retrain_{task}').metrics[0]}_{m}" for m in
                ("mask_inpaint", "mask_mean", "retrain")} <= set(abl.columns)
    pid = ctx.tables["pid"]
    assert set(pid["measure"]) == {"broja", "mmi"} and set(pid["target"]) == {"redshift", "log_mstar"}
    assert {"ci_low", "ci_high"} <= set(pid.columns)
    freq = ctx.tables["edge_stability"]
    assert ((freq["present"] >= 0) & (freq["present"] <= 1)).all()
    assert any("sigma_NMAD" in n for n in ctx.notes)


def test_sdss_real_end_to_end(study_run):
    folder, ctx = study_run("sdss_real")
    _check_outputs(folder / "tiny", ctx)
    assert len(ctx.load("data")) == 400
    assert any(k.startswith("retrain_") for k in ctx.timings)


def _user_files(tmp_path: Path) -> tuple[Path, Path]:
    """A synthetic ugriz catalogue and a TorchScript photo-z model (tanh of a least-squares fit)."""
    import torch

    from interpret.data import write_catalog

    rng = np.random.default_rng(3)
    n = 300
    z = rng.uniform(0.02, 0.3, n)
    mass = rng.normal(10.8, 0.4, n)
    base = 17.0 - 1.5 * (mass - 10.8) + 5 * np.log10(z / 0.1)
    slope = {"u": 6.0, "g": 3.5, "r": 1.0, "i": 0.5, "z": 0.2}
    cat = {b: base + s * z + 0.1 * (mass - 10.8) * s + rng.normal(0, 0.03, n) for b, s in slope.items()}
    cat.update(redshift=z, log_mstar=mass, split=np.where(np.arange(n) % 4 == 0, "test", "train"))
    path = write_catalog(pd.DataFrame(cat), tmp_path / "my_catalog.parquet")
    x = np.column_stack([cat[b] for b in slope] + [np.ones(n)])
    coef = np.linalg.lstsq(x, np.arctanh(z), rcond=None)[0]   # non-linear model: z = tanh(linear)
    lin = torch.nn.Linear(5, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(coef[:5], dtype=torch.float32)[None])
        lin.bias.fill_(float(coef[5]))
    model_path = tmp_path / "my_photoz.pt"
    net = torch.nn.Sequential(lin, torch.nn.Tanh(), torch.nn.Flatten(0))
    torch.jit.save(torch.jit.trace(net, torch.zeros(2, 5)), str(model_path))
    return path, model_path


@pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")
def test_sdss_real_on_user_files(tmp_path):
    catalog, model = _user_files(tmp_path)
    cfg = tmp_path / "configs" / "mine.toml"
    cfg.parent.mkdir()
    # no subsample; retrain mode with the reference MLP (2 epochs) instead of HGB
    text = tiny("sdss_real", 300).replace("n = 300\n", "").replace('"hgb"', '"mlp"') + textwrap.dedent(f"""
        [data]
        catalog = "{catalog}"
        bands = ["u", "g", "r", "i", "z"]
        target = "redshift"
        split = "split"
        [model]
        path = "{model}"
    """)
    cfg.write_text(text)
    out = tmp_path / "mine"
    ctx = run_study(cfg, overrides={"out": str(out)})
    _check_outputs(out, ctx)
    assert ctx.load("data").name == "user"
    # the user's split: every held-out number uses exactly its test rows (every 4th row)
    np.testing.assert_array_equal(ctx.load("predictions")["test"], np.arange(0, 300, 4))
    assert "the test rows of the user's split" in ctx.notes[0]
    # retrain mode refitted the reference MLP once per subset (all + 5 leave-one-out); photo-z is the user's
    assert len(list((out / "cache" / "models").glob("photoz-*.pt"))) == 6
    # the photo-z predictions come from the user's model, not a trained MLP
    cat, pred = ctx.load("data").catalog, ctx.load("predictions")
    x = cat[["u", "g", "r", "i", "z"]].to_numpy(np.float32)
    import torch

    expect = torch.jit.load(str(model))(torch.as_tensor(np.array(x))).detach().numpy()
    np.testing.assert_allclose(pred["z_phot"], expect, rtol=1e-5, atol=1e-5)


def test_sdss_real_bad_config(tmp_path):
    cfg = tmp_path / "configs" / "bad.toml"
    cfg.parent.mkdir()
    cfg.write_text('study = "sdss_real"\n[params]\npid_splits = ["colours"]\n')
    with pytest.raises(ConfigError, match="unknown pid_splits"):
        run_study(cfg, overrides={"out": str(tmp_path / "bad")})


def test_steps_run_without_a_runner():
    """steps.run_all on a tiny synthetic catalogue with the user's own estimators (k-nearest neighbours: no
    training, and non-linear, so the predictions are not collinear with the colours in the causal step), no
    runner; every figure then renders from its dict."""
    import matplotlib.pyplot as plt
    from sklearn.neighbors import KNeighborsRegressor

    import interpret as ip
    from interpret.studies.sdss_real import Params, figures, steps

    rng = np.random.default_rng(5)
    n = 240
    z, mass = rng.uniform(0.02, 0.3, n), rng.normal(10.8, 0.4, n)
    base = 17.0 - 1.5 * (mass - 10.8) + 5 * np.log10(z / 0.1)
    cat = pd.DataFrame({b: base + s * z + 0.1 * (mass - 10.8) * s + rng.normal(0, 0.02, n)
                        for b, s in {"u": 6.0, "g": 3.5, "r": 1.0, "i": 0.5, "z": 0.2}.items()})
    cat["redshift"], cat["log_mstar"] = z, mass
    split = np.where(np.arange(n) % 4 == 0, "test", "train")
    p = Params(bands=("u", "g", "r", "i", "z"), retrain_model="hgb", strategies=("mean", "median"),
               n_boot_shapley=2, pid_measures=("broja", "mmi"), pid_splits=("break",), pid_bins=3, pid_n_boot=2,
               pid_n_splits=2, causal_colours=("u-g", "g-r", "r-i", "i-z"), causal_n_boot=2)
    data = steps.select_sample(cat, p.bands, split=split)
    train = split != "test"
    est = {task: ip.load_estimator(KNeighborsRegressor(5).fit(steps.inputs(cat, p.bands, task)[train],
                                                              cat[col][train]))
           for task, col in steps.TASKS.items()}
    out = steps.run_all(p, data=data, estimators=est, seed=0)

    np.testing.assert_array_equal(out["predictions"]["test"], np.arange(0, n, 4))   # the split's test rows
    np.testing.assert_allclose(out["predictions"]["z_phot"], est["photoz"].predict(
        steps.inputs(cat, p.bands, "photoz"), progress=False).reshape(-1))
    metrics = out["tables"]["metrics"].set_index(["task", "metric"])["value"]
    assert len(metrics) == 8 and 0 < metrics[("photoz", "sigma_nmad")] < 0.05
    assert 0 < metrics[("stellar_mass", "rmse")] < 0.4
    for task in steps.TASKS:
        for fill in p.strategies:
            shp = out[f"shapley_{task}_{fill}"]
            assert abs(shp.efficiency_gap) < 1e-9 and shp.details["n_boot"] == 2
            assert list(shp.bands) == list(p.bands) and (shp.standard_errors >= 0).all()
        abl = out["tables"][f"ablation_{task}"]
        assert list(abl["label"])[0] == "all" and len(abl) == 1 + len(p.bands)
        metric = out[f"retrain_{task}"].metrics[0]
        assert abl[f"delta_{metric}_mask_mean"].iloc[0] == 0
        # the masked runs' all-band row is the trained model on the held-out rows: the metrics table's value
        assert abl[f"{metric}_mask_mean"].iloc[0] == pytest.approx(metrics[(task, metric)], rel=1e-12)
    pid = out["pid"]
    assert set(pid) == {(t, "break", m) for t in ("redshift", "log_mstar") for m in ("broja", "mmi")}
    for r in pid.values():   # the atoms add up to the mutual information
        assert r.redundancy + sum(r.unique.values()) + r.synergy == pytest.approx(r.mutual_information, abs=1e-9)
    freq = out["edge_stability"]
    assert freq.attrs["nodes"] == ["redshift", "log_mstar", "r", "u-g", "g-r", "r-i", "i-z", "z_phot", "mass_pred"]
    present = out["tables"]["edge_stability"]["present"]
    assert ((present >= 0) & (present <= 1)).all() and present.is_monotonic_decreasing
    assert out["model_names"] == {"photoz": "user model", "stellar_mass": "user model"}

    assert {k for keys in figures.needs(p).values() for k in keys} <= set(out)
    for name, fig_fn in figures.FIGURES.items():
        fig = fig_fn(out)
        try:
            assert fig.axes, name
        finally:
            plt.close(fig)
