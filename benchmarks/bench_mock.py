"""Mock universe generation: time and peak memory of ``make_universe(10_000)`` with images and spectra.

The issue's budget is < 60 s and < 2 GB peak on 2 cores. Each configuration runs in a fresh subprocess so
that its peak resident set size (``ru_maxrss``) is its own; the subprocess is limited to 2 CPU cores
(``os.sched_setaffinity``) and BLAS threads are set to 2. Records wall time, peak RSS and the ratio to the
60 s budget, plus the catalogue-only time (the per-galaxy cost of the SED + photometry alone).

Usage: ``python -m benchmarks.bench_mock``
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks._common import record

__all__ = ["main", "run_case"]

_CHILD = """
import json, os, resource, sys, time
os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:2]))
import interpret as ip
n, images, spectra = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3] == "1"
ip.mock.make_universe(n=64, seed=1, images=images, spectra=spectra, progress=False)   # warm caches
t0 = time.perf_counter()
u = ip.mock.make_universe(n=n, seed=0, images=images, spectra=spectra, progress=False)
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
nbytes = sum(a.nbytes for a in (u.images, u.spectra, u.spectra_ivar) if a is not None)
print(json.dumps({"seconds": dt, "peak_gb": peak, "output_gb": nbytes / 1024**3}))
"""


def run_case(n: int, images: bool = True, spectra: bool = True) -> dict:
    """Run one generation in a 2-core subprocess; return seconds, peak GB and output GB."""
    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2",
           "CI": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(int(images)), str(int(spectra))],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    full = run_case(10_000)
    record("mock.make_universe(10k, 9 bands 32x32 images + spectra)",
           f"{full['seconds']:.1f} s, peak RSS {full['peak_gb']:.2f} GB (outputs {full['output_gb']:.2f} GB)",
           f"{full['seconds'] / 60:.2f} x 60 s budget; {full['peak_gb'] / 2:.2f} x 2 GB", ("astropy", "scipy"))
    cat = run_case(10_000, images=False, spectra=False)
    record("mock.make_universe(10k, catalogue only)", f"{cat['seconds']:.1f} s, peak RSS {cat['peak_gb']:.2f} GB",
           f"{cat['seconds'] / full['seconds']:.2f} of the full run", ("astropy", "scipy"))


if __name__ == "__main__":
    main()
