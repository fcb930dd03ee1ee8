"""The photoz study from a notebook: ``steps.run_all`` on a tiny synthetic catalogue with a scikit-learn model,
known answers on its outputs, then every figure drawn from the dict through its ``NEEDS`` keys."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import interpret as ip
from interpret.studies.photoz import CAPTIONS, FIGURES, NEEDS, Params, steps

_FAST = Params(n_boot=20, n_attribution=60, n_boot_shapley=3, pid_bins=4, pid_n_boot=0, pid_n_splits=3,
               causal_n_boot=4)


def _catalogue(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """ugriz magnitudes whose colours redden linearly with redshift (u-g and g-r strongly), plus a split."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.02, 0.5, n)
    r = rng.normal(17.5, 0.8, n)
    cat = pd.DataFrame({"redshift": z, "r": r})
    cat["g"] = r + 0.4 + 2.0 * z + rng.normal(0, 0.03, n)
    cat["u"] = cat["g"] + 1.0 + 1.5 * z + rng.normal(0, 0.08, n)
    cat["i"] = r - 0.2 - 0.5 * z + rng.normal(0, 0.03, n)
    cat["z"] = cat["i"] - 0.1 - 0.3 * z + rng.normal(0, 0.04, n)
    cat["split"] = np.where(np.arange(n) % 4 == 0, "test", "train")
    return cat


@pytest.fixture(scope="module")
def run() -> tuple[pd.DataFrame, dict]:
    from sklearn.linear_model import LinearRegression

    cat = _catalogue()
    cols = list("ugriz")
    train = cat["split"] == "train"
    model = LinearRegression().fit(cat.loc[train, cols].to_numpy(np.float32), cat.loc[train, "redshift"])
    out = steps.run_all(_FAST, catalog=cat, columns=cols, est=ip.load_estimator(model), split="split", seed=0,
                        n_jobs=1)
    return cat, out


def test_run_all_scores_the_users_test_rows_with_interpret_metrics(run):
    cat, out = run
    test = np.flatnonzero(cat["split"] == "test")
    assert np.array_equal(out["split"].test, test) and out["split"].origin == "user"
    z, pred = cat["redshift"].to_numpy()[test], out["predictions"][test]
    m = out["tables"]["metrics"].iloc[0]
    assert m["n"] == len(test) == 75 and m["model"] == "user model"
    assert m["sigma_nmad"] == pytest.approx(ip.metrics.sigma_nmad(z, pred, redshift=True))
    assert m["bias"] == pytest.approx(ip.metrics.bias(z, pred, redshift=True))
    assert m["rmse"] == pytest.approx(ip.metrics.rmse(z, pred))
    assert m["outlier_fraction"] == pytest.approx(ip.metrics.outlier_fraction(z, pred, threshold=0.15,
                                                                              redshift=True))
    assert m["sigma_nmad"] < 0.05 and m["sigma_nmad_lo"] <= m["sigma_nmad"] <= m["sigma_nmad_hi"]
    assert out["notes"][0].startswith("300 galaxies, user catalogue; model: user model; scored on 75 rows, "
                                      "the test rows of the user's split.")


def test_run_all_ablation_shapley_pid_and_causal_known_answers(run):
    _, out = run
    attr = out["attribution"]
    assert attr.attrs["method"] == "feature_ablation" and attr.attrs["n"] == 60
    assert out["attribution_bands"]["share"].sum() == pytest.approx(1.0)
    masked = out["masking"].table.set_index("label")["sigma_nmad"]          # masking scores the same test rows
    assert masked["all"] == pytest.approx(out["metrics"]["sigma_nmad"].iloc[0]) and masked["-g"] > masked["all"]
    rmse = out["masking"].table.set_index("label")["rmse"]                 # one meaning of 'rmse' per run
    assert rmse["all"] == pytest.approx(out["metrics"]["rmse"].iloc[0])
    assert list(out["retrain"]["label"]) == ["all bands", "-u", "-g", "-r", "-i", "-z"]
    shp = out["shapley"]
    assert shp.values.sum() == pytest.approx(shp.v_none - shp.v_all)          # efficiency (errors: decrease)
    assert shp.values.idxmax() in ("u", "g")                                  # the redshift sits in u-g, g-r
    r = out["pid"]
    atoms = r.redundancy + sum(r.unique.values()) + r.synergy
    assert atoms == pytest.approx(r.mutual_information, abs=1e-9) and r.mutual_information > 0.5
    assert out["pid_groups"] == {"blue": ["u-g", "g-r"], "red": ["r-i", "i-z"]}
    freq = out["edge_stability"]
    vals = freq.to_numpy(float)
    assert ((vals >= 0) & (vals <= 1)).all() and np.allclose(vals.sum(axis=1), 1.0)
    present = out["tables"]["edge_stability"]["present"]
    assert present.between(0, 1).all() and present.is_monotonic_decreasing
    assert set(out["tables"]) == {"metrics", "attribution_columns", "attribution_bands", "masking", "retrain",
                                  "shapley", "pid", "edge_stability"}
    assert out["notes"] == steps.findings(out) and len(out["notes"]) == 7


