"""Per-galaxy neural MMI decomposition (Zhang et al.'s route), its plots and the three-route comparison."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interpret import load_result
from interpret.exceptions import EstimationWarning, ValidationError
from interpret.pid import PIDResult, Reduction
from interpret.pid._gaussian import binned_gaussian_mi, gaussian_mmi, gaussian_r2, gaussian_sample
from interpret.pid.compare import compare_routes
from interpret.pid.neural import POINTWISE_SETTINGS, NeuralTraining, PointwisePIDResult, pointwise_decompose

COV = np.array([[1.0, 0.6, 0.4], [0.6, 1.0, 0.2], [0.4, 0.2, 1.0]])
FAST = dict(training=NeuralTraining(hidden=16, epochs=15), n_folds=3, progress=False)


@pytest.fixture(scope="module")
def gauss():
    return gaussian_sample(COV, 2400, seed=11)


@pytest.fixture(scope="module")
def result(gauss):
    t = pd.Series(gauss[:, 0], index=np.arange(2400) + 100, name="log_mstar")
    return pointwise_decompose(t, {"a": gauss[:, 1], "b": gauss[:, 2]}, n_classes=6, seed=0, **FAST)


# --- known answers ---------------------------------------------------------------------------------------------
def test_gaussian_information_approaches_binned_analytic_values(result):
    avg = result.to_pid("average")
    info = avg.details["information"]
    for name, cols in (("a", [1]), ("b", [2]), ("a+b", [1, 2])):
        truth = binned_gaussian_mi(gaussian_r2(COV, 0, cols), 6)
        # a cross-entropy bound: below the truth up to sampling noise, and close to it
        assert truth - 0.06 < info[name] < truth + 0.03, name
    truth = gaussian_mmi(COV, n_classes=6)
    for atom in truth:
        assert avg.atoms[atom] == pytest.approx(truth[atom], abs=0.06), atom


def test_cross_fitting_gives_no_information_on_random_labels():
    """A memorising network scored in-sample would report positive information; cross-fitted it cannot."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(900, 6))
    y = rng.integers(0, 4, size=900)
    r = pointwise_decompose(y, {"a": x[:, :3], "b": x[:, 3:]}, n_folds=3, seed=0, progress=False,
                            training=NeuralTraining(hidden=(32, 32), epochs=15, patience=15))
    assert r.information.mean().max() < 0.02
    assert r.details["binning"] == "discrete" and r.bin_edges.size == 0


def test_pointwise_identities(result):
    a, b, ab = (result.information[c].to_numpy() for c in ("a", "b", "a+b"))
    atoms = result.atoms
    np.testing.assert_allclose(atoms["{a}{b}"], np.minimum(a, b))
    np.testing.assert_allclose(atoms["{a}"], a - np.minimum(a, b))
    np.testing.assert_allclose(atoms.sum(axis=1), ab, atol=1e-12)
    assert (atoms["{a}"] >= 0).all() and (atoms["{b}"] >= 0).all()
    assert not result.information.isna().any().any()     # every galaxy scored exactly once


def test_summaries(result):
    pw, avg = result.summary, result.to_pid("average")
    assert isinstance(pw, PIDResult) and pw.estimator == "neural" and pw.measure == "mmi"
    assert pw.n_samples == 2400 and pw.ci_level == 0.95
    assert pw.mutual_information == pytest.approx(avg.mutual_information)
    assert pw.redundancy <= avg.redundancy + 1e-12        # mean of minima <= minimum of means
    lo, hi = pw.ci["{a}{b}"]
    assert lo < pw.redundancy < hi
    with pytest.raises(ValidationError, match="unknown aggregate 'median'"):
        result.to_pid("median")


