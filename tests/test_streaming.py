"""Streaming over on-disk inputs: every reader, incremental HDF5 output, resume after interruption."""
from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from interpret.exceptions import DataFileError
from interpret.streaming import open_source, read_rows_done, stream_map


@pytest.fixture()
def data():
    return np.random.default_rng(0).normal(size=(103, 3)).astype(np.float32)


def _write(kind, path, data):
    if kind == "npy":
        np.save(path, data)
    elif kind == "h5":
        with h5py.File(path, "w") as fh:
            fh["x"] = data
    elif kind == "parquet":
        pd.DataFrame(data, columns=["a", "b", "c"]).to_parquet(path, row_group_size=10)
    elif kind == "fits":
        fits.PrimaryHDU(data).writeto(path)


@pytest.mark.parametrize("kind", ["npy", "h5", "parquet", "fits"])
def test_readers_return_the_same_rows(tmp_path, data, kind):
    path = tmp_path / f"x.{kind}"
    _write(kind, path, data)
    src = open_source(path)
    assert src.shape == data.shape
    np.testing.assert_allclose(src.read(7, 38), data[7:38])
    out = stream_map(lambda c: c * 2, path, tmp_path / "y.h5", chunk_size=16, progress=False)
    with h5py.File(out) as fh:
        np.testing.assert_allclose(fh["result"][:], data * 2)
        assert fh.attrs["rows_done"] == len(data)
    src.close()


def test_interrupted_run_resumes_without_loss_or_duplication(tmp_path, data):
    path = tmp_path / "x.npy"
    np.save(path, data)
    seen: list[tuple[int, int]] = []
    fail_after = [3]

    def flaky(chunk):
        if len(seen) == fail_after[0]:
            fail_after[0] = -1
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C midway
        seen.append((float(chunk[0, 0]), len(chunk)))
        return chunk.sum(axis=1)

    out = tmp_path / "y.h5"
    with pytest.raises(KeyboardInterrupt):
        stream_map(flaky, path, out, chunk_size=10, progress=False)
    assert read_rows_done(out) == 30
    stream_map(flaky, path, out, chunk_size=10, progress=False)
    with h5py.File(out) as fh:
        np.testing.assert_allclose(fh["result"][:], data.sum(axis=1), rtol=1e-6)
    assert sum(n for _, n in seen) == len(data)  # each row processed exactly once
    assert len({first for first, _ in seen}) == len(seen)


def test_multi_input_and_guards(tmp_path, data):
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, data)
    np.save(b, data[:, :1])
    out = stream_map(lambda c: {"s": c[0].sum(1) + c[1][:, 0]}, (a, b), tmp_path / "y.h5", chunk_size=50,
                     progress=False)
    with h5py.File(out) as fh:
        np.testing.assert_allclose(fh["s"][:], data.sum(1) + data[:, 0], rtol=1e-6)
    with pytest.raises(DataFileError, match="different job"):
        stream_map(lambda c: c, a, out, chunk_size=50, progress=False, tag="other")
    with pytest.raises(FileNotFoundError):
        open_source(tmp_path / "missing.npy")
    with pytest.raises(DataFileError, match="supported"):
        (tmp_path / "z.txt").write_text("x")
        open_source(tmp_path / "z.txt")
