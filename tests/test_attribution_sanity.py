"""Sanity checks: IG completeness and the Adebayo et al. (2018) model-randomisation test."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret.attribution import attribute, completeness_check, randomization_test
from interpret.attribution.sanity import randomizable_layers, spearman_rows, ssim_rows
from interpret.exceptions import ValidationError

torch.set_num_threads(1)


def _cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.Softplus(),
                               torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.Softplus(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 64, 1))


@pytest.fixture(scope="module")
def x():
    g = np.random.default_rng(0)
    yy, xx = np.mgrid[0:8, 0:8]
    blob = np.exp(-((yy - 3.5) ** 2 + (xx - 3.5) ** 2) / 6.0)
    return (blob[None, None] * g.uniform(1, 3, (10, 2, 1, 1)) + 0.1 * g.normal(size=(10, 2, 8, 8))).astype(
        np.float32)


def test_completeness_improves_with_steps(x):
    coarse = completeness_check(attribute(_cnn(), x, n_steps=2, rule="riemann_right", progress=False),
                                rtol=1e-4)
    fine = completeness_check(attribute(_cnn(), x, n_steps=64, progress=False), rtol=1e-4)
    assert np.abs(fine.delta).mean() < np.abs(coarse.delta).mean()
    assert fine.fraction_passed == 1.0
    frame = fine.to_frame()
    assert {"delta", "relative_error", "passed"} <= set(frame.columns) and len(frame) == len(x)


def test_completeness_needs_path_method(x):
    with pytest.raises(ValidationError, match="path method"):
        completeness_check(attribute(_cnn(), x, method="saliency", progress=False))


def test_similarity_scores_known_values():
    a = np.random.default_rng(1).normal(size=(4, 2, 8, 8))
    np.testing.assert_allclose(spearman_rows(a, a), 1.0)
    np.testing.assert_allclose(spearman_rows(a, -a), -1.0)
    np.testing.assert_allclose(ssim_rows(a, a), 1.0)
    assert ssim_rows(a, np.random.default_rng(2).normal(size=a.shape)).mean() < 0.5


@pytest.mark.parametrize("mode", ["cascading", "independent"])
def test_randomization_changes_maps(x, mode):
    model = _cnn()
    before = [p.detach().clone() for p in model.parameters()]
    res = randomization_test(model, x, mode=mode, n_steps=16, seed=0, progress=False)
    assert list(res.scores["layer"]) == (randomizable_layers(model)[::-1] if mode == "cascading"
                                         else randomizable_layers(model))
    # signed IG decorrelates; |IG| keeps the input's blob (Adebayo et al.'s finding for x-weighted maps)
    assert res.passed(threshold=0.3, metric="spearman")
    assert not res.passed(threshold=0.3, metric="spearman_abs")
    sal = randomization_test(model, x, method="saliency", mode=mode, seed=0, progress=False)
    assert sal.passed(threshold=0.3) and sal.passed(threshold=0.3, metric="ssim")
    for p, q in zip(before, model.parameters()):   # the user's model is untouched
        torch.testing.assert_close(p, q)
    again = randomization_test(model, x, mode=mode, n_steps=16, seed=0, progress=False)
    assert again.scores.equals(res.scores)


def test_randomization_result_roundtrip(tmp_path, x):
    from interpret import load_result

    res = randomization_test(_cnn(), x[:4], method="saliency", seed=1, progress=False)
    res.save(tmp_path / "r.ipres")
    back = load_result(tmp_path / "r.ipres")
    np.testing.assert_allclose(back.to_frame()["ssim"], res.to_frame()["ssim"])


def test_randomization_test_refuses_torchscript_naming_the_fix():
    import warnings

    with warnings.catch_warnings():           # torch 2.13 deprecates jit.script; users still ship it
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0)))
    with pytest.raises(ValidationError, match="TorchScript model's layers cannot be re-drawn.*factory"):
        randomization_test(scripted, np.zeros((4, 3), np.float32), seed=0, progress=False)
