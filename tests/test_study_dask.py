"""A whole study on a Dask cluster gives the same tables, bit for bit, as with joblib's default backend.

``tests/test_parallel_dask.py`` checks the mechanism on one seeded map (fast); this runs the tiny stellar_mass
config end to end both ways (slow: two study runs and a cluster start). ``benchmarks/bench_study_scale.py``
does the same at survey size and records the times.

FCI is included: causal-learn iterates over sets of nodes hashed by name, and Dask's nanny gives every worker
``PYTHONHASHSEED=6640``; the node names are handed to causal-learn with a seed-independent hash
(``interpret.causal._run._StableName``), so its bootstrap frequencies no longer depend on the process.
"""
from __future__ import annotations

import pytest
from _study_checks import run_config, tiny

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")  # dask emits resource/port warnings on shutdown
def test_stellar_mass_tables_identical_on_dask(tmp_path):
    import joblib
    import numpy as np
    from distributed import Client, LocalCluster

    text = tiny("stellar_mass").replace("jobs = 1", "jobs = 2")   # the bootstraps go through joblib
    assert "jobs = 2" in text
    plain = run_config(tmp_path, "plain", text)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster), joblib.parallel_config(backend="dask"):
        on_dask = run_config(tmp_path, "dask", text)
    assert sorted(plain.tables) == sorted(on_dask.tables)
    for name, frame in plain.tables.items():
        other = on_dask.tables[name]
        assert list(frame.columns) == list(other.columns) and frame.index.equals(other.index), name
        for col in frame.columns:
            a, b = frame[col].to_numpy(), other[col].to_numpy()
            same = a.tobytes() == b.tobytes() if a.dtype.kind in "fiub" else list(map(str, a)) == list(map(str, b))
            assert same, f"table {name!r}, column {col!r} differs on Dask"
    assert plain.notes == on_dask.notes
    assert np.array_equal(plain.load("predictions")["mass_cnn"], on_dask.load("predictions")["mass_cnn"])
