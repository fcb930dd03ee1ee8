"""Survey scale on one machine (issue 21): time and peak memory against the number of galaxies.

Reproduces the rows of issue 21's table that this package's code owns, each size in its own process (peak
memory = growth of the process's max RSS over the measured call, after a warm-up call):

* ``universe``    - ``make_universe`` catalogue only: seconds, and the exponent between the two largest sizes;
* ``ig_mlp``      - integrated gradients (50 steps), MLP on 9 inputs: marginal peak bytes per galaxy;
* ``ig_cnn``      - integrated gradients (16 steps), CNN on 9 x 32 x 32 cutouts: marginal peak bytes per galaxy;
* ``shapley_mlp`` - exact 9-band ``band_shapley`` (512 subsets), MLP: seconds and peak growth;
* ``shapley_cnn`` - exact 9-band ``band_shapley``, the small two-input CNN of ``bench_ablation``: plain masked
  path and the first-layer shortcut in the same process (ratio in one run), extrapolated to 10^5 galaxies;
* ``shapley_cnn_survey`` - the same model, the first-layer shortcut alone at 10^4 and 10^5 galaxies (measured,
  not extrapolated), with the values checked against the plain path on the first 256 galaxies;
* ``knn_mi``      - kNN mutual information, 5-D source: seconds and exponent;
* ``local_dependence`` - ``local_dependence`` on a 16-D embedding (a smooth map of 4 latent coordinates plus
  noise), k = 50, 100 permutations, ``n_jobs=2`` where the checkout has it: wall and CPU seconds, peak growth,
  exponent (10^6 measured, in its own process).

Sizes are those a shared 2-core CPU affords (10^3-10^5, 4 x 10^5 for the cheap MLP); 10^6 is extrapolated
linearly from the largest size measured, and the rows say so. ``--before PATH`` runs the same workers on
another checkout (e.g. ``git worktree add /tmp/before <commit>``) for before/after rows; rows are appended to
``benchmarks/RESULTS.md`` (``--no-record`` prints them only). ``--busy`` adds a competing busy-loop process.

Run: ``python -m benchmarks.bench_scale [--quick] [--before PATH] [--no-record] [--busy] [--cases universe,ig_mlp]``
(full sizes: about 5 minutes on an idle 2-core CPU, much longer when the cores are shared).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
SIZES = {"universe": (10**3, 10**4, 10**5, 3 * 10**5), "ig_mlp": (10**5, 4 * 10**5), "ig_cnn": (500, 2000),
         "shapley_mlp": (2000, 20000), "shapley_cnn": (300,), "shapley_cnn_survey": (10**4, 10**5),
         "knn_mi": (10**4, 10**5), "local_dependence": (10**4, 10**5, 10**6)}
QUICK = {"universe": (10**3, 10**4, 10**5), "ig_mlp": (10**4, 10**5), "ig_cnn": (250, 1000),
         "shapley_mlp": (1000, 4000), "shapley_cnn": (50,), "shapley_cnn_survey": (10**3, 10**4),
         "knn_mi": (10**4, 3 * 10**4),
         "local_dependence": (10**4, 10**5)}


# --- workers: run in a fresh process, print one JSON line -------------------------------------------------
def _peak() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _measure(call) -> dict:
    before = _peak()
    t0 = time.perf_counter()
    extra = call()
    extra = extra if isinstance(extra, dict) else {}
    return {"seconds": time.perf_counter() - t0, "peak_growth": _peak() - before, **extra}


def _cnn():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(9, 8, 3, padding=1), torch.nn.SiLU(),
                               torch.nn.Conv2d(8, 16, 3, stride=2, padding=1), torch.nn.SiLU(),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 1)).eval()


def _mlp():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(9, 64), torch.nn.SiLU(), torch.nn.Linear(64, 1)).eval()


def _worker(case: str, n: int) -> dict:
    import warnings

    import numpy as np

    import interpret as ip

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    if case == "universe":
        ip.mock.make_universe(n=200, seed=1, images=False, spectra=False, progress=False)
        return _measure(lambda: ip.mock.make_universe(n=n, seed=0, images=False, spectra=False, progress=False))
    if case in ("ig_mlp", "ig_cnn"):
        shape, model, steps = ((9,), _mlp(), 50) if case == "ig_mlp" else ((9, 32, 32), _cnn(), 16)
        x = rng.normal(size=(n, *shape)).astype(np.float32)
        ip.attribution.attribute(model, x[:128], n_steps=steps, progress=False)
        res = _measure(lambda: ip.attribution.attribute(model, x, n_steps=steps, progress=False))
        return {**res, "input_bytes": int(x[0].nbytes)}
    if case == "shapley_mlp":
        x = rng.normal(20, 1, size=(n, 9)).astype(np.float32)
        y = rng.normal(size=n)
        bands = [f"b{k}" for k in range(9)]
        ip.ablation.band_shapley(_mlp(), x[:64], y[:64], bands=bands, progress=False)
        return _measure(lambda: ip.ablation.band_shapley(_mlp(), x, y, bands=bands, progress=False))
    if case == "shapley_cnn":
        return _shapley_cnn(n)
    if case == "shapley_cnn_survey":
        return _shapley_cnn_survey(n)
    if case == "knn_mi":
        src = rng.normal(size=(n, 5))
        tgt = src @ rng.normal(size=5) + rng.normal(size=n)
        ip.pid.mutual_information(tgt[:500], src[:500])
        return _measure(lambda: ip.pid.mutual_information(tgt, src))
    if case == "local_dependence":
        return _local_dependence(n)
    raise SystemExit(f"unknown case {case!r}")


def _local_dependence(n: int) -> dict:
    """16-D embedding of 4 latent coordinates (the low intrinsic dimension of a network's embedding), k = 50,
    100 permutations; wall and process CPU seconds (all threads)."""
    import inspect

    import numpy as np

    from interpret.causal import local_dependence

    rng = np.random.default_rng(0)
    lat = rng.normal(size=(n, 4))
    emb = np.tanh(lat @ rng.normal(size=(4, 16))) + 0.05 * rng.normal(size=(n, 16))
    t, q = lat[:, 0] + 0.5 * rng.normal(size=n), lat[:, 1] + rng.normal(size=n)
    kw = {"n_jobs": 2, "progress": False} if "n_jobs" in inspect.signature(local_dependence).parameters else {}
    local_dependence(emb[:2000], t[:2000], q[:2000], k=50, n_permutations=100, seed=0, **kw)
    cpu = time.process_time()
    res = _measure(lambda: local_dependence(emb, t, q, k=50, n_permutations=100, seed=0, **kw))
    return {**res, "cpu_seconds": time.process_time() - cpu, "n_jobs": kw.get("n_jobs", 1)}


def _shapley_cnn(n: int) -> dict:
    """Plain masked path vs the first-layer shortcut, interleaved (best of 2 each); the shortcut only where the
    checkout has it (Batching(first_layer=...))."""
    import dataclasses

    import numpy as np
    import torch

    from interpret.ablation import Batching, band_shapley

    sys.path.insert(0, str(HERE.parent.parent))
    from benchmarks.bench_ablation import N_BANDS, SmallCNN

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(n, N_BANDS, 32, 32)).astype(np.float32), rng.normal(20, 1, (n, N_BANDS)).astype(np.float32))
    y = rng.normal(size=n)
    est, bands = SmallCNN().eval(), [f"b{k}" for k in range(N_BANDS)]
    has = "first_layer" in {f.name for f in dataclasses.fields(Batching)}
    modes = {"plain": {"first_layer": False} if has else {}, **({"first_layer": {}} if has else {})}
    best: dict[str, float] = {}
    values: dict[str, np.ndarray] = {}
    for _ in range(2):
        for name, kw in modes.items():
            t0 = time.perf_counter()
            res = band_shapley(est, x, y, bands=bands, progress=False, batching=Batching(batch_size=512, **kw))
            best[name] = min(best.get(name, np.inf), time.perf_counter() - t0)
            values[name] = res.values.to_numpy()
    out = {"seconds": best["plain"], "threads": torch.get_num_threads()}
    if has:
        a, b = values["plain"], values["first_layer"]
        out.update(shortcut_seconds=best["first_layer"], max_rel_diff=float(np.max(np.abs(a - b)) / np.max(np.abs(a))))
    return out


def _shapley_cnn_survey(n: int) -> dict:
    """The survey-size run of issue 21: the first-layer shortcut alone on all ``n`` galaxies (the plain path
    would take hours), and the plain path on the first 256 galaxies for the values (same data, same fill)."""
    import numpy as np
    import torch

    from interpret.ablation import Batching, band_shapley

    sys.path.insert(0, str(HERE.parent.parent))
    from benchmarks.bench_ablation import N_BANDS, SmallCNN

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images = np.empty((n, N_BANDS, 32, 32), dtype=np.float32)
    for lo in range(0, n, 10_000):                       # float32 draws in slabs: no float64 copy of 10^5 cutouts
        images[lo:lo + 10_000] = rng.standard_normal((min(10_000, n - lo), N_BANDS, 32, 32), dtype=np.float32)
    x = (images, rng.normal(20, 1, (n, N_BANDS)).astype(np.float32))
    y = rng.normal(size=n)
    est, bands = SmallCNN().eval(), [f"b{k}" for k in range(N_BANDS)]
    m = min(n, 256)
    head = (x[0][:m], x[1][:m])
    plain = band_shapley(est, head, y[:m], bands=bands, progress=False,
                         batching=Batching(batch_size=512, first_layer=False)).values.to_numpy()
    short = band_shapley(est, head, y[:m], bands=bands, progress=False,
                         batching=Batching(batch_size=512, first_layer=True)).values.to_numpy()
    cpu = time.process_time()
    res = _measure(lambda: band_shapley(est, x, y, bands=bands, progress=False,
                                        batching=Batching(batch_size=512, first_layer=True)))
    return {**res, "cpu_seconds": time.process_time() - cpu, "threads": torch.get_num_threads(),
            "input_bytes": int(images.nbytes + x[1].nbytes),
            "max_rel_diff": float(np.max(np.abs(plain - short)) / np.max(np.abs(plain)))}


# --- driver ---------------------------------------------------------------------------------------------------
def run_case(case: str, n: int, tree: Path | None, timeout: float) -> dict | None:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")])
    try:
        out = subprocess.run([sys.executable, str(HERE), "--worker", case, str(n)], capture_output=True, text=True,
                             env=env, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as exc:
        print(f"{case} n={n}: failed\n{exc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def _exponent(n1: int, t1: float, n2: int, t2: float) -> float:
    import math

    return math.log(t2 / t1) / math.log(n2 / n1)


def summarise(case: str, runs: dict[int, dict]) -> str:
    sizes = sorted(runs)
    last = runs[sizes[-1]]
    if case in ("universe", "knn_mi"):
        parts = [f"{n:.0e}: {runs[n]['seconds']:.2f} s" for n in sizes]
        if len(sizes) > 1:
            parts.append(f"exponent {_exponent(sizes[-2], runs[sizes[-2]]['seconds'], sizes[-1], last['seconds']):.2f}")
        parts.append(f"-> 10^6 ~ {last['seconds'] * 1e6 / sizes[-1]:.0f} s (linear extrapolation)")
        return "; ".join(parts)
    if case in ("ig_mlp", "ig_cnn"):
        parts = [f"{n:.0e}: peak +{runs[n]['peak_growth'] / 2**20:.0f} MB in {runs[n]['seconds']:.1f} s" for n in sizes]
        if len(sizes) > 1:
            n1, n2 = sizes[-2], sizes[-1]
            per = (last["peak_growth"] - runs[n1]["peak_growth"]) / (n2 - n1)
            inb = last["input_bytes"]
            parts.append(f"marginal {per:.0f} B/galaxy = {per / inb:.1f}x the input ({inb} B) -> 10^5 ~ "
                         f"{per * 1e5 / 2**30:.2f} GB, 10^6 ~ {per * 1e6 / 2**30:.1f} GB (extrapolated)")
        return "; ".join(parts)
    if case == "shapley_mlp":
        return "; ".join(f"{n:.0e}: {runs[n]['seconds']:.1f} s, peak +{runs[n]['peak_growth'] / 2**20:.0f} MB"
                         for n in sizes)
    if case == "shapley_cnn_survey":
        parts = [f"{n:.0e}: {runs[n]['seconds']:.1f} s wall ({runs[n]['cpu_seconds']:.1f} s CPU, "
                 f"{runs[n]['threads']} torch threads), peak +{runs[n]['peak_growth'] / 2**20:.0f} MB beyond the "
                 f"{runs[n]['input_bytes'] / 2**20:.0f} MB input" for n in sizes]
        if len(sizes) > 1:
            n1, n2 = sizes[-2], sizes[-1]
            parts.append(f"exponent {_exponent(n1, runs[n1]['seconds'], n2, last['seconds']):.2f} (wall)")
        parts.append(f"max relative difference to the plain masked path on 256 galaxies {last['max_rel_diff']:.1e}")
        return "exact 9-band band_shapley, first-layer shortcut, small CNN 9x32x32 + mags; " + "; ".join(parts)
    if case == "local_dependence":
        parts = [f"{n:.0e}: {runs[n]['seconds']:.1f} s wall, {runs[n]['cpu_seconds']:.1f} s CPU, peak "
                 f"+{runs[n]['peak_growth'] / 2**20:.0f} MB" for n in sizes]
        if len(sizes) > 1:
            n1, n2 = sizes[-2], sizes[-1]
            parts.append(f"exponent {_exponent(n1, runs[n1]['seconds'], n2, last['seconds']):.2f} (wall), "
                         f"{_exponent(n1, runs[n1]['cpu_seconds'], n2, last['cpu_seconds']):.2f} (CPU)")
        return f"n_jobs={last['n_jobs']}; " + "; ".join(parts)
    n = sizes[-1]
    text = (f"n={n}, 512 subsets, {last['threads']} torch threads: plain {last['seconds']:.1f} s "
            f"({last['seconds'] * 1e3 / n:.0f} s per 10^3 galaxies -> 10^5 ~ {last['seconds'] * 1e5 / n / 60:.0f} min)")
    if "shortcut_seconds" in last:
        s = last["shortcut_seconds"]
        text += (f"; first-layer shortcut {s:.1f} s ({s * 1e3 / n:.0f} s per 10^3 -> 10^5 ~ {s * 1e5 / n / 60:.0f} "
                 f"min), max relative difference of the values {last['max_rel_diff']:.1e}")
    return text


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", nargs=2, metavar=("CASE", "N"))
    p.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes in all)")
    p.add_argument("--before", type=Path, help="a checkout of an older commit to measure too")
    p.add_argument("--cases", default=",".join(SIZES))
    p.add_argument("--no-record", dest="record", action="store_false", help="print rows, do not append them to "
                   "benchmarks/RESULTS.md")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per size; a size past it is skipped")
    p.add_argument("--busy", action="store_true",
                   help="run a competing busy-loop process on one core meanwhile (a shared machine)")
    args = p.parse_args([] if argv is None else argv)     # run_all calls main() without arguments
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy and not args.worker else None
    try:
        _main(args)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


def _main(args: argparse.Namespace) -> None:
    if args.worker:
        print(json.dumps(_worker(args.worker[0], int(float(args.worker[1])))))
        return
    sizes = QUICK if args.quick else SIZES
    trees = [("after", None)] + ([("before", args.before)] if args.before else [])
    for case in args.cases.split(","):
        for label, tree in trees:
            runs = {}
            for n in sizes[case]:
                r = run_case(case, n, tree, args.timeout)
                if r is None:
                    print(f"{case} n={n} ({label}): skipped (over {args.timeout:.0f} s or failed)", file=sys.stderr)
                    break
                runs[n] = r
            if not runs:
                continue
            text = summarise(case, runs)
            name = f"scale: {case} ({label}{'' if tree is None else ' = ' + tree.name}" \
                   f"{', with a busy-loop process on one core' if args.busy else ''})"
            if args.record:
                sys.path.insert(0, str(HERE.parent.parent))
                from benchmarks._common import record

                record(name, text, "-", packages=("torch",))
            else:
                print(f"{name}: {text}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
