"""Pointwise (per-galaxy) atoms of the binned route for I_± ("pm") and I^sx ("sx"): known answers derived by
hand from the definitions, and the mean over galaxies equal to decompose()'s atoms (issue 18)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from interpret.exceptions import EstimationWarning, ValidationError
from interpret.pid import decompose, pointwise_atoms, pointwise_table

A = np.array([0, 0, 1, 1] * 3)
B = np.array([0, 1, 0, 1] * 3)


def test_pm_and_known_answer():
    # I_±: r(o) = min_i h(s_i) - min_i h(s_i | t). AND, uniform inputs: h(s_i) = 1 bit; where t = 0,
    # p(s_i = 0 | t = 0) = 2/3 and p(s_i = 1 | t = 0) = 1/3, so r = 1 - log2(3/2) = log2(4/3); at (1, 1, 1) r = 1.
    atoms = pointwise_atoms(A & B, {"a": A, "b": B}, measure="pm", bins=None)
    expected = np.where((A & B) == 1, 1.0, np.log2(4 / 3))
    np.testing.assert_allclose(atoms["{a}{b}"], expected, atol=1e-12)
    # unique of a: i(t; a) - r; at (0, 1, 0): i(t=0; a=0) = log2((2/3) / (1/2)) = log2(4/3), so 0
    assert atoms["{a}"].iloc[1] == pytest.approx(0.0, abs=1e-12)
    assert atoms["{a}{b}"].mean() == pytest.approx(0.75 * np.log2(4 / 3) + 0.25)       # 0.5613 (Finn & Lizier)


def test_sx_xor_known_answer():
    # I^sx on XOR: i+ = -log2 P(a = a0 or b = b0) = log2(4/3); i- = -log2(P(union of (s_i, t)) / p(t))
    # = -log2((1/4) / (1/2)) = 1, so r = log2(2/3) at every outcome; i(t; a) = 0 gives unique log2(3/2), and
    # the synergy is i(t; a, b) - r - 2 u = 1 - log2(2/3) - 2 log2(3/2) = log2(4/3).
    atoms = pointwise_atoms(pd.Series(A ^ B, index=list("abcdefghijkl")), {"a": A, "b": B}, measure="sx", bins=None)
    assert list(atoms.index) == list("abcdefghijkl")
    expected = {"{a}{b}": np.log2(2 / 3), "{a}": np.log2(3 / 2), "{b}": np.log2(3 / 2), "{a,b}": np.log2(4 / 3)}
    for label, bits in expected.items():
        np.testing.assert_allclose(atoms[label], bits, atol=1e-12)


def test_table_lists_occupied_outcomes_with_probabilities():
    p = np.zeros((2, 2, 2))
    p[0, 0, 0], p[1, 1, 1] = 0.5, 0.5                                         # RDN: one shared bit
    table = pointwise_table(p, ("a", "b"), "pm")
    assert table[["a", "b", "target"]].to_numpy().tolist() == [[0, 0, 0], [1, 1, 1]]
    assert table["p"].tolist() == [0.5, 0.5] and table["{a}{b}"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("measure", ["pm", "sx"])
def test_mean_over_galaxies_equals_decompose(measure):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 600))
    t = x + y + 0.5 * rng.normal(size=600)
    atoms = pointwise_atoms(t, {"x": x, "y": y}, measure=measure, bins=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        avg = decompose(t, {"x": x, "y": y}, measure=measure, bins=2)
    assert atoms.shape == (600, 4)
    for label, bits in avg.atoms.items():
        assert atoms[label].mean() == pytest.approx(bits, abs=1e-10), label


@pytest.mark.parametrize("measure", ["pm", "sx"])
def test_nats_are_bits_times_ln2_exactly(measure):
    bits = pointwise_atoms(A & B, {"a": A, "b": B}, measure=measure, bins=None)
    nats = pointwise_atoms(A & B, {"a": A, "b": B}, measure=measure, bins=None, units="nats")
    np.testing.assert_array_equal(nats.to_numpy(), bits.to_numpy() * np.log(2))
    p = np.zeros((2, 2, 2))
    p[0, 0, 0], p[1, 1, 1] = 0.5, 0.5                                         # RDN: one shared bit = ln 2 nats
    np.testing.assert_allclose(pointwise_table(p, ("a", "b"), measure, units="nats")["{a}{b}"], np.log(2),
                               rtol=1e-12)
    with pytest.raises(ValidationError, match="unknown units 'dex'"):
        pointwise_atoms(A, {"a": A, "b": B}, units="dex")


def test_bad_input():
    with pytest.raises(ValidationError, match="unknown measure 'broja'"):
        pointwise_atoms(A, {"a": A, "b": B}, measure="broja")
    with pytest.raises(ValidationError, match="must be 1-D"):
        pointwise_atoms(A, {"a": np.c_[A, B], "b": B})
    with pytest.raises(ValidationError, match="at least 2"):
        pointwise_atoms(A, {"a": A})
    with pytest.raises(ValidationError, match="same number of rows"):
        pointwise_atoms(A[:5], {"a": A, "b": B})
