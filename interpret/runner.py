"""Run a study from a TOML config: validation, on-disk caching of heavy steps, figures, manifest, report.

A study is a Python module (``analyses/<name>.py``) with

``DEFAULTS``
    dict of the study's parameters (the ``[params]`` table) with their defaults; unknown keys are refused.
``compute(ctx) -> None``
    does the work; heavy steps go through ``ctx.cached(name, params, fn)`` so that a re-run, or a run that
    was interrupted, reuses what is already on disk; summary tables are registered with ``ctx.add_table``.
``FIGURES``
    list of functions ``fig(ctx) -> matplotlib.figure.Figure`` that read cached results (``ctx.load``);
    each is saved as ``figures/<study>/<function name without 'fig_'>.png`` and ``.pdf``.

A config file looks like::

    study = "stellar_mass"        # module analyses/stellar_mass.py (next to the configs/ folder)
    seed = 0
    n = 4000                      # galaxies to simulate (mock) or use (real)
    device = "cpu"
    jobs = 2
    [params]                      # study parameters (see the study's DEFAULTS)
    n_boot = 50
    [data]                        # optional: the user's own data instead of the mock universe
    catalog = "my_catalog.fits"
    [model]                       # optional: the user's own trained estimator
    path = "my_model.pt"
    factory = "mypkg.nets:MassCNN"

Examples
--------
>>> from interpret.runner import validate_config
>>> validate_config({"study": "x", "seed": 1}, defaults={"alpha": 0.01})["params"]
{'alpha': 0.01}
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.util
import io
import json
import logging
import os
import platform
import sys
import time
import tomllib
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._results import Result, atomic_write_bytes, load_result
from ._version import __version__
from .exceptions import ConfigError

__all__ = ["RunContext", "load_config", "validate_config", "load_study", "run_study", "TOP_LEVEL_KEYS",
           "cache_key"]

log = logging.getLogger(__name__)

TOP_LEVEL_KEYS: dict[str, Any] = {
    "study": None, "title": "", "seed": 0, "n": None, "device": "cpu", "jobs": 1, "out": None,
    "progress": None, "params": {}, "data": {}, "model": {}, "figures": None,
}
DATA_KEYS = {"catalog", "images", "spectra", "columns", "target", "bands", "format"}
MODEL_KEYS = {"path", "factory", "factory_kwargs", "allow_pickle", "output_names", "input_names"}


def _unknown(keys: set[str], valid: set[str] | dict, where: str, path: str | None) -> None:
    bad = sorted(set(keys) - set(valid))
    if bad:
        src = f" in {path}" if path else ""
        raise ConfigError(f"unknown key(s) {', '.join(map(repr, bad))} in {where}{src}; valid keys are "
                          f"{', '.join(sorted(valid))}")


def validate_config(cfg: dict[str, Any], defaults: dict[str, Any] | None = None, *,
                    path: str | None = None) -> dict[str, Any]:
    """Check ``cfg`` against the top-level schema and a study's ``DEFAULTS``; return it with defaults filled."""
    _unknown(set(cfg), TOP_LEVEL_KEYS, "the config's top level", path)
    out = copy.deepcopy(TOP_LEVEL_KEYS)
    out.update(copy.deepcopy(cfg))
    if not out["study"]:
        raise ConfigError(f"config{' ' + path if path else ''} has no 'study' key; add e.g. study = \"stellar_mass\"")
    for key in ("params", "data", "model"):
        if not isinstance(out[key], dict):
            raise ConfigError(f"'{key}' must be a TOML table ([{key}]); got {type(out[key]).__name__}")
    _unknown(set(out["data"]), DATA_KEYS, "[data]", path)
    _unknown(set(out["model"]), MODEL_KEYS, "[model]", path)
    if defaults is not None:
        _unknown(set(out["params"]), defaults, "[params]", path)
        params = copy.deepcopy(defaults)
        params.update(out["params"])
        out["params"] = params
    if not isinstance(out["seed"], int):
        raise ConfigError(f"'seed' must be an integer; got {out['seed']!r}")
    if out["n"] is not None and (not isinstance(out["n"], int) or out["n"] <= 0):
        raise ConfigError(f"'n' must be a positive integer; got {out['n']!r}")
    return out


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML config (no validation of study parameters yet)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        cfg = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
    cfg["_path"] = str(path.resolve())
    return cfg


def load_study(name: str, search: list[Path]) -> types.ModuleType:
    """Import ``analyses/<name>.py`` from the first folder in ``search`` that holds it."""
    if not name.isidentifier():
        raise ConfigError(f"study name {name!r} is not a valid module name")
    for folder in search:
        candidate = Path(folder) / f"{name}.py"
        if candidate.is_file():
            # studies may share helpers (analyses/_common.py): make their folder importable
            if str(Path(folder).resolve()) not in sys.path:
                sys.path.insert(0, str(Path(folder).resolve()))
            spec = importlib.util.spec_from_file_location(f"interpret_study_{name}", candidate)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            for attr in ("DEFAULTS", "compute", "FIGURES"):
                if not hasattr(module, attr):
                    raise ConfigError(f"study module {candidate} lacks '{attr}'")
            return module
    where = ", ".join(str(s) for s in search)
    raise ConfigError(f"no study module {name}.py found in {where}")


