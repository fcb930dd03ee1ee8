"""End to end on the mock universe: which optical lines does the reference spectrum->IR model use?"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import interpret as ip
from interpret.attribution import attribute, completeness_check, line_importance

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    u = ip.mock.make_universe(n=160, seed=0, progress=False)
    est = ip.mock.train_reference(u, task="ir_from_spectra", fast=True, progress=False,
                                  cache_dir=tmp_path_factory.mktemp("reference"))
    return u, est


def test_spectrum_to_ir_top_lines_match_planted_truth(trained):
    u, est = trained
    sel = np.arange(32)
    a = attribute(est, u.spectra[sel], target="W1", baselines="mean", n_steps=8, batch_size=32,
                  progress=False)
    assert a.target_name == "W1" and a.values.shape == (32, u.wavelength.size)
    assert completeness_check(a, rtol=1e-2).fraction_passed > 0.9
    table = line_importance(a, u.wavelength, redshift=u.catalog["redshift"].to_numpy()[sel], n_boot=100,
                            seed=0)
    truth = set(u.truth.ir_lines["W1"])
    top = list(table.index[:5])
    precision = np.mean([name in truth for name in top])
    chance = np.mean([name in truth for name in table.index])
    assert precision >= chance, (top, precision, chance)   # W1 is driven by the old stellar population
    assert table["significant"].any()
