"""Run a study from a TOML config: validation, content-addressed caching of heavy steps, figures, report.

A study is a module of :mod:`interpret.studies` (or, with ``--analyses DIR``, a module in a folder the user
names explicitly) with

``Params``
    a frozen dataclass deriving from :class:`interpret.studies.StudyParams`: the ``[params]`` table,
    validated once (unknown keys and wrong types refused);
``compute(ctx) -> None``
    does the work; heavy steps go through ``ctx.cached(name, key, fn)``;
``FIGURES``
    functions ``fig(ctx) -> Figure`` that read step outputs only (``ctx.load``); saved as
    ``figures/<study>/<name without 'fig_'>.png``; ``CAPTIONS[name]`` says what each shows;
``DATA_KEYS`` (optional)
    the ``[data]`` keys the study reads; any other key is refused instead of being silently ignored.

Caching is by content: a step's key digests the step's own inputs (arrays, tables and models by content),
the run's fingerprint (the content of every ``[data]`` and ``[model]`` file, seed, ``n``, device and all
parameters) and the code version (a digest of the installed ``interpret`` sources). File names and mtimes
never enter a key, so replacing ``model.pt`` at the same path, another ``n`` or an edited catalogue all
recompute. Every entry is written atomically with its size and digest beside it; an entry that fails that
check (truncated, bit-flipped) is reported by name and recomputed. One run at a time holds a run folder.

A config file looks like::

    study = "photoz"
    seed = 0
    [params]                      # the study's Params
    n_boot = 200
    [data]                        # the user's files instead of the study's default data
    catalog = "my_catalog.parquet"
    columns = ["u", "g", "r", "i", "z"]
    target = "redshift"
    split = "split"               # column with train / val / test: held-out metrics use the test rows
    [model]
    path = "my_photoz.ts"
    name = "my photo-z CNN"

A config is code: ``[model] allow_pickle`` and ``factory`` import and run Python. Run only configs you trust.

Examples
--------
>>> from interpret.runner import validate_config
>>> validate_config({"study": "x", "seed": 1})["seed"]
1
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import fcntl
import functools
import importlib
import io
import json
import logging
import os
import platform
import sys
import time
import tomllib
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import exceptions
from ._digest import digest_file, digest_json, digest_object
from ._results import Result, atomic_write_bytes, load_result
from ._version import __version__
from .exceptions import ConfigError, InterpretError

__all__ = ["RunContext", "load_config", "validate_config", "load_study", "run_study", "TOP_LEVEL_KEYS",
           "DATA_KEYS", "MODEL_KEYS", "cache_key", "code_version", "RunLockedError", "CacheWarning"]

log = logging.getLogger(__name__)

TOP_LEVEL_KEYS: dict[str, Any] = {
    "study": None, "title": "", "seed": 0, "n": None, "device": "cpu", "jobs": 1, "out": None,
    "progress": None, "params": {}, "data": {}, "model": {}, "figures": None,
}
#: Every ``[data]`` key a study may read; a study narrows this with its own ``DATA_KEYS``.
DATA_KEYS = frozenset({"catalog", "images", "spectra", "columns", "target", "bands", "split", "fluxes",
                       "flux_unit", "extinction", "hdu", "key", "name"})
MODEL_KEYS = frozenset({"path", "factory", "factory_kwargs", "allow_pickle", "output_names", "input_names",
                        "trusted", "name"})
_FILE_KEYS = ("catalog", "images", "spectra")


class RunLockedError(InterpretError, RuntimeError):
    """Another run holds the run folder."""


class CacheWarning(UserWarning):
    """A damaged cache entry was found and is being recomputed."""


def _unknown(keys: set[str], valid: Any, where: str, path: str | None) -> None:
    bad = sorted(set(keys) - set(valid))
    if bad:
        src = f" in {path}" if path else ""
        raise ConfigError(f"unknown key(s) {', '.join(map(repr, bad))} in {where}{src}; valid keys are "
                          f"{', '.join(sorted(valid))}")


def validate_config(cfg: dict[str, Any], *, path: str | None = None,
                    data_keys: Any = DATA_KEYS) -> dict[str, Any]:
    """Check ``cfg``'s top level, ``[data]`` and ``[model]``; return a copy with defaults filled.

    ``[params]`` is validated by the study's ``Params`` (see :func:`run_study`).
    """
    _unknown(set(cfg), TOP_LEVEL_KEYS, "the config's top level", path)
    out = copy.deepcopy(TOP_LEVEL_KEYS)
    out.update(copy.deepcopy(cfg))
    if not out["study"]:
        raise ConfigError(f"config{' ' + path if path else ''} has no 'study' key; add e.g. study = \"photoz\"")
    for key in ("params", "data", "model"):
        if not isinstance(out[key], dict):
            raise ConfigError(f"'{key}' must be a TOML table ([{key}]); got {type(out[key]).__name__}")
    _unknown(set(out["data"]), data_keys, f"[data] of study {out['study']!r}", path)
    _unknown(set(out["model"]), MODEL_KEYS, "[model]", path)
    if out["model"] and "path" not in out["model"]:
        raise ConfigError(f"[model]{' in ' + path if path else ''} has no 'path'; name the trained model file")
    for key, kind in (("seed", int), ("jobs", int)):
        if isinstance(out[key], bool) or not isinstance(out[key], kind):
            raise ConfigError(f"'{key}' must be an integer; got {out[key]!r}")
    if out["n"] is not None and (isinstance(out["n"], bool) or not isinstance(out["n"], int) or out["n"] <= 0):
        raise ConfigError(f"'n' must be a positive integer; got {out['n']!r}")
    return out


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML config (no validation yet); ``_path`` records where it came from."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist; give a TOML file or a packaged study "
                          f"name ({', '.join(_packaged_names())})")
    try:
        cfg = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc
    cfg["_path"] = str(path.resolve())
    return cfg


def _packaged_names() -> list[str]:
    from .studies import STUDIES

    return list(STUDIES)


def _params_from_defaults(name: str, defaults: dict[str, Any]) -> type:
    """A frozen Params dataclass for a user study module that declares a plain ``DEFAULTS`` dict."""
    from .studies._params import StudyParams

    def kind(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return tuple[Any, ...]
        if isinstance(v, dict):
            return dict
        return type(v) if isinstance(v, (bool, int, float, str)) else Any

    fields = [(k, kind(v), dataclasses.field(default=tuple(v) if isinstance(v, list) else v))
              for k, v in defaults.items()]
    return dataclasses.make_dataclass(f"{name}_Params", fields, bases=(StudyParams,), frozen=True)


def load_study(name: str, search: list[Path] | None = None) -> types.ModuleType:
    """The study module ``name``: a packaged study, else ``<dir>/<name>.py`` in a folder given explicitly.

    Folders in ``search`` are only those the user named (``--analyses DIR``); they are put on ``sys.path``
    so that the module (and worker processes of parallel steps) import it by name.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"study name {name!r} is not a valid module name")
    module = None
    for folder in search or []:
        folder = Path(folder).resolve()
        if (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file():
            if str(folder) in sys.path:
                sys.path.remove(str(folder))
            sys.path.insert(0, str(folder))
            sys.modules.pop(name, None)             # a fresh import: edits, or another folder's module
            importlib.invalidate_caches()
            module = importlib.import_module(name)
            if Path(getattr(module, "__file__", "")).resolve().parent not in (folder, folder / name):
                raise ConfigError(f"study module {name!r} in {folder} is shadowed by {module.__file__}; rename it")
            break
    if module is None:
        if name not in _packaged_names():
            where = f" or in {', '.join(map(str, search))}" if search else ""
            raise ConfigError(f"unknown study {name!r}: not one of interpret.studies ({', '.join(_packaged_names())})"
                              f"{where}; pass --analyses DIR for a study module of your own")
        module = importlib.import_module(f"interpret.studies.{name}")
    if not hasattr(module, "Params") and isinstance(getattr(module, "DEFAULTS", None), dict):
        module.Params = _params_from_defaults(name, module.DEFAULTS)
    for attr in ("Params", "compute", "FIGURES"):
        if not hasattr(module, attr):
            raise ConfigError(f"study module {module.__name__} ({getattr(module, '__file__', '?')}) lacks '{attr}'")
    return module


# --- content-addressed cache -------------------------------------------------------------------------------
def _canonical(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type) and hasattr(obj, "to_dict"):
        return _canonical(obj.to_dict())
    return obj


def digest_value(obj: Any) -> str:
    """Digest of anything a step depends on: parameters, arrays and tables by content, models by weights."""
    return digest_object(obj)


def cache_key(name: str, params: Any) -> str:
    """Stable digest of a step name and what it depends on (content, not names)."""
    return digest_value({"name": name, "params": params})[:24]


@functools.cache
def code_version(extra: tuple[str, ...] = ()) -> str:
    """Digest of the installed ``interpret`` sources (and of ``extra`` files): the code version of a step."""
    root = Path(__file__).resolve().parent
    files = sorted(root.rglob("*.py")) + [Path(p) for p in extra]
    return digest_json({str(p.relative_to(root) if p.is_relative_to(root) else p.name): digest_file(p)
                        for p in files})


def _dump(obj: Any, path: Path, warned: list[dict[str, str]] | None = None) -> Path:
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
    sidecar = {"file": target.name, "size": target.stat().st_size, "digest": digest_file(target),
               "warnings": warned or []}
    atomic_write_bytes(target.with_name(target.name + ".sum"), json.dumps(sidecar).encode())
    return target


def _replay(meta: dict[str, Any]) -> None:
    """Re-issue the library warnings a cached step raised when it was computed (recorded in its sidecar
    ``meta``), so that a rerun from the cache reports what the first run reported (e.g. a baseline warning
    turned into a report line). Only :mod:`interpret.exceptions` categories are replayed; nothing is imported
    by name."""
    for w in meta.get("warnings", []):
        category = getattr(exceptions, str(w.get("category")), None)
        if isinstance(category, type) and issubclass(category, exceptions.InterpretWarning):
            warnings.warn(str(w.get("message", "")), category, stacklevel=3)


def _load(path: Path) -> tuple[Any, dict[str, Any]]:
    """The cached value at ``path`` and its verified sidecar record."""
    sidecar = path.with_name(path.name + ".sum")
    if not sidecar.is_file():
        raise ValueError("its size/digest record is missing")
    meta = json.loads(sidecar.read_text())
    if meta.get("size") != path.stat().st_size or meta.get("digest") != digest_file(path):
        raise ValueError("its content does not match its recorded size and digest")
    if path.suffix == ".ipres":
        return load_result(path), meta
    if path.suffix == ".parquet":
        return pd.read_parquet(path), meta
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
        return (data["__array__"] if list(data) == ["__array__"] else data), meta
    return json.loads(path.read_text()), meta


@dataclass
class RunContext:
    """What a study sees: its validated config and parameters, output folders, the cache and the report parts.

    ``fingerprint`` digests everything outside the code that determines the run's results (the content of
    the ``[data]`` and ``[model]`` files, seed, ``n``, device, parameters); :meth:`cached` adds it to every
    step key.
    """

    config: dict[str, Any]
    out: Path
    figure_dir: Path
    cache_dir: Path
    fingerprint: str = ""
    code: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    store: dict[str, Any] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    @property
    def params(self) -> Any:
        """The study's validated, frozen ``Params``."""
        return self.config["params"]

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def jobs(self) -> int:
        return int(self.config["jobs"])

    @property
    def progress(self) -> bool | None:
        return self.config["progress"]

    def step_key(self, name: str, key: Any = None) -> str:
        """The content key of step ``name`` with step-specific inputs ``key`` (digested by content)."""
        return cache_key(name, {"study": self.config["study"], "run": self.fingerprint, "code": self.code,
                                "step": key})

    def cached(self, name: str, key: Any, fn: Callable[[], Any]) -> Any:
        """The value of step ``name`` for inputs ``key``: from the cache when the same content was computed,
        else ``fn()`` (stored atomically). A damaged entry warns, naming its file, and is recomputed."""
        stem = self.cache_dir / f"{name}-{self.step_key(name, key)}"
        for suffix in (".ipres", ".parquet", ".npz", ".json"):
            path = stem.with_suffix(suffix)
            if not path.exists():
                continue
            try:
                value, meta = _load(path)
            except Exception as exc:  # damaged entry: say which, then recompute
                warnings.warn(f"cache entry {str(path)!r} is damaged ({exc}); recomputing step {name!r}",
                              CacheWarning, stacklevel=2)
                for stale in (path, path.with_name(path.name + ".sum")):
                    stale.unlink(missing_ok=True)
                break
            log.info("cache hit: %s", path.name)
            self.hits.append(name)
            self.store[name] = value
            _replay(meta)
            return value
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = fn()
        self.timings[name] = time.perf_counter() - t0
        for w in caught:            # the caller's filters decide, as if fn() had warned directly
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        _dump(value, stem, [{"category": w.category.__name__, "message": str(w.message)} for w in caught
                            if isinstance(getattr(exceptions, w.category.__name__, None), type)
                            and issubclass(w.category, exceptions.InterpretWarning)])
        self.store[name] = value
        return value

    def load(self, name: str) -> Any:
        """A value produced by :meth:`cached` (or put in ``store``) in this run."""
        if name not in self.store:
            raise KeyError(f"no step output {name!r} in this run; available: {', '.join(sorted(self.store))}")
        return self.store[name]

    def add_table(self, name: str, frame: pd.DataFrame) -> None:
        """Register a summary table for the report (also written as ``tables/<name>.csv``)."""
        self.tables[name] = frame
        atomic_write_bytes(self.out / "tables" / f"{name}.csv", frame.to_csv().encode())

    def resolve(self, path: str | os.PathLike) -> Path:
        """A ``[data]``/``[model]`` path: relative paths are relative to the config's folder."""
        p = Path(path).expanduser()
        if not p.is_absolute() and self.config.get("_config_dir"):
            p = Path(self.config["_config_dir"]) / p
        if not p.exists():
            raise FileNotFoundError(f"[data]/[model] file {str(p)!r} not found (relative paths are taken from "
                                    "the config's folder)")
        return p

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
                "speclite", "kcorrect", "matplotlib", "keras", "piczl"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _fingerprint(cfg: dict[str, Any], resolve: Callable[[str], Path]) -> str:
    """Digest of the run's inputs: [data]/[model] tables and their files' content, seed, n, device, params."""
    files = {}
    for key in _FILE_KEYS:
        if key in cfg["data"]:
            files[f"data.{key}"] = digest_file(resolve(cfg["data"][key]))
    if "path" in cfg["model"]:
        files["model.path"] = digest_file(resolve(cfg["model"]["path"]))
    return digest_json({"data": _canonical(cfg["data"]), "model": _canonical(cfg["model"]), "files": files,
                        "seed": cfg["seed"], "n": cfg["n"], "device": cfg["device"],
                        "params": cfg["params"].to_dict()})


@contextlib.contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.lock`` for the duration of a run; a second run on the same folder fails at once."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / ".lock"
    fh = open(path, "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise RunLockedError(f"run folder {str(out)!r} is in use by {holder}; wait for it to finish or "
                                 "pass another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} ({' '.join(sys.argv[:3])}), started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        fh.flush()
        yield
    finally:
        fh.close()


def _prepare(config_path: Any, config: dict | None, overrides: dict | None,
             study_dirs: list[Path] | None) -> tuple[types.ModuleType, dict[str, Any], str | None]:
    raw = load_config(config_path) if config_path is not None else dict(config or {})
    src = raw.pop("_path", None)
    config_dir = raw.pop("_config_dir", None)
    for k, v in (overrides or {}).items():
        if v is not None:
            raw[k] = v
    if not raw.get("study"):
        raise ConfigError(f"config{' ' + src if src else ''} has no 'study' key; add e.g. study = \"photoz\"")
    module = load_study(str(raw["study"]), list(study_dirs or []))
    cfg = validate_config(raw, path=src, data_keys=getattr(module, "DATA_KEYS", DATA_KEYS))
    cfg["params"] = module.Params.from_mapping(cfg["params"], where=f"[params] of study {cfg['study']!r}")
    cfg["_config_dir"] = str(Path(src).parent) if src else config_dir
    return module, cfg, src


def run_study(config_path: str | os.PathLike | None = None, *, config: dict[str, Any] | None = None,
              overrides: dict[str, Any] | None = None, study_dirs: list[Path] | None = None,
              figures_root: str | os.PathLike | None = None, report: bool = True) -> RunContext:
    """Run one study end to end: compute (cached by content), draw every figure, write manifest and report.

    Parameters
    ----------
    config_path : path, optional
        TOML file, or the name of a packaged study config (``"photoz"``: its full config; see
        :func:`interpret.studies.config_path`).
    config : dict, optional
        An already-parsed config (instead of ``config_path``); ``_config_dir`` sets the folder relative
        ``[data]`` paths are taken from.
    overrides : dict, optional
        Top-level values from the command line (``seed``, ``n``, ``out``, ``device``, ``jobs``, ``progress``).
    study_dirs : list of path, optional
        Folders holding the user's own study modules (``--analyses``); nothing else is searched.
    figures_root : path, optional
        Where ``<study>/`` figure folders go (default: ``<out>/figures``).
    report : bool, default True
        Write ``report.html``.
    """
    if config_path is not None and not Path(config_path).exists() and str(config_path) in _packaged_names():
        from .studies import config_path as packaged

        config_path = packaged(str(config_path))
    module, cfg, src = _prepare(config_path, config, overrides, study_dirs)
    out = Path(cfg["out"] or Path("runs") / cfg["study"]).resolve()
    fig_dir = Path(figures_root).resolve() / cfg["study"] if figures_root else out / "figures"
    ctx = RunContext(config=cfg, out=out, figure_dir=fig_dir, cache_dir=out / "cache")
    with run_lock(out):
        ctx.cache_dir.mkdir(parents=True, exist_ok=True)
        ctx.fingerprint = _fingerprint(cfg, lambda p: ctx.resolve(p))
        extra = () if module.__name__.startswith("interpret.") else (str(Path(module.__file__).resolve()),)
        ctx.code = code_version(extra)
        t0 = time.perf_counter()
        module.compute(ctx)
        figures = _draw(module, ctx, fig_dir)
        ctx.timings["total"] = time.perf_counter() - t0
        _write_manifest(module, ctx, cfg, figures)
        if report:
            from .report import write_report

            write_report(out)
    return ctx


def _draw(module: types.ModuleType, ctx: RunContext, fig_dir: Path) -> list[dict[str, str]]:
    import matplotlib.pyplot as plt

    from .plots._style import save_figure, style

    captions = getattr(module, "CAPTIONS", {})
    figures = []
    for fig_fn in module.FIGURES:
        name = fig_fn.__name__.removeprefix("fig_")
        t1 = time.perf_counter()
        with style():
            fig = fig_fn(ctx)
        paths = save_figure(fig, ctx.out / "figures" / name)     # the report embeds only run-folder files
        plt.close(fig)
        if fig_dir.resolve() != (ctx.out / "figures").resolve():
            for path in paths:
                atomic_write_bytes(fig_dir / Path(path).name, Path(path).read_bytes())
        caption = captions.get(name) or (fig_fn.__doc__ or name).strip().splitlines()[0]
        if callable(caption):
            caption = caption(ctx)
        figures.append({"path": str(Path(paths[0]).relative_to(ctx.out)), "caption": caption})
        ctx.timings[f"figure:{name}"] = time.perf_counter() - t1
    return figures


def _write_manifest(module: types.ModuleType, ctx: RunContext, cfg: dict[str, Any],
                    figures: list[dict[str, str]]) -> None:
    doc = (module.__doc__ or "").strip()
    title = cfg.get("title") or getattr(module, "TITLE", None) or (doc.splitlines()[0] if doc else cfg["study"])
    shown = {k: v for k, v in cfg.items() if not k.startswith("_")}
    manifest = {"study": cfg["study"], "title": title, "config": _canonical(shown), "versions": _versions(),
                "timings": ctx.timings, "figures": figures, "tables": sorted(ctx.tables), "notes": ctx.notes,
                "description": doc, "fingerprint": ctx.fingerprint, "code_version": ctx.code,
                "cache_hits": ctx.hits, "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    atomic_write_bytes(ctx.out / "manifest.json", json.dumps(manifest, indent=2, default=str).encode())
