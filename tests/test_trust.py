"""Crafted data files never run code (issue 19): reference-model cache entries and saved results.

Each attack writes a marker file if it succeeds; every test checks the marker is absent.
"""
from __future__ import annotations

import io
import json
import logging
import sys
import zipfile
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from interpret._results import Result, load_result
from interpret.exceptions import DataFileError
from interpret.mock import models as mock_models
from interpret.mock import train as mock_train


# --- reference-model cache -----------------------------------------------------------------------------------
def _cache_entry(tmp_path):
    torch.manual_seed(0)
    model = mock_models.PhotometryMLP(n_mags=4)
    report = mock_train.TrainingReport(
        task="photoz", model=mock_models.MODEL_CLASSES["PhotometryMLP"], metrics={}, seconds=1.0, n_train=1,
        n_val=1, n_test=1, epochs=1, best_epoch=0, history={"train_loss": np.zeros(1), "val_loss": np.zeros(1)},
        config={"model_kwargs": {"n_mags": 4}, "input_names": ["x"], "output_names": ["z"],
                "input_shapes": [[4]]})
    stem = tmp_path / "photoz-key"
    mock_train._save(stem, model, report)
    return stem


def test_untampered_cache_entry_loads(tmp_path):
    est = mock_train._load_cached(_cache_entry(tmp_path), torch.device("cpu"))
    assert isinstance(est.module, mock_models.PhotometryMLP)


@pytest.mark.parametrize("factory, kwargs", [
    ("subprocess:run", {"args": ["touch", "{marker}"]}),
    ("os:system", {"command": "touch {marker}"}),
    ("builtins:exec", {"source": "open('{marker}', 'w').close()"}),
    ("interpret.mock.models:PhotometryMLP.__init__.__globals__", {}),
    (["not", "a", "string"], {}),
])
def test_cache_entry_naming_foreign_code_is_not_run(tmp_path, caplog, factory, kwargs):
    marker = tmp_path / "pwned"
    stem = _cache_entry(tmp_path)
    meta = json.loads(stem.with_suffix(".json").read_text())
    meta["model"] = factory
    meta["config"]["model_kwargs"] = json.loads(json.dumps(kwargs).replace("{marker}", str(marker)))
    stem.with_suffix(".json").write_text(json.dumps(meta))
    with caplog.at_level(logging.WARNING, logger="interpret.mock.train"):
        assert mock_train._load_cached(stem, torch.device("cpu")) is None      # -> retrained, not run
    assert not marker.exists()
    assert "not a reference model" in caplog.text and str(stem.with_suffix(".json")) in caplog.text


def test_damaged_cache_entry_is_ignored(tmp_path, caplog):
    stem = _cache_entry(tmp_path)
    stem.with_suffix(".json").write_text("{truncated")
    with caplog.at_level(logging.WARNING, logger="interpret.mock.train"):
        assert mock_train._load_cached(stem, torch.device("cpu")) is None
    assert "damaged or foreign cache entry" in caplog.text


# --- saved results -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Demo(Result):
    values: np.ndarray
    label: str = "x"


def _crafted_result(path, cls_name):
    buf = io.BytesIO()
    np.savez(buf)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.json", json.dumps({"class": cls_name, "format": 1, "fields": {}, "frames": {}}))
        zf.writestr("arrays.npz", buf.getvalue())


def test_result_naming_a_planted_module_does_not_import_it(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    (tmp_path / "evil_results.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("evil_results.Evil", "subprocess.run", "os.system", "interpret.cli.main",
                 "interpret.studies.__init__.X", None):
        path = tmp_path / "r.ipres"
        _crafted_result(path, name)
        with pytest.raises(DataFileError, match="result class"):
            load_result(path)
    assert not marker.exists() and "evil_results" not in sys.modules


def test_registered_results_still_load(tmp_path):
    _Demo(np.arange(3.0), label="ok").save(tmp_path / "d.ipres")
    assert load_result(tmp_path / "d.ipres").label == "ok"
    import importlib

    from interpret._results import _RESULT_MODULES  # every module in the allow-list exists and is ours
    assert all(importlib.import_module(m).__name__.startswith("interpret.") for m in _RESULT_MODULES)


def test_inflation_guard(tmp_path, monkeypatch):
    path = tmp_path / "big.ipres"
    _Demo(np.zeros(2**21)).save(path)               # 16 MiB of zeros packs to a few KiB (peak: npz bytes + arrays)
    assert path.stat().st_size < 2**20
    with pytest.raises(DataFileError, match=r"unpack to about 16 MiB \(more than the 1 MiB allowed\).*pass max_bytes="):
        load_result(path, max_bytes=2**20)
    import interpret._memory as memory

    monkeypatch.setattr(memory, "available_memory", lambda device="cpu": 8 * 2**20)
    with pytest.raises(DataFileError, match="more than the 4 MiB allowed"):
        load_result(path)
    assert load_result(path, max_bytes=2**26).values.shape == (2**21,)


def test_truncated_result_names_the_file(tmp_path):
    path = tmp_path / "t.ipres"
    _Demo(np.arange(1000.0)).save(path)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataFileError, match="t.ipres"):
        load_result(path)
