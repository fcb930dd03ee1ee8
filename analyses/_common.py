"""Helpers shared by the studies: where the data and the model come from (mock universe or the user's files).

Every study accepts, in its config, the user's own files instead of the mock universe::

    [data]
    catalog = "my_catalog.fits"     # read with interpret.data.read_catalog (FITS/HDF5/Parquet/CSV)
    images  = "my_cutouts.h5"       # read with interpret.data.read_cutouts  -> (n, bands, H, W)
    spectra = "my_spectra.h5"       # read with interpret.data.read_spectra  -> (n, L) + wavelength
    target  = "log_mstar"           # catalogue column holding the quantity the model predicts
    [model]
    path = "my_model.pt"            # TorchScript, state dict (+ factory), skops, or pickle (allow_pickle)
    factory = "mypkg.nets:MassCNN"
    factory_kwargs = {n_bands = 5}

Without ``[data]`` the study simulates ``n`` galaxies of the mock universe (seeded); without ``[model]`` it
trains (or loads from the run's cache) the reference estimator for its task.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

import interpret as ip

log = logging.getLogger(__name__)


@dataclass
class StudyData:
    """Inputs of a study, whatever their origin (mirrors the mock Universe's attributes)."""

    catalog: pd.DataFrame
    bands: Any = None
    images: np.ndarray | None = None
    wavelength: np.ndarray | None = None
    spectra: np.ndarray | None = None
    truth: Any = None
    source: str = "mock"
    universe: Any = None      # the mock Universe itself (None for user data)

    def __len__(self) -> int:
        return len(self.catalog)

    @property
    def true_flux(self) -> np.ndarray | None:
        """The mock's noise-free band fluxes (None for user data): the IR reference is fitted on them."""
        return None if self.universe is None else self.universe.true_flux

    def noise_free_magnitudes(self, bands: Any = None) -> pd.DataFrame:
        """See :meth:`interpret.mock.Universe.noise_free_magnitudes` (mock data only)."""
        if self.universe is None:
            raise ValueError("noise-free magnitudes exist for the mock universe only")
        return self.universe.noise_free_magnitudes(bands)


def _resolve(path: str, ctx: Any) -> Path:
    p = Path(path)
    if not p.is_absolute() and ctx.config.get("_config_dir"):
        p = Path(ctx.config["_config_dir"]) / p
    if not p.exists():
        raise FileNotFoundError(f"[data]/[model] file {str(p)!r} not found")
    return p


def user_data(ctx: Any) -> StudyData | None:
    """The user's files named in ``[data]``, or None when the config has none."""
    spec = ctx.config.get("data") or {}
    if not spec:
        return None
    catalog = ip.data.read_catalog(_resolve(spec["catalog"], ctx)) if "catalog" in spec else None
    images = bands = wavelength = spectra = None
    if "images" in spec:
        cut = ip.data.read_cutouts(_resolve(spec["images"], ctx))
        images, bands = cut.images, list(cut.bands)
    if "spectra" in spec:
        spe = ip.data.read_spectra(_resolve(spec["spectra"], ctx))
        spectra, wavelength = spe.flux, spe.wavelength
    if "bands" in spec:
        bands = list(spec["bands"])
    if catalog is None:
        n = len(images) if images is not None else len(spectra)
        catalog = pd.DataFrame(index=range(n))
    return StudyData(catalog=catalog, bands=bands, images=images, wavelength=wavelength, spectra=spectra,
                     source="user")


def mock_universe(ctx: Any, n_default: int, **kwargs: Any) -> Any:
    """The seeded mock universe for this run (saved once in the run's cache, then reloaded)."""
    n = ctx.config["n"] or n_default
    path = ctx.cache_dir / f"universe-n{n}-seed{ctx.seed}-{'-'.join(f'{k}{v}' for k, v in sorted(kwargs.items()))}.h5"
    if path.exists():
        return ip.mock.Universe.load(path)
    u = ip.mock.make_universe(n=n, seed=ctx.seed, progress=ctx.progress, **kwargs)
    u.save(path)
    return u


def study_data(ctx: Any, n_default: int, **kwargs: Any) -> StudyData:
    """User data when ``[data]`` is given, else the mock universe."""
    data = user_data(ctx)
    if data is not None:
        return data
    u = mock_universe(ctx, n_default, **kwargs)
    return StudyData(catalog=u.catalog, bands=u.bands, images=u.images, wavelength=u.wavelength,
                     spectra=u.spectra, truth=u.truth, source="mock", universe=u)


def study_model(ctx: Any, data: Any, task: str, **train_kwargs: Any) -> Any:
    """The user's estimator from ``[model]``, else the reference estimator for ``task`` (cached per run)."""
    spec = ctx.config.get("model") or {}
    if spec:
        kwargs = {k: v for k, v in spec.items() if k != "path"}
        if "output_names" in kwargs:
            kwargs["output_names"] = tuple(kwargs["output_names"])
        if "input_names" in kwargs:
            kwargs["input_names"] = tuple(kwargs["input_names"])
        return ip.load_estimator(str(_resolve(spec["path"], ctx)), device=ctx.config["device"], **kwargs)
    train_kwargs.setdefault("fast", bool(ctx.params.get("fast", False)))
    return ip.mock.train_reference(data, task=task, seed=ctx.seed, device=ctx.config["device"],
                                   cache_dir=ctx.cache_dir / "models", progress=ctx.progress, **train_kwargs)


def held_out(n: int, seed: int) -> np.ndarray:
    """Indices of the held-out (test) split used by the reference estimators."""
    return np.asarray(ip.mock.reference_split(n, seed).test)


def colours(cat: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Colour columns ``"a-b"`` = mag_a - mag_b for every name whose two bands are in ``cat``."""
    out = {}
    for name in names:
        a, b = name.split("-")
        if a in cat and b in cat:
            out[name] = cat[a].to_numpy(float) - cat[b].to_numpy(float)
    return pd.DataFrame(out, index=cat.index)


class BandNames:
    """Minimal band container for user data given as a list of names (the trainer reads ``.names`` and
    ``bands[name].name``)."""

    def __init__(self, names: list[str]):
        self.names = tuple(names)

    def __getitem__(self, key: str) -> Any:
        if key not in self.names:
            raise KeyError(key)
        return SimpleNamespace(name=key)