def test_every_figure_draws_from_its_needs_keys(run):
    _, out = run
    assert set(NEEDS) == {f.__name__.removeprefix("fig_") for f in FIGURES} == set(CAPTIONS)
    for fig_fn in FIGURES:
        name = fig_fn.__name__.removeprefix("fig_")
        outputs = {k: out[k] for k in NEEDS[name]}
        fig = fig_fn(outputs)
        assert fig.axes, name
        plt.close(fig)
        caption = CAPTIONS[name]
        if callable(caption):
            assert "75 test galaxies (user model)" in caption(outputs)


def test_skipped_steps_hold_none_and_draw_a_placeholder(run):
    _, out = run
    for name, key in (("pid", "pid"), ("causal_graph", "edge_stability"), ("ablation", "retrain")):
        fig_fn = next(f for f in FIGURES if f.__name__ == f"fig_{name}")
        fig = fig_fn({**{k: out[k] for k in NEEDS[name]}, key: None})
        assert fig.axes
        plt.close(fig)
    lines = steps.findings({**out, "pid": None, "edge_stability": None})
    assert any(t.startswith("PID skipped") for t in lines) and any(t.startswith("Causal discovery skipped")
                                                                   for t in lines)


def test_run_all_seed_reproduces_and_none_is_fresh(run):
    cat, out = run
    cheap = Params(n_boot=20, n_attribution=20, n_boot_shapley=2, retrain="none", pid_bins=4, pid_n_splits=3,
                   causal_n_boot=2)
    kw = {"catalog": cat, "columns": list("ugriz"), "est": out["estimator"], "split": "split", "n_jobs": 1}
    a, b = steps.run_all(cheap, seed=3, **kw), steps.run_all(cheap, seed=3, **kw)
    for key in ("metrics", "attribution_columns", "shapley", "pid", "edge_stability"):
        pd.testing.assert_frame_equal(a["tables"][key], b["tables"][key])
    assert a["notes"] == b["notes"] and a["retrain"] is None and "retrain" not in a["tables"]
    assert not any(t.startswith("Retrain ablation") for t in a["notes"])   # retrain="none": no "skipped" note
    fresh = steps.run_all(cheap, seed=None, **kw)
    assert isinstance(fresh["seed"], int) and fresh["seed"] != a["seed"]
    assert not fresh["tables"]["metrics"].equals(a["tables"]["metrics"])     # other bootstrap intervals


def test_missing_magnitudes_are_refused_naming_columns_and_rows():
    cat = _catalogue()
    cat.loc[[4, 17], "g"] = np.nan
    with pytest.raises(ValueError, match=r"input column\(s\) g \(2\) have missing values \(NaN\) in 2 rows \(4, 17\)"):
        steps.run_all(_FAST, seed=0, catalog=cat, columns=list("ugriz"), est=lambda x: x[:, 0])


@pytest.mark.parametrize(("kw", "match"), [
    ({"catalog": None}, "describe your 'catalog'"),
    ({"catalog": "cat.csv", "columns": ["u"]}, "'catalog' must be a pandas DataFrame"),
    ({"columns": None}, "'columns' must list"),
    ({"columns": ["u", "y"]}, r"lacks column\(s\) \['y'\]"),
    ({"split": "fold"}, "'split' names no column"),
    ({"split": ["test"] * 3}, "'split' has 3 labels for 300 rows"),
    ({"split": ["train"] * 300}, "marks no row as 'test'"),
    ({"split": ["tst"] * 300}, r"got \['tst'\]"),
    ({"n": 100}, "'n' subsamples the default sample only"),
])
def test_run_all_refuses_bad_inputs_naming_the_argument(kw, match):
    cat = _catalogue()
    args = {"catalog": cat, "columns": list("ugriz"), "est": lambda x: x[:, 0], **kw}
    with pytest.raises(ValueError, match=match):
        steps.run_all(_FAST, seed=0, **args)
