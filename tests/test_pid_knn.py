"""kNN (KSG) mutual information and the kNN MMI decomposition: known answers, contracts, bad input."""
from __future__ import annotations

import inspect

import joblib
import numpy as np
import pandas as pd
import pytest

from interpret import load_result
from interpret.exceptions import EstimationWarning, ValidationError
from interpret.pid import KNN, Binning, PIDResult, Resampling, decompose
from interpret.pid._gaussian import gaussian_mi, gaussian_mmi, gaussian_sample
from interpret.pid._mmi import lattice, mmi_atoms, source_sets
from interpret.pid.knn import MIEstimate, knn_decompose, ksg, mutual_information

COV = np.array([[1.0, 0.6, 0.4], [0.6, 1.0, 0.2], [0.4, 0.2, 1.0]])


@pytest.fixture(scope="module")
def gauss():
    return gaussian_sample(COV, 10_000, seed=3)


# --- known answers ---------------------------------------------------------------------------------------------
def test_gaussian_mi_1d(gauss):
    est = mutual_information(gauss[:5000, 0], gauss[:5000, 1], seed=0).value
    assert est == pytest.approx(-0.5 * np.log2(1 - 0.36), abs=0.03)


def test_gaussian_mi_multidimensional_source_and_target():
    rng = np.random.default_rng(1)
    n = 5000
    cov = 0.4 * np.eye(6) + 0.6 * np.ones((6, 6)) * 0.5
    cov[np.diag_indices(6)] = 1.0
    x = rng.multivariate_normal(np.zeros(6), cov, size=n)
    truth_5d = gaussian_mi(cov, 0, [1, 2, 3, 4, 5])
    assert mutual_information(x[:, 0], x[:, 1:], seed=0).value == pytest.approx(truth_5d, abs=0.05)
    sub = cov[np.ix_([0, 1, 2], [0, 1, 2])]
    truth_2d = 0.5 * np.log2(np.linalg.det(sub[:2, :2]) * sub[2, 2] / np.linalg.det(sub))
    assert mutual_information(x[:, :2], x[:, 2], seed=0).value == pytest.approx(truth_2d, abs=0.04)


def test_whitened_scaling_is_also_consistent(gauss):
    r = knn_decompose(gauss[:5000, 0], {"a": gauss[:5000, 1], "b": gauss[:5000, 2]}, scaling="whiten", seed=0)
    assert r.mutual_information == pytest.approx(gaussian_mi(COV, 0, [1, 2]), abs=0.05)
    assert r.details["scaling"] == "whiten"


def test_independent_variables_give_about_zero():
    rng = np.random.default_rng(2)
    est = mutual_information(rng.normal(size=4000), rng.normal(size=(4000, 3)), seed=0)
    assert abs(est.value) < 0.02


def test_ksg_matches_a_direct_loop_on_a_small_sample():
    from scipy.special import digamma

    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(60, 2)), rng.normal(size=(60, 1))
    k = 3
    joint = np.hstack([x, y])
    nx, ny = [], []
    for i in range(60):   # the textbook definition, one sample at a time
        d = np.abs(joint - joint[i]).max(axis=1)
        eps = np.sort(d)[k]
        nx.append((np.abs(x - x[i]).max(axis=1) < eps).sum() - 1)
        ny.append((np.abs(y - y[i]).max(axis=1) < eps).sum() - 1)
    direct = (digamma(k) + digamma(60) - np.mean(digamma(np.add(nx, 1)) + digamma(np.add(ny, 1)))) / np.log(2)
    assert ksg(x, y, k) == pytest.approx(direct, abs=1e-12)


