"""Keras 3 models on the torch backend: a multi-input, channel-last model saved and reloaded (.keras, .h5)."""
from __future__ import annotations

import importlib.util
import sys
import warnings

import numpy as np
import pytest
import torch

if importlib.util.find_spec("keras") is None:  # not importorskip: importing Keras would fix its backend
    pytest.skip("keras is not installed (the [keras] extra)", allow_module_level=True)

from interpret import load_estimator  # noqa: E402
from interpret._estimators._keras import KerasModule, import_keras  # noqa: E402
from interpret.exceptions import EstimatorLoadError, InterpretError  # noqa: E402


@pytest.fixture(scope="module")
def keras():
    return import_keras()


@pytest.fixture(scope="module")
def model(keras):
    """Image (channel-last) + catalogue inputs, two Gaussian-mixture-like outputs concatenated."""
    keras.utils.set_random_seed(0)
    img = keras.Input(shape=(9, 9, 3), name="image")
    cat = keras.Input(shape=(4,), name="catalogue")
    h = keras.layers.Conv2D(4, 3, activation="relu")(img)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Concatenate()([h, keras.layers.Dense(5, activation="tanh")(cat)])
    h = keras.layers.Dropout(0.5)(h)
    out = keras.layers.Concatenate()([keras.layers.Dense(2)(h), keras.layers.Dense(2, activation="softmax")(h)])
    return keras.Model([img, cat], out)


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(1)
    return rng.normal(size=(6, 9, 9, 3)).astype(np.float32), rng.normal(size=(6, 4)).astype(np.float32)


def _reference(model, inputs):
    tensors = [torch.tensor(a, requires_grad=True) for a in inputs]
    out = model(tensors, training=False)
    out[:, 0].sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _save(model, path):
    with warnings.catch_warnings():   # Keras calls .h5 "legacy" when saving it: that is the point here
        warnings.filterwarnings("ignore", message=".*HDF5.*legacy.*", category=UserWarning)
        # Keras' torch backend converts weights with np.array(tensor), which numpy 2 flags (copy keyword)
        warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
        model.save(path)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_round_trip_outputs_and_gradients(model, inputs, tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    _save(model, path)
    est = load_estimator(path)
    assert isinstance(est.module, KerasModule)
    assert est.input_names == ("image", "catalogue")
    assert est.input_shapes == ((9, 9, 3), (4,))
    want, want_grads = _reference(model, inputs)
    got = est.predict(inputs, progress=False)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(est.predict({"image": inputs[0], "catalogue": inputs[1]}, progress=False), want,
                               rtol=1e-5, atol=1e-6)
    tensors = [torch.tensor(a, requires_grad=True) for a in inputs]
    est.module(*tensors)[:, 0].sum().backward()
    for t, g in zip(tensors, want_grads):
        np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-4, atol=1e-6)


def test_in_memory_model_and_attribution(model, inputs):
    est = load_estimator(model)
    assert isinstance(est.module, KerasModule)
    from interpret.attribution import attribute

    a = attribute(est, inputs, target=0, n_steps=16, progress=False)
    assert [v.shape for v in a.values] == [inputs[0].shape, inputs[1].shape]


def test_wrong_shape_is_named(model, tmp_path, inputs):
    path = tmp_path / "m.keras"
    _save(model, path)
    est = load_estimator(path)
    with pytest.raises(InterpretError, match=r"\(n, 9, 9, 3\)"):
        est.predict((inputs[0][:, :, :, :2], inputs[1]), progress=False)


def test_other_backend_is_refused(monkeypatch, keras):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(EstimatorLoadError, match="already imported with the 'jax' backend"):
        import_keras()


def test_backend_env_is_checked_before_import(monkeypatch):
    monkeypatch.delitem(sys.modules, "keras")
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    with pytest.raises(EstimatorLoadError, match="KERAS_BACKEND is 'tensorflow'"):
        import_keras()


def test_corrupt_file(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(b"not a keras file")
    with pytest.raises(EstimatorLoadError, match="cannot load"):
        load_estimator(path)
