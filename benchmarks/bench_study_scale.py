"""A whole study at survey size (issue 21): ``stellar_mass`` end to end, default joblib backend vs Dask.

Runs the packaged demo config of ``stellar_mass`` (``fast = true``, ``jobs = 2``) at ``--n`` galaxies of the
seeded mock universe, each run in its own process and a fresh out folder (no cache hits):

1. ``default`` - joblib's default (loky) backend;
2. ``dask``    - the same run inside ``joblib.parallel_config(backend="dask")`` on a ``distributed.LocalCluster``
   of 2 single-threaded worker processes (cluster start-up timed apart from the study).

Every step's wall time is recorded (the runner's ``ctx.timings``, plus ``data`` = the mock universe and
``model`` = training or loading the CNN, which the benchmark times by wrapping the study's ``load_data`` and
``cnn_model``; ``other`` = total minus the timed steps: metrics bootstrap, attribution tables, notes), the
dominant steps are named, and every result table of the two runs is compared for bit identity (dtypes, index
and the bytes of every column; a difference names the table, the columns and the largest deviation).

``--model auto`` first trains the study's CNN once at ``--train-n`` galaxies (a default-backend run of the same
config; its rows are recorded too) and passes the saved weights as ``[model]`` (state dict + factory
``interpret.mock.models:ImageCNN``), so that the large-``n`` rows measure the interrogation, not the training;
without it the CNN is trained at ``n`` (``fast``: a few epochs) inside the ``predictions`` step.

Run: ``python -m benchmarks.bench_study_scale --n 10000 --model auto [--modes default,dask] [--no-record]``
(n = 1500 without a model: about 2 min per mode on an idle 2-core CPU).
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]


def _peak() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- worker: one study run in a fresh process ------------------------------------------------------------
def _worker(mode: str, n: int, out: Path, model_dir: str | None) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    import interpret.studies.stellar_mass as sm
    from interpret.runner import load_config, run_study
    from interpret.studies import config_path

    cfg = load_config(config_path("stellar_mass", demo=True))
    cfg.update(n=int(n), jobs=2, out=str(out), progress=False)
    if model_dir:
        spec = json.loads((Path(model_dir) / "model.json").read_text())
        cfg["model"] = {"path": str(Path(model_dir) / "model.pt"), "factory": spec["factory"],
                        "factory_kwargs": spec["factory_kwargs"]}
    timings: dict[str, float] = {}

    def timed(name, fn):
        def wrapped(ctx, *a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(ctx, *a, **kw)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
        return wrapped

    # benchmark-only wrappers around the study's untimed parts: same calls, timed
    sm.load_data = timed("data", sm.load_data)
    sm.cnn_model = timed("model", sm.cnn_model)
    sm.metrics_table = timed("metrics", sm.metrics_table)
    sm._attribution_tables = timed("attribution_tables", sm._attribution_tables)
    sm._notes = timed("notes", sm._notes)
    from interpret.causal.graph import CausalGraph

    CausalGraph.compare = timed("causal_truth_compare", CausalGraph.compare)
    cluster_s = 0.0
    if mode == "dask":
        import joblib
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
        cluster_s = time.perf_counter() - t0
        try:
            with joblib.parallel_config(backend="dask"):
                t0 = time.perf_counter()
                ctx = run_study(config=cfg, report=False)
                wall = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
    else:
        t0 = time.perf_counter()
        ctx = run_study(config=cfg, report=False)
        wall = time.perf_counter() - t0
    steps = {**ctx.timings, **timings}
    total = steps.pop("total")
    figures = sum(v for k, v in list(steps.items()) if k.startswith("figure:"))
    steps = {k: v for k, v in steps.items() if not k.startswith("figure:")}
    steps["figures"] = figures
    # "predictions" includes the model training/loading; report inference alone
    if "predictions" in steps and "model" in steps:
        steps["predictions"] -= steps["model"]
    steps["other"] = total - sum(steps.values())
    with open(out / "bench_tables.pkl", "wb") as fh:
        pickle.dump({"tables": ctx.tables, "notes": ctx.notes}, fh)
    if model_dir is None and mode == "default":    # keep the trained CNN for --model auto
        pts = sorted((out / "cache" / "models").glob("stellar_mass-*.pt"))
        if pts:
            rep = json.loads(pts[0].with_suffix(".json").read_text())
            (out / "trained").mkdir(exist_ok=True)
            shutil.copy(pts[0], out / "trained" / "model.pt")
            (out / "trained" / "model.json").write_text(json.dumps(
                {"factory": rep["model"], "factory_kwargs": rep["config"]["model_kwargs"], "n_train": rep["n_train"],
                 "epochs": rep["epochs"]}))
    limit = _forward_limit(model_dir or str(out / "trained"), ctx.store["data"].images, n)
    return {"mode": mode, "n": n, "wall": wall, "total": total, "cluster_start": cluster_s, "steps": steps,
            "peak_rss": _peak(), "hits": ctx.hits, "forward_limit": limit}


def _forward_limit(model_dir: str, images, n: int, sample: int = 2048) -> float | None:
    """Seconds of one bare forward pass of the study's CNN over ``n`` cutouts (2 torch threads, batches of
    256, no gradients; best of 3 passes over ``sample`` real cutouts, scaled to n): the floor of the
    ``predictions`` step, which needs the CNN's output for every galaxy."""
    import importlib

    import numpy as np
    import torch

    path = Path(model_dir)
    if not (path / "model.json").exists():
        path = path.parent / "trained"
        if not (path / "model.json").exists():
            return None
    spec = json.loads((path / "model.json").read_text())
    mod, name = spec["factory"].split(":")
    net = getattr(importlib.import_module(mod), name)(**spec["factory_kwargs"])
    net.load_state_dict(torch.load(path / "model.pt", weights_only=True))
    net.eval()
    x = torch.from_numpy(np.asarray(images[:sample], np.float32))
    torch.set_num_threads(2)
    best = float("inf")
    with torch.no_grad():
        for _ in range(3):
            t0 = time.perf_counter()
            for i in range(0, len(x), 256):
                net(x[i:i + 256])
            best = min(best, time.perf_counter() - t0)
    return best / len(x) * n


