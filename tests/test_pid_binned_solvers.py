"""Our BROJA solver and fast CCS against dit's cone solver, cvxpy + Clarabel, and dit's CCS."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from interpret.exceptions import ConvergenceWarning, ValidationError
from interpret.pid.broja import broja_cone_objective, broja_solve
from interpret.pid.measures import MEASURES, _dit_atoms, ccs_redundancy, measure_atoms


def _random_pmf(k: int, seed: int, conc: float = 0.5) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(k**3, conc)).reshape(k, k, k)


def _gaussian_pmf(k: int, n: int = 50_000, seed: int = 0) -> np.ndarray:
    """Binned correlated Gaussians with a nonlinear target: the realistic case (many near-zero pairs)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.6 * a + 0.8 * rng.normal(size=n)
    t = a + 0.5 * b + 0.3 * a * b + 0.5 * rng.normal(size=n)
    codes = [np.searchsorted(np.quantile(v, np.linspace(0, 1, k + 1)[1:-1]), v) for v in (a, b, t)]
    flat = np.ravel_multi_index(codes, (k, k, k))
    return np.bincount(flat, minlength=k**3).reshape(k, k, k) / n


# --- known answers ----------------------------------------------------------------------------------------
def test_broja_two_bit_copy_and_xor() -> None:
    copy = np.zeros((2, 2, 4))
    copy[0, 0, 0] = copy[0, 1, 1] = copy[1, 0, 2] = copy[1, 1, 3] = 0.25
    s = broja_solve(copy)
    assert s.unique_x == pytest.approx(1, abs=1e-6) and s.unique_y == pytest.approx(1, abs=1e-6)
    assert s.redundancy == pytest.approx(0, abs=1e-6) and s.synergy == pytest.approx(0, abs=1e-6)
    xor = np.zeros((2, 2, 2))
    xor[0, 0, 0] = xor[0, 1, 1] = xor[1, 0, 1] = xor[1, 1, 0] = 0.25
    s = broja_solve(xor)
    assert s.synergy == pytest.approx(1, abs=1e-6) and s.converged


# --- agreement with the exponential-cone optimum ---------------------------------------------------------
@pytest.mark.parametrize("pmf", [_random_pmf(4, 1), _gaussian_pmf(6)], ids=["dirichlet-k4", "gaussian-k6"])
def test_broja_matches_cvxpy_clarabel_objective(pmf: np.ndarray) -> None:
    s = broja_solve(pmf)
    assert s.converged and s.gap <= 1e-5
    assert s.min_joint_information == pytest.approx(broja_cone_objective(pmf), abs=1e-5)
    assert s.marginal_error < 1e-8


@pytest.mark.parametrize("pmf", [_random_pmf(3, 2), _gaussian_pmf(4, seed=3)], ids=["dirichlet-k3", "gauss-k4"])
def test_broja_matches_dit_cone_solver(pmf: np.ndarray) -> None:
    ours, _ = measure_atoms("broja", pmf, ("a", "b"))
    theirs = _dit_atoms(MEASURES["broja_dit"], pmf, ("a", "b"))
    for label, value in ours.items():
        assert value == pytest.approx(theirs[label], abs=1e-4), label


def test_broja_gap_certifies_tolerance() -> None:
    loose = broja_solve(_gaussian_pmf(8), tol=1e-3)
    tight = broja_solve(_gaussian_pmf(8), tol=1e-6)
    assert tight.converged and tight.gap <= 1e-6
    assert abs(loose.min_joint_information - tight.min_joint_information) <= loose.gap + tight.gap


def test_broja_warns_when_not_converged() -> None:
    with pytest.warns(ConvergenceWarning, match="not certified: duality gap"):
        s = broja_solve(_gaussian_pmf(8), tol=1e-9, max_iter=50, check_every=25, fallback=False)
    assert not s.converged and s.certified_by is None


def test_broja_rejects_bad_tables() -> None:
    with pytest.raises(ValidationError, match="shape"):
        broja_solve(np.ones((2, 2)))
    with pytest.raises(ValidationError, match="non-negative"):
        broja_solve(-np.ones((2, 2, 2)))


# --- fast CCS ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_fast_ccs_matches_dit(seed: int) -> None:
    pmf = _random_pmf(3, seed)
    red, diag = ccs_redundancy(pmf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = _dit_atoms(MEASURES["ccs"], pmf, ("a", "b"))
    assert red == pytest.approx(theirs["{a}{b}"], abs=1e-7)
    assert diag["ipf_marginal_error"] < 1e-10
