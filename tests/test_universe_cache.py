"""Mock-universe cache key, crash-safe save and input guards (issue 19)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import interpret as ip
from interpret.exceptions import ValidationError
from interpret.mock import universe as universe_mod
from interpret.mock.universe import universe_digest


def test_digest_normalises_defaults_and_sees_every_parameter():
    base = universe_digest(100, 0)
    assert base == universe_digest(n=100, seed=0, depths="deep", image_size=32, progress=False, n_jobs=2,
                                   chunk_size=64)
    others = [universe_digest(101, 0), universe_digest(100, 1), universe_digest(100, 0, image_size=48),
              universe_digest(100, 0, depths="survey"), universe_digest(100, 0, depths={"u": 23.0}),
              universe_digest(100, 0, bands="sdss"), universe_digest(100, 0, images=False),
              universe_digest(100, 0, interventions={"dust_av": 0.0}),
              universe_digest(100, 0, redshift_range=(0.01, 0.5))]
    assert len({base, *others}) == len(others) + 1
    with pytest.raises(ValidationError, match="universe_digest"):
        universe_digest(100, 0, colour="red")


def test_digest_follows_the_generator_version(monkeypatch):
    base = universe_digest(100, 0)
    monkeypatch.setattr(universe_mod, "GENERATOR_VERSION", universe_mod.GENERATOR_VERSION + 1)
    assert universe_digest(100, 0) != base
    monkeypatch.undo()
    universe_mod._generator_code_digest.cache_clear()
    monkeypatch.setattr(universe_mod, "_generator_code_digest", lambda: "edited source")
    assert universe_digest(100, 0) != base


@pytest.mark.parametrize("value", [float("nan"), -3.0, float("inf"), "deep-ish"])
def test_bad_depths_are_refused(value):
    with pytest.raises(ValidationError, match=r"depths\['u'\] must be a 5-sigma AB depth"):
        ip.mock.make_universe(n=8, seed=0, images=False, spectra=False, depths={"u": value}, progress=False)


@pytest.mark.parametrize("kwargs, knob", [({"n": 10**9}, "'n'"), ({"n": 2000, "image_size": 4096}, "image_size")])
def test_memory_guard(kwargs, knob):
    with pytest.raises(ValidationError, match=rf"needs about .* GiB .* available; lower .*{knob}"):
        ip.mock.make_universe(seed=0, progress=False, **kwargs)


_CHILD = """
import sys
import interpret as ip
u = ip.mock.make_universe(n=512, seed=0, image_size=48, progress=False)
path = sys.argv[1]
u.save(path)
print("saved", flush=True)
while True:          # overwrite the same path until killed
    u.save(path)
"""


def test_kill_during_save_leaves_old_file_or_none(tmp_path):
    path = tmp_path / "universe.h5"
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "saved"
        for delay in (0.05, 0.13, 0.21):
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGSTOP)       # freeze mid-write: the final path must hold a valid file
            u = ip.mock.Universe.load(path)
            assert len(u) == 512 and u.images.shape[-1] == 48
            os.kill(proc.pid, signal.SIGCONT)
        time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    u = ip.mock.Universe.load(path)
    assert len(u) == 512
    np.testing.assert_array_equal(u.catalog["r"], ip.mock.Universe.load(path).catalog["r"])
    leftovers = [p for p in tmp_path.iterdir() if p.name != "universe.h5"]
    assert all(p.name.startswith(".universe.h5.") and p.suffix == ".tmp" for p in leftovers)