def _ksg_reference(x, y, k=3):
    """KSG with median-split trees, counts in row order, 1-D windows searched in row order: the same counts."""
    from scipy.spatial import cKDTree
    from scipy.special import digamma

    joint = np.hstack([x, y])
    eps = cKDTree(joint).query(joint, k=[k + 1], p=np.inf)[0][:, 0]

    def count(v):
        if v.shape[1] == 1:
            s, inner = np.sort(v[:, 0]), eps - 4 * np.spacing(np.abs(v[:, 0]) + eps)
            return np.searchsorted(s, v[:, 0] + inner, "right") - np.searchsorted(s, v[:, 0] - inner, "left") - 1
        return np.array([(np.abs(v - row).max(axis=1) < e).sum() - 1 for row, e in zip(v, eps)])

    nx, ny = count(x), count(y)
    return (digamma(k) + digamma(len(x)) - np.mean(digamma(nx + 1) + digamma(ny + 1))) / np.log(2), nx, ny


@pytest.mark.parametrize("dx, dy, near_ties", [(1, 1, False), (2, 1, False), (3, 1, True), (5, 1, True),
                                                (2, 3, False), (1, 2, True)])
def test_ksg_counts_and_value_match_the_reference_exactly(dx, dy, near_ties):
    from scipy.spatial import cKDTree

    from interpret.pid.knn import _count_strictly_within

    rng = np.random.default_rng(10 * dx + dy)
    x, y = rng.normal(size=(1500, dx)), rng.normal(size=(1500, dy))
    y[:, 0] += x[:, 0]
    if near_ties:   # values on a grid of 0.05, split by a jitter of 1e-10
        x = np.round(x, 1) / 2 + 1e-10 * rng.normal(size=x.shape)
        y = np.round(y, 1) / 2 + 1e-10 * rng.normal(size=y.shape)
    reference, nx, ny = _ksg_reference(x, y)
    assert ksg(x, y) == reference   # bit for bit (the rows are reordered internally and put back)
    joint = np.hstack([x, y])
    eps = cKDTree(joint).query(joint, k=[4], p=np.inf)[0][:, 0]
    np.testing.assert_array_equal(_count_strictly_within(x, eps, 1), nx)
    np.testing.assert_array_equal(_count_strictly_within(y, eps, 2), ny)


def test_knn_decompose_gaussian_matches_analytic_mmi(gauss):
    r = knn_decompose(gauss[:, 0], {"a": gauss[:, 1], "b": gauss[:, 2]}, seed=0)
    truth = gaussian_mmi(COV)
    for atom, value in truth.items():
        assert r.atoms[atom] == pytest.approx(value, abs=0.04), atom
    assert r.mutual_information == pytest.approx(gaussian_mi(COV, 0, [1, 2]), abs=0.04)
    assert r.unique["b"] == 0.0          # b is the weaker source: MMI gives it no unique information


def test_mmi_lattice_sizes_and_known_atoms():
    assert [len(lattice(m)) for m in (1, 2, 3, 4)] == [1, 4, 18, 166]
    atoms = mmi_atoms({(0,): 0.5, (1,): 0.2, (0, 1): 1.0}, ["a", "b"])
    assert atoms == {"{a}{b}": 0.2, "{a}": 0.3, "{b}": 0.0, "{a,b}": 0.5}
    # three copies of one variable: everything is redundant
    info = {s: 1.0 for s in source_sets(3)}
    atoms3 = mmi_atoms(info, ["a", "b", "c"])
    assert atoms3["{a}{b}{c}"] == 1.0 and sum(abs(v) for v in atoms3.values()) == 1.0


# --- contracts -------------------------------------------------------------------------------------------------
def test_atoms_sum_to_joint_information_three_sources(gauss):
    rng = np.random.default_rng(5)
    c = gauss[:3000, 0] + rng.normal(size=3000)
    r = knn_decompose(gauss[:3000, 0], {"a": gauss[:3000, 1], "b": gauss[:3000, 2], "c": c}, seed=0)
    assert len(r.atoms) == 18
    assert sum(r.atoms.values()) == pytest.approx(r.mutual_information, abs=1e-9)
    assert r.redundancy == r.atoms["{a}{b}{c}"] and r.synergy == r.atoms["{a,b,c}"]


