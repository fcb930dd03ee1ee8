"""The one vocabulary (docs/conventions.md), checked over every public function.

* signatures: the names of the vocabulary table, ``seed=None``, ``progress=None``, ``n_jobs=None``, metrics
  taking ``(y_true, y_pred)``;
* randomness: ``seed=None`` gives fresh numbers and an int reproduces, for every public function that
  draws random numbers (called on tiny inputs here, or listed with the test that covers it);
* progress: one rule (a bar on a terminal when the work is long; False silences);
* namespace: nothing leaks into ``interpret``, lazily loaded names are in ``__all__`` and resolve, and a
  part that fails to import raises.
"""
from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import interpret as ip


def _public_objects() -> tuple[dict[str, object], dict[str, object]]:
    """(functions, public methods of classes) named in the ``__all__`` of every public module."""
    mods = ["interpret", *(f"interpret.{m}" for m in sorted(ip._SUBMODULES))]
    for m in list(mods):
        mod = importlib.import_module(m)
        if hasattr(mod, "__path__"):
            mods += [f"{m}.{i.name}" for i in pkgutil.iter_modules(mod.__path__) if not i.name.startswith("_")]
    functions: dict[str, object] = {}
    methods: dict[str, object] = {}
    for m in mods:
        mod = importlib.import_module(m)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                functions.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
            elif inspect.isclass(obj) and obj.__module__.startswith("interpret"):
                for meth_name, meth in inspect.getmembers(obj, inspect.isfunction):
                    if not meth_name.startswith("_") and meth.__module__.startswith("interpret"):
                        methods.setdefault(f"{meth.__module__}.{meth.__qualname__}", meth)
    return functions, methods


PUBLIC, METHODS = _public_objects()
# every study's notebook entry point (its steps module is not one level below a public module): the user's
# randomness enters a study here
RUN_ALL = {f"interpret.studies.{s}.steps.run_all": getattr(importlib.import_module(f"interpret.studies.{s}.steps"),
                                                              "run_all", None) for s in ip.studies.STUDIES}
PUBLIC.update({k: f for k, f in RUN_ALL.items() if f is not None})
SIGNATURES = {name: inspect.signature(f) for name, f in PUBLIC.items()}

# names the vocabulary replaces (docs/conventions.md): old -> the one to use
BANNED = {"ci": "ci_level", "n_perm": "n_permutations", "jobs": "n_jobs", "n_workers": "n_jobs",
          "n_bootstrap": "n_boot", "n_resamples": "n_boot", "random_state": "seed", "verbose": "progress",
          "show_progress": "progress", "normalize_z": "redshift"}
# building blocks that receive a Generator from their caller (never the entry point of a user's randomness)
TAKES_GENERATOR = {"interpret.ablation.shapley.sample_shapley", "interpret.ablation.shapley.sample_interactions",
                   "interpret.attribution.baselines.baseline_distribution", "interpret.mock.images.render_images"}
# engine helpers whose caller always passes the (already resolved) seed
SEED_REQUIRED = {"interpret.ablation.retrain.retrained_predictions", "interpret.ablation.retrain.split_indices",
                 "interpret.parallel.seeded_map"}


def _seed_required(name: str) -> bool:
    """Engine helpers above, and a study's steps: they receive the run's seed, resolved once (``run_all`` and
    the runner turn ``seed=None`` into one recorded int), so that every step of a run draws from the same one."""
    module, _, func = name.rpartition(".")
    return name in SEED_REQUIRED or (module.startswith("interpret.studies.") and module.endswith(".steps")
                                     and func != "run_all")



def test_the_collector_sees_the_public_api():
    assert len(PUBLIC) > 150
    assert {"interpret.ablation.ablate.band_ablation", "interpret.pid.decomposition.decompose",
            "interpret.attribution.core.attribute", "interpret.metrics.bias"} <= set(PUBLIC)


# --- signatures ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_signature_vocabulary(name):
    params = SIGNATURES[name].parameters
    wrong = {p: BANNED[p] for p in params if p in BANNED}
    assert not wrong, f"{name}: use {wrong} (docs/conventions.md)"
    if "rng" in params:
        assert name in TAKES_GENERATOR, f"{name}: randomness is 'seed: int | Generator | None = None'"
    if "seed" in params:
        default = params["seed"].default
        assert default is None or (default is inspect.Parameter.empty and _seed_required(name)), \
            f"{name}: seed must default to None (fresh randomness); got {default!r}"
    if "progress" in params:
        assert params["progress"].default in (None, inspect.Parameter.empty), f"{name}: progress defaults to None"
    if "n_jobs" in params:
        assert params["n_jobs"].default in (None, inspect.Parameter.empty), f"{name}: n_jobs defaults to None"
    if "estimator" in params:
        assert params["estimator"].default is inspect.Parameter.empty, \
            f"{name}: 'estimator' is a trained model; name an algorithm 'method'"