def _canonical(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def cache_key(name: str, params: dict[str, Any]) -> str:
    """Stable short hash of a step name and the parameters that produced it."""
    blob = json.dumps({"name": name, "params": _canonical(params)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _dump(obj: Any, path: Path) -> Path:
    if isinstance(obj, Result):
        target = path.with_suffix(".ipres")
        obj.save(target)
    elif isinstance(obj, pd.DataFrame):
        target = path.with_suffix(".parquet")
        buf = io.BytesIO()
        frame = obj.copy()
        frame.columns = [str(c) for c in frame.columns]
        frame.to_parquet(buf)
        atomic_write_bytes(target, buf.getvalue())
    elif isinstance(obj, np.ndarray) or (isinstance(obj, dict) and obj and
                                         all(isinstance(v, np.ndarray) for v in obj.values())):
        target = path.with_suffix(".npz")
        buf = io.BytesIO()
        np.savez(buf, **(obj if isinstance(obj, dict) else {"__array__": obj}))
        atomic_write_bytes(target, buf.getvalue())
    else:
        target = path.with_suffix(".json")
        atomic_write_bytes(target, json.dumps(_canonical(obj)).encode())
    return target


def _load(path: Path) -> Any:
    if path.suffix == ".ipres":
        return load_result(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
        return data["__array__"] if list(data) == ["__array__"] else data
    return json.loads(path.read_text())


@dataclass
class RunContext:
    """What a study sees: its config, output folders, the cache, and where to put tables and timings."""

    config: dict[str, Any]
    out: Path
    figure_dir: Path
    cache_dir: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    store: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        return self.config["params"]

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def progress(self) -> bool | None:
        return self.config["progress"]

    def cached(self, name: str, params: dict[str, Any], fn: Callable[[], Any]) -> Any:
        """Return the cached value of step ``name`` for ``params``, computing and storing it if absent.

        The key hashes ``name``, ``params``, the study and the package version; writes are atomic, so an
        interrupted run leaves either the whole file or none and simply resumes.
        """
        key = cache_key(name, {"study": self.config["study"], "version": __version__, **params})
        stem = self.cache_dir / f"{name}-{key}"
        for suffix in (".ipres", ".parquet", ".npz", ".json"):
            if stem.with_suffix(suffix).exists():
                log.info("cache hit: %s", stem.with_suffix(suffix).name)
                value = _load(stem.with_suffix(suffix))
                self.store[name] = value
                return value
        t0 = time.perf_counter()
        value = fn()
        self.timings[name] = time.perf_counter() - t0
        _dump(value, stem)
        self.store[name] = value
        return value

    def load(self, name: str) -> Any:
        """A value produced by :meth:`cached` in this run."""
        if name not in self.store:
            raise KeyError(f"no cached result {name!r} in this run; available: {', '.join(sorted(self.store))}")
        return self.store[name]

    def add_table(self, name: str, frame: pd.DataFrame) -> None:
        """Register a summary table for the report (also written as CSV)."""
        self.tables[name] = frame
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.out / "tables" / f"{name}.csv", frame.to_csv().encode())

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "astro-interpret": __version__}
    for pkg in ("numpy", "torch", "captum", "causal-learn", "dit", "scikit-learn", "astropy", "pandas",
                "speclite", "kcorrect", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def run_study(config_path: str | os.PathLike | None = None, *, config: dict[str, Any] | None = None,
              overrides: dict[str, Any] | None = None, study_dirs: list[Path] | None = None,
              figures_root: str | os.PathLike | None = None, report: bool = True) -> RunContext:
    """Run one study end to end: compute (cached), draw every figure, write manifest and HTML report.

    Parameters
    ----------
    config_path : path, optional
        TOML file; its folder's parent is searched for the study module (``analyses/configs/x.toml`` ->
        ``analyses/``).
    config : dict, optional
        An already-parsed config (instead of ``config_path``).
    overrides : dict, optional
        Top-level values from the command line (``seed``, ``n``, ``out``, ``device``, ``jobs``, ``progress``).
    figures_root : path, optional
        Where ``<study>/`` figure folders go (default: ``<out>/figures``).
    """
    import matplotlib.pyplot as plt

    from .plots._style import save_figure, style

    raw = load_config(config_path) if config_path is not None else dict(config or {})
    src = raw.pop("_path", None)
    for k, v in (overrides or {}).items():
        if v is not None:
            raw[k] = v
    search = list(study_dirs or [])
    if src:
        search += [Path(src).parent.parent, Path(src).parent]
    search.append(Path.cwd() / "analyses")
    if not raw.get("study"):
        raise ConfigError(f"config{' ' + src if src else ''} has no 'study' key; add e.g. study = \"stellar_mass\"")
    module = load_study(str(raw["study"]), search)
    cfg = validate_config(raw, module.DEFAULTS, path=src)
    cfg["_config_dir"] = str(Path(src).parent) if src else None
    out = Path(cfg["out"] or Path("runs") / cfg["study"]).resolve()
    fig_dir = Path(figures_root).resolve() / cfg["study"] if figures_root else out / "figures"
    ctx = RunContext(config=cfg, out=out, figure_dir=fig_dir, cache_dir=out / "cache")
    ctx.cache_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    module.compute(ctx)
    figures: list[str] = []
    for fig_fn in module.FIGURES:
        name = fig_fn.__name__.removeprefix("fig_")
        t1 = time.perf_counter()
        with style():
            fig = fig_fn(ctx)
        paths = save_figure(fig, fig_dir / name)
        plt.close(fig)
        figures.append(str(paths[0]))
        ctx.timings[f"figure:{name}"] = time.perf_counter() - t1
    ctx.timings["total"] = time.perf_counter() - t0
    doc = (module.__doc__ or "").strip()
    title = cfg.get("title") or (doc.splitlines()[0] if doc else cfg["study"])
    manifest = {"study": cfg["study"], "title": title, "config": _canonical(cfg), "versions": _versions(),
                "timings": ctx.timings, "figures": figures, "tables": sorted(ctx.tables), "notes": ctx.notes,
                "description": doc, "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    atomic_write_bytes(out / "manifest.json", json.dumps(manifest, indent=2, default=str).encode())
    if report:
        from .report import write_report

        write_report(out)
    return ctx
