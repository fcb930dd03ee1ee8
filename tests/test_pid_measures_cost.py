"""Registry additions of issue 18: PID_RAV2 with dit's own known answers, the cost warning before slow dit
measures (rav, rav2; gk and sx with 3 sources), and the documented reasons for what is not registered."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from interpret.exceptions import CostWarning, EstimationWarning
from interpret.pid import MEASURES, NOT_REGISTERED, Resampling, decompose
from interpret.pid.measures import _bell, cost_seconds

REPS = 4


def _rows(outcomes: list[tuple[int, ...]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    x = np.repeat(np.array(outcomes), REPS, axis=0)
    *srcs, t = x.T
    return t, dict(zip("abc", srcs))


def _run(outcomes: list[tuple[int, ...]], measure: str, **kw: object):
    t, srcs = _rows(outcomes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        return decompose(t, srcs, measure=measure, bins=None, **kw)


AND = [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 1)]
XOR = [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
RDN = [(0, 0, 0), (1, 1, 1)]


def test_rav2_reproduces_dits_known_answers():
    # dit's tests/pid/test_irav.py: test_pid_rav2_and, _synergy, _redundant
    r = _run(AND, "rav2")
    assert r.atoms == pytest.approx({"{a}{b}": 0.122556, "{a}": 0.188722, "{b}": 0.188722, "{a,b}": 0.311278},
                                    abs=1e-5)
    assert _run(XOR, "rav2").atoms == pytest.approx({"{a}{b}": 0, "{a}": 0, "{b}": 0, "{a,b}": 1}, abs=1e-9)
    assert _run(RDN, "rav2").atoms == pytest.approx({"{a}{b}": 1, "{a}": 0, "{b}": 0, "{a,b}": 0}, abs=1e-9)
    assert MEASURES["rav2"].supports(3) and MEASURES["rav2"].dit_class == "PID_RAV2"


def test_unregistered_measures_say_why():
    assert "0.0887" in NOT_REGISTERED["PID_GH"] and "0.1226" in NOT_REGISTERED["PID_GH"]
    assert "pypoman" in NOT_REGISTERED["PID_Prec"]
    assert not {"gh", "prec"} & set(MEASURES)


def test_bell_numbers():
    assert [_bell(n) for n in range(7)] == [1, 1, 2, 5, 15, 52, 203]


def test_cost_model_grows_with_the_table():
    small, full = np.zeros((2, 2, 2, 2)), np.full((3, 3, 3, 3), 1 / 81)
    small[0, 0, 0, 0] = small[1, 1, 1, 1] = 0.5
    for name in ("gk", "sx", "rav", "rav2"):
        assert cost_seconds(name, small) < 30 < cost_seconds(name, full), name
    assert cost_seconds("gk", np.full((8, 8, 8), 1 / 512)) == 0.0          # gk is fast with 2 sources
    assert cost_seconds("mmi", full) == cost_seconds("broja", np.full((3, 3, 3), 1 / 27)) == 0.0


@pytest.mark.parametrize("measure", ["gk", "sx", "rav"])
def test_cost_warning_before_three_source_runs(measure):
    rng = np.random.default_rng(0)
    t, a, b, c = rng.integers(0, 3, size=(4, 2000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        warnings.simplefilter("error", CostWarning)                 # stop before the minutes-long run
        with pytest.raises(CostWarning, match=rf"measure '{measure}' with 3 sources on 81 occupied cells.*'mmi'"):
            decompose(t, {"a": a, "b": b, "c": c}, measure=measure, bins=None)


def test_cost_warning_counts_resamples_and_spares_small_tables():
    rng = np.random.default_rng(1)
    t, a, b = rng.integers(0, 3, size=(3, 600))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        warnings.simplefilter("error", CostWarning)
        with pytest.raises(CostWarning, match=r"rav2.*9 source outcomes.*x 11 evaluations"):
            decompose(t, {"a": a, "b": b}, measure="rav2", bins=None,
                      resampling=Resampling(n_boot=10))
        _run(AND, "sx")                                             # small tables: no warning
