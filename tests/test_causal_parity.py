"""Parity with causal-learn's own PC benchmarks (issue 18): its expected graphs come back exactly through
``discover()``, for every collider setting on linear_10, for discrete_10 and for all 13 bnlearn networks of
causal-learn's ``TestPC.test_pc_load_bnlearn_discrete_datasets`` (the six largest are ``slow``; timings of
hailfinder, hepar2 and win95pts against causal-learn's own ``pc()`` are in benchmarks/RESULTS.md,
``benchmarks/bench_causallearn_parity.py``).

The data are vendored under tests/data/causallearn/ (see its README and LICENSE).
"""
from __future__ import annotations

import gzip
import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from interpret.causal import discover
from interpret.causal._decode import decode_graph
from interpret.exceptions import ValidationError

DATA = Path(__file__).parent / "data" / "causallearn"
BNLEARN = DATA / "bnlearn_discrete_10000"
# causal-learn file suffix "<uc_rule>_<uc_priority>" -> our names; -1 is the rule's own default priority
SETTINGS = {
    "0_0": ("sepset", "overwrite"),
    "0_1": ("sepset", "bidirected"),
    "0_2": ("sepset", "existing"),
    "0_3": ("sepset", "stronger"),
    "0_4": ("sepset", "stronger_star"),
    "1_-1": ("maxp", "stronger"),
    "2_-1": ("definite_maxp", "stronger_star"),
}


def _load(path: Path) -> tuple[np.ndarray, list[str]]:
    """causal-learn's loader (np.loadtxt, header skipped) plus the header's names."""
    with gzip.open(path, "rt") as fh:
        names = fh.readline().split()
        return np.loadtxt(fh), names


def _expected(path: Path, names: list[str]) -> list[tuple[str, str, str]]:
    return decode_graph(np.loadtxt(path).astype(int), names)


@pytest.fixture(scope="module")
def linear_10():
    return _load(DATA / "data_linear_10.txt.gz")


@pytest.mark.parametrize("suffix", list(SETTINGS))
def test_linear_10_every_collider_setting(linear_10, suffix):
    x, names = linear_10
    uc_rule, uc_priority = SETTINGS[suffix]
    g = discover(x, names=names, test="fisherz", alpha=0.05, uc_rule=uc_rule, uc_priority=uc_priority)
    expected = _expected(DATA / "benchmark_returned_results" / f"linear_10_pc_fisherz_0.05_stable_{suffix}.txt",
                         names)
    assert g.edges == expected


def test_linear_10_default_is_causallearns_default(linear_10):
    x, names = linear_10
    assert discover(x, names=names, alpha=0.05).edges == _expected(
        DATA / "benchmark_returned_results" / "linear_10_pc_fisherz_0.05_stable_0_2.txt", names)


@pytest.mark.parametrize("test", ["chisq", "gsq"])
def test_discrete_10(test):
    x, names = _load(DATA / "data_discrete_10.txt.gz")
    g = discover(pd.DataFrame(x.astype(int), columns=names), test=test, alpha=0.05, uc_priority="stronger")
    assert g.edges == _expected(DATA / "benchmark_returned_results" / f"discrete_10_pc_{test}_0.05_stable_0_-1.txt",
                                names)


def _bnlearn(name: str, caplog) -> None:
    x, names = _load(BNLEARN / "data" / f"{name}.txt.gz")
    with caplog.at_level(logging.WARNING, logger="interpret.causal"):
        g = discover(x, names=names, test="chisq", alpha=0.05, uc_priority="stronger")
    assert not [r for r in caplog.records if "binned" in r.getMessage()]       # integer levels kept
    assert g.edges == _expected(BNLEARN / "benchmark_returned_results" / f"{name}_pc_chisq_0.05_stable_0_-1.txt",
                                names)


# child has a 6-level column (was re-binned into 5 by bins=5); water has 6 constant columns (were refused)
@pytest.mark.parametrize("name", ["asia", "cancer", "earthquake", "sachs", "survey", "child", "water"])
def test_bnlearn_pc_chisq(name, caplog):
    _bnlearn(name, caplog)