@pytest.mark.parametrize("name", sorted(n for n, m in METHODS.items()
                                  if {"seed", "progress"} & set(inspect.signature(m).parameters)))
def test_methods_follow_the_seed_and_progress_rules(name):
    params = inspect.signature(METHODS[name]).parameters
    for arg in ("seed", "progress"):
        if arg in params:   # required where the public caller passes its own (e.g. AttributionMethod.compute)
            assert params[arg].default in (None, inspect.Parameter.empty), f"{name}: {arg} defaults to None"


@pytest.mark.parametrize("name", [n for n in sorted(PUBLIC) if n.startswith("interpret.metrics.")
                                  and n.rsplit(".", 1)[1] in ip.metrics.__all__
                                  and "y_true" in SIGNATURES[n].parameters])
def test_metrics_take_y_true_then_y_pred_and_redshift(name):
    params = list(SIGNATURES[name].parameters)
    assert params[:2] == ["y_true", "y_pred"], f"{name}: scikit-learn's order (y_true, y_pred)"
    if name.rsplit(".", 1)[1] in ip.metrics.METRICS or name.endswith((".pit", ".evaluate", ".residuals")):
        assert "redshift" in params, f"{name}: every scoring function accepts redshift="


# --- randomness ---------------------------------------------------------------------------------------------
def _tiny():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    return x, x[:, 0] + 0.5 * x[:, 1] + 0.1 * rng.normal(size=120)


def _call_band_ablation(seed):
    from sklearn.linear_model import LinearRegression

    x, y = _tiny()
    spec = ip.ablation.RetrainSpec(lambda a, b: LinearRegression().fit(a, b), test_size=0.3)
    return ip.ablation.band_ablation(None, x, y, bands=["a", "b", "c"], retrain=spec, metrics="rmse", seed=seed,
                                     progress=False).table["rmse"].to_numpy()


def _call_band_shapley(seed):
    # 5 bands, 10 sampled permutations: three fresh draws coincide with probability ~1e-8 (with 3 bands and 4
    # permutations, i.e. 2 of only 3 antithetic pairs, they coincided about once in 27 runs)
    x = np.random.default_rng(0).normal(size=(120, 5))
    y = x[:, 0] + 0.5 * x[:, 1] + 0.2 * x[:, 3]
    s = ip.ablation.band_shapley(lambda a: np.tanh(a[:, 0] * a[:, 1]) + a[:, 2] ** 2 + a[:, 3] * a[:, 4], x, y,
                                 bands=["u", "g", "r", "i", "z"], seed=seed, progress=False,
                                 sampling=ip.ablation.ShapleySampling(exact=False, n_permutations=10))
    return s.values.to_numpy()


def _call_attribute(seed):
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x = _tiny()[0][:10].astype(np.float32)
    return ip.attribution.attribute(net, x, method="smoothgrad", seed=seed, progress=False).values


def _call_line_importance(seed):
    from interpret.attribution.lines import line_importance

    rng = np.random.default_rng(1)
    wave = np.linspace(3800, 7000, 400)
    values = rng.normal(size=(30, 400))
    return line_importance(values, wave, n_boot=30, seed=seed)["ci_low"].to_numpy()


def _call_local_dependence(seed):
    rng = np.random.default_rng(2)
    emb, q = rng.normal(size=(200, 2)), rng.normal(size=200)
    return ip.causal.local_dependence(emb, q + rng.normal(size=200), q, k=20, n_permutations=10,
                                      seed=seed).p_value


def _call_edge_stability(seed):
    rng = np.random.default_rng(3)
    a = rng.normal(size=150)
    df = pd.DataFrame({"a": a, "b": a + 0.8 * rng.normal(size=150), "c": rng.normal(size=150)})
    return ip.causal.edge_stability(df, n_boot=8, alpha=0.2, seed=seed, progress=False).to_numpy()


def _call_decompose(seed):
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    r = ip.pid.decompose(a ^ b, {"a": a, "b": b}, measure="mmi", bins=None,
                         resampling=ip.pid.Resampling(n_boot=6), seed=seed)
    return np.array([v for lohi in r.ci.values() for v in lohi])


def _call_reduce_source(seed):
    from sklearn.linear_model import LinearRegression

    from interpret.pid.discretize import reduce_source

    x, y = _tiny()
    return reduce_source(x, y, n_splits=3, regressor=LinearRegression(), seed=seed)[0]


