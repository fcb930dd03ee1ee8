"""line_importance: known answers (a model driven only by Halpha), frames, bootstrap, validation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret.attribution import attribute, line_importance
from interpret.data.lines import get_line
from interpret.exceptions import ValidationError

torch.set_num_threads(1)
WL = np.linspace(3700.0, 7200.0, 1400)   # rest-frame grid, 2.5 A pixels


class HalphaModel(torch.nn.Module):
    """Non-linear model of the flux within +-6 A of Halpha only."""

    def __init__(self, wavelength: np.ndarray):
        super().__init__()
        mask = np.abs(wavelength - get_line("Halpha").wavelength) < 6.0
        self.register_buffer("mask", torch.tensor(mask, dtype=torch.float32))
        self.lin = torch.nn.Linear(1, 1)
        with torch.no_grad():
            self.lin.weight.fill_(0.7)
            self.lin.bias.fill_(0.1)

    def forward(self, x):
        return torch.tanh(self.lin((x * self.mask).sum(1, keepdim=True) / 5.0))


def _spectra(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cont = 1.0 + 0.1 * rng.normal(size=(n, 1)) * (WL / 5000.0)
    flux = cont + 0.02 * rng.normal(size=(n, WL.size))
    for name in ("Halpha", "Hbeta", "[OIII]5007", "[NII]6584", "[OII]3727"):
        amp = rng.uniform(0.5, 2.0, size=(n, 1))
        flux += amp * np.exp(-0.5 * ((WL - get_line(name).wavelength) / 2.0) ** 2)
    return flux.astype(np.float32)


def test_halpha_model_ranks_halpha_first():
    x = _spectra(30)
    a = attribute(HalphaModel(WL), x, baselines="mean", n_steps=16, progress=False)
    table = line_importance(a, WL, n_boot=200, seed=0)
    assert table.index[0] == "Halpha"
    assert table.loc["Halpha", "significant"] and table.loc["Halpha", "excess"] > 0.5
    assert table.loc["Hbeta", "excess"] == pytest.approx(0.0, abs=1e-3)
    assert list(table["rank"]) == list(range(1, len(table) + 1))


def test_observed_frame_follows_redshift():
    rng = np.random.default_rng(1)
    z = rng.uniform(0.02, 0.12, size=40)
    wl_obs = np.linspace(4000.0, 8000.0, 2000)
    v = rng.normal(0, 1e-3, size=(40, wl_obs.size))
    for i, zi in enumerate(z):   # attribution sits on each galaxy's redshifted [OIII]5007
        v[i, np.abs(wl_obs - get_line("[OIII]5007").wavelength * (1 + zi)) < 6] += 1.0
    table = line_importance(v, wl_obs, redshift=z, n_boot=100, seed=0)
    assert table.index[0] == "[OIII]5007"
    wrong = line_importance(v, wl_obs, n_boot=0)     # ignoring redshift misplaces the windows
    assert wrong.index[0] != "[OIII]5007" or wrong["excess"].iloc[0] < 0.5 * table["excess"].iloc[0]


def test_bootstrap_is_seeded_and_brackets_mean():
    v = np.abs(np.random.default_rng(2).normal(size=(25, WL.size)))
    t1 = line_importance(v, WL, n_boot=300, seed=5)
    t2 = line_importance(v, WL, n_boot=300, seed=5)
    assert t1.equals(t2)
    assert ((t1["ci_low"] <= t1["excess"]) & (t1["excess"] <= t1["ci_high"])).all()
    assert not t1["significant"].all()


def test_subset_of_lines_and_signed_mode():
    v = np.zeros((5, WL.size))
    v[:, np.abs(WL - get_line("Hbeta").wavelength) < 5] = -1.0
    t = line_importance(v, WL, lines=["Hbeta", "Halpha"], absolute=False, n_boot=50, seed=0)
    assert set(t.index) == {"Hbeta", "Halpha"} and t.loc["Hbeta", "excess"] < 0


def test_validation():
    v = np.zeros((3, WL.size))
    with pytest.raises(ValidationError, match="increasing"):
        line_importance(v, WL[::-1])
    with pytest.raises(ValidationError, match="pixels"):
        line_importance(v[:, :10], WL)
    with pytest.raises(ValidationError, match="frame='rest'"):
        line_importance(v, WL, redshift=0.1, frame="rest")
    with pytest.raises(ValidationError, match="no catalogue feature"):
        line_importance(np.zeros((3, 50)), np.linspace(10000, 11000, 50))
    with pytest.raises(ValidationError, match="redshift"):
        line_importance(v, WL, redshift=np.zeros(7))
