"""A streamed job is identified by its source content, model weights and parameters (issue 19)."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from interpret.exceptions import DataFileError
from interpret.streaming import read_rows_done, stream_attribute, stream_map, stream_predict

_CALLS = {"n": 0, "stop_at": None}


class _Net(torch.nn.Module):
    """A linear model that can be 'killed' at a given forward call (module-level counter, not a weight)."""

    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.lin = torch.nn.Linear(3, 1)

    def forward(self, x):
        _CALLS["n"] += 1
        if _CALLS["stop_at"] is not None and _CALLS["n"] >= _CALLS["stop_at"]:
            raise KeyboardInterrupt
        return self.lin(x)


@pytest.fixture()
def x_path(tmp_path):
    _CALLS.update(n=0, stop_at=None)
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32))
    return path


def _pred(out):
    with h5py.File(out) as fh:
        return fh["prediction"][:]


def test_other_model_on_finished_output_is_refused(tmp_path, x_path):
    out = tmp_path / "p.h5"
    a, b = _Net(0), _Net(1)
    stream_predict(a, x_path, out, chunk_size=30, progress=False)
    with pytest.raises(DataFileError, match="model weights changed"):
        stream_predict(b, x_path, out, chunk_size=30, progress=False)
    stream_predict(b, x_path, out, chunk_size=30, progress=False, resume=False)      # overwrite on request
    x = np.load(x_path)
    np.testing.assert_allclose(_pred(out), b.lin(torch.from_numpy(x)).detach().numpy()[:, 0], rtol=1e-6)
    stream_predict(b, x_path, out, chunk_size=30, progress=False)     # same job: the finished output is reused


def test_resume_with_a_new_model_does_not_mix(tmp_path, x_path):
    out = tmp_path / "p.h5"
    _CALLS["stop_at"] = 3
    with pytest.raises(KeyboardInterrupt):
        stream_predict(_Net(0), x_path, out, chunk_size=30, batch_size=30, progress=False)
    assert read_rows_done(out) == 60
    _CALLS["stop_at"] = None
    with pytest.raises(DataFileError, match="model weights changed"):
        stream_predict(_Net(1), x_path, out, chunk_size=30, batch_size=30, progress=False)
    assert read_rows_done(out) == 60                  # nothing of model B was written
    stream_predict(_Net(0), x_path, out, chunk_size=30, batch_size=30, progress=False)
    assert read_rows_done(out) == 100


def test_rewritten_input_with_the_same_shape_is_refused(tmp_path, x_path):
    out = tmp_path / "p.h5"
    _CALLS["stop_at"] = 2
    with pytest.raises(KeyboardInterrupt):
        stream_predict(_Net(0), x_path, out, chunk_size=30, batch_size=30, progress=False)
    _CALLS["stop_at"] = None
    np.save(x_path, np.load(x_path) + 1.0)           # same shape, same name, other content
    with pytest.raises(DataFileError, match=r"source data \(.*x\.npy\) changed"):
        stream_predict(_Net(0), x_path, out, chunk_size=30, batch_size=30, progress=False)


def test_parameters_are_part_of_the_job(tmp_path, x_path):
    out = tmp_path / "a.h5"
    net = _Net(0)
    stream_attribute(net, x_path, out, method="integrated_gradients", n_steps=8, chunk_size=50, progress=False)
    with pytest.raises(DataFileError, match=r"parameters changed \(n_steps: 8 -> 16\)"):
        stream_attribute(net, x_path, out, method="integrated_gradients", n_steps=16, chunk_size=50,
                         progress=False)
    with pytest.raises(DataFileError, match=r"parameters changed \(method: 'integrated_gradients' -> 'saliency'"):
        stream_attribute(net, x_path, out, method="saliency", chunk_size=50, progress=False)
    stream_predict(net, x_path, tmp_path / "p.h5", chunk_size=50, progress=False)
    with pytest.raises(DataFileError, match=r"parameters changed \(batch_size: 1024 -> 10\)"):
        stream_predict(net, x_path, tmp_path / "p.h5", chunk_size=50, batch_size=10, progress=False)


def test_in_memory_sources_by_content(tmp_path):
    x = np.arange(20.0).reshape(10, 2)
    out = tmp_path / "y.h5"
    stream_map(lambda c: c.sum(1), x, out, chunk_size=4, progress=False)
    with pytest.raises(DataFileError, match="source data"):
        stream_map(lambda c: c.sum(1), x + 1, out, chunk_size=4, progress=False)
