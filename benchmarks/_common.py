"""Shared helpers for benchmarks: timing, machine description, appending rows to RESULTS.md."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")

_HEADER = """# Benchmark results

Each row is one measurement made by `make bench` (or `python -m benchmarks.bench_NAME`); ratios are
measured within one run on the machine named in the row. Newest rows at the bottom.

| date | benchmark | result | ratio | machine | versions |
|---|---|---|---|---|---|
"""


def machine() -> str:
    """Short description of the machine: CPU model, core count, GPU if one is used."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    desc = f"{cpu}, {os.cpu_count()} cores"
    try:
        import torch

        if torch.cuda.is_available():
            desc += f", GPU {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return desc


def versions(*packages: str) -> str:
    """``name version`` for the given packages (plus Python and numpy)."""
    from importlib.metadata import PackageNotFoundError, version

    out = [f"python {platform.python_version()}"]
    for name in ("numpy", *packages):
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} (not installed)")
    return ", ".join(out)


def best_time(func: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall-clock time of ``repeat`` calls, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def record(benchmark: str, result: str, ratio: str, packages: tuple[str, ...] = ()) -> str:
    """Print a row and append it to ``benchmarks/RESULTS.md``; returns the row."""
    if not RESULTS.exists():
        RESULTS.write_text(_HEADER)
    date = _dt.date.today().isoformat()
    row = f"| {date} | {benchmark} | {result} | {ratio} | {machine()} | {versions(*packages)} |"
    with RESULTS.open("a") as fh:
        fh.write(row + "\n")
    print(row)
    return row