def _call_mutual_information(seed):
    x, y = _tiny()
    return ip.pid.mutual_information(y, x, n_boot=4, seed=seed, progress=False).replicates


def _call_knn_decompose(seed):
    x, y = _tiny()
    r = ip.pid.knn_decompose(y, {"a": x[:, 0], "b": x[:, 1]}, n_boot=4, seed=seed, progress=False)
    return np.array([v for lohi in r.ci.values() for v in lohi])


def _call_make_universe(seed):
    u = ip.mock.make_universe(20, seed=seed, images=False, spectra=False, progress=False)
    return u.catalog["log_mstar"].to_numpy()


def _call_simulate_population(seed):
    return ip.mock.simulate_population(20, seed=seed)["log_mstar"].to_numpy()


def _call_reference_split(seed):
    return ip.mock.reference_split(100, seed=seed).test


CALLS = {
    "interpret.ablation.ablate.band_ablation": _call_band_ablation,
    "interpret.ablation.shapley.band_shapley": _call_band_shapley,
    "interpret.attribution.core.attribute": _call_attribute,
    "interpret.attribution.lines.line_importance": _call_line_importance,
    "interpret.causal.local.local_dependence": _call_local_dependence,
    "interpret.causal.stability.edge_stability": _call_edge_stability,
    "interpret.pid.decomposition.decompose": _call_decompose,
    "interpret.pid.discretize.reduce_source": _call_reduce_source,
    "interpret.pid.knn.mutual_information": _call_mutual_information,
    "interpret.pid.knn.knn_decompose": _call_knn_decompose,
    "interpret.mock.universe.make_universe": _call_make_universe,
    "interpret.mock.population.simulate_population": _call_simulate_population,
    "interpret.mock.train.reference_split": _call_reference_split,
}
# seeded functions checked elsewhere (slow here) or whose randomness is that of a function above
COVERED = {
    "interpret._stream_ablation.stream_band_ablation": "tests/test_streaming_ablation.py (seed=3, resumes equal)",
    "interpret.attribution.fused_sampled.fused_gradient_shap": "the engine of attribute(method='gradient_shap')",
    "interpret.attribution.fused_sampled.fused_smoothgrad": "the engine of attribute(method='smoothgrad')",
    "interpret.attribution.sanity.randomization_test": "tests/test_attribution_sanity.py",
    "interpret.causal.discover.discover": "seeds only causal-learn's kernel tests; tests/test_causal.py",
    "interpret.mock.train.train_reference": "tests/test_train.py (training is slow)",
    "interpret.mock.universe.simulate_catalog": "make_universe(images=False, spectra=False)",
    "interpret.mock.universe.universe_digest": "refuses seed=None: test_fresh_universe_has_no_digest",
    "interpret.pid.compare.compare_routes": "knn_decompose + pointwise_decompose; tests/test_pid_neural.py",
    "interpret.pid.estimation.bootstrap": "the bootstrap of decompose(n_boot=)",
    "interpret.pid.estimation.shuffle_null": "the shuffles of decompose(bias_correction='shuffle')",
    "interpret.pid.measures.measure_atoms": "dit's optimisers; tests/test_pid_binned.py",
    "interpret.pid.neural.pointwise_decompose": "tests/test_pid_neural.py (training is slow)",
    **{name: "turns seed=None into one fresh int for every step (out['seed']); reproduction and freshness in "
             "tests/test_analysis_optical_lines_to_ir.py, each study's run_all in its tests/test_analysis_*.py"
       for name, f in RUN_ALL.items() if f is not None and "seed" in inspect.signature(f).parameters},
}


def test_every_seeded_function_is_checked():
    seeded = {n for n, s in SIGNATURES.items() if "seed" in s.parameters and not _seed_required(n)}
    assert seeded - set(CALLS) - set(COVERED) == set(), "add the new seeded function to CALLS or COVERED"
    assert set(CALLS) | set(COVERED) <= seeded


@pytest.mark.parametrize("name", sorted(CALLS))
def test_seed_int_reproduces_and_none_is_fresh(name):
    call = CALLS[name]
    a, b = call(7), call(7)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=f"{name}: seed=7 twice differs")
    fresh = [np.asarray(call(None)) for _ in range(3)]
    assert any(not np.array_equal(fresh[0], f) for f in fresh[1:]), f"{name}: seed=None gave the same numbers"


