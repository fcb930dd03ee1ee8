"""Silent numerical issues of the binned PID (issue 18): the ccs maximum-entropy step, rdr's NaN atoms."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import interpret.pid.measures as measures
from interpret.exceptions import ConvergenceWarning
from interpret.pid.measures import MEASURES, _dit_atoms, ccs_redundancy, measure_atoms


def _dense(dist) -> np.ndarray:
    alphabets = [sorted({o[i] for o in dist.outcomes}) for i in range(len(dist.outcomes[0]))]
    p = np.zeros([len(a) for a in alphabets])
    for outcome, prob in zip(dist.outcomes, dist.pmf):
        p[tuple(a.index(s) for a, s in zip(alphabets, outcome))] += prob
    return p


def _gband() -> np.ndarray:
    from dit.pid.distributions import bivariates

    return _dense(bivariates["gband"])


def test_ccs_gband_matches_dit_known_answer() -> None:
    """dit's test_pid_ccs1: the uniques were 0.499975 when IPF stopped at its 5,000-sweep cap."""
    atoms, details = measure_atoms("ccs", _gband(), ("a", "b"))
    assert atoms["{a}{b}"] == pytest.approx(0.81127812445913283, abs=1e-10)
    assert atoms["{a}"] == pytest.approx(0.5, abs=1e-10) and atoms["{b}"] == pytest.approx(0.5, abs=1e-10)
    assert atoms["{a,b}"] == pytest.approx(0.0, abs=1e-10)
    assert details["ipf_marginal_error"] < 1e-12 and details["ipf_iterations"] < 5000


def test_ccs_support_lp_finds_the_forced_zeros() -> None:
    p = _gband()
    keep = measures._maxent_support(p)
    assert keep.sum() == 8 and np.array_equal(keep, p > 0)
    dense = np.random.default_rng(0).dirichlet(np.ones(27)).reshape(3, 3, 3)
    assert measures._maxent_support(dense).all()


def test_ccs_warns_at_the_iteration_cap(monkeypatch) -> None:
    monkeypatch.setattr(measures, "_maxent_support", lambda pmf: np.ones(pmf.shape, dtype=bool))
    with pytest.warns(ConvergenceWarning, match="maximum-entropy step stopped after 5000 IPF sweeps"):
        red, details = ccs_redundancy(_gband())
    assert details["ipf_marginal_error"] > 1e-10


@pytest.mark.parametrize("name", ["and", "diff", "pnt. unq.", "boom", "reduced or"])
def test_ccs_matches_dit_on_tables_with_forced_zeros(name: str) -> None:
    from dit.pid.distributions import bivariates

    p = _dense(bivariates[name])
    ours, _ = measure_atoms("ccs", p, ("a", "b"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = _dit_atoms(MEASURES["ccs"], p, ("a", "b"))
    for label, value in ours.items():
        assert value == pytest.approx(theirs[label], abs=1e-6), label


def test_rdr_four_sources_warns_naming_the_nan_atoms() -> None:
    """dit's I_rdr leaves 122 of the 166 atoms of a 4-source lattice undefined here; decompose() says which."""
    import interpret as ip
    from interpret.exceptions import EstimationWarning

    rng = np.random.default_rng(0)
    s = {k: rng.normal(size=3000) for k in "abcd"}
    t = s["a"] + s["b"] * s["c"] + 0.3 * rng.normal(size=3000)
    with pytest.warns(EstimationWarning, match=r"'rdr' left 122 of 166 atoms undefined \(NaN\): \{.*and 112 more"):
        r = ip.pid.decompose(t, s, measure="rdr", seed=0,
                                 bins=ip.pid.Binning(4, min_samples_per_bin=1))
    nan = r.details["nan_atoms"]
    assert len(nan) == 122 and all(np.isnan(r.atoms[label]) for label in nan)
    assert not any(np.isnan(v) for k, v in r.atoms.items() if k not in nan)
