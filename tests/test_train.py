"""Reference estimators: architectures, split, training, caching, known-answer fits, real SDSS and the mock."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import torch

import interpret as ip
from interpret.data.bands import get_bandset
from interpret.exceptions import ValidationError
from interpret.mock import models as mm
from interpret.mock import train as tr


@dataclass
class Toy:
    """A tiny universe-like object with a planted, learnable signal."""

    catalog: pd.DataFrame
    bands: object
    images: np.ndarray
    wavelength: np.ndarray
    spectra: np.ndarray


def make_toy(n: int = 240, seed: int = 0, size: int = 12) -> Toy:
    rng = np.random.default_rng(seed)
    bands = get_bandset(["sdss:g", "sdss:r", "sdss:i"])
    log_mstar = rng.uniform(9.0, 11.5, n)
    redshift = rng.uniform(0.05, 0.6, n)
    colour = 1.5 * redshift                                  # redshift sets the g-r / r-i colours
    flux_r = 10 ** (log_mstar - 10.0) * 50
    fluxes = np.column_stack([flux_r * 10 ** (-0.4 * colour), flux_r, flux_r * 10 ** (0.4 * colour)])
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    profile = np.exp(-(xx**2 + yy**2) / (2 * 1.5**2))
    profile /= profile.sum()
    images = fluxes[:, :, None, None] * profile + rng.normal(0, 0.01, (n, 3, size, size))
    mags = 22.5 - 2.5 * np.log10(fluxes)
    wave = np.linspace(4000, 8000, 64)
    line = np.exp(-0.5 * ((wave - 6000) / 40) ** 2)
    amp = rng.uniform(0.5, 3.0, n)
    spectra = 1.0 + amp[:, None] * line + rng.normal(0, 0.02, (n, wave.size))
    ir = {f"W{k}": 15 + k - 2.5 * np.log10(amp) * (k / 2) + rng.normal(0, 0.05, n) for k in (1, 2, 3, 4)}
    cat = pd.DataFrame({"log_mstar": log_mstar, "redshift": redshift, "g": mags[:, 0], "r": mags[:, 1],
                        "i": mags[:, 2], **ir, **{f"W{k}_err": np.full(n, 0.05) for k in (1, 2, 3, 4)}})
    return Toy(cat, bands, images.astype(np.float32), wave, spectra.astype(np.float32))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small models train fastest single-threaded on a shared 2-core CI machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def toy():
    return make_toy()


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "ref"


# --- split --------------------------------------------------------------------------------------------------
def test_reference_split_is_a_seeded_partition():
    s = tr.reference_split(1000, seed=3)
    allrows = np.concatenate([s.train, s.val, s.test])
    assert np.array_equal(np.sort(allrows), np.arange(1000))
    assert (len(s.train), len(s.val), len(s.test)) == (700, 150, 150)
    again = tr.reference_split(1000, seed=3)
    assert np.array_equal(s.test, again.test)
    assert not np.array_equal(s.test, tr.reference_split(1000, seed=4).test)


# --- architectures --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs, inputs, out_shape", [
    (mm.PhotometryMLP, {"n_mags": 5, "n_extra": 1}, [(6,)], (4,)),
    (mm.ImageCNN, {"n_bands": 3, "image_size": 12}, [(3, 12, 12)], (4,)),
    (mm.ImageCatalogNet, {"n_bands": 3, "n_mags": 3, "image_size": 12}, [(3, 12, 12), (3,)], (4,)),
    (mm.SpectrumNet, {"n_wave": 64, "n_outputs": 4}, [(64,)], (4, 4)),
])
def test_models_rebuild_from_state_dict(cls, kwargs, inputs, out_shape, tmp_path):
    torch.manual_seed(0)
    model = cls(**kwargs).eval()
    model.set_normalisation(y_mean=np.full(model.n_outputs, 2.0), y_std=np.full(model.n_outputs, 3.0))
    xs = [torch.rand(4, *s) for s in inputs]
    with torch.no_grad():
        out = model(*xs)
    assert out.shape == out_shape
    path = tmp_path / "m.pt"
    torch.save(model.state_dict(), path)
    est = ip.load_estimator(path, factory=mm.MODEL_CLASSES[cls.__name__], factory_kwargs=kwargs,
                            input_names=("image", "magnitudes") if len(xs) > 1 else None)
    pred = est.predict([x.numpy() for x in xs] if len(xs) > 1 else xs[0].numpy(), progress=False)
    np.testing.assert_allclose(pred, out.numpy(), rtol=1e-5, atol=1e-6)


def test_aperture_fluxes_are_weighted_sums_in_asinh_units():
    enc = mm.ImageCNN(n_bands=2, image_size=9).encoder
    enc.scale.copy_(torch.tensor([1.0, 2.0]))
    x = torch.zeros(1, 2, 9, 9)
    x[0, :, 4, 4] = torch.tensor([30.0, 30.0])              # a point source at the stamp centre
    w = mm._aperture_weights(9, x)
    assert w.shape == (len(mm.APERTURES), 9, 9) and torch.all(w[:, 4, 4] == 1) and torch.all(w[-1] == 1)
    raw = enc.raw_flux(x).reshape(len(mm.APERTURES), 2)
    noise = torch.sqrt((w * w).sum(dim=(1, 2)))[:, None] * enc.scale[None, :]
    torch.testing.assert_close(raw, torch.asinh(30.0 / noise))
    enc.calibrate(torch.randn(50, 2, 9, 9) * torch.tensor([1.0, 2.0])[None, :, None, None])
    torch.testing.assert_close(enc.scale, torch.tensor([1.0, 2.0]), rtol=0.2, atol=0)  # noise from the border


def test_spectrum_net_shape_view_ignores_the_flux_level_and_bins_keep_it():
    torch.manual_seed(0)
    net = mm.SpectrumNet(n_wave=64, n_bins=8).eval()
    spec = 5.0 + torch.rand(20, 64)
    net.calibrate(spec)
    torch.testing.assert_close(net.compress(3.0 * spec), net.compress(spec))
    bins = net._raw_bins(spec)
    expect = torch.asinh(spec.reshape(20, 8, 8).mean(dim=2) / net.bin_scale)
    torch.testing.assert_close(bins, expect)
    assert torch.all(net._raw_bins(3.0 * spec) > bins)
    torch.testing.assert_close(net.bin_mean, bins.mean(dim=0))


# --- known answers on planted signals -------------------------------------------------------------------
def test_cnn_learns_planted_mass_from_flux(toy, cache):
    est = tr.train_reference(toy, "stellar_mass", seed=0, n_epochs=8, cache_dir=cache, progress=False, batch_size=32,
                             lr=3e-3)
    m = est.training.metrics
    assert m["scatter"] < 0.35 < np.std(toy.catalog["log_mstar"])      # target std ~0.72 dex
    assert est.predict(toy.images[:5], progress=False).shape == (5,)
    assert est.training.model == "interpret.mock.models:ImageCNN"


def test_spectrum_net_learns_planted_ir(toy, cache):
    est = tr.train_reference(toy, "ir_from_spectra", seed=0, n_epochs=15, cache_dir=cache, progress=False,
                             batch_size=32, lr=3e-3)
    m = est.training.metrics
    assert est.output_names == ("W1", "W2", "W3", "W4")
    assert m["W4_scatter"] < 0.5 * np.std(toy.catalog["W4"])
    assert {"W1_ratio", "max_ratio", "W1_noise"} <= set(m)
    assert m["W1_noise"] == pytest.approx(0.05)
    assert est.training.config["labels"] == "observed" and "W1_model_error" not in m   # no noise-free labels


def test_two_input_photoz_model(toy, cache):
    est = tr.train_reference(toy, "photoz", seed=0, n_epochs=8, cache_dir=cache, progress=False, batch_size=32)
    assert est.input_names == ("image", "magnitudes")
    pred = est.predict({"image": toy.images[:7], "magnitudes": toy.catalog[["g", "r", "i"]].to_numpy()[:7]},
                       progress=False)
    assert pred.shape == (7,)
    m = est.training.metrics
    assert {"sigma_nmad", "outlier_fraction", "bias"} <= set(m)
    assert m["sigma_nmad"] < 0.1                      # colours encode z exactly (z spans 0.05-0.6)


# --- contract: reproducible, cached, reported -----------------------------------------------------------
def test_same_seed_same_weights_and_cache_reload(toy, cache, monkeypatch):
    kw = {"n_epochs": 2, "cache_dir": cache, "progress": False, "seed": 0}
    a = tr.train_reference(toy, "stellar_mass", cache=False, **kw)
    b = tr.train_reference(toy, "stellar_mass", **kw)
    for (k, va), vb in zip(a.module.state_dict().items(), b.module.state_dict().values()):
        assert torch.equal(va, vb), k
    assert len(list(cache.glob("stellar_mass-*.pt"))) == 1 and len(list(cache.glob("*.json"))) == 1
    monkeypatch.setattr(tr, "_fit", _fail)
    c = tr.train_reference(toy, "stellar_mass", **kw)
    np.testing.assert_array_equal(c.predict(toy.images[:9], progress=False), b.predict(toy.images[:9],
                                                                                         progress=False))
    assert c.training.metrics == b.training.metrics and c.training.seconds == 0.0
    assert c.training.config["train_seconds"] > 0
    with pytest.raises(AssertionError, match="retrained"):
        tr.train_reference(toy, "stellar_mass", **{**kw, "seed": 1})     # another seed -> another key -> trains


def test_ensemble_is_the_mean_of_its_members_and_reloads_from_the_cache(toy, cache, monkeypatch):
    kw = {"n_epochs": 3, "cache_dir": cache, "progress": False, "batch_size": 32, "seed": 0}
    single = tr.train_reference(toy, "ir_from_spectra", **kw)
    ens = tr.train_reference(toy, "ir_from_spectra", n_members=3, **kw)
    assert isinstance(ens.module, mm.EnsembleNet) and len(ens.module.members) == 3
    assert ens.training.model == "interpret.mock.models:EnsembleNet"
    # member 0 has the single network's seed: the same weights
    for (k, va), vb in zip(single.module.state_dict().items(), ens.module.members[0].state_dict().values()):
        assert torch.equal(va, vb), k
    x = torch.as_tensor(toy.spectra[:6])
    with torch.no_grad():
        members = torch.stack([m(x) for m in ens.module.members])
        np.testing.assert_allclose(ens.module(x).numpy(), members.mean(0).numpy(), rtol=1e-6, atol=1e-6)
        assert float(ens.module.spread(x).min()) > 0           # different seeds -> different members
    info = ens.training.config["members"]
    assert len(info) == 3 and info[0]["metrics"] == pytest.approx(single.training.metrics)
    monkeypatch.setattr(tr, "_fit", _fail)
    again = tr.train_reference(toy, "ir_from_spectra", n_members=3, **kw)
    np.testing.assert_array_equal(again.predict(toy.spectra[:9], progress=False),
                                  ens.predict(toy.spectra[:9], progress=False))
    with pytest.raises(ip.exceptions.ValidationError, match="n_members"):
        tr.train_reference(toy, "ir_from_spectra", n_members=0, **kw)


def test_early_stopping_on_validation(toy, cache, monkeypatch):
    monkeypatch.setattr(tr, "_PATIENCE", 1)
    losses = iter([1.0, 0.5, 0.7, 0.1, 0.1, 0.1])          # best at epoch 2, no gain at epoch 3 -> stop
    monkeypatch.setattr(tr, "_val_loss", lambda *a, **k: next(losses))
    est = tr.train_reference(toy, "stellar_mass", seed=0, n_epochs=6, cache=False, progress=False)
    rep = est.training
    assert (rep.epochs, rep.best_epoch) == (3, 2) and len(rep.to_frame()) == 3
    assert rep.config["hyperparameters"]["patience"] == 1


def _fail(*args, **kwargs):
    raise AssertionError("retrained instead of loading the cache")


def test_training_report_roundtrip(toy, cache, tmp_path):
    est = tr.train_reference(toy, "stellar_mass", seed=0, n_epochs=2, cache_dir=cache, progress=False)
    rep = est.training
    assert rep.n_train + rep.n_val + rep.n_test == len(toy.catalog)
    frame = rep.to_frame()
    assert list(frame.columns) == ["train_loss", "val_loss"] and len(frame) == 2
    rep.save(tmp_path / "r.ipres")
    back = ip.load_result(tmp_path / "r.ipres")
    assert back.metrics == rep.metrics and back.task == "stellar_mass"


# --- real data: SDSS photometry ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sdss_small(tmp_path_factory):
    shared = tmp_path_factory.getbasetemp() / "interpret-cache"   # also used by tests/test_datasets.py
    shared.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INTERPRET_CACHE_DIR", str(shared))
        full = ip.datasets.sdss_sample()
    sub = full.catalog.iloc[:1500].reset_index(drop=True)
    return ip.datasets.Dataset("sdss", sub, full.bands, full.source, full.meta)


@pytest.mark.parametrize("task, metric, bar", [("photoz", "sigma_nmad", 0.04), ("stellar_mass", "scatter", 0.2)])
def test_sdss_photometry_models(sdss_small, cache, task, metric, bar):
    est = tr.train_reference(sdss_small, task, seed=0, fast=True, cache_dir=cache, progress=False)
    assert est.training.metrics[metric] < bar
    assert est.training.config["features"]["x"][:5] == ["u", "g", "r", "i", "z"]
    if task == "photoz":
        assert est.training.metrics["outlier_fraction"] < 0.05


# --- refusals -------------------------------------------------------------------------------------------
def test_refusals(toy, sdss_small, cache):
    with pytest.raises(ValidationError, match="unknown task 'mass'"):
        tr.train_reference(toy, "mass", cache_dir=cache)
    with pytest.raises(ValidationError, match="needs spectra"):
        tr.train_reference(sdss_small, "ir_from_spectra", cache_dir=cache)
    with pytest.raises(ValidationError, match="must have .catalog"):
        tr.train_reference(np.zeros(3), "photoz", cache_dir=cache)
    with pytest.raises(ValidationError, match="n_epochs"):
        tr.train_reference(toy, "stellar_mass", n_epochs=0, cache_dir=cache)
    with pytest.raises(ValidationError, match="fractions"):
        tr.reference_split(10, fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ValidationError, match="labels='noise_free' needs a mock universe"):
        tr.train_reference(toy, "ir_from_spectra", labels="noise_free", cache_dir=cache)
    with pytest.raises(ValidationError, match="labels"):
        tr.train_reference(toy, "ir_from_spectra", labels="clean", cache_dir=cache)
    with pytest.raises(ValidationError, match=r"auxiliary targets \['sfr'\] are not catalogue columns"):
        tr.train_reference(toy, "ir_from_spectra", auxiliary=["sfr"], cache_dir=cache)
    with pytest.raises(ValidationError, match="'auxiliary' must be 'auto'"):
        tr.train_reference(toy, "ir_from_spectra", auxiliary="all", cache_dir=cache)
    with pytest.raises(ValidationError, match="auxiliary targets need the rest-frame network"):
        tr.train_reference(toy, "ir_from_spectra", auxiliary=["log_mstar"], cache_dir=cache)


# --- end to end on the mock universe (fast mode, looser bars) ----------------------------------------------
@pytest.fixture(scope="module")
def universe():
    return ip.mock.make_universe(n=240, seed=0, progress=False)


@pytest.mark.parametrize("task", tr.TASKS)
def test_fast_reference_models_on_the_mock(universe, cache, task):
    est = tr.train_reference(universe, task, seed=0, fast=True, cache_dir=cache, progress=False)
    rep = est.training
    split = tr.reference_split(len(universe), seed=0)
    test_cat = universe.catalog.iloc[split.test]
    assert rep.n_test == len(split.test) and rep.epochs == 6
    if task == "stellar_mass":      # full run: <= 0.15 dex; fast: clearly better than the mean
        assert rep.metrics["scatter"] < 0.85 * test_cat["log_mstar"].std()
        assert est.predict(universe.images[:3], progress=False).shape == (3,)
    elif task == "photoz":          # full run: sigma_NMAD <= 0.03, eta <= 5 %
        assert rep.metrics["sigma_nmad"] < 0.2 and rep.metrics["outlier_fraction"] < 0.5
        mags = universe.catalog[list(universe.bands.names)].to_numpy()
        assert est.predict((universe.images[:3], mags[:3]), progress=False).shape == (3,)
    else:                           # full run: scatter <= 1.5 x injected noise
        assert rep.metrics["W4_ratio"] < 3.0
        # fitted on the noise-free magnitudes, scored against the observed ones (and the noise-free ones)
        assert rep.config["labels"] == "noise_free"
        assert all(0 < rep.metrics[f"W{k}_model_error"] < rep.metrics[f"W{k}_scatter"] for k in (1, 3))
        # multi-task: the head also predicts the physical drivers of the IR, which forward() leaves out
        assert rep.config["auxiliary_targets"] == list(tr.IR_AUXILIARY)
        assert rep.config["model_kwargs"]["n_aux"] == len(tr.IR_AUXILIARY)
        spec = torch.as_tensor(universe.spectra[split.test])
        zt = torch.as_tensor(test_cat["redshift"].to_numpy(np.float32))[:, None]
        with torch.no_grad():
            bands, aux = est.module.raw_with_aux(spec, zt)
            torch.testing.assert_close(bands, est.module.raw(spec, zt))
        assert aux.shape == (len(split.test), len(tr.IR_AUXILIARY))
        mass = np.corrcoef(aux[:, tr.IR_AUXILIARY.index("log_mstar")].numpy(), test_cat["log_mstar"])[0, 1]
        assert mass > 0.5
        z = universe.catalog["redshift"].to_numpy()[:3, None]
        assert est.input_names == ("spectra", "redshift")
        assert est.predict((universe.spectra[:3], z), progress=False).shape == (3, 4)


def test_rest_frame_net_puts_a_line_on_the_same_rest_pixel_at_every_redshift():
    """Known answer: a line at rest pixel p, observed at p + log10(1+z)/dlog, lands on the same rest pixel."""
    net = mm.RestFrameSpectrumNet(n_wave=400, z_range=(0.0, 0.2), dlog=1e-3)
    rest_pixel = 40
    peaks, masks = [], []
    for z in (0.0, 0.05, 0.1, 0.2):
        shift = np.log10(1 + z) / 1e-3
        obs = torch.zeros(1, 400)
        i = int(np.floor(rest_pixel + shift))
        f = rest_pixel + shift - i
        obs[0, i], obs[0, i + 1] = 1 - f, f          # the line at fractional observed pixel rest_pixel + shift
        rest, mask = net.rest_frame(obs, torch.tensor([z]))
        peaks.append(int(rest[0].argmax()))
        masks.append(mask[0])
        assert float(rest[0].sum()) == pytest.approx(1.0, abs=1e-5)
    assert len(set(peaks)) == 1
    # the window covers n_wave rest pixels, starting later for lower redshifts
    assert all(float(m.sum()) == pytest.approx(400, abs=1) for m in masks)
    assert int(masks[0].nonzero()[0]) > int(masks[-1].nonzero()[0])


def test_rest_frame_net_gradients_reach_the_observed_pixels():
    torch.manual_seed(0)
    net = mm.RestFrameSpectrumNet(n_wave=300, z_range=(0.0, 0.5), channels=(4, 8), n_pool=4, hidden=(16,)).eval()
    spec = 1.0 + torch.rand(6, 300)
    z = torch.linspace(0.0, 0.5, 6)[:, None]
    net.calibrate(spec, z)
    x = spec.clone().requires_grad_(True)
    net(x, z).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad.abs().sum(dim=1) > 0).all()
    assert torch.isfinite(net.x_std).all() and float(net.x_std.min()) > 0


def test_rest_frame_line_read_out_measures_the_same_line_flux_at_every_redshift():
    """Known answer: a Gaussian H-alpha of unit integrated flux (per pixel sum) on a flat continuum reads ~1 at any z."""
    from interpret.mock.spectra import observed_grid

    wave = observed_grid()
    names = [line.name for line in ip.data.lines.LINES if line.kind == "emission"]
    j = names.index("Halpha")
    for sigma_kms in (100.0, None):   # matched filter (observed pixels) and box (rest-frame grid)
        net = mm.RestFrameSpectrumNet(n_wave=wave.size, z_range=(0.0, 0.3), wave0=float(wave[0]),
                                      line_sigma_kms=sigma_kms)
        fluxes = []
        for z in np.linspace(0.0, 0.3, 13):
            centre = np.log10(6564.61 * (1 + z))
            pix = (np.log10(wave) - centre) / 1e-4
            spec = 2.0 + np.exp(-0.5 * (pix / 1.5) ** 2) / (1.5 * np.sqrt(2 * np.pi))
            flux, covered = net.line_fluxes(torch.tensor(spec[None], dtype=torch.float32), torch.tensor([z]))
            fluxes.append(float(flux[0, j]))
            assert float(covered[0, j]) == 1.0
        # ~1 (the windows hold >= 98 % of the line), the same to 0.5 % whatever the sub-pixel position
        assert np.mean(fluxes) == pytest.approx(1.0, abs=0.03) and np.ptp(fluxes) < 0.005


def test_matched_filter_read_out_is_unbiased_and_less_noisy_than_the_box():
    """Known answer: on white noise the matched filter's flux scatter is sqrt(sum w^2) per pixel sigma, ~0.78 of
    the +-4 pixel box's, while a 100 km/s line still reads its integrated flux."""
    from interpret.mock.spectra import observed_grid

    wave = observed_grid()
    kw = dict(n_wave=wave.size, z_range=(0.0, 0.3), wave0=float(wave[0]))
    box, matched = mm.RestFrameSpectrumNet(**kw), mm.RestFrameSpectrumNet(**kw, line_sigma_kms=100.0)
    j = [line.name for line in ip.data.lines.LINES if line.kind == "emission"].index("Hbeta")
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(4000, wave.size, generator=gen)
    z = torch.full((4000,), 0.1)
    spread = {}
    for name, net in (("box", box), ("matched", matched)):
        spread[name] = float(net.line_fluxes(noise, z)[0][:, j].std())
    assert spread["matched"] / spread["box"] < 0.85
    centre = np.log10(4862.68 * 1.1)
    sig = 100.0 / (2.99792458e5 * np.log(10) * 1e-4)
    pix = (np.log10(wave) - centre) / 1e-4
    spec = 1.0 + 3.0 * np.exp(-0.5 * (pix / sig) ** 2) / (sig * np.sqrt(2 * np.pi))
    flux, _ = matched.line_fluxes(torch.tensor(spec[None], dtype=torch.float32), torch.tensor([0.1]))
    assert float(flux[0, j]) == pytest.approx(3.0, rel=0.02)