# --- contracts -------------------------------------------------------------------------------------------------
def test_result_frame_tables_and_round_trip(result, tmp_path):
    frame = result.to_frame()
    assert list(frame.columns) == ["{a}{b}", "{a}", "{b}", "{a,b}", "I[a]", "I[b]", "I[a+b]", "class"]
    assert frame.index[0] == 100 and len(frame) == 2400
    binned = result.binned(frame.index.to_numpy() * 1.0, bins=4)
    assert binned["n"].sum() == 2400 and list(binned.columns[:4]) == ["low", "high", "center", "n"]
    by = result.by_class(np.where(frame.index % 2, "disc", "bulge"))
    assert list(by.index) == ["bulge", "disc"] and by["n"].tolist() == [1200, 1200]
    result.save(tmp_path / "pw.ipres")
    back = load_result(tmp_path / "pw.ipres")
    assert isinstance(back, PointwisePIDResult)
    pd.testing.assert_frame_equal(back.atoms, result.atoms)
    assert back.summary.atoms == result.summary.atoms


def test_same_seed_same_numbers_and_inputs_untouched(gauss):
    t, a, b = gauss[:900, 0].copy(), gauss[:900, 1].copy(), gauss[:900, 2].copy()
    kw = dict(n_classes=3, seed=5, **{**FAST, "training": NeuralTraining(hidden=16, epochs=4)})
    r1 = pointwise_decompose(t, {"a": a, "b": b}, **kw)
    r2 = pointwise_decompose(t, {"a": a, "b": b}, **kw)
    pd.testing.assert_frame_equal(r1.atoms, r2.atoms)
    np.testing.assert_array_equal(t, gauss[:900, 0])


# --- settings, units and the training object ---------------------------------------------------------------------
TINY = dict(training=NeuralTraining(hidden=8, epochs=2), n_folds=3, seed=4, progress=False)


def test_nats_are_bits_times_ln2_exactly(gauss):
    t, src = gauss[:600, 0], {"a": gauss[:600, 1], "b": gauss[:600, 2]}
    bits = pointwise_decompose(t, src, n_classes=3, **TINY)
    nats = pointwise_decompose(t, src, n_classes=3, units="nats", **TINY)
    assert (bits.units, nats.units, nats.details["units"]) == ("bits", "nats", "nats")
    np.testing.assert_array_equal(nats.information.to_numpy(), bits.information.to_numpy() * np.log(2))
    np.testing.assert_array_equal(nats.atoms.to_numpy(), bits.atoms.to_numpy() * np.log(2))
    for atom, value in bits.summary.atoms.items():        # to_pid() reports bits whatever the units
        assert nats.summary.atoms[atom] == pytest.approx(value, rel=1e-12)
    with pytest.raises(ValidationError, match="unknown units 'dex'"):
        pointwise_decompose(t, src, units="dex")


def test_zhang2025_setting_is_the_papers_binning_units_and_prior():
    preset = POINTWISE_SETTINGS["zhang2025"]
    assert preset["n_classes"] * preset["bin_width"] == pytest.approx(preset["range"][1] - preset["range"][0])
    rng = np.random.default_rng(0)
    logm = rng.uniform(6.0, 12.5, 1200)
    src = {"phot": logm + 0.3 * rng.normal(size=1200), "noise": rng.normal(size=1200)}
    with pytest.warns(EstimationWarning, match="per class, fewer than 20"):
        r = pointwise_decompose(logm, src, setting="zhang2025", **TINY)
    edges = r.bin_edges
    assert len(edges) == 521 and (edges[0], edges[-1]) == (6.0, 12.5)      # 520 bins on a 6.5-dex range
    np.testing.assert_allclose(np.diff(edges), 0.0125, rtol=1e-12)
    assert r.units == "nats" and r.details["setting"] == "zhang2025" and r.details["bin_width"] == 0.0125
    assert r.details["prior"] == "class frequencies of all galaxies" and not r.details["stratified_folds"]
    assert np.isfinite(r.information.to_numpy()).all()    # classes missing from a training split stay finite
    with pytest.warns(EstimationWarning, match="per class"):
        in_bits = pointwise_decompose(logm, src, setting="zhang2025", units="bits", **TINY)
    np.testing.assert_array_equal(r.information.to_numpy(), in_bits.information.to_numpy() * np.log(2))
    with pytest.raises(ValidationError, match=r"2 target values \(rows 3, 7\) lie outside .*\[6.0, 12.5\]"):
        pointwise_decompose(np.where(np.isin(np.arange(1200), [3, 7]), 5.0, logm), src, setting="zhang2025")
    with pytest.raises(ValidationError, match="setting='zhang2025' uses n_classes=520; got n_classes=20"):
        pointwise_decompose(logm, src, setting="zhang2025", n_classes=20)
    with pytest.raises(ValidationError, match="unknown setting 'paper'"):
        pointwise_decompose(logm, src, setting="paper")