def test_generator_seed_reproduces():
    a = _call_simulate_population(np.random.default_rng(5))
    b = _call_simulate_population(np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_fresh_universe_records_its_seed_and_has_no_digest():
    u = ip.mock.make_universe(10, images=False, spectra=False, progress=False)
    again = ip.mock.make_universe(10, seed=u.seed, images=False, spectra=False, progress=False)
    pd.testing.assert_frame_equal(u.catalog, again.catalog)
    with pytest.raises(ip.exceptions.ValidationError, match="no reproducible key"):
        ip.mock.universe_digest(10)


# --- progress -----------------------------------------------------------------------------------------------
class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_rule(monkeypatch):
    from interpret._progress import LONG_SECONDS, progress_bar, progress_enabled

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("INTERPRET_NO_PROGRESS", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_enabled(True) and not progress_enabled(False)
    assert not progress_enabled(None)                        # not a terminal: silent
    monkeypatch.setattr(sys, "stderr", _TTY())
    assert progress_enabled(None)                            # a terminal: a bar ...
    assert progress_bar(range(3), progress=None).delay == LONG_SECONDS   # ... once the work is long
    assert progress_bar(range(3), progress=True).delay == 0
    monkeypatch.setenv("CI", "1")
    assert not progress_enabled(None)


def test_progress_true_draws_none_is_silent_off_a_terminal(capsys):
    from interpret.parallel import parallel_map

    parallel_map(abs, range(5), progress=None, desc="work")
    parallel_map(abs, range(5), progress=False, desc="work")
    assert capsys.readouterr().err == ""
    parallel_map(abs, range(5), progress=True, desc="work")
    assert "work" in capsys.readouterr().err


# --- namespace ----------------------------------------------------------------------------------------------
def test_no_namespace_leaks():
    # imported submodules become attributes of the package; anything else would be a leak
    leaks = {n for n, v in vars(ip).items() if not n.startswith("_") and n not in ip.__all__
             and not getattr(v, "__name__", "").startswith("interpret.")}
    assert leaks == set()
    for leak in ("Any", "annotations", "importlib"):
        assert not hasattr(ip, leak) and leak not in dir(ip)
    assert set(dir(ip)) >= set(ip.__all__)


@pytest.mark.parametrize("package", ["interpret.mock", "interpret.pid", "interpret.data", "interpret.plots",
                                     "interpret.ablation", "interpret.attribution", "interpret.causal"])
def test_lazy_names_are_in_all_and_resolve(package):
    mod = importlib.import_module(package)
    assert len(mod.__all__) == len(set(mod.__all__))
    for name in mod.__all__:
        assert getattr(mod, name) is not None
    star: dict[str, object] = {}
    exec(f"from {package} import *", star)
    assert set(mod.__all__) <= set(star)


def test_a_part_that_fails_to_import_raises(tmp_path, monkeypatch):
    pkg = tmp_path / "lazy_pkg_under_test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        from interpret._lazy import lazy_exports
        __getattr__, __all__, __dir__ = lazy_exports(__name__, ("good", "broken"))
    """))
    (pkg / "good.py").write_text("__all__ = ['one']\none = 1\n")
    (pkg / "broken.py").write_text("__all__ = ['two']\nimport a_module_that_does_not_exist\ntwo = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("lazy_pkg_under_test")
    assert mod.__all__ == ["one", "two"] and mod.one == 1
    with pytest.raises(ModuleNotFoundError, match="a_module_that_does_not_exist"):
        _ = mod.two
    for name in list(sys.modules):
        if name.startswith("lazy_pkg_under_test"):
            monkeypatch.delitem(sys.modules, name)


def test_fresh_seeds_reach_numpys_legacy_random_state():
    """int_seed draws below 2**63; scikit-learn, pandas and np.random.seed take seeds below 2**32 only."""
    from interpret._seeding import int_seed, legacy_seed, numpy_global_seed
    from interpret.pid.discretize import reduce_source
    from interpret.studies._models import RefitHGB

    big = 2**40 + 5
    assert legacy_seed(7) == 7 and legacy_seed(2**32 - 1) == 2**32 - 1 and 0 <= legacy_seed(big) < 2**32
    assert max(int_seed(None) for _ in range(20)) >= 2**32            # fresh seeds do exceed 2**32
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    summary, record = reduce_source(x, x[:, 0] + 0.1 * rng.normal(size=120), seed=big)
    assert summary.shape == (120,) and record["cv_r2"] > 0.5
    model = RefitHGB(max_iter=5)(pd.DataFrame(x, columns=["g", "r"]), x[:, 0], seed=big)
    assert model.predict(pd.DataFrame(x[:3], columns=["g", "r"])).shape == (3,)
    with numpy_global_seed(big):
        first = np.random.random_sample()
    with numpy_global_seed(big):
        assert np.random.random_sample() == first