# --- learning-rate schedule ---------------------------------------------------------------------------------
@pytest.mark.parametrize("steps", range(1, 13))
def test_schedule_is_defined_for_every_run_length(steps):
    """torch's one-cycle schedule divides by 0.2*steps - 1 (zero at 5 steps): short runs get a constant rate."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=1e-3)
    sched = tr._schedule(opt, 1e-3, steps)
    rates = []
    for _ in range(steps):
        opt.step()
        sched.step()
        rates.append(opt.param_groups[0]["lr"])
    assert all(0 < r <= 1e-3 * (1 + 1e-12) for r in rates)
    one_cycle = steps >= tr.MIN_ONE_CYCLE_STEPS
    assert isinstance(sched, torch.optim.lr_scheduler.OneCycleLR) == one_cycle
    assert (max(rates) / min(rates) > 10) == one_cycle          # warm-up and annealing, or constant


def test_one_epoch_of_five_batches_trains(toy, cache):
    """A one-epoch run on exactly 5 batches crashed inside OneCycleLR before."""
    est = tr.train_reference(toy, "photoz", seed=0, n_epochs=1, cache_dir=cache, progress=False,
                             batch_size=int(np.ceil(len(tr.reference_split(len(toy.catalog), seed=0).train) / 5)))
    assert np.isfinite(est.predict((toy.images[:3], toy.catalog[["g", "r", "i"]].to_numpy()[:3]),
                                   progress=False)).all()


def test_catalogue_without_band_metadata_trains_on_the_named_columns(sdss_small, cache):
    """A user's catalogue has magnitude columns but no band set (``bands=None``): the columns named are used."""
    cat = sdss_small.catalog[["u", "g", "r", "i", "z", "redshift"]].dropna().iloc[:600].reset_index(drop=True)
    cat = cat.rename(columns={b: f"MAG_{b.upper()}" for b in "ugriz"})
    data = ip.datasets.Dataset("user", cat, None, "user")
    cols = [f"MAG_{b}" for b in "UGRIZ"]
    est = tr.train_reference(data, "photoz", bands=cols, seed=0, n_epochs=2, cache_dir=cache, progress=False)
    assert est.training.config["features"] == {"x": cols}
    with pytest.raises(ValidationError, match="no band set; pass bands="):
        tr.train_reference(data, "photoz", seed=0, n_epochs=2, cache_dir=cache, progress=False)
    empty = ip.datasets.Dataset("user", cat.iloc[:0], None, "user")      # crashed while digesting the rows
    with pytest.raises(ValidationError, match="only 0 rows have finite inputs and target"):
        tr.train_reference(empty, "photoz", bands=cols, seed=0, cache_dir=cache, progress=False)


