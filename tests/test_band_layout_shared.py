"""A slot shared by two bands (a colour g-r) is removed when either band is removed."""
from __future__ import annotations

import numpy as np
import pytest

from interpret.ablation import band_ablation
from interpret.exceptions import ValidationError


def test_shared_slot_removed_with_either_band():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))            # columns: g, r, g-r
    y = x @ np.array([0.0, 0.0, 1.0])        # only the colour matters
    layout = {"g": [(0, 1, 0), (0, 1, 2)], "r": [(0, 1, 1), (0, 1, 2)]}
    t = band_ablation(lambda a: a[:, 2], x, y, bands=["g", "r"], band_layout=layout, metrics="rmse",
                      strategy="zero", progress=False).table
    rmse = dict(zip(t["label"], t["rmse"]))
    assert rmse["all"] == 0
    assert rmse["-g"] == pytest.approx(rmse["-r"]) and rmse["-g"] > 0.5


def test_slot_listed_twice_in_one_band():
    x = np.zeros((5, 2))
    with pytest.raises(ValidationError, match="more than once"):
        band_ablation(lambda a: a[:, 0], x, np.zeros(5), bands=["g"], band_layout={"g": [(0, 1, 0), (0, 1, 0)]},
                      metrics="rmse", progress=False)