def test_training_object_and_the_old_keywords(gauss):
    import inspect

    params = inspect.signature(pointwise_decompose).parameters
    assert len(params) == 14 and not {"hidden", "epochs", "batch_size", "lr", "weight_decay", "patience"} & set(params)
    t, src = gauss[:600, 0], {"a": gauss[:600, 1], "b": gauss[:600, 2]}
    new = pointwise_decompose(t, src, n_classes=3, **TINY)
    old_kw = {k: v for k, v in TINY.items() if k != "training"}
    with pytest.warns(FutureWarning, match=r"hidden, epochs are removed in 0.4; use "
                                           r"training=NeuralTraining\(hidden=..., epochs=...\)"):
        old = pointwise_decompose(t, src, n_classes=3, hidden=8, epochs=2, **old_kw)
    pd.testing.assert_frame_equal(old.atoms, new.atoms)
    assert new.details["hidden"] == [8] and new.details["epochs_max"] == 2
    with pytest.raises(ValidationError, match="pass training= only"):
        pointwise_decompose(t, src, lr=0.1, **TINY)
    with pytest.raises(ValidationError, match="'training' must be a NeuralTraining"):
        pointwise_decompose(t, src, training={"epochs": 3})
    assert NeuralTraining(hidden=[4, 4]).hidden == (4, 4)
    for bad, match in (({"epochs": 0}, "'epochs' must be >= 1"), ({"hidden": ()}, "at least one layer"),
                       ({"lr": -1.0}, "'lr' must be a finite number > 0"),
                       ({"weight_decay": float("nan")}, "'weight_decay' must be a finite number >= 0")):
        with pytest.raises(ValidationError, match=match):
            NeuralTraining(**bad)


# --- bad input -------------------------------------------------------------------------------------------------
def test_too_few_galaxies_per_class(gauss):
    with pytest.raises(ValidationError, match="fewer than n_folds=3; use fewer classes"):
        pointwise_decompose(gauss[:40, 0], {"a": gauss[:40, 1], "b": gauss[:40, 2]}, n_classes=20, **FAST)
    with pytest.warns(EstimationWarning, match="per class, fewer than 20"):
        pointwise_decompose(gauss[:150, 0], {"a": gauss[:150, 1], "b": gauss[:150, 2]}, n_classes=10,
                            seed=0, **{**FAST, "training": NeuralTraining(hidden=16, epochs=1)})


def test_bad_inputs(gauss):
    t, a = gauss[:60, 0], gauss[:60, 1]
    with pytest.raises(ValidationError, match="same number of rows; target has 60, .*sources\\['b'\\] has 59"):
        pointwise_decompose(t, {"a": a, "b": a[:59]}, **FAST)
    bad = a.copy()
    bad[[5, 9]] = np.nan
    with pytest.raises(ValidationError, match=r"has 2 NaN values \(rows 5, 9\)"):
        pointwise_decompose(t, {"a": a, "b": bad}, **FAST)
    with pytest.raises(ValidationError, match="is constant"):
        pointwise_decompose(t, {"a": a, "b": np.zeros(60)}, **FAST)
    with pytest.raises(ValidationError, match="single class"):
        pointwise_decompose(np.zeros(60, dtype=int), {"a": a, "b": a ** 2}, **FAST)
    with pytest.raises(ValidationError, match="unknown method 'knn'"):
        pointwise_decompose(t, {"a": a, "b": a ** 2}, method="knn")
    with pytest.raises(ValidationError, match="'n_classes' must be >= 2"):
        pointwise_decompose(t, {"a": a, "b": a ** 2}, n_classes=1)


