"""Binned PID: known answers, contract tests over every measure, bad input, estimation, end-to-end."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import interpret as ip
from interpret.exceptions import EstimationWarning, ValidationError
from interpret.pid import MEASURES, Binning, PIDResult, Reduction, Resampling, binning_sensitivity, decompose
from interpret.pid.discretize import bin_variable, reduce_source
from interpret.pid.estimation import joint_counts

REPS = 8  # each joint outcome repeated REPS times: the plug-in pmf is exact


def _exact(rows: list[tuple[int, ...]], weights: list[int] | None = None) -> np.ndarray:
    """Samples whose empirical distribution is exactly the listed outcomes (with integer weights)."""
    weights = weights or [1] * len(rows)
    return np.repeat(np.array(rows), np.array(weights) * REPS, axis=0)


def _run(rows: np.ndarray, measure: str, **kw: object) -> PIDResult:
    *srcs, t = rows.T
    names = "abc"[: len(srcs)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return decompose(t, dict(zip(names, srcs)), measure=measure, bins=None, **kw)


XOR = _exact([(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)])
AND = _exact([(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 1)])
RDN = _exact([(0, 0, 0), (1, 1, 1)])
UNQ = _exact([(0, 0, 0), (0, 1, 0), (1, 0, 1), (1, 1, 1)])
COPY = _exact([(0, 0, 0), (0, 1, 1), (1, 0, 2), (1, 1, 3)])
SPARSE = _exact([(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0), (1, 1, 1)], [3, 2, 2, 1, 2])
THREE = _exact([(0, 0, 0, 0), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 0)])
KNOWN_FAST = ["wb", "mmi", "broja", "broja_dit", "ccs", "gk", "dep", "proj", "rr"]


# --- known answers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("measure", KNOWN_FAST)
def test_xor_is_pure_synergy(measure: str) -> None:
    r = _run(XOR, measure)
    assert r.synergy == pytest.approx(1, abs=1e-4)
    assert r.redundancy == pytest.approx(0, abs=1e-4)
    assert r.mutual_information == pytest.approx(1)


@pytest.mark.parametrize("measure", KNOWN_FAST)
def test_rdn_is_pure_redundancy(measure: str) -> None:
    r = _run(RDN, measure)
    assert r.redundancy == pytest.approx(1, abs=1e-4)
    assert r.synergy == pytest.approx(0, abs=1e-4)


@pytest.mark.parametrize("measure", KNOWN_FAST)
def test_unq_is_unique_to_a(measure: str) -> None:
    r = _run(UNQ, measure)
    assert r.unique["a"] == pytest.approx(1, abs=1e-4)
    assert r.unique["b"] == pytest.approx(0, abs=1e-4)


@pytest.mark.parametrize("measure, red, syn", [("wb", 0.3113, 0.5), ("mmi", 0.3113, 0.5), ("broja", 0.3113, 0.5),
                                               ("ccs", 0.1038, 0.2925)])
def test_and_gate(measure: str, red: float, syn: float) -> None:
    r = _run(AND, measure)
    assert r.redundancy == pytest.approx(red, abs=2e-4)
    assert r.synergy == pytest.approx(syn, abs=2e-4)


@pytest.mark.parametrize("measure, red, uniq, syn", [("wb", 1, 0, 1), ("mmi", 1, 0, 1), ("broja", 0, 1, 0),
                                                     ("ccs", 0, 1, 0)])
def test_two_bit_copy_measures_disagree_by_design(measure: str, red: float, uniq: float, syn: float) -> None:
    r = _run(COPY, measure)
    assert r.redundancy == pytest.approx(red, abs=1e-4)
    assert r.unique["a"] == pytest.approx(uniq, abs=1e-4) and r.unique["b"] == pytest.approx(uniq, abs=1e-4)
    assert r.synergy == pytest.approx(syn, abs=1e-4)


def test_gaussian_matches_analytic_mmi_and_broja_equals_mmi() -> None:
    """Barrett (2015): for jointly Gaussian variables with a 1-D target, MMI = BROJA (analytic MMI here)."""
    rng = np.random.default_rng(0)
    n = 100_000
    x = rng.normal(size=n)
    y = 0.5 * x + np.sqrt(0.75) * rng.normal(size=n)
    t = 0.6 * x + 0.4 * y + 0.6 * rng.normal(size=n)
    cov_ts, var_t = np.array([0.8, 0.7]), 0.76 + 0.36
    i_x, i_y = (-0.5 * np.log2(1 - c**2 / var_t) for c in cov_ts)
    i_xy = 0.5 * np.log2(var_t / 0.36)
    analytic = {"{x}{y}": i_y, "{x}": i_x - i_y, "{y}": 0.0, "{x,y}": i_xy - i_x}
    mmi = decompose(t, {"x": x, "y": y}, measure="mmi", bins=12)
    broja = decompose(t, {"x": x, "y": y}, measure="broja", bins=12)
    for label, bits in analytic.items():  # binning loses ~8% of every atom alike: compare fractions of MI
        assert mmi.atoms[label] / mmi.mutual_information == pytest.approx(bits / i_xy, abs=0.02), label
        assert broja.atoms[label] == pytest.approx(mmi.atoms[label], abs=2e-3), label


# --- contract tests over every measure -----------------------------------------------------------------------
SLOW_ON_SPARSE = {"delta", "deg", "skar_owa", "skar_tw"}  # 10 s to minutes on 5 outcomes: use XOR


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_contract_every_measure(measure: str) -> None:
    rows = XOR if measure in SLOW_ON_SPARSE else SPARSE
    before = rows.copy()
    r = _run(rows, measure, seed=3)
    assert set(r.atoms) == {"{a}{b}", "{a}", "{b}", "{a,b}"}
    assert r.measure == measure and r.estimator == "binned" and r.n_samples == len(rows)
    assert sum(r.atoms.values()) == pytest.approx(r.mutual_information, abs=1e-6)
    if not MEASURES[measure].can_be_negative:
        assert min(r.atoms.values()) >= -1e-6
    np.testing.assert_array_equal(rows, before)
    again = _run(rows, measure, seed=3)
    assert again.atoms == pytest.approx(r.atoms, abs=1e-9)


@pytest.mark.parametrize("measure", sorted(m for m, spec in MEASURES.items()
                                            if spec.supports(3) and m not in ("rav", "rav2")))
def test_three_sources_full_lattice(measure: str) -> None:
    """Every measure defined for any number of sources ("rav" and "rav2" too, but they take ~5 s here: left out)."""
    r = _run(THREE, measure)
    assert len(r.atoms) == 18  # Williams-Beer lattice of 3 sources
    assert r.synergy is not None and set(r.unique) == {"a", "b", "c"}
    assert sum(r.atoms.values()) == pytest.approx(r.mutual_information, abs=1e-6)


def test_measure_specs_are_documented() -> None:
    for name, spec in MEASURES.items():
        assert spec.name == name and spec.description and spec.reference
    assert {"wb", "mmi", "broja", "ccs", "dep", "sx", "proj", "rr"} <= set(MEASURES)
    assert MEASURES["sx"].can_be_negative and MEASURES["pm"].can_be_negative
    assert not MEASURES["broja"].supports(3) and MEASURES["wb"].supports(4)


# --- bad input ---------------------------------------------------------------------------------------------
def _data(n: int = 200) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, n))
    return a + b, {"phot": a, "morph": b}


def test_mismatched_lengths() -> None:
    t, s = _data()
    with pytest.raises(ValidationError, match=r"same number of rows.*'target' has 200.*has 150"):
        decompose(t, {"phot": s["phot"][:150], "morph": s["morph"]})


def test_nans_report_count_and_rows() -> None:
    t, s = _data()
    s["morph"][[4, 17, 90]] = np.nan
    with pytest.raises(ValidationError, match=r"sources\['morph'\]' has 3 NaN values \(rows 4, 17, 90\)"):
        decompose(t, s)


def test_constant_variable() -> None:
    t, s = _data()
    s["phot"] = np.ones_like(t)
    with pytest.raises(ValidationError, match="constant"):
        decompose(t, s)


def test_unknown_measure_lists_valid_ones() -> None:
    t, s = _data()
    with pytest.raises(ValidationError, match=r"unknown measure 'imin'.*'broja'.*'wb'"):
        decompose(t, s, measure="imin")


def test_measure_not_supporting_three_sources() -> None:
    t, s = _data()
    with pytest.raises(ValidationError, match=r"'broja' supports at most 2 sources; got 3.*mmi"):
        decompose(t, {**s, "third": t * 2.0}, measure="broja")


def test_single_source_and_bad_options() -> None:
    t, s = _data()
    with pytest.raises(ValidationError, match="at least 2 sources"):
        decompose(t, {"phot": s["phot"]})
    with pytest.raises(ValidationError, match="strategy"):
        decompose(t, s, bins=Binning(8, strategy="kmeans"))
    with pytest.raises(ValidationError, match="distinct float values"):
        decompose(t, s, bins=None)


# --- discretisation and estimation --------------------------------------------------------------------------
def test_quantile_uniform_and_discrete_binning() -> None:
    x = np.arange(1000.0)
    assert np.bincount(bin_variable(x, 4).codes).tolist() == [250] * 4
    u = bin_variable(x**2, 4, strategy="uniform")
    assert u.record["strategy"] == "uniform" and np.bincount(u.codes)[0] == 500
    d = bin_variable(np.array([5, 7, 5, 9]), None)
    assert d.n_bins == 3 and d.codes.tolist() == [0, 1, 0, 2]


def test_bincount_table_matches_histogramdd() -> None:
    rng = np.random.default_rng(0)
    codes = [rng.integers(0, k, 500) for k in (3, 4, 5)]
    ref, _ = np.histogramdd(np.stack(codes, 1), bins=[np.arange(k + 1) for k in (3, 4, 5)])
    np.testing.assert_array_equal(joint_counts(codes, (3, 4, 5)), ref)


def test_multidimensional_source_is_cross_fitted_and_recorded() -> None:
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    mags = rng.normal(size=(1000, 5))
    t = mags @ np.array([1.0, 0.5, 0.2, 0.0, 0.0]) + 0.3 * rng.normal(size=1000)
    b = rng.normal(size=1000)
    r = decompose(t, {"phot": mags, "morph": b}, bins=4, measure="mmi",
                  reduce=Reduction(regressor=LinearRegression()), seed=0)
    rec = r.details["reductions"]["phot"]
    assert rec["method"] == "regression" and rec["dim"] == 5 and rec["n_splits"] == 5 and rec["cv_r2"] > 0.8
    vq = decompose(t, {"phot": mags, "morph": b}, bins=4, measure="mmi", reduce="vq", seed=0)
    assert vq.details["reductions"]["phot"]["method"] == "vq"
    assert vq.details["binning"]["phot"]["n_bins"] == 4
    s, _ = reduce_source(mags, t, regressor=LinearRegression(), seed=1)
    assert s.shape == (1000,)


def test_too_few_samples_per_bin_warns_with_numbers() -> None:
    t, s = _data(150)
    with pytest.warns(EstimationWarning, match=r"150 samples over \d+ occupied joint bins .* at least 10"):
        decompose(t, s, bins=8, measure="mmi")


def test_shuffle_correction_removes_bias_on_independent_data() -> None:
    rng = np.random.default_rng(2)
    a, b, t = rng.normal(size=(3, 3000))
    raw = decompose(t, {"a": a, "b": b}, bins=5, measure="mmi")
    fixed = decompose(t, {"a": a, "b": b}, bins=5, measure="mmi",
                      resampling=Resampling(bias_correction="shuffle", n_shuffles=10), seed=0)
    assert raw.mutual_information > 0.01
    assert abs(fixed.mutual_information) < 0.3 * raw.mutual_information
    assert fixed.details["bias_correction"]["n_shuffles"] == 10


def test_bootstrap_ci_seeded_and_brackets_estimate() -> None:
    t, s = _data(3000)
    r1 = decompose(t, s, bins=4, resampling=Resampling(n_boot=8), seed=5)
    r2 = decompose(t, s, bins=4, resampling=Resampling(n_boot=8), seed=5)
    assert r1.ci == r2.ci and r1.ci_level == 0.9
    lo, hi = r1.ci["mutual_information"]
    assert lo <= r1.mutual_information + 0.02 and hi >= r1.mutual_information - 0.02
    assert r1.details["solver"]["solver"] == "interpret.pid.broja"


# --- end to end ----------------------------------------------------------------------------------------------
def test_mock_universe_photometry_vs_morphology(tmp_path) -> None:
    from sklearn.linear_model import LinearRegression

    from interpret.plots.pid import plot_binning_sensitivity, plot_decomposition, plot_measure_comparison

    u = ip.mock.make_universe(n=2000, seed=0, images=False, spectra=False, progress=False)
    cat = u.catalog
    sources = {"phot": cat[["u", "g", "r", "i", "z"]].to_numpy(), "morph": cat[["sersic_n", "r_eff"]].to_numpy()}
    kw = {"bins": 4, "reduce": Reduction(regressor=LinearRegression()), "seed": 0}
    r = ip.pid.decompose(cat["log_mstar"].to_numpy(), sources, measure="broja", resampling=Resampling(n_boot=5),
                         **kw)
    assert r.mutual_information > 0.3 and r.unique["phot"] > r.unique["morph"]
    r.save(tmp_path / "pid.ipres")
    assert ip.load_result(tmp_path / "pid.ipres").atoms == pytest.approx(r.atoms)
    mmi = ip.pid.decompose(cat["log_mstar"].to_numpy(), sources, measure="mmi", **kw)
    sens = binning_sensitivity(cat["log_mstar"].to_numpy(), sources, bins=(3, 4),
                               reduce=Reduction(regressor=LinearRegression()), seed=0)
    assert sens.to_frame().index.tolist() == [3, 4]
    for fig in (plot_decomposition(r), plot_measure_comparison({"BROJA": r, "MMI": mmi}),
                plot_binning_sensitivity(sens)):
        assert fig.axes and fig.axes[0].get_ylabel() == "information (bits)"


def test_bootstrap_intervals_contain_the_estimate_despite_resampling_bias():
    """Resamples repeat rows, so their plug-in synergy is biased upwards; the shifted intervals still cover the
    (shuffle-corrected) estimate of every atom."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=800), rng.normal(size=800)
    y = x1 + x2 + 0.5 * rng.normal(size=800)
    with pytest.warns(ip.exceptions.EstimationWarning):
        r = ip.pid.decompose(y, {"a": x1, "b": x2}, measure="broja", bins=6, seed=0, progress=False,
                             resampling=Resampling(n_boot=40, bias_correction="shuffle"))
    for atom, value in r.atoms.items():
        lo, hi = r.ci[atom]
        assert lo <= value <= hi, (atom, lo, value, hi)


def test_default_reduction_splits_small_folds():
    """HGB's default 20-row leaves cannot split a fold of < 40 rows: the summary was one constant per fold."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(75, 3))
    t = x @ [1.0, 0.5, 0.0] + 0.3 * rng.normal(size=75)
    summary, record = reduce_source(x, t, n_splits=2, seed=0)
    assert np.unique(summary).size > 20 and record["cv_r2"] > 0.6
    assert record["model"] == "HistGradientBoostingRegressor"


def test_a_collapsed_reduction_is_reported():
    from sklearn.dummy import DummyRegressor

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    t = a[:, 0] + b[:, 0]
    with pytest.warns(EstimationWarning, match="takes only 2 distinct values for 6 bins"):
        decompose(t, {"a": a, "b": b}, measure="mmi", bins=6, seed=0,
                  reduce=Reduction(n_splits=2, regressor=DummyRegressor()))