def test_scale_invariance_and_inputs_not_mutated(gauss):
    t, s = gauss[:2000, 0].copy(), gauss[:2000, 1:].copy()
    before = (t.copy(), s.copy())
    a = mutual_information(t, s, seed=0).value
    b = mutual_information(1000 * t + 5, s * [1e-3, 7.0], seed=0).value
    assert a == pytest.approx(b, abs=1e-4)   # round-off may move a boundary neighbour
    np.testing.assert_array_equal(t, before[0])
    np.testing.assert_array_equal(s, before[1])


def test_pandas_inputs_and_sequence_sources(gauss):
    df = pd.DataFrame(gauss[:1500], columns=["t", "a", "b"])
    r1 = knn_decompose(df["t"], df[["a", "b"]], seed=0)
    r2 = knn_decompose(gauss[:1500, 0], [gauss[:1500, 1], gauss[:1500, 2]], seed=0)
    assert r1.sources == ("a", "b") and r2.sources == ("x0", "x1")
    assert list(r1.atoms.values()) == pytest.approx(list(r2.atoms.values()))


def test_same_seed_same_ci_and_parallel_identical(gauss):
    kw = dict(n_boot=8, seed=7, progress=False)
    a = mutual_information(gauss[:2000, 0], gauss[:2000, 1], **kw)
    b = mutual_information(gauss[:2000, 0], gauss[:2000, 1], **kw)
    with joblib.parallel_config(backend="threading"):
        c = mutual_information(gauss[:2000, 0], gauss[:2000, 1], n_jobs=2, **kw)
    assert a.ci == b.ci == c.ci
    np.testing.assert_array_equal(a.replicates, c.replicates)


def test_half_sampling_ci_matches_sampling_spread():
    """The rescaled half-sample spread estimates the spread of the estimate across independent samples."""
    n, truth = 2000, -0.5 * np.log2(1 - 0.36)
    estimates = [mutual_information(*gaussian_sample(COV[:2, :2], n, seed=s).T, seed=s).value for s in range(20)]
    sampling_sd = np.std(estimates, ddof=1)
    d = gaussian_sample(COV[:2, :2], n, seed=99)
    r = mutual_information(d[:, 0], d[:, 1], n_boot=40, seed=0, progress=False)
    width = (r.ci[1] - r.ci[0]) / (2 * 1.96)
    assert 0.5 < width / sampling_sd < 2.0
    assert r.ci[0] < truth < r.ci[1]


def test_decompose_cis_cover_estimates_and_result_round_trips(gauss, tmp_path):
    r = knn_decompose(gauss[:3000, 0], {"a": gauss[:3000, 1], "b": gauss[:3000, 2]}, n_boot=10, seed=0,
                      progress=False)
    assert isinstance(r, PIDResult) and r.estimator == "knn" and r.measure == "mmi" and r.ci_level == 0.95
    for atom, (lo, hi) in r.ci.items():
        value = r.mutual_information if atom == "mutual_information" else r.atoms[atom]
        assert lo <= value + 1e-12 and value <= hi + 1e-12
    assert set(r.details["information"]) == {"a", "b", "a+b"}
    r.save(tmp_path / "knn.ipres")
    back = load_result(tmp_path / "knn.ipres")
    assert back.atoms == r.atoms and back.ci == r.ci
    assert list(back.to_frame().columns) == ["bits", "fraction", "ci_low", "ci_high", "uncertified_resamples"]
    assert back.uncertified_resamples == {"bootstrap": 0} and back.details["failed_resamples"] == 0