# --- plots and end to end --------------------------------------------------------------------------------------
def test_stack_plots(result, tmp_path):
    from interpret.plots import save_figure
    from interpret.plots.pid_pointwise import plot_pointwise_binned, plot_pointwise_by_class

    fig = plot_pointwise_binned(result, pd.Series(result.to_frame()["I[a+b]"].to_numpy() * 0 +
                                                  np.linspace(8, 12, 2400), name="log M*"), bins=6)
    assert fig.axes[0].get_xlabel() == "log M*" and len(fig.axes[0].patches) == 6 * 4
    paths = save_figure(fig, tmp_path / "binned", formats=("png",))
    assert paths[0].stat().st_size > 0
    fig2 = plot_pointwise_by_class(result, np.arange(2400) % 3, order=[2, 0, 1])
    assert [t.get_text().split("\n")[0] for t in fig2.axes[0].get_xticklabels()] == ["2", "0", "1"]


def test_compare_routes_table(gauss):
    tab = compare_routes(gauss[:, 0], {"a": gauss[:, 1], "b": gauss[:, 2]}, routes=("knn", "neural"),
                         n_classes=6, analytic=gaussian_mmi(COV), neural_kw=dict(FAST), seed=0, progress=False)
    assert list(tab.index) == ["knn", "neural", "neural-pointwise", "analytic"]
    assert {"{a}{b}", "{a}", "{b}", "{a,b}", "mutual_information", "seconds"} <= set(tab.columns)
    assert tab.loc["knn", "mutual_information"] == pytest.approx(tab.loc["analytic", "mutual_information"],
                                                                 abs=0.06)
    with pytest.raises(ValidationError, match="unknown route 'dit'"):
        compare_routes(gauss[:, 0], {"a": gauss[:, 1], "b": gauss[:, 2]}, routes=("dit",))


def test_three_routes_on_the_mock_universe():
    """Photometry (5 magnitudes) vs morphology (Sersic index, size) about stellar mass, by every route."""
    from sklearn.linear_model import LinearRegression

    import interpret as ip

    cat = ip.mock.make_universe(1500, seed=1, images=False, spectra=False, progress=False).catalog
    sources = {"phot": cat[list("ugriz")], "morph": cat[["sersic_n", "r_eff"]]}
    routes = ("binned", "knn", "neural")
    with pytest.warns(EstimationWarning, match="KSG underestimates large information"):  # 8-D joint space
        tab = compare_routes(cat["log_mstar"], sources, routes=routes, bins=5, n_classes=8,
                             binned_kw={"reduce": Reduction(regressor=LinearRegression())},
                             neural_kw={"training": NeuralTraining(hidden=32, epochs=20)}, seed=0, progress=False)
    assert list(tab.index) == ["binned", "knn", "neural", "neural-pointwise"]
    atoms = ["{phot}{morph}", "{phot}", "{morph}", "{phot,morph}"]
    np.testing.assert_allclose(tab[atoms].sum(axis=1), tab["mutual_information"], atol=1e-9)
    assert (tab["mutual_information"] > 0.3).all()
    for route in ("binned", "knn", "neural"):      # magnitudes say more about mass than shape does
        assert tab.loc[route, "{phot}"] > tab.loc[route, "{morph}"], route
    # the neural route sees 8 mass classes (at most 3 bits) through a cross-entropy bound: it cannot exceed
    # the information of the continuous target by much
    assert tab.loc["neural", "mutual_information"] < tab.loc["knn", "mutual_information"] + 0.1
