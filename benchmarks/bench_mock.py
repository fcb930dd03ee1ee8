"""Mock universe generation: time and peak memory of ``make_universe(10_000)`` with images and spectra.

The issue's budget is < 60 s and < 2 GB peak on 2 cores. Each configuration runs in a fresh subprocess so
that its peak resident set size (``ru_maxrss``) is its own; the subprocess is limited to 2 CPU cores
(``os.sched_setaffinity``) and BLAS threads are set to 2. Records wall time, peak RSS and the ratio to the
60 s budget, plus the catalogue-only time (the per-galaxy cost of the SED + photometry alone).

``--disk`` measures ``make_universe(n, path=...)`` instead (images and spectra written chunk by chunk to an
HDF5 file, issue 21's goal: 10^5 galaxies with images and spectra within 2 GB of peak memory) at 10^4 and
10^5 galaxies, and the in-memory run at 10^4 in the same session for the ratio.

Usage: ``python -m benchmarks.bench_mock [--disk] [--sizes 10000,100000]``
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from benchmarks._common import record

__all__ = ["main", "run_case"]

_CHILD = """
import json, os, resource, sys, time
os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:2]))
import interpret as ip
n, images, spectra = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3] == "1"
path = sys.argv[4] or None
ip.mock.make_universe(n=64, seed=1, images=images, spectra=spectra, progress=False)   # warm caches
t0 = time.perf_counter()
u = ip.mock.make_universe(n=n, seed=0, images=images, spectra=spectra, progress=False, path=path)
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
nbytes = sum(a.nbytes for a in (u.images, u.spectra, u.spectra_ivar) if a is not None)
print(json.dumps({"seconds": dt, "peak_gb": peak, "output_gb": nbytes / 1024**3}))
"""


def run_case(n: int, images: bool = True, spectra: bool = True, path: str | None = None) -> dict:
    """Run one generation in a 2-core subprocess (written to ``path`` when given); seconds, peak GB, output GB."""
    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2",
           "CI": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(int(images)), str(int(spectra)), path or ""],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_disk(sizes: tuple[int, ...]) -> None:
    """Images + spectra written to disk chunk by chunk, against the in-memory run at the smallest size."""
    mem = run_case(sizes[0])
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            disk = run_case(n, path=os.path.join(tmp, f"u{n}.h5"))
            record(f"mock.make_universe({n:.0e}, 9 bands 32x32 images + spectra, path= on disk, chunk_size 1024)",
                   f"{disk['seconds']:.1f} s, peak RSS {disk['peak_gb']:.2f} GB (on disk {disk['output_gb']:.2f} GB)"
                   + (f"; in memory {mem['seconds']:.1f} s, {mem['peak_gb']:.2f} GB" if n == sizes[0] else ""),
                   f"{disk['peak_gb'] / 2:.2f} x 2 GB; {1e3 * disk['seconds'] / n:.2f} ms/galaxy",
                   ("h5py", "scipy"))
            os.unlink(os.path.join(tmp, f"u{n}.h5"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disk", action="store_true", help="measure make_universe(path=...) (issue 21)")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated sizes for --disk")
    args = parser.parse_args()
    if args.disk:
        run_disk(tuple(int(float(v)) for v in args.sizes.split(",")))
        return
    full = run_case(10_000)
    record("mock.make_universe(10k, 9 bands 32x32 images + spectra)",
           f"{full['seconds']:.1f} s, peak RSS {full['peak_gb']:.2f} GB (outputs {full['output_gb']:.2f} GB)",
           f"{full['seconds'] / 60:.2f} x 60 s budget; {full['peak_gb'] / 2:.2f} x 2 GB", ("astropy", "scipy"))
    cat = run_case(10_000, images=False, spectra=False)
    record("mock.make_universe(10k, catalogue only)", f"{cat['seconds']:.1f} s, peak RSS {cat['peak_gb']:.2f} GB",
           f"{cat['seconds'] / full['seconds']:.2f} of the full run", ("astropy", "scipy"))


if __name__ == "__main__":
    main()
