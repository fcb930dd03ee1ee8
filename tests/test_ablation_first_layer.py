"""The first-layer shortcut of masked band ablation equals the plain computation (issue 21)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret.ablation import Batching, band_ablation, band_shapley
from interpret.exceptions import ValidationError

N_BANDS = 5


class _CNN(torch.nn.Module):
    """Conv first layer on the cutouts; the magnitudes join after the convolutions."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Sequential(torch.nn.Conv2d(N_BANDS, 6, 3, padding=1), torch.nn.SiLU(),
                                        torch.nn.Conv2d(6, 8, 3, stride=2, padding=1), torch.nn.SiLU())
        self.head = torch.nn.Sequential(torch.nn.Linear(8 + N_BANDS, 16), torch.nn.SiLU(), torch.nn.Linear(16, 1))

    def forward(self, image: torch.Tensor, mags: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.conv(image).mean(dim=(2, 3)), mags], dim=1))


class _Residual(torch.nn.Module):
    """Reads its input twice (a skip connection): the shortcut must not be used."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(N_BANDS, N_BANDS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(self.lin(x)) + x).sum(dim=1)


def _data(n: int = 24, seed: int = 0):
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n, N_BANDS, 8, 8)).astype(np.float32)
    mags = rng.normal(20, 1, size=(n, N_BANDS)).astype(np.float32)
    return images, mags, rng.normal(size=n)


def _mlp() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(N_BANDS, 16), torch.nn.SiLU(), torch.nn.Linear(16, 1)).eval()


def _both(est, x, y, **kw):
    bands = [f"b{k}" for k in range(N_BANDS)]
    out = [band_shapley(est, x, y, bands=bands, batching=Batching(batch_size=32, first_layer=f), progress=False,
                        seed=0, **kw) for f in (False, True)]
    return out


def _close(plain, fast, rtol: float = 1e-6) -> None:
    a, b = plain.values.to_numpy(), fast.values.to_numpy()
    assert np.max(np.abs(a - b)) <= rtol * np.max(np.abs(a))
    v, w = plain.subset_values.to_numpy(), fast.subset_values.to_numpy()
    assert np.max(np.abs(v - w)) <= rtol * np.max(np.abs(v))


@pytest.mark.parametrize("strategy", ["mean", "zero", "median", "noise"])
def test_mlp_shortcut_equals_plain(strategy):
    """Exact algebra: in float64 the shortcut and the plain masked path agree to <= 1e-6 relative."""
    _, mags, y = _data()
    plain, fast = _both(_mlp().double(), mags.astype(np.float64), y, strategy=strategy)
    assert plain.details["first_layer"] is None and fast.details["first_layer"] == "0"
    _close(plain, fast)


def test_mlp_shortcut_float32():
    """In float32 both paths round differently; the plain path is itself ~5e-6 (relative) from float64 here."""
    _, mags, y = _data()
    _close(*_both(_mlp(), mags, y), rtol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cnn_shortcut_equals_plain(dtype):
    torch.manual_seed(1)
    images, mags, y = _data()
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    plain, fast = _both(_CNN().eval().to(dtype), (images.astype(np_dtype), mags.astype(np_dtype)), y)
    assert fast.details["first_layer"] == "conv.0"
    _close(plain, fast)


def test_cnn_dict_input_and_small_blocks():
    """Dict inputs in forward() order, and row blocks smaller than the data (max_bytes tiny: 15 blocks of 2 rows,
    each copied into the output as it arrives)."""
    torch.manual_seed(2)
    images, mags, y = _data(n=30)
    x = {"mags": mags, "image": images}
    bands = [f"b{k}" for k in range(N_BANDS)]
    model = _CNN().eval()
    res = [band_ablation(model, x, y, bands=bands, subsets="all", metrics="rmse", progress=False,
                         batching=Batching(batch_size=16, max_bytes=20_000, first_layer=f)).table["rmse"]
           for f in (False, True)]
    np.testing.assert_allclose(res[1].to_numpy(), res[0].to_numpy(), rtol=1e-6)


def test_automatic_shortcut_is_used_and_falls_back():
    _, mags, y = _data()
    bands = [f"b{k}" for k in range(N_BANDS)]
    auto = band_shapley(_mlp(), mags, y, bands=bands, progress=False)
    assert auto.details["first_layer"] == "0"
    torch.manual_seed(0)
    res = _Residual().eval()
    fallback = band_shapley(res, mags, y, bands=bands, progress=False)          # reads x twice: plain path
    plain = band_shapley(res, mags, y, bands=bands, progress=False, batching=Batching(first_layer=False))
    assert fallback.details["first_layer"] is None
    np.testing.assert_array_equal(fallback.values.to_numpy(), plain.values.to_numpy())
    with pytest.raises(ValidationError, match="first_layer=True"):
        band_shapley(res, mags, y, bands=bands, progress=False, batching=Batching(first_layer=True))
    with pytest.raises(ValidationError, match="first_layer=True"):
        band_shapley(_mlp(), mags, y, bands=bands, progress=False, strategy="inpaint",
                     batching=Batching(first_layer=True))
