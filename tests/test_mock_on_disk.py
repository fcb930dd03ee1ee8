"""make_universe(path=...): images and spectra written chunk by chunk, read back lazily (issue 21)."""
from __future__ import annotations

import os
import pickle
import tracemalloc

import numpy as np
import pandas as pd
import pytest

import interpret as ip
from interpret.exceptions import ValidationError
from interpret.mock import _h5array
from interpret.mock import universe as universe_mod
from interpret.mock._h5array import H5Array
from interpret.mock.universe import Universe, make_universe

_ARRAYS = ("images", "spectra", "spectra_ivar", "true_flux", "wavelength")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    path = tmp_path_factory.mktemp("disk") / "u.h5"
    mem = make_universe(n=300, seed=5, progress=False)
    disk = make_universe(n=300, seed=5, chunk_size=64, path=path, progress=False)
    return mem, disk, path


def test_chunked_universe_on_disk_equals_the_in_memory_one(pair):
    mem, disk, path = pair
    assert path.exists() and not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]
    assert isinstance(disk.images, H5Array) and isinstance(disk.spectra, H5Array)
    pd.testing.assert_frame_equal(disk.catalog, mem.catalog)
    for name in _ARRAYS:
        a, b = np.asarray(getattr(disk, name)), getattr(mem, name)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert {**disk.config, "chunk_size": 0} == {**mem.config, "chunk_size": 0} and repr(disk) == repr(mem)
    eager = Universe.load(path)
    assert type(eager.images) is np.ndarray
    np.testing.assert_array_equal(eager.spectra, mem.spectra)


def test_lazy_universe_subsets_and_saves_like_an_in_memory_one(pair, tmp_path, monkeypatch):
    mem, disk, _ = pair
    monkeypatch.setattr(_h5array, "BLOCK_BYTES", 5 * disk.images.nbytes // len(disk))   # 5 rows per block
    idx = [299, 0, 17, 17, 150]
    np.testing.assert_array_equal(disk.subset(idx).images, mem.subset(idx).images)
    copy = tmp_path / "copy.h5"
    disk.save(copy)
    back = Universe.load(copy, lazy=True)
    np.testing.assert_array_equal(back.spectra_ivar[:], mem.spectra_ivar)
    pd.testing.assert_frame_equal(back.catalog, mem.catalog)


@pytest.mark.parametrize("key", [7, -1, slice(None), slice(10, 40), slice(5, 200, 7), slice(None, None, -3),
                                 [4, 1, 1, 250], np.array([[3, 2], [1, 0]]), (slice(2, 9), 1), (12, 0, 5),
                                 (Ellipsis, 3), (slice(0, 0),)])
def test_h5array_indexes_like_numpy(pair, monkeypatch, key):
    mem, disk, _ = pair
    monkeypatch.setattr(_h5array, "BLOCK_BYTES", 16 * disk.images.nbytes // len(disk))
    np.testing.assert_array_equal(disk.images[key], mem.images[key])
    mask = np.arange(len(mem)) % 3 == 0
    np.testing.assert_array_equal(disk.spectra[mask], mem.spectra[mask])
    with pytest.raises(IndexError):
        disk.images[300]


def test_h5array_iterates_and_pickles(pair, monkeypatch):
    mem, disk, _ = pair
    monkeypatch.setattr(_h5array, "BLOCK_BYTES", 50 * disk.spectra.nbytes // len(disk))
    rows = list(disk.spectra)
    assert len(rows) == 300
    np.testing.assert_array_equal(np.stack(rows), mem.spectra)
    again = pickle.loads(pickle.dumps(disk.images))
    np.testing.assert_array_equal(again[[5, 6]], mem.images[[5, 6]])
    assert np.asarray(again, dtype=np.float64).dtype == np.float64 and again.ndim == 4


def test_peak_memory_does_not_grow_with_n(tmp_path):
    kw = {"seed": 0, "bands": "sdss", "chunk_size": 64, "progress": False}
    make_universe(n=64, **kw)                     # fill the grids' caches before measuring
    tracemalloc.start()
    try:
        u = make_universe(n=768, path=tmp_path / "u.h5", **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    held = u.images.nbytes + u.spectra.nbytes + u.spectra_ivar.nbytes      # 37.5 MiB
    assert peak < 0.7 * held, (peak / 2**20, held / 2**20)   # about 20 MiB measured; in memory it is 58 MiB


def test_failed_generation_leaves_no_file(tmp_path, monkeypatch):
    path = tmp_path / "u.h5"
    calls = []

    def failing(self, bounds):
        calls.append(bounds)
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return real(self, bounds)

    real = universe_mod._ChunkWorker.__call__
    monkeypatch.setattr(universe_mod._ChunkWorker, "__call__", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        make_universe(n=200, seed=0, chunk_size=64, bands="sdss", image_size=16, path=path, progress=False)
    assert os.listdir(tmp_path) == []


def test_disk_guard(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**6, 10**6 - 1000, 1000))
    with pytest.raises(ValidationError, match="GiB of disk for images and spectra"):
        make_universe(n=100, seed=0, path=tmp_path / "sub" / "u.h5", progress=False)
    ip.mock.make_universe(n=20, seed=0, images=False, spectra=False, path=tmp_path / "cat.h5", progress=False)
    assert Universe.load(tmp_path / "cat.h5").images is None