def _run(mode: str, n: int, out: Path, model_dir: str | None) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_study_scale", "--worker", mode, "--n", str(n), "--out", str(out)]
    if model_dir:
        cmd += ["--model", model_dir]
    load0 = _loadavg()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{mode} run at n={n} failed:\n{proc.stderr[-4000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["load"] = f"{load0}-{_loadavg()}"
    return res


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


# --- comparison ------------------------------------------------------------------------------------------
def compare(a: dict, b: dict) -> list[str]:
    """Tables (and notes) of two runs that are not bit-identical, each with what differs."""
    import numpy as np

    out = []
    for name in sorted(set(a["tables"]) | set(b["tables"])):
        if name not in a["tables"] or name not in b["tables"]:
            out.append(f"{name}: only in one run")
            continue
        x, y = a["tables"][name], b["tables"][name]
        if x.shape != y.shape or list(x.columns) != list(y.columns) or not x.index.equals(y.index):
            out.append(f"{name}: shape/columns/index differ")
            continue
        bad = []
        for c in x.columns:
            u, v = x[c].to_numpy(), y[c].to_numpy()
            if u.dtype != v.dtype:
                bad.append(f"{c} (dtype)")
            elif u.dtype.kind in "fiub":
                if u.tobytes() != v.tobytes():
                    d = np.nanmax(np.abs(u.astype(float) - v.astype(float))) if u.size else 0.0
                    bad.append(f"{c} (max |diff| {d:.3g})")
            elif list(map(str, u)) != list(map(str, v)):
                bad.append(f"{c} (values)")
        if bad:
            out.append(f"{name}: {', '.join(bad)}")
    if a["notes"] != b["notes"]:
        out.append("notes differ")
    return out


def grouped(steps: dict[str, float]) -> dict[str, float]:
    """Step times summed into the study's analyses (causal, PID binned / kNN, ...)."""
    out: dict[str, float] = {}
    for k, v in steps.items():
        g = ("causal" if k.startswith(("stability_", "graph_")) else "pid_knn" if k.startswith("pid_") and
             k.endswith("_knn") else "pid_binned" if k.startswith("pid_") else k)
        out[g] = out.get(g, 0.0) + v
    return out


def _fmt_steps(res: dict, top: int | None = None) -> str:
    steps = sorted(grouped(res["steps"]).items(), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v:.1f}" for k, v in steps[:top])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--modes", default="default,dask")
    ap.add_argument("--model", default=None, help="'auto' (train once at --train-n) or a folder with model.pt/json")
    ap.add_argument("--train-n", type=int, default=1500)
    ap.add_argument("--out", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the run folders")
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.n, Path(args.out), args.model)))
        return
    from benchmarks._common import record

    root = Path(args.out or tempfile.mkdtemp(prefix="bench_study_scale_"))
    root.mkdir(parents=True, exist_ok=True)
    model_dir, rows = args.model, []
    if args.model == "auto":
        train_out = root / f"train_n{args.train_n}"
        shutil.rmtree(train_out, ignore_errors=True)
        res = _run("default", args.train_n, train_out, None)
        print(json.dumps(res), flush=True)
        model_dir = str(train_out / "trained")
        info = json.loads((Path(model_dir) / "model.json").read_text())
        rows.append(("training", res, f"CNN trained here ({info['epochs']} epochs on {info['n_train']} cutouts)"))
    results = {}
    for mode in args.modes.split(","):
        out = root / f"{mode}_n{args.n}"
        shutil.rmtree(out, ignore_errors=True)
        results[mode] = _run(mode, args.n, out, model_dir)
        print(json.dumps(results[mode]), flush=True)
        with open(out / "bench_tables.pkl", "rb") as fh:
            results[mode]["_tables"] = pickle.load(fh)
    what = (f"pre-trained CNN from [model] (trained at n={args.train_n}): interrogation only" if model_dir else
            "CNN trained inside the run (fast)")
    diff = None
    if "default" in results and "dask" in results:
        diff = compare(results["default"]["_tables"], results["dask"]["_tables"])
        n_tab = len(results["default"]["_tables"]["tables"])
        ident = (f"all {n_tab} tables and the notes bit-identical" if not diff else
                 f"NOT bit-identical: {'; '.join(diff)}")
        print(ident)
    summary = {"n": args.n, "what": what, "diff": diff, "results": {m: {k: v for k, v in r.items() if k != "_tables"}
                                                                for m, r in results.items()}}
    (root / "summary.json").write_text(json.dumps(summary, indent=1))
    if not args.no_record:
        pk = ("torch", "joblib", "distributed", "scikit-learn")
        for label, res, note in rows:
            record(f"study_scale: stellar_mass demo, n={res['n']}, {res['mode']} backend, jobs=2 ({label})",
                   f"{res['total']:.0f} s; steps (s): {_fmt_steps(res, 6)}; load avg {res['load']}; "
                   f"peak RSS {res['peak_rss'] / 1e9:.2f} GB; {note}", "-", pk)
        for mode, res in results.items():
            dom = max(grouped(res["steps"]).items(), key=lambda kv: kv[1])
            extra = f"; cluster start {res['cluster_start']:.1f} s (not in total)" if mode == "dask" else ""
            ratio = f"dominant: {dom[0]} {dom[1] / res['total']:.0%}"
            if res.get("forward_limit"):
                ratio += (f"; predictions / forward-pass limit ({res['forward_limit']:.1f} s) "
                          f"{res['steps']['predictions'] / res['forward_limit']:.2f}x")
            if mode == "dask" and "default" in results:
                ratio += (f"; default/dask {results['default']['total'] / res['total']:.2f}x; "
                          + ("bit-identical" if not diff else "NOT bit-identical"))
            record(f"study_scale: stellar_mass demo, n={args.n}, {mode} backend, jobs=2, {what}",
                   f"{res['total']:.0f} s; steps (s): {_fmt_steps(res)}; load avg {res['load']}; peak RSS "
                   f"{res['peak_rss'] / 1e9:.2f} GB{extra}" + (f"; differs: {'; '.join(diff)}" if diff and
                                                                 mode == "dask" else ""), ratio, pk)
    if not args.keep and not args.out:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
