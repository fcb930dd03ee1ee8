"""Loops routed through interpret.parallel run unchanged on a Dask cluster, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from interpret.parallel import seeded_map

distributed = pytest.importorskip("distributed")


def _bootstrap_mean(item, rng):
    data = np.arange(100.0) * item
    return float(data[rng.integers(0, 100, size=100)].mean())


@pytest.mark.filterwarnings("ignore")  # dask emits resource/port warnings on shutdown
def test_dask_backend_matches_serial_bit_for_bit():
    import joblib
    from distributed import Client, LocalCluster

    serial = seeded_map(_bootstrap_mean, range(8), seed=11, n_jobs=1, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster):
        with joblib.parallel_config(backend="dask"):
            on_dask = seeded_map(_bootstrap_mean, range(8), seed=11, progress=False)
    assert on_dask == serial
