"""Reference estimators at full size: held-out accuracy against the issue-3 bars, and training time.

Generates ``make_universe(12_000, seed=0)`` (70 / 15 / 15 % split: 8400 training galaxies), trains the three
mock tasks of :func:`interpret.mock.train_reference` with their default (``fast=False``) architecture and
hyper-parameters on CPU with one torch thread, and records one row per task: the held-out metrics, the bar
each must meet, and the training time. A full run takes tens of minutes on a busy 2-core machine (each
task trains for up to 20-30 epochs); ``--from-cache DIR`` instead records the rows of runs already made
(the JSON reports :func:`train_reference` writes next to the cached weights), without training.

Usage: ``python -m benchmarks.bench_reference [--n 12000] [--from-cache DIR]``
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks._common import record

__all__ = ["main", "BARS", "bar_verdict", "record_report", "run_task"]

#: Issue-3 accuracy bars on held-out mock data: metric -> maximum allowed value, per task.
BARS: dict[str, dict[str, float]] = {
    "stellar_mass": {"scatter": 0.15},
    "photoz": {"sigma_nmad": 0.03, "outlier_fraction": 0.05},
    "ir_from_spectra": {"W1_ratio": 1.5, "W2_ratio": 1.5, "W3_ratio": 1.5, "W4_ratio": 1.5},
}


def bar_verdict(task: str, metrics: dict) -> tuple[str, bool]:
    """``"metric=value (<= bar: yes/NO)"`` for each bar of ``task`` and whether all are met."""
    parts, ok = [], True
    for name, bar in BARS[task].items():
        met = metrics[name] <= bar
        ok &= met
        parts.append(f"{name}={metrics[name]:.3f} (<= {bar}: {'yes' if met else 'NO'})")
    return ", ".join(parts), ok


def record_report(report: dict, label: str) -> str:
    """Record one row from a training report (``TrainingReport`` fields as a dict)."""
    task = report["task"]
    verdict, ok = bar_verdict(task, report["metrics"])
    seconds = report["config"].get("train_seconds", report.get("seconds", 0.0))
    n = f"{report['n_train']}/{report['n_val']}/{report['n_test']}"
    result = (f"{verdict}; {'all bars met' if ok else 'bar missed'}; train {seconds:.0f} s, "
              f"{report['epochs']} epochs (best {report['best_epoch']}), split {n}")
    return record(f"reference.{task} ({label})", result, f"{seconds / 60:.1f} min training",
                  ("torch", "scikit-learn"))


def run_task(universe, task: str, cache_dir: Path) -> dict:
    """Train one task with the defaults (1 CPU thread); return its report as a dict."""
    import interpret as ip

    est = ip.mock.train_reference(universe, task, cache_dir=cache_dir, progress=False, num_threads=1)
    rep = est.training
    return {"task": task, "metrics": rep.metrics, "seconds": rep.seconds, "config": rep.config,
            "n_train": rep.n_train, "n_val": rep.n_val, "n_test": rep.n_test, "epochs": rep.epochs,
            "best_epoch": rep.best_epoch}


def _from_cache(folder: Path, label: str) -> None:
    newest: dict[str, Path] = {}
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
        task = json.loads(path.read_text())["task"]
        newest[task] = path
    for task in BARS:
        if task in newest:
            record_report(json.loads(newest[task].read_text()), label)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12_000, help="galaxies in the mock universe")
    parser.add_argument("--from-cache", type=Path, default=None, help="record cached reports, no training")
    parser.add_argument("--label", default=None, help="text after the task name in the benchmark column")
    args = parser.parse_args(argv)
    label = args.label or f"make_universe({args.n}, seed=0)"
    if args.from_cache is not None:
        _from_cache(args.from_cache, label)
        return
    import interpret as ip

    t0 = time.perf_counter()
    universe = ip.mock.make_universe(n=args.n, seed=0, progress=False)
    label += f", generated in {time.perf_counter() - t0:.0f} s"
    with tempfile.TemporaryDirectory() as tmp:
        for task in BARS:
            record_report(run_task(universe, task, Path(tmp)), label)


if __name__ == "__main__":
    main()