# 3 s, 2 s, 10 s (barley has 67 levels), 10-13 s, 25 s, 50-90 s on a shared 2-core CPU
@pytest.mark.slow
@pytest.mark.parametrize("name", ["insurance", "alarm", "barley", "hailfinder", "win95pts", "hepar2"])
def test_bnlearn_pc_chisq_larger(name, caplog):
    _bnlearn(name, caplog)


# MD5 of the decompressed files: causal-learn's tests/TestPC.py lists them (win95pts's data is not listed there;
# its MD5 is that of causal-learn's file at the vendored commit)
MD5 = {
    "hailfinder.txt": "566b42b5e572ba193a84559fb69bcd05",
    "hepar2.txt": "adeba165828084938998a0258f472c41",
    "win95pts.txt": "fdf41d746f04dcb77defc0ca0f0776e8",
    "hailfinder_pc_chisq_0.05_stable_0_-1.txt": "052841152799b8e90b8bffae802c88e8",
    "hepar2_pc_chisq_0.05_stable_0_-1.txt": "594638c6173b4a7b1f987024076da9e8",
    "win95pts_pc_chisq_0.05_stable_0_-1.txt": "1168e7c6795df8063298fc2f727566be",
}


@pytest.mark.parametrize("name", ["hailfinder", "hepar2", "win95pts"])
def test_vendored_large_networks_are_causallearns_files(name):
    """The slow parity cases run on exactly causal-learn's data and expected graphs (checked here, fast)."""
    with gzip.open(BNLEARN / "data" / f"{name}.txt.gz", "rb") as fh:
        raw = fh.read()
    assert hashlib.md5(raw).hexdigest() == MD5[f"{name}.txt"]
    expected = BNLEARN / "benchmark_returned_results" / f"{name}_pc_chisq_0.05_stable_0_-1.txt"
    assert hashlib.md5(expected.read_bytes()).hexdigest() == MD5[expected.name]
    names = raw.split(b"\n", 1)[0].split()
    assert np.loadtxt(expected).shape == (len(names), len(names))


# --- the settings themselves ----------------------------------------------------------------------------
def _frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 7, size=(2, 3000))
    c = (a + b + rng.integers(0, 2, 3000)) // 2
    return pd.DataFrame({"a": a, "b": b, "c": c})


def test_discrete_tests_keep_integer_and_categorical_levels(caplog):
    df = _frame()
    cat = df.assign(c=pd.Categorical.from_codes(df.c, list("pqrstuv")))
    with caplog.at_level(logging.WARNING, logger="interpret.causal"):
        g1 = discover(df, test="chisq")
        g2 = discover(cat, test="chisq")
    assert not caplog.records
    assert g1.edges == g2.edges == [("a", "c", "-->"), ("b", "c", "-->")]
    with pytest.raises(ValidationError, match="not numeric.*test='chisq'"):
        discover(cat, test="fisherz")


def test_discrete_tests_bin_continuous_columns_with_a_warning(caplog):
    df = _frame().assign(x=np.random.default_rng(1).normal(size=3000))
    with caplog.at_level(logging.WARNING, logger="interpret.causal"):
        discover(df, test="gsq", bins=4)
    msgs = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(msgs) == 1 and "['x']" in msgs[0] and "4 levels" in msgs[0]


def test_constant_columns_refused_only_where_the_test_breaks():
    df = _frame().assign(k=3)
    assert discover(df, test="chisq").edges == [("a", "c", "-->"), ("b", "c", "-->")]
    with pytest.raises(ValidationError, match=r"columns \['k'\] are constant.*chisq"):
        discover(df.astype(float) + np.random.default_rng(2).normal(size=df.shape) * [1, 1, 1, 0])


def test_collider_options_validated():
    df = _frame()
    with pytest.raises(ValidationError, match="unknown uc_rule 'pc'"):
        discover(df, uc_rule="pc")
    with pytest.raises(ValidationError, match="integer code; got 1: pass 'maxp'"):
        discover(df, uc_rule=1)
    with pytest.raises(ValidationError, match="unknown uc_priority"):
        discover(df, uc_priority="first")
    with pytest.raises(ValidationError, match="'definite_maxp' cannot take uc_priority='overwrite'"):
        discover(df, uc_rule="definite_maxp", uc_priority="overwrite")
    with pytest.raises(ValidationError, match="method='pc' only"):
        discover(df, method="fci", uc_rule="maxp")