def test_decompose_knn_route_gives_the_same_intervals_as_knn_decompose(gauss):
    """decompose(method="knn") forwards n_boot, ci_level and seed: same numbers, same fields as the binned route."""
    t, s = gauss[:2000, 0], {"a": gauss[:2000, 1], "b": gauss[:2000, 2]}
    direct = knn_decompose(t, s, n_boot=6, ci_level=0.8, k=4, seed=1, progress=False)
    via = decompose(t, s, method=KNN(k=4), resampling=Resampling(n_boot=6, ci_level=0.8), seed=1, progress=False)
    short = decompose(t, s, method="knn", k=4, resampling=Resampling(n_boot=6, ci_level=0.8), seed=1,
                      progress=False)
    assert via.ci == direct.ci == short.ci and via.ci_level == 0.8 and via.atoms == direct.atoms
    binned = decompose(t, s, bins=4, resampling=Resampling(n_boot=3), seed=0, progress=False)
    assert set(via.ci) == set(binned.ci) and set(via.uncertified_resamples) == set(binned.uncertified_resamples)
    assert list(via.to_frame().columns) == list(binned.to_frame().columns)


def test_failed_replicates_are_counted_not_swallowed(gauss, monkeypatch):
    """A replicate that gives a non-finite value is left out of the interval, counted and reported once."""
    import interpret.pid.knn as knn

    real, calls = knn.ksg, []

    def flaky(x, y, k=3, *, workers=-1):
        calls.append(len(x))
        return np.nan if len(calls) in (4, 7) else real(x, y, k, workers=workers)   # calls 1-3: full sample

    monkeypatch.setattr(knn, "ksg", flaky)
    t, s = gauss[:1000, 0], {"a": gauss[:1000, 1], "b": gauss[:1000, 2]}
    with pytest.warns(EstimationWarning, match="2 of 5 half-sample replicates gave a non-finite estimate"):
        r = knn_decompose(t, s, n_boot=5, seed=0, progress=False)
    assert r.uncertified_resamples == {"bootstrap": 2} and r.details["failed_resamples"] == 2
    assert all(np.isfinite(v).all() for v in r.ci.values())
    assert (r.to_frame()["uncertified_resamples"] == 2).all()


def test_decompose_options_objects_and_old_keywords(gauss):
    t, s = gauss[:1500, 0], {"a": gauss[:1500, 1], "b": gauss[:1500, 2]}
    new = decompose(t, s, bins=Binning(4, strategy="uniform"), resampling=Resampling(n_boot=4, ci_level=0.8),
                    seed=2, progress=False)
    with pytest.warns(FutureWarning, match=r"ci_level, n_boot, strategy are removed in 0.4; use "
                                           r"bins=Binning\(bins, strategy=\.\.\.\), "
                                           r"resampling=Resampling\(n_boot=\.\.\., ci_level=\.\.\.\)"):
        old = decompose(t, s, bins=4, strategy="uniform", n_boot=4, ci_level=0.8, seed=2, progress=False)
    assert old.atoms == new.atoms and old.ci == new.ci
    assert len(inspect.signature(decompose).parameters) <= 11
    with pytest.raises(ValidationError, match="not options of the kNN route"):
        decompose(t, s, method="knn", kk=3)
    with pytest.raises(ValidationError, match="applies to the binned route"):
        decompose(t, s, method="knn", resampling=Resampling(bias_correction="shuffle"))
    with pytest.raises(ValidationError, match="'resampling' must be a Resampling"):
        decompose(t, s, resampling=10)
    with pytest.raises(ValidationError, match=r"Binning\(\): unknown strategy 'kmeans'"):
        Binning(8, strategy="kmeans")


def test_mi_estimate_result(tmp_path, gauss):
    r = mutual_information(gauss[:1000, 0], gauss[:1000, 1], seed=0)
    assert isinstance(r, MIEstimate) and r.ci is None and r.n_samples == 1000 and float(r) == r.value
    r.save(tmp_path / "mi.ipres")
    assert load_result(tmp_path / "mi.ipres").value == r.value
    assert r.to_frame().loc["knn", "bits"] == r.value


