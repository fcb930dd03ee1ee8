"""Content digests (interpret._digest): equal content -> equal digest, any change -> another digest."""
from __future__ import annotations

import functools
import os

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import Ridge

from interpret._digest import digest_array, digest_estimator, digest_file, digest_frame, digest_json
from interpret.estimators import CallableEstimator, SklearnEstimator, TorchEstimator


def _hex(d: str) -> bool:
    return isinstance(d, str) and len(d) == 32 and int(d, 16) >= 0


def test_array_content_dtype_shape():
    a = np.arange(6, dtype=np.float32)
    assert _hex(digest_array(a))
    assert digest_array(a) == digest_array(a.copy())
    assert digest_array(a) != digest_array(a.astype(np.float64))
    assert digest_array(a) != digest_array(a.reshape(2, 3))
    b = a.copy()
    b[3] += 1e-6
    assert digest_array(a) != digest_array(b)
    assert digest_array(a[::2]) == digest_array(np.ascontiguousarray(a[::2]))     # strides do not matter
    assert digest_array(torch.arange(3)) == digest_array(torch.arange(3))
    assert digest_array(torch.ones(2, dtype=torch.bfloat16)) != digest_array(torch.ones(2))
    assert digest_array(np.array(["a", None], dtype=object)) != digest_array(np.array(["a", "b"], dtype=object))


def test_frame_columns_index_values():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert digest_frame(df) == digest_frame(df.copy())
    assert digest_frame(df) != digest_frame(df.rename(columns={"a": "c"}))
    assert digest_frame(df) != digest_frame(df.set_axis([5, 6]))
    assert digest_frame(df) != digest_frame(df.assign(b=["x", "z"]))
    assert digest_frame(df) != digest_frame(df[["b", "a"]])
    assert digest_frame(df["a"]) != digest_frame(df["a"] * 2)
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])       # repeated names are fine
    assert _hex(digest_frame(dup))


def test_file_full_and_sampled(tmp_path):
    p, q = tmp_path / "a.bin", tmp_path / "b.bin"
    p.write_bytes(b"x" * 5000)
    q.write_bytes(b"x" * 5000)
    assert digest_file(p) == digest_file(q)                 # the name does not enter the digest
    q.write_bytes(b"x" * 4999 + b"y")
    assert digest_file(p) != digest_file(q)
    # sampled mode: size + mtime + sampled blocks
    big = tmp_path / "big.bin"
    big.write_bytes(np.zeros(300_000, np.uint8).tobytes())
    d0 = digest_file(big, sample_above=1000)
    assert d0 == digest_file(big, sample_above=1000) != digest_file(big)
    with open(big, "r+b") as fh:                            # change the first block, keep the mtime
        fh.write(b"\x01")
    st = big.stat()
    os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert digest_file(big, sample_above=1000) != d0


def test_torch_module_weights_and_buffers():
    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    b = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    assert digest_estimator(a) != digest_estimator(b)
    b.load_state_dict(a.state_dict())
    assert digest_estimator(a) == digest_estimator(b)
    b[1].running_mean += 1                                  # buffers count
    assert digest_estimator(a) != digest_estimator(b)
    assert digest_estimator(TorchEstimator(a)) == digest_estimator(TorchEstimator(a))
    assert digest_estimator(TorchEstimator(a)) != digest_estimator(TorchEstimator(b))


@pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")
def test_torchscript():
    torch.manual_seed(1)
    m = torch.nn.Linear(2, 1)
    x = torch.zeros(1, 2)
    s1, s2 = torch.jit.trace(m, x), torch.jit.trace(torch.nn.Linear(2, 1), x)
    assert digest_estimator(s1) == digest_estimator(torch.jit.trace(m, x))
    assert digest_estimator(s1) != digest_estimator(s2)


def test_sklearn_params_and_fit():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    r1, r2 = Ridge(alpha=1.0).fit(x, y), Ridge(alpha=1.0).fit(x, y)
    assert digest_estimator(r1) == digest_estimator(r2)
    assert digest_estimator(r1) != digest_estimator(Ridge(alpha=2.0).fit(x, y))
    assert digest_estimator(r1) != digest_estimator(Ridge(alpha=1.0).fit(x, y + 1))
    assert digest_estimator(SklearnEstimator(r1)) == digest_estimator(SklearnEstimator(r2))


def test_callables():
    def f(x, k=2):
        return x * k

    def g(x, k=2):
        return x * k + 1

    assert digest_estimator(f) == digest_estimator(f)
    assert digest_estimator(f) != digest_estimator(g)
    assert digest_estimator(functools.partial(f, k=3)) != digest_estimator(functools.partial(f, k=4))

    def make(w):
        return lambda x: x * w

    assert digest_estimator(make(1.0)) != digest_estimator(make(2.0))        # closure contents count
    assert digest_estimator(CallableEstimator(make(1.0))) == digest_estimator(CallableEstimator(make(1.0)))


def test_json_params():
    assert digest_json({"a": 1, "b": [1, 2]}) == digest_json({"b": (1, 2), "a": 1})
    assert digest_json({"a": 1}) != digest_json({"a": 2})
    assert digest_json({"x": np.arange(3)}) != digest_json({"x": np.arange(4)})
    assert digest_json({"x": np.float64(1.5)}) == digest_json({"x": 1.5})
    with pytest.raises(TypeError, match="digest_json"):
        digest_json({"x": object()})


def test_tree_models_digest_their_fitted_trees():
    """scikit-learn's Cython Tree has no __dict__: its nodes come through __getstate__ (not pickling)."""
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 4)), rng.normal(size=200)
    for make in (lambda: RandomForestRegressor(n_estimators=3, random_state=0),
                 lambda: HistGradientBoostingRegressor(max_iter=3, random_state=0)):
        a, b, c = make().fit(x, y), make().fit(x, y), make().fit(x, 2 * y)
        assert digest_estimator(a) == digest_estimator(b) != digest_estimator(c)
    assert digest_array(np.zeros((0, 3))) != digest_array(np.zeros((0, 4)))


def test_a_training_report_is_provenance_not_content():
    """A model trained now (with its training report) and the same weights loaded from a cache (a report of
    0 s) are one step input: the studies' cache keys digest them alike, and different weights differ."""
    from interpret._digest import digest_object
    from interpret.mock.train import TrainingReport

    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    trained, loaded = TorchEstimator(net), TorchEstimator(net)
    kw = {"task": "photoz", "model": "torch.nn:Linear", "metrics": {}, "n_train": 8, "n_val": 2, "n_test": 2,
          "epochs": 3, "best_epoch": 2, "history": {}, "config": {}}
    trained.training = TrainingReport(seconds=2.5, **kw)
    loaded.training = TrainingReport(seconds=0.0, **kw)
    assert digest_object({"model": trained}) == digest_object({"model": loaded})
    other = TorchEstimator(torch.nn.Linear(3, 1))
    other.training = trained.training
    assert digest_object({"model": other}) != digest_object({"model": trained})
