"""Streamed vs in-memory attribution and prediction: throughput and peak memory.

A catalogue of galaxy cutouts (5 bands, 64x64, float32) is written to an HDF5 file (read into fresh buffers;
a memory-mapped ``.npy`` would count its file pages in the resident set and hide the difference). Each mode runs in a
fresh subprocess that reports its wall time and its peak resident memory *above* the level reached after
importing torch, building the model and a warm-up pass:

* ``attr_memory``  - read the whole dataset, ``attribute()`` (Integrated Gradients) over all of it;
* ``attr_stream``  - :func:`interpret.streaming.stream_attribute` chunk by chunk into another HDF5 file;
* ``pred_memory`` / ``pred_stream`` - the same for ``Estimator.predict`` / :func:`stream_predict`.

The peak is the resident-set high-water mark (``VmHWM``) after resetting it through ``/proc/self/clear_refs``
just before the run, minus the resident set at that moment.

Recorded ratios: streamed/in-memory throughput, and in-memory/streamed peak memory.

Usage: ``python -m benchmarks.bench_streaming``
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._common import record

__all__ = ["main"]

N_ATTR, N_PRED, SHAPE = 1536, 4096, (5, 64, 64)
N_STEPS, CHUNK, BATCH = 4, 64, 8


def _model():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(5, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(4),
        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(4),
        torch.nn.Flatten(), torch.nn.Linear(8 * 16, 1))


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _reset_peak() -> float:
    """Reset the peak-RSS mark (Linux: write 5 to /proc/self/clear_refs) and return the current RSS in MB.

    Falls back to ``ru_maxrss`` (a high-water mark since process start: peaks below it are not seen)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _status_mb("VmRSS") or 0.0
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _peak_mb() -> float:
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load(path: str) -> np.ndarray:
    import h5py

    with h5py.File(path, "r") as fh:
        return fh["x"][:]


def _worker(mode: str, path: str, out: str) -> dict:
    """Run one mode in this (fresh) process; wall time and peak RSS above the post-import baseline."""
    import torch

    from interpret.attribution import attribute
    from interpret.estimators import load_estimator
    from interpret.streaming import read_rows_done, stream_attribute, stream_predict

    torch.set_num_threads(1)
    est = load_estimator(_model())
    attr_kw = dict(n_steps=N_STEPS, batch_size=BATCH, baselines="zeros", progress=False)
    attribute(est, np.zeros((BATCH, *SHAPE), np.float32), **attr_kw)   # warm-up, before the baseline
    est.predict(np.zeros((256, *SHAPE), np.float32), batch_size=256, progress=False)
    base = _reset_peak()
    t0 = time.perf_counter()
    if mode == "attr_memory":
        x = _load(path)
        values = attribute(est, x, **attr_kw).values
        n = len(values)
    elif mode == "attr_stream":
        n = read_rows_done(stream_attribute(est, path, out, chunk_size=CHUNK, **attr_kw))
    elif mode == "pred_memory":
        n = len(est.predict(_load(path), batch_size=256, progress=False))
    else:
        n = read_rows_done(stream_predict(est, path, out, chunk_size=512, batch_size=256, progress=False))
    return {"seconds": time.perf_counter() - t0, "n": n, "peak_mb": _peak_mb() - base}


def _run(mode: str, path: Path, tmp: Path) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_streaming", "--worker", mode, str(path),
           str(tmp / f"{mode}_out.h5")]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _pair(kind: str, n: int, tmp: Path) -> tuple[dict, dict]:
    import h5py

    path = tmp / f"{kind}.h5"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as fh:
        ds = fh.create_dataset("x", shape=(n, *SHAPE), dtype=np.float32, chunks=(64, *SHAPE))
        for a in range(0, n, 512):
            ds[a:a + 512] = np.abs(rng.normal(size=(min(512, n - a), *SHAPE)))
    return _run(f"{kind}_memory", path, tmp), _run(f"{kind}_stream", path, tmp)


def main() -> list[dict]:
    """Run both pairs in subprocesses and record them; returns the measurements."""
    out = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind, n, what in (("attr", N_ATTR, f"IG n_steps={N_STEPS}, chunk {CHUNK}"),
                              ("pred", N_PRED, "predict, chunk 512")):
            mem, st = _pair(kind, n, tmp)
            data_mb = n * int(np.prod(SHAPE)) * 4 / 2**20
            result = (f"{what}, N={n} CNN 5x64x64 ({data_mb:.0f} MB): streamed {st['n'] / st['seconds']:.0f} gal/s, "
                      f"peak +{st['peak_mb']:.0f} MB; in-memory {mem['n'] / mem['seconds']:.0f} gal/s, "
                      f"peak +{mem['peak_mb']:.0f} MB")
            ratio = (f"throughput streamed/in-memory {mem['seconds'] / st['seconds']:.2f}; peak memory "
                     f"in-memory/streamed {mem['peak_mb'] / max(st['peak_mb'], 1.0):.1f}x")
            record(f"streaming: {'attribution' if kind == 'attr' else 'prediction'} HDF5 -> HDF5", result,
                   ratio, packages=("torch", "h5py"))
            out.append({"kind": kind, "memory": mem, "stream": st})
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(_worker(*sys.argv[2:5])))
    else:
        main()
