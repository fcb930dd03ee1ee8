"""Estimator loading: every source kind round-trips its predictions; every refusal says why and how."""
from __future__ import annotations

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import torch
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression

from interpret.estimators import (
    CallableEstimator,
    Estimator,
    SklearnEstimator,
    TorchEstimator,
    as_estimator,
    load_estimator,
)
from interpret.exceptions import EstimatorLoadError, UnsafeLoadError, ValidationError

pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(37, 5)).astype(np.float32)
IMG = RNG.normal(size=(37, 3, 8, 8)).astype(np.float32)


def make_mlp(n_in: int = 5, n_out: int = 1) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(n_in, 16), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                               torch.nn.Linear(16, n_out))


class ImageCatNet(torch.nn.Module):
    """Two-input model: an image cutout (n, 3, 8, 8) and catalogue photometry (n, 5) -> 2 outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.head = torch.nn.Linear(4 + 5, 2)

    def forward(self, image: torch.Tensor, catalog: torch.Tensor) -> torch.Tensor:
        feats = self.conv(image).mean(dim=(2, 3))
        return self.head(torch.cat([feats, catalog], dim=1))


def direct(module: torch.nn.Module, *inputs: np.ndarray) -> np.ndarray:
    module.eval()
    with torch.no_grad():
        return module(*[torch.from_numpy(a) for a in inputs]).numpy().squeeze()


@pytest.fixture
def sk_model() -> LinearRegression:
    return LinearRegression().fit(X, X @ np.arange(5.0))


# --- known answers: each source kind reproduces the model it came from -----------------------------------
def test_in_memory_module_eval_mode_and_batches():
    mlp = make_mlp().train()
    est = load_estimator(mlp)
    assert isinstance(est, TorchEstimator) and est.module is mlp and not mlp.training
    y = est.predict(X, batch_size=4, progress=False)
    assert y.shape == (37,)
    np.testing.assert_allclose(y, direct(mlp, X), rtol=1e-6)
    np.testing.assert_allclose(y, est(X), rtol=1e-5, atol=1e-6)  # dropout off; __call__ == predict


def test_state_dict_file_with_callable_and_import_string_factory(tmp_path):
    lin = torch.nn.Linear(5, 3)
    path = tmp_path / "lin.pt"
    torch.save(lin.state_dict(), path)
    kwargs = {"in_features": 5, "out_features": 3}
    a = load_estimator(path, factory=torch.nn.Linear, factory_kwargs=kwargs)
    b = load_estimator(str(path), factory="torch.nn:Linear", factory_kwargs=kwargs, output_names=("u", "v", "w"))
    np.testing.assert_allclose(a.predict(X, progress=False), direct(lin, X), rtol=1e-6)
    np.testing.assert_array_equal(a.predict(X, progress=False), b.predict(X, progress=False))
    assert b.output_names == ("u", "v", "w") and a.predict(X[:2], progress=False).shape == (2, 3)


def test_checkpoint_dict_is_unwrapped(tmp_path):
    mlp = make_mlp()
    torch.save({"epoch": 3, "state_dict": mlp.state_dict()}, tmp_path / "ckpt.pt")
    est = load_estimator(tmp_path / "ckpt.pt", factory=make_mlp)
    np.testing.assert_allclose(est.predict(X, progress=False), direct(mlp, X), rtol=1e-6)


def test_torchscript_file(tmp_path):
    mlp = make_mlp().eval()
    torch.jit.save(torch.jit.trace(mlp, torch.from_numpy(X[:2])), tmp_path / "mlp.ts")
    est = load_estimator(tmp_path / "mlp.ts")
    assert isinstance(est.module, torch.jit.ScriptModule) and not est.module.training
    np.testing.assert_allclose(est.predict(X, progress=False), direct(mlp, X), rtol=1e-6)


def test_full_pickle_torch_file_needs_opt_in(tmp_path):
    mlp = make_mlp()
    torch.save(mlp, tmp_path / "whole.pt")
    with pytest.raises(UnsafeLoadError, match=r"allow_pickle=True.*state_dict"):
        load_estimator(tmp_path / "whole.pt")
    est = load_estimator(tmp_path / "whole.pt", allow_pickle=True)
    np.testing.assert_allclose(est.predict(X, progress=False), direct(mlp, X), rtol=1e-6)


def test_joblib_sklearn_needs_opt_in(tmp_path, sk_model):
    joblib.dump(sk_model, tmp_path / "lr.joblib")
    with pytest.raises(UnsafeLoadError, match="arbitrary code"):
        load_estimator(tmp_path / "lr.joblib")
    est = load_estimator(tmp_path / "lr.joblib", allow_pickle=True)
    assert isinstance(est, SklearnEstimator) and est.module is None
    np.testing.assert_allclose(est.predict(X, progress=False), sk_model.predict(X), rtol=1e-6)
    with open(tmp_path / "lr.bin", "wb") as fh:  # a plain pickle under a torch-like name
        pickle.dump(sk_model, fh)
    with pytest.raises(UnsafeLoadError, match="allow_pickle=True"):
        load_estimator(tmp_path / "lr.bin")
    np.testing.assert_allclose(load_estimator(tmp_path / "lr.bin", allow_pickle=True).predict(X, progress=False),
                               sk_model.predict(X), rtol=1e-6)


def test_skops_file_trusted_and_untrusted(tmp_path, sk_model):
    sio.dump(sk_model, tmp_path / "lr.skops")
    est = load_estimator(tmp_path / "lr.skops")
    np.testing.assert_allclose(est.predict(X, progress=False), sk_model.predict(X), rtol=1e-6)
    hgb = HistGradientBoostingRegressor(max_iter=5).fit(X, X[:, 0])
    sio.dump(hgb, tmp_path / "hgb.skops")
    with pytest.raises(UnsafeLoadError, match="TreePredictor") as info:
        load_estimator(tmp_path / "hgb.skops")
    assert "trusted=" in str(info.value)
    est = load_estimator(tmp_path / "hgb.skops", trusted=sio.get_untrusted_types(file=tmp_path / "hgb.skops"))
    np.testing.assert_allclose(est.predict(X, progress=False), hgb.predict(X))


def test_sklearn_object_and_frame_input(sk_model):
    est = load_estimator(sk_model)
    # float32 round trip: a value near zero (-0.21) differs from sklearn's float64 in the 7th digit
    np.testing.assert_allclose(est.predict(X, batch_size=5, progress=False), sk_model.predict(X), rtol=1e-5,
                               atol=1e-6)
    frame = pd.DataFrame(X, columns=list("ugriz"))
    fitted = LinearRegression().fit(frame, X[:, 0])
    out = load_estimator(fitted).predict(frame, batch_size=10, progress=False)  # no feature-name warning
    np.testing.assert_allclose(out, X[:, 0], atol=1e-5)
    np.testing.assert_allclose(est.predict(frame, progress=False), sk_model.predict(X), rtol=1e-5)  # on arrays


def test_callable_and_as_estimator():
    est = load_estimator(lambda x: torch.as_tensor(x).sum(dim=1))  # tensors are converted back
    assert isinstance(est, CallableEstimator) and est.module is None
    np.testing.assert_allclose(est.predict(X, progress=False), X.sum(axis=1), rtol=1e-6)
    assert as_estimator(est) is est and load_estimator(est) is est


def test_multi_input_tuple_dict_and_names():
    net = ImageCatNet()
    est = load_estimator(net, output_names=("z", "log_mstar"))
    assert est.n_inputs == 2 and est.input_names == ("image", "catalog")
    expected = direct(net, IMG, X)
    np.testing.assert_allclose(est.predict((IMG, X), batch_size=8, progress=False), expected, rtol=1e-5)
    np.testing.assert_allclose(est.predict({"catalog": X, "image": IMG}, progress=False), expected, rtol=1e-5)
    with pytest.raises(ValidationError, match=r"expects 2 input\(s\) \(image, catalog\); got 1"):
        est.predict(IMG, progress=False)
    with pytest.raises(ValidationError, match="same number of rows"):
        est.predict((IMG, X[:10]), progress=False)
    with pytest.raises(ValidationError, match=r"missing \['catalog'\]"):
        est.predict({"image": IMG}, progress=False)
    image, catalog = est.as_tensors({"image": IMG.astype(np.float64), "catalog": X})
    assert image.dtype == torch.float32 and tuple(catalog.shape) == X.shape


def test_multi_input_torchscript_and_variadic(tmp_path):
    net = ImageCatNet().eval()
    traced = torch.jit.trace(net, (torch.from_numpy(IMG[:2]), torch.from_numpy(X[:2])))
    torch.jit.save(traced, tmp_path / "net.pt")
    est = load_estimator(tmp_path / "net.pt")
    assert est.input_names == ("image", "catalog")
    np.testing.assert_allclose(est.predict({"image": IMG, "catalog": X}, progress=False), direct(net, IMG, X),
                               rtol=1e-5)

    class Sum(torch.nn.Module):
        def forward(self, *xs: torch.Tensor) -> torch.Tensor:
            return sum(x.sum(dim=1) for x in xs)

    var = load_estimator(Sum())
    assert var.n_inputs is None
    np.testing.assert_allclose(var.predict((X, X), progress=False), 2 * X.sum(axis=1), rtol=1e-5)


def test_dict_outputs_name_columns():
    class TwoHeads(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"W1": x[:, 0], "W2": x[:, 1] * 2}

    est = load_estimator(TwoHeads())
    out = est.predict(X, progress=False)
    assert est.output_names == ("W1", "W2") and out.shape == (37, 2)
    np.testing.assert_allclose(out[:, 1], 2 * X[:, 1])


# --- refusals --------------------------------------------------------------------------------------------
def test_missing_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_estimator(tmp_path / "nope.pt")


def test_state_dict_mismatch_names_keys(tmp_path):
    torch.save(torch.nn.Linear(5, 1).state_dict(), tmp_path / "lin.pt")
    with pytest.raises(EstimatorLoadError, match=r"missing keys \['0\.weight'.*unexpected keys \['weight', 'bias'\]"):
        load_estimator(tmp_path / "lin.pt", factory=make_mlp)
    with pytest.raises(EstimatorLoadError, match=r"shape mismatches.*weight \(1, 5\) vs \(1, 4\)"):
        load_estimator(tmp_path / "lin.pt", factory=torch.nn.Linear, factory_kwargs={"in_features": 4,
                                                                                     "out_features": 1})
    with pytest.raises(EstimatorLoadError, match="pass factory="):
        load_estimator(tmp_path / "lin.pt")
    prefixed = {f"module.{k}": v for k, v in make_mlp().state_dict().items()}
    with pytest.raises(EstimatorLoadError, match="DataParallel"):
        load_estimator(prefixed, factory=make_mlp)


def test_non_strict_loads_overlap(tmp_path, caplog):
    full = make_mlp()
    partial = {k: v for k, v in full.state_dict().items() if k.startswith("0.")}
    est = load_estimator(partial, factory=make_mlp, strict=False)
    assert "missing keys" in caplog.text
    np.testing.assert_array_equal(est.module[0].weight.detach().numpy(), full[0].weight.detach().numpy())


def test_bad_factories():
    state = torch.nn.Linear(2, 1).state_dict()
    with pytest.raises(EstimatorLoadError, match="cannot import module 'no_such_pkg.models'"):
        load_estimator(state, factory="no_such_pkg.models:Net")
    with pytest.raises(EstimatorLoadError, match="has no attribute 'NoNet'"):
        load_estimator(state, factory="torch.nn:NoNet")
    with pytest.raises(ValidationError, match="import string"):
        load_estimator(state, factory="torch.nn.Linear")


def test_wrong_input_shape_says_expected_and_given():
    est = load_estimator(make_mlp())
    with pytest.raises(ValidationError, match=r"shape x \(10, 4\); expected x \(n, 5\)"):
        est.predict(X[:10, :4], progress=False)
    checked = load_estimator(make_mlp(), input_shapes=[(5,)])
    with pytest.raises(ValidationError, match=r"'x' has shape \(10, 4\); expected \(n, 5\)"):
        checked.predict(X[:10, :4], progress=False)
    with pytest.raises(ValidationError, match=r"shape \(10, 4\); expected \(n, 5\)"):
        load_estimator(LinearRegression().fit(X, X[:, 0])).predict(X[:10, :4], progress=False)


def test_non_finite_outputs_count_and_rows():
    est = load_estimator(lambda x: np.where(x[:, 0] > 0, np.log(np.abs(x[:, 1])), np.nan))
    x = np.where(np.arange(37)[:, None] == 0, -1.0, X)
    n_bad = int((x[:, 0] <= 0).sum())
    with pytest.raises(ValidationError, match=rf"{n_bad} non-finite outputs in {n_bad} rows \(rows 0,"):
        est.predict(x, progress=False)
    assert np.isnan(est.predict(-np.abs(X), progress=False, check_finite=False)).all()


def test_other_refusals(tmp_path):
    with pytest.raises(EstimatorLoadError, match="unfitted LinearRegression"):
        load_estimator(LinearRegression())
    with pytest.raises(ValidationError, match="cannot make an estimator"):
        load_estimator(42)
    with pytest.raises(ValidationError, match="use load_estimator"):
        as_estimator(tmp_path / "x.pt")
    with pytest.raises(ValidationError, match="'batch_size' must be >= 1"):
        load_estimator(make_mlp()).predict(X, batch_size=0)
    with pytest.raises(ValidationError, match="output_names has 3"):
        load_estimator(make_mlp(), output_names=("a", "b", "c")).predict(X, progress=False)
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises((EstimatorLoadError, UnsafeLoadError)):
        load_estimator(tmp_path / "junk.pt")
    if not torch.cuda.is_available():
        with pytest.raises(ValidationError, match="CUDA is not available"):
            load_estimator(make_mlp(), device="cuda")


# --- contract: every kind, same conventions --------------------------------------------------------------
@pytest.mark.parametrize("kind", ["torch", "sklearn", "callable"])
def test_contract_batching_does_not_change_results_or_inputs(kind, sk_model):
    source = {"torch": make_mlp(), "sklearn": sk_model, "callable": lambda x: x[:, :2] * 3}[kind]
    est = load_estimator(source)
    assert isinstance(est, Estimator) and est.n_inputs == 1
    x = X.copy()
    full = est.predict(x, batch_size=1000, progress=False)
    np.testing.assert_allclose(est.predict(x, batch_size=1, progress=False), full, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(x, X)
    assert isinstance(full, np.ndarray) and full.shape[0] == len(X)
    assert est.predict(x[:0], progress=False).shape[0] == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_device(tmp_path):
    mlp = make_mlp()
    cpu = load_estimator(make_mlp()).predict(X, progress=False)
    torch.save(mlp.state_dict(), tmp_path / "m.pt")
    est = load_estimator(tmp_path / "m.pt", factory=make_mlp, device="cuda")
    assert next(est.module.parameters()).is_cuda and est.device.type == "cuda"
    np.testing.assert_allclose(est.predict(X, progress=False), cpu, rtol=1e-4, atol=1e-5)
