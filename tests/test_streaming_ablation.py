"""Streamed band ablation: equals the in-memory band_ablation, resumes after interruption, guards its inputs."""
from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
import torch

from interpret.ablation import Batching, Fill, Noise, band_ablation
from interpret.exceptions import ValidationError
from interpret.streaming import read_rows_done, stream_band_ablation

BANDS = ["g", "r", "i", "z"]
METRICS = ("rmse", "bias", "sigma_nmad")


@pytest.fixture()
def data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(157, 4)).astype(np.float32)
    y = 0.5 + 0.1 * x[:, 0] + 0.05 * x[:, 1] - 0.02 * x[:, 3] + 0.01 * rng.normal(size=157)
    return x, y


def _model(a: np.ndarray) -> np.ndarray:
    return 0.5 + 0.1 * a[:, 0] + 0.05 * a[:, 1] - 0.02 * a[:, 3] + 0.01 * np.tanh(a[:, 2])


@pytest.mark.parametrize("strategy", ["mean", "median", Noise(), "inpaint"])
def test_streamed_equals_in_memory(tmp_path, data, strategy):
    x, y = data
    ref = x[:60]
    path = tmp_path / "x.npy"
    np.save(path, x)
    kw = dict(bands=BANDS, strategy=Fill(strategy, reference=ref), subsets="leave_one_out", metrics=METRICS,
              seed=3)
    mem = band_ablation(_model, x, y, progress=False, **kw)
    out = tmp_path / "pred.h5"
    res = stream_band_ablation(_model, path, y, out, chunk_size=40, progress=False, **kw)
    pd.testing.assert_frame_equal(res.table, mem.table, rtol=1e-6)
    assert res.details["out"] == str(out) and res.n_samples == len(x)
    with h5py.File(out) as fh:
        assert fh["prediction"].shape == (len(x), 1 + len(BANDS))
        np.testing.assert_allclose(fh["prediction"][:, 0], _model(x), rtol=1e-6)


_SEEN: dict = {}


def test_interrupted_run_resumes_to_the_same_result(tmp_path, data):
    x, y = data
    path = tmp_path / "x.npy"
    np.save(path, x)
    _SEEN.update(rows=0, failed=False)   # module-level: state in a closure would be part of the model's digest

    def flaky(a):     # killed midway through the third chunk (32 rows x 5 subsets per chunk)
        _SEEN["rows"] += len(a)
        if _SEEN["rows"] > 2.5 * 32 * 5 and not _SEEN["failed"]:
            _SEEN["failed"] = True
            raise KeyboardInterrupt
        return _model(a)

    kw = dict(bands=BANDS, strategy=Fill("mean", reference=x), metrics=METRICS, chunk_size=32,
              batching=Batching(batch_size=8), progress=False)
    out = tmp_path / "pred.h5"
    with pytest.raises(KeyboardInterrupt):
        stream_band_ablation(flaky, path, y, out, **kw)
    done = read_rows_done(out)
    assert done == 64
    resumed = stream_band_ablation(flaky, path, y, out, **kw)
    fresh = stream_band_ablation(_model, path, y, tmp_path / "fresh.h5", **kw)
    pd.testing.assert_frame_equal(resumed.table, fresh.table)
    assert read_rows_done(out) == len(x)


def test_torch_multi_output_and_h5_source(tmp_path, data):
    x, y = data
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as fh:
        fh["cat"] = x
    kw = dict(bands=BANDS, strategy="zero", subsets="single", metrics="rmse", output=1)
    mem = band_ablation(net, x, y, progress=False, **kw)
    res = stream_band_ablation(net, path, y, tmp_path / "p.h5", chunk_size=50, progress=False, **kw)
    pd.testing.assert_frame_equal(res.table, mem.table, rtol=1e-5)
    with h5py.File(tmp_path / "p.h5") as fh:
        assert fh["prediction"].shape == (len(x), 1 + len(BANDS), 2)


def test_guards(tmp_path, data):
    x, y = data
    path = tmp_path / "x.npy"
    np.save(path, x)
    with pytest.raises(ValidationError, match="reference"):
        stream_band_ablation(_model, path, y, tmp_path / "a.h5", bands=BANDS, strategy="mean", progress=False)
    with pytest.raises(ValidationError, match="'y' has 10 rows"):
        stream_band_ablation(_model, path, y[:10], tmp_path / "b.h5", bands=BANDS, strategy="zero",
                             progress=False)
    with pytest.raises(ValidationError, match="chunk_size"):
        stream_band_ablation(_model, path, y, tmp_path / "c.h5", bands=BANDS, strategy="zero", chunk_size=0)


def test_old_keywords_warn_and_give_the_same_table(tmp_path, data):
    x, y = data
    path = tmp_path / "x.npy"
    np.save(path, x)
    new = stream_band_ablation(_model, path, y, tmp_path / "new.h5", bands=BANDS, metrics="rmse", chunk_size=50,
                               strategy=Fill("mean", reference=x[:40]), batching=Batching(batch_size=16),
                               progress=False)
    with pytest.warns(FutureWarning, match=r"batch_size, reference are removed in 0\.4; use "
                                           r"batching=Batching\(.*strategy=Fill\(strategy, reference=\.\.\.\)"):
        old = stream_band_ablation(_model, path, y, tmp_path / "old.h5", bands=BANDS, metrics="rmse",
                                   chunk_size=50, strategy="mean", reference=x[:40], batch_size=16, progress=False)
    pd.testing.assert_frame_equal(old.table, new.table)
    with pytest.raises(ValidationError, match="'batching' must be a Batching"):
        stream_band_ablation(_model, path, y, tmp_path / "bad.h5", bands=BANDS, strategy="zero", batching=8)
