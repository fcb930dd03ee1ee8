"""The users' path: a wheel built from the repository, installed outside the checkout, run from another folder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``pip install --no-deps --target`` of a freshly built wheel; the venv provides the dependencies."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(REPO),
                    "-w", str(root / "dist")], check=True, capture_output=True, cwd=root)
    wheel = next((root / "dist").glob("astro_interpret-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(root / "site"),
                    str(wheel)], check=True, capture_output=True, cwd=root)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(root / "site"), "MPLBACKEND": "Agg", "CI": "true"}
    return root, elsewhere, env


def _run(args: list[str], cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_wheel_ships_every_study_and_config(installed):
    root, elsewhere, env = installed
    code = ("import interpret, interpret.studies as s, importlib; print(interpret.__file__); "
            "[importlib.import_module('interpret.studies.' + n) for n in s.configs(True)]; "
            "print(sorted(s.configs(False)), sorted(s.configs(True)))")
    out = _run(["-c", code], elsewhere, env)
    assert out.returncode == 0, out.stderr
    first, names = out.stdout.splitlines()[:2]
    assert first.startswith(str(root / "site"))         # the installed copy, not the checkout
    for study in ("photoz", "sdss_real", "stellar_mass", "band_utilization", "optical_lines_to_ir"):
        assert names.count(f"'{study}'") == 2, names


def test_installed_demo_and_run_work_from_an_unrelated_folder(installed):
    root, elsewhere, env = installed
    out = _run(["-m", "interpret.cli", "demo", "--only", "photoz", "--out", "runs", "--no-progress"], elsewhere, env)
    assert out.returncode == 0, out.stderr[-2000:]
    manifest = json.loads((elsewhere / "runs" / "photoz" / "manifest.json").read_text())
    assert len(manifest["figures"]) == 6 and (elsewhere / "runs" / "photoz" / "report.html").is_file()
    # `interpret run` of a config of the user's own, in this folder
    (elsewhere / "mine.toml").write_text('study = "photoz"\nn = 1500\n[params]\nfast = true\nn_boot = 10\n'
                                         'n_attribution = 50\nig_steps = 8\nn_boot_shapley = 0\npid_n_boot = 0\n'
                                         'pid_bins = 4\ncausal_n_boot = 4\nretrain = "none"\n')
    out = _run(["-m", "interpret.cli", "run", "mine.toml", "--out", "mine", "--no-progress"], elsewhere, env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (elsewhere / "mine" / "tables" / "metrics.csv").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("study", ["sdss_real", "band_utilization", "stellar_mass", "optical_lines_to_ir"])
def test_installed_demo_of_every_study(installed, study):
    _, elsewhere, env = installed
    out = _run(["-m", "interpret.cli", "demo", "--only", study, "--out", "runs", "--no-progress"], elsewhere, env,
               timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
