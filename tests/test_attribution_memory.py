"""Streaming over galaxies: peak memory <= inputs + outputs + a fixed working set (issue 21)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from interpret.attribution import attribute, make_baselines

_SCRIPT = textwrap.dedent("""
    import resource, sys, warnings
    import numpy as np, torch
    from interpret.attribution import attribute
    warnings.simplefilter("ignore")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    n, width, ws = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    net = torch.nn.Sequential(torch.nn.Linear(width, 32), torch.nn.SiLU(), torch.nn.Linear(32, 1))
    x = np.random.default_rng(0).normal(size=(n, width)).astype(np.float32)
    attribute(net, x[:256], n_steps=8, batch_size=64, progress=False, working_set=ws)       # warm-up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    a = attribute(net, x, n_steps=8, batch_size=64, progress=False, working_set=ws)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    print(grown, a.values.nbytes, float(np.abs(a.delta).max()))
""")


def test_peak_memory_is_outputs_plus_working_set():
    """A spectrum MLP on 4000 x 2000 inputs (32 MB) with an 4 MB working set: holding the interpolated passes,
    a copy of the inputs (a zero baseline per galaxy) or the per-chunk parts at once would add >= 32 MB."""
    n, width, ws = 4000, 2000, 4 * 2**20
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(n), str(width), str(ws)], capture_output=True,
                         text=True, timeout=300, check=True)
    grown, outputs, delta = (float(v) for v in out.stdout.split())
    assert delta < 1e-3
    assert grown <= outputs + ws + 16 * 2**20, f"peak grew by {grown / 2**20:.0f} MB for {outputs / 2**20:.0f} MB of outputs"


def test_shared_baselines_are_views_and_streamed_values_unchanged():
    x = np.random.default_rng(1).normal(size=(50, 3, 8, 8)).astype(np.float32)
    for spec in ("zeros", "mean", 0.5, x[0]):
        b = make_baselines((x,), spec)[0]
        assert b.shape == x.shape and b.strides[0] == 0 and not b.flags.writeable
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.SiLU(), torch.nn.Flatten(), torch.nn.Linear(144, 1))
    full = attribute(net, x, n_steps=8, batch_size=64, progress=False)
    small = attribute(net, x, n_steps=8, batch_size=64, progress=False, working_set=20_000)   # 1-2 galaxies/chunk
    np.testing.assert_allclose(small.values, full.values, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(small.delta, full.delta, atol=1e-6)


@pytest.mark.parametrize("bad", [0, -1, "1GB"])
def test_working_set_validated(bad):
    with pytest.raises(Exception, match="working_set"):
        attribute(torch.nn.Linear(3, 1), np.ones((4, 3), np.float32), progress=False, working_set=bad)


_PREDICT = textwrap.dedent("""
    import resource
    import numpy as np, torch
    from interpret.estimators import load_estimator
    torch.manual_seed(0)
    torch.set_num_threads(1)
    est = load_estimator(torch.nn.Sequential(torch.nn.Linear(9, 64), torch.nn.SiLU(), torch.nn.Linear(64, 1)))
    x = np.random.default_rng(0).normal(size=(2_000_000, 9)).astype(np.float32)
    est.predict(x[:5000], progress=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    y = est.predict(x, batch_size=1024, progress=False)
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024, y.nbytes)
""")


def test_predict_peak_memory_is_its_output():
    """Batches are copied into one output array: a list of per-batch arrays fragmented the heap (~180 kB kept per
    1024-row batch, 360 MB here for an 8 MB output)."""
    out = subprocess.run([sys.executable, "-c", _PREDICT], capture_output=True, text=True, timeout=300, check=True)
    grown, outputs = (float(v) for v in out.stdout.split())
    assert grown <= outputs + 16 * 2**20, f"predict grew by {grown / 2**20:.0f} MB for {outputs / 2**20:.0f} MB"