def test_old_keywords_warn_and_still_work(gauss):
    t, s = gauss[:500, 0], gauss[:500, 1]
    with pytest.warns(FutureWarning, match="'return_result' no longer has any effect"):
        r = mutual_information(t, s, seed=0, return_result=True)
    assert isinstance(r, MIEstimate)
    with pytest.warns(FutureWarning, match="'ci' is renamed 'ci_level'"):
        r = mutual_information(t, s, seed=0, n_boot=4, ci=0.8, progress=False)
    assert r.ci_level == 0.8


# --- bad input -------------------------------------------------------------------------------------------------
def test_mismatched_lengths():
    with pytest.raises(ValidationError, match="same number of rows; 'target' has 10, 'source' has 9"):
        mutual_information(np.arange(10.0), np.arange(9.0))


def test_nan_rows_are_reported():
    t = np.random.default_rng(0).normal(size=50)
    s = t.copy()
    s[[3, 17]] = np.nan
    with pytest.raises(ValidationError, match=r"'morph' has 2 NaN values \(rows 3, 17\)"):
        knn_decompose(t, {"phot": t + 1, "morph": s})


def test_linearly_dependent_columns():
    rng = np.random.default_rng(0)
    mags = rng.normal(size=(100, 2))
    with pytest.raises(ValidationError, match="columns of 'source' are linearly dependent"):
        mutual_information(mags[:, 0], np.column_stack([mags, mags[:, 0] - mags[:, 1]]), scaling="whiten")


def test_non_monotone_estimate_warns():
    """Large information spread over many dimensions: KSG's joint estimate falls below a single source's."""
    rng = np.random.default_rng(0)
    t = rng.normal(size=1500)
    a = t[:, None] + 0.05 * rng.normal(size=(1500, 1))
    b = rng.normal(size=(1500, 8))
    with pytest.warns(EstimationWarning, match=r"I\(target; a\+b\) = .* is below I\(target; a\)"):
        knn_decompose(t, {"a": a, "b": b}, seed=0)


def test_constant_variable():
    t = np.random.default_rng(0).normal(size=50)
    with pytest.raises(ValidationError, match="'source' is constant"):
        mutual_information(t, np.ones(50))


def test_too_few_samples_for_k():
    with pytest.raises(ValidationError, match="k=5 neighbours need at least 7 samples; got 6"):
        mutual_information(np.arange(6.0), np.arange(6.0) ** 2, k=5)
    with pytest.raises(ValidationError, match="'subsample'=0.1 gives 2 of 20 rows"):
        mutual_information(np.arange(20.0), np.sin(np.arange(20.0)), n_boot=2, subsample=0.1)


@pytest.mark.parametrize("kw, match", [
    ({"method": "binned"}, "unknown method 'binned'; valid values are 'knn', 'ksg'"),
    ({"k": 0}, "'k' must be >= 1"),
    ({"ci_level": 1.5}, "'ci_level' must be in"),
    ({"jitter": -1.0}, "'jitter' must be a number"),
    ({"scaling": "rank"}, "unknown scaling 'rank'; valid values are 'standardize', 'whiten'"),
])
def test_bad_options(kw, match):
    with pytest.raises(ValidationError, match=match):
        mutual_information(np.arange(20.0), np.sin(np.arange(20.0)), **kw)


def test_bad_sources_and_measure():
    t = np.random.default_rng(0).normal(size=30)
    with pytest.raises(ValidationError, match="2 to 4 sources"):
        knn_decompose(t, {"a": t})
    with pytest.raises(ValidationError, match="unknown measure 'broja'; valid values are 'mmi'"):
        knn_decompose(t, {"a": t, "b": t ** 2}, measure="broja")


def test_ties_warn():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 5, size=400).astype(float)
    with pytest.warns(EstimationWarning, match="'target' has only 5 distinct values in 400 rows"):
        mutual_information(t, t + rng.normal(size=400))
