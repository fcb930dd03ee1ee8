"""Known-answer tests of the shared infrastructure: results round-trip, parallel map, validation."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from interpret import load_result
from interpret._results import Result
from interpret._validation import check_array, check_choice, check_same_length
from interpret.exceptions import DataFileError, ValidationError
from interpret.parallel import parallel_map, seeded_map


@dataclasses.dataclass(frozen=True)
class _Toy(Result):
    values: np.ndarray
    table: pd.DataFrame
    series: pd.Series
    arrays: dict
    meta: dict
    name: str = "toy"
    nan: float = float("nan")


def test_result_round_trip(tmp_path):
    table = pd.DataFrame({"kept": [("g", "r"), ("r",)], "rmse": [0.1, 0.2]})
    toy = _Toy(np.arange(6.0).reshape(2, 3), table, pd.Series([1.0, 2.0], index=["u", "g"], name="phi"),
               {"W1": np.ones(3)}, {"bins": (4, 8), "nested": {"a": [1, 2]}})
    path = tmp_path / "toy.ipres"
    toy.save(path)
    back = load_result(path)
    assert isinstance(back, _Toy)
    np.testing.assert_array_equal(back.values, toy.values)
    assert back.table["kept"].tolist() == [("g", "r"), ("r",)]
    assert back.series.to_dict() == {"u": 1.0, "g": 2.0}
    np.testing.assert_array_equal(back.arrays["W1"], np.ones(3))
    assert back.meta == {"bins": (4, 8), "nested": {"a": [1, 2]}}
    assert np.isnan(back.nan)
    assert _Toy.load(path).name == "toy"


def test_load_result_refuses_garbage(tmp_path):
    bad = tmp_path / "bad.ipres"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataFileError, match="not a saved result"):
        load_result(bad)
    with pytest.raises(FileNotFoundError):
        load_result(tmp_path / "missing.ipres")


def _draw(item, rng):
    return item, rng.normal()


def test_seeded_map_same_seed_same_numbers_any_backend():
    serial = seeded_map(_draw, range(6), seed=3, n_jobs=1, progress=False)
    threaded = seeded_map(_draw, range(6), seed=3, n_jobs=2, backend="threading", progress=False)
    assert serial == threaded
    assert [s[0] for s in serial] == list(range(6))
    assert seeded_map(_draw, range(6), seed=4, n_jobs=1, progress=False) != serial


def test_parallel_map_preserves_order():
    assert parallel_map(abs, [-3, 2, -1], n_jobs=2, backend="threading", progress=False) == [3, 2, 1]


def test_validation_messages_name_argument_and_rows():
    x = np.array([1.0, np.nan, 3.0, np.inf])
    with pytest.raises(ValidationError, match=r"f\(\): 'x' has 1 NaN and 1 infinite values \(rows 1, 3\)"):
        check_array(x, "x", "f")
    with pytest.raises(ValidationError, match="'a' has 2, 'b' has 3"):
        check_same_length("f", a=[1, 2], b=[1, 2, 3])
    with pytest.raises(ValidationError, match="valid values are 'pc', 'fci'"):
        check_choice("ges", "method", "discover", ["pc", "fci"])
