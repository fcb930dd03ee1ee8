"""PICZL as a data package: demo inputs assembled here, its real ensemble on Keras/torch, known answers."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

if importlib.util.find_spec("keras") is None or importlib.util.find_spec("piczl") is None:
    pytest.skip("needs keras and piczl (make install: pip install keras; pip install --no-deps piczl==0.1.4)",
                allow_module_level=True)

import interpret as ip  # noqa: E402
from interpret import _piczl  # noqa: E402
from interpret.exceptions import ValidationError  # noqa: E402
from interpret.zoo._piczl import mixture_pdf  # noqa: E402


@pytest.fixture(scope="module")
def ensemble():
    return ip.zoo.piczl("active")


@pytest.fixture(scope="module")
def demo20():
    return ip.datasets.piczl_demo("run", n=20)


def test_reproduces_piczl_demo_predictions(ensemble, demo20):
    """PICZL's shipped result file: 20 galaxies; its `phz_inact` column holds the active ensemble's modes."""
    from astropy.table import Table

    path = _piczl.piczl_root() / "demo_data" / "run" / "result" / "PICZL_predictions_demo_catalog.fits"
    shipped = np.asarray(Table.read(path)["phz_inact"], dtype=float)
    assert shipped.size == 20
    z = ensemble.predict(demo20.inputs, progress=False)
    np.testing.assert_allclose(z, shipped, atol=0.004, rtol=0)


def test_pdf_mode_mean_and_members(ensemble, demo20):
    x = tuple(a[:4] for a in demo20.inputs)
    pdf = ensemble.predict_pdf(x, progress=False)
    assert pdf.shape == (4, 4001)
    np.testing.assert_allclose(np.trapezoid(pdf, ensemble.grid, axis=1), 1.0, rtol=1e-9)
    np.testing.assert_array_equal(ensemble.grid[pdf.argmax(1)], ensemble.predict(x, progress=False))
    coarse = ensemble.predict_pdf(x, grid=np.linspace(0, 8, 801), progress=False)
    assert coarse.shape == (4, 801)
    assert len(ensemble.members) == 10 and ensemble.weights.sum() == pytest.approx(1.0)
    outs = ensemble.member_outputs(x, progress=False)
    for out, name in zip(outs, ensemble.member_names):
        g = int(name.split("G=")[1].split("_")[0])
        assert out.shape == (4, 3 * g)
        assert (out[:, g:2 * g] > 0).all()
        np.testing.assert_allclose(out[:, 2 * g:].sum(1), 1.0, atol=1e-5)
    mean = sum(w * (o[:, 2 * (o.shape[1] // 3):] * o[:, :o.shape[1] // 3]).sum(1)
               for w, o in zip(ensemble.weights, outs))
    tensors = [t.requires_grad_(True) for t in ensemble.as_tensors(x)]
    out = ensemble.module(*tensors)
    np.testing.assert_allclose(out.detach().numpy(), mean, rtol=1e-5)
    out.sum().backward()
    assert all(torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0 for t in tensors)


def test_mixture_pdf_single_gaussian():
    grid = np.linspace(0, 8, 4001)
    out = np.array([[1.0, 3.0, 0.2, 0.3, 0.75, 0.25]])   # G=2: means, stds, weights
    pdf = mixture_pdf([out], np.array([2.0]), grid)
    assert grid[pdf.argmax()] == pytest.approx(1.0)
    assert np.trapezoid(pdf[0] * grid, grid) == pytest.approx(0.75 * 1 + 0.25 * 3, rel=1e-6)


@pytest.mark.parametrize(("mode", "c0", "f"), [("active", 32, 52), ("inactive", 36, 54)])
def test_demo_shapes(mode, c0, f):
    d = ip.datasets.piczl_demo("train", mode=mode)
    assert [a.shape for a in d.inputs] == [(50, 23, 23, c0), (50, 23, 23, 24), (50, f)]
    assert all(a.dtype == np.float32 and np.isfinite(a).all() for a in d.inputs)
    assert [len(n) for n in d.names] == [c0, 24, f]
    assert d.catalog["z"].between(0, 8).all() and len(d) == 50
    assert d.input_names == ("images", "colour_images", "features")


def test_band_map(demo20):
    d = demo20
    assert d.bands.names == ("g", "r", "i", "z", "W1", "W2", "W3", "W4")
    assert set(d.channels) == set(d.bands.names)
    for band, slots in d.channels.items():
        assert {s[0] for s in slots} == {0, 1, 2}, band   # every band enters all three inputs
        for i, axis, pos in slots:
            assert axis == (1 if i == 2 else 3)
            name = d.names[i][pos]
            assert band in name, (band, name)
    names0 = [d.names[0][p] for i, _, p in d.channels["g"] if i == 0]
    assert names0 == ["cutout_g", "aperture_g", "residual_g", "ivar_g", "model_g"]
    # a colour belongs to both of its bands; band-free features (dchisq, type) to none
    gw1 = d.names[2].index("g-W1")
    assert (2, 1, gw1) in d.channels["g"] and (2, 1, gw1) in d.channels["W1"]
    owned = {p for s in d.channels.values() for i, _, p in s if i == 2}
    free = [d.names[2][p] for p in range(len(d.names[2])) if p not in owned]
    assert free == ["dchisq_1", "dchisq_2", "dchisq_3", "dchisq_4", "dchisq_5", "type_EXP", "type_PSF",
                    "type_REX", "type_SER"]
    assert {p for s in d.channels.values() for i, _, p in s if i in (0, 1)} >= set(range(24))


def test_scaled_features_depend_on_batch():
    """PICZL min-max scales feature groups over the galaxies given together (documented; n= controls it)."""
    a = ip.datasets.piczl_demo("run", n=10).inputs[2]
    b = ip.datasets.piczl_demo("run").inputs[2][:10]
    snr = slice(5, 13)
    assert a[:, snr].min() == 0 and a[:, snr].max() == 1
    assert not np.allclose(a[:, snr], b[:, snr])
    np.testing.assert_array_equal(a[:, 25:47], b[:, 25:47])   # colours are not scaled


def test_bad_arguments():
    with pytest.raises(ValidationError, match="split"):
        ip.datasets.piczl_demo("test")
    with pytest.raises(ValidationError, match="'n'"):
        ip.datasets.piczl_demo("run", n=100)
    with pytest.raises(ValidationError, match="mode"):
        ip.zoo.piczl("agn")


def test_active_members_read_only_the_first_image_input(ensemble, demo20):
    """A property of PICZL's released active weights (found by this study): the colour-image and the
    catalogue branches output constants, so each member's output ignores inputs 1 and 2."""
    x = tuple(a[:6] for a in demo20.inputs)
    rng = np.random.default_rng(0)
    noisy = (x[0], rng.normal(0, 5, x[1].shape).astype(np.float32), rng.normal(0, 5, x[2].shape).astype(np.float32))
    for member in ensemble.members[:3]:
        np.testing.assert_allclose(member.predict(noisy, progress=False), member.predict(x, progress=False),
                                   atol=1e-5)
