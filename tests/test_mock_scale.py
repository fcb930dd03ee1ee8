"""make_universe at scale (issue 21): the chunk loop's BLAS thread limit leaves the catalogue unchanged."""
from __future__ import annotations

import contextlib

import pandas as pd
import threadpoolctl

import interpret as ip


def test_catalogue_identical_with_and_without_the_thread_limit(monkeypatch):
    kw = dict(n=1500, seed=7, images=False, spectra=False, progress=False)
    fixed = ip.mock.make_universe(chunk_size=256, **kw)
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda *a, **k: contextlib.nullcontext())
    unlimited = ip.mock.make_universe(chunk_size=1024, **kw)
    one_chunk = ip.mock.make_universe(chunk_size=4096, **kw)
    pd.testing.assert_frame_equal(fixed.catalog, unlimited.catalog, check_exact=True)
    pd.testing.assert_frame_equal(fixed.catalog, one_chunk.catalog, check_exact=True)