def test_image_encoder_noise_scale_ignores_zero_padding():
    """Cutouts zero-padded at a survey edge: the border MAD was 0, the asinh stretch divided by 1e-30 and the
    network saturated (all attributions 0). Exact zeros are now left out; unpadded stamps are unchanged."""
    rng = np.random.default_rng(0)
    sky = np.array([0.01, 0.02, 0.05])
    yy, xx = np.mgrid[:32, :32] - 15.5
    source = 3.0 * np.exp(-(xx**2 + yy**2) / (2 * 1.5**2))
    stamps = (source + sky[None, :, None, None] * rng.normal(size=(80, 3, 32, 32))).astype(np.float32)
    x = torch.as_tensor(stamps)
    plain = mm.ImageCNN(n_bands=3, image_size=32)
    plain.calibrate(x)
    border = torch.cat([x[:, :, :2, :].flatten(2), x[:, :, -2:, :].flatten(2)], dim=2).double()
    expected = 1.4826 * (border - border.median(dim=2, keepdim=True).values).abs().transpose(0, 1).flatten(1) \
        .median(dim=1).values
    torch.testing.assert_close(plain.encoder.scale, expected.float())
    for pad in (1, 8):                      # part of the border padded, or all of it
        padded = mm.ImageCNN(n_bands=3, image_size=32 + 2 * pad)
        padded.calibrate(torch.as_tensor(np.pad(stamps, ((0, 0), (0, 0), (pad, pad), (pad, pad)))))
        np.testing.assert_allclose(padded.encoder.scale.numpy(), sky, rtol=0.15)
