"""Run every ``benchmarks/bench_*.py`` module's ``main()`` in turn (``make bench``)."""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    only = set(argv or sys.argv[1:])
    failed = []
    for name in names:
        if only and name not in only:
            continue
        print(f"== {name}", flush=True)
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as exc:  # keep going: one failing benchmark should not hide the others
            print(f"   FAILED: {type(exc).__name__}: {exc}", flush=True)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
