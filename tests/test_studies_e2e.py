"""Every packaged study, end to end on its tiny configuration: the contract every study keeps.

One parametrised test per promise, over every study in ``interpret.studies.STUDIES``: figures as PNG and PDF,
each embedded in the HTML report with a caption; the manifest records the run; a rerun with identical inputs
takes every heavy step from the cache and gives identical tables; an unknown ``[params]`` key is refused,
naming the valid keys. The science of each study is checked in its own file, on the same shared run
(``conftest.study_run``).
"""
from __future__ import annotations

import importlib
import importlib.util
import json

import pytest
from _study_checks import HEAVY, check_figures_and_report, run_config, tiny

from interpret.exceptions import ConfigError
from interpret.studies import STUDIES

_HAVE_PICZL = importlib.util.find_spec("keras") is not None and importlib.util.find_spec("piczl") is not None


def _params(names):
    """One pytest param per study, grouped per study for pytest-xdist (``--dist loadgroup``)."""
    marks = {"piczl": [pytest.mark.skipif(not _HAVE_PICZL, reason="needs keras and piczl (make install)")]}
    return [pytest.param(n, marks=[pytest.mark.xdist_group(n), *marks.get(n, [])]) for n in names]


def test_every_study_has_a_tiny_configuration():
    assert set(HEAVY) == set(STUDIES)


@pytest.mark.parametrize("name", _params(STUDIES))
def test_figures_report_and_manifest(name, study_run):
    folder, ctx = study_run(name)
    module = importlib.import_module(f"interpret.studies.{name}")
    figures = list(module.FIGURES.values()) if isinstance(module.FIGURES, dict) else list(module.FIGURES)
    manifest = check_figures_and_report(ctx, figures)
    assert manifest["study"] == name and manifest["title"]
    assert manifest["notes"] == ctx.notes and len(ctx.notes) >= 1
    assert len(manifest["figures"]) == len(figures)
    for entry in manifest["figures"]:
        assert entry["caption"].strip(), f"{name}: figure {entry['path']} has no caption"
    assert json.loads((folder / "tiny" / "manifest.json").read_text()) == manifest


@pytest.mark.parametrize("name", _params(STUDIES))
def test_rerun_takes_heavy_steps_from_the_cache(name, study_run):
    folder, first = study_run(name)
    again = run_config(folder, "tiny", tiny(name))
    recomputed = [k for k in again.timings if k.startswith(HEAVY[name])]
    assert not recomputed, f"{name}: recomputed {recomputed}"
    assert again.notes == first.notes, f"{name}: a cached rerun reports different notes"
    assert sorted(again.tables) == sorted(first.tables)
    for key, table in first.tables.items():
        assert again.tables[key].equals(table), f"{name}: table {key} differs on a cached rerun"


@pytest.mark.parametrize("name", STUDIES)
def test_unknown_params_key_is_refused_naming_the_valid_keys(name, tmp_path):
    with pytest.raises(ConfigError, match=rf"\[params\] of study '{name}': unknown key\(s\) 'no_such_key'; "
                                          r"valid keys are "):
        run_config(tmp_path, "bad", tiny(name, n=50) + "no_such_key = 3\n")
