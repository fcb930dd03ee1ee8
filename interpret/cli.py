"""The ``interpret`` command: ``interpret demo | run CONFIG | figures | report RUN_DIR | info``.

Exit codes: 0 success, 1 a study failed, 2 bad command line or config, 3 a missing file.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from ._version import __version__
from .exceptions import ConfigError, DataFileError

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_MISSING = 0, 1, 2, 3


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=None, help="random seed (overrides the config)")
    p.add_argument("--n", type=int, default=None, help="number of galaxies (overrides the config)")
    p.add_argument("--device", default=None, help="torch device, e.g. cpu or cuda (overrides the config)")
    p.add_argument("--jobs", type=int, default=None, help="parallel workers for bootstraps/subsets (-1: all)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--analyses", type=Path, default=None, help="a folder of your own study modules (and, "
                   "for demo/figures, their configs/ and configs/demo/); the packaged studies are always there")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(prog="interpret", description="Interrogate trained galaxy estimators: "
                                     "causal discovery, PID, attribution and band ablation.")
    parser.add_argument("--version", action="version", version=f"astro-interpret {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run one study from a TOML config", description="Run one study "
                       "(compute with on-disk caching, figures, HTML report).")
    p.add_argument("config", type=Path, help="TOML config (e.g. my_photoz.toml), or a packaged study's name "
                   "(photoz, sdss_real, stellar_mass, band_utilization, optical_lines_to_ir, piczl)")
    p.add_argument("--out", type=Path, default=None, help="run folder (default runs/<study>)")
    p.add_argument("--figures", type=Path, default=None, help="root folder for figures (default <out>/figures)")
    _common(p)

    p = sub.add_parser("demo", help="compact version of every study (< 3 min on 2 CPUs)",
                       description="Run the packaged compact demo configs end to end, from any folder.")
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="root folder of the demo runs")
    p.add_argument("--only", nargs="*", default=None, help="run only these studies")
    _common(p)

    p = sub.add_parser("figures", help="regenerate every figure of every study into figures/<study>/",
                       description="Run every packaged full config with figures in figures/<study>/.")
    p.add_argument("--out", type=Path, default=Path("runs"), help="root folder of the runs (caches live here)")
    p.add_argument("--figures", type=Path, default=Path("figures"), help="root folder for figures")
    p.add_argument("--only", nargs="*", default=None, help="run only these studies")
    _common(p)

    p = sub.add_parser("report", help="(re)write the HTML report of a run folder")
    p.add_argument("run_dir", type=Path, help="a folder written by `interpret run`")
    p.add_argument("-v", "--verbose", action="count", default=0)

    p = sub.add_parser("info", help="versions, devices, available measures, methods and bands")
    p.add_argument("-v", "--verbose", action="count", default=0)
    return parser


def _overrides(args: argparse.Namespace, out: Path | None) -> dict:
    return {"seed": args.seed, "n": args.n, "device": args.device, "jobs": args.jobs,
            "progress": False if args.no_progress else None, "out": str(out) if out else None}


def _run_configs(configs: list[Path], args: argparse.Namespace, out_root: Path, figures_root: Path | None) -> int:
    from .runner import run_study

    failed = []
    for cfg in configs:
        name = cfg.stem
        t0 = time.perf_counter()
        print(f"[interpret] {name}: running {cfg}", flush=True)
        try:
            ctx = run_study(cfg, overrides=_overrides(args, out_root / name), figures_root=figures_root,
                            study_dirs=[args.analyses] if args.analyses else None)
        except ConfigError:
            raise
        except Exception as exc:  # report and continue with the other studies
            failed.append(name)
            print(f"[interpret] {name}: FAILED ({type(exc).__name__}: {exc})", file=sys.stderr, flush=True)
            if args.verbose:
                traceback.print_exc()
            continue
        print(f"[interpret] {name}: done in {time.perf_counter() - t0:.0f} s; report: {ctx.out / 'report.html'}",
              flush=True)
    if failed:
        print(f"[interpret] failed studies: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _select(demo: bool, analyses: Path | None, only: Sequence[str] | None) -> list[Path]:
    from .studies import STUDIES
    from .studies import configs as packaged

    found = packaged(demo)
    if analyses is not None:
        folder = analyses / "configs" / ("demo" if demo else "")
        if not analyses.is_dir():
            raise FileNotFoundError(f"--analyses folder {str(analyses)!r} not found")
        found.update({c.stem: c for c in sorted(folder.glob("*.toml"))} if folder.is_dir() else {})
    order = {name: k for k, name in enumerate(STUDIES)}
    configs = sorted(found.values(), key=lambda c: (order.get(c.stem, len(order)), c.stem))
    if only:
        known = {c.stem for c in configs}
        bad = sorted(set(only) - known)
        if bad:
            raise ConfigError(f"unknown stud{'y' if len(bad) == 1 else 'ies'} {', '.join(bad)}; valid: "
                              f"{', '.join(sorted(known))}")
        configs = [c for c in configs if c.stem in set(only)]
    return configs


def _info() -> int:
    import platform

    import torch

    print(f"astro-interpret {__version__} (python {platform.python_version()}, torch {torch.__version__}, "
          f"cuda {'available: ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'not available'})")
    for label, getter in (("PID measures", lambda: __import__("interpret.pid", fromlist=["x"]).MEASURES),
                          ("attribution methods", lambda: __import__("interpret.attribution", fromlist=["x"]).METHODS),
                          ("ablation strategies", lambda: __import__("interpret.ablation", fromlist=["x"]).STRATEGIES)):
        try:
            print(f"{label}: {', '.join(sorted(getter()))}")
        except Exception as exc:  # info must never crash on an optional part
            print(f"{label}: unavailable ({type(exc).__name__})")
    try:
        from .data.bands import get_bandset

        for name in ("sdss", "wise", "galex", "2mass", "panstarrs", "hsc", "legacy", "lsst"):
            bs = get_bandset(name)
            print(f"bands {name}: " + ", ".join(f"{b.name} ({b.wavelength:.0f} Å)" for b in bs))
    except Exception as exc:
        print(f"bands: unavailable ({type(exc).__name__})")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``interpret`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2), format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "no_progress", False):
        os.environ["INTERPRET_NO_PROGRESS"] = "1"
    try:
        if args.command == "info":
            return _info()
        if args.command == "report":
            from .report import write_report

            print(f"[interpret] report: {write_report(args.run_dir)}")
            return EXIT_OK
        if args.command == "run":
            return _run_one(args)
        if args.command == "demo":
            t0 = time.perf_counter()
            rc = _run_configs(_select(True, args.analyses, args.only), args, args.out, None)
            print(f"[interpret] demo finished in {time.perf_counter() - t0:.0f} s; reports under {args.out}/*/report.html")
            return rc
        if args.command == "figures":
            return _run_configs(_select(False, args.analyses, args.only), args, args.out, args.figures)
    except ConfigError as exc:
        print(f"interpret: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (FileNotFoundError, DataFileError) as exc:
        print(f"interpret: {exc}", file=sys.stderr)
        return EXIT_MISSING
    return EXIT_CONFIG


def _run_one(args: argparse.Namespace) -> int:
    from .runner import run_study

    try:
        ctx = run_study(args.config, overrides=_overrides(args, args.out), figures_root=args.figures,
                        study_dirs=[args.analyses] if args.analyses else None)
    except (ConfigError, FileNotFoundError, DataFileError):
        raise
    except Exception as exc:
        print(f"interpret: study failed ({type(exc).__name__}: {exc})", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return EXIT_FAILED
    print(f"[interpret] report: {ctx.out / 'report.html'}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
