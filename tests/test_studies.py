"""The studies as a user meets them: packaged configs, the user's model + split, content caching, the report."""
from __future__ import annotations

import dataclasses
import json
import re
import textwrap
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import interpret.studies as st
from interpret.exceptions import ConfigError
from interpret.runner import CacheWarning, RunLockedError, load_study, run_lock, run_study

QUICK = """
[params]
n_boot = 20
n_attribution = 40
ig_steps = 8
n_boot_shapley = 2
pid_n_boot = 0
pid_bins = 4
pid_n_splits = 2
causal_n_boot = 4
"""


# --- packaged studies and configs ---------------------------------------------------------------------------
@pytest.mark.parametrize("demo", [False, True])
def test_every_packaged_config_validates(demo):
    found = st.configs(demo)
    assert {"photoz", "sdss_real", "stellar_mass", "band_utilization", "optical_lines_to_ir"} <= set(found)
    import tomllib

    for name, path in found.items():
        cfg = tomllib.loads(path.read_text())
        module = load_study(cfg["study"])
        assert module.__name__ == f"interpret.studies.{name}"
        params = module.Params.from_mapping(cfg.get("params", {}))
        assert dataclasses.is_dataclass(params)
        with pytest.raises(dataclasses.FrozenInstanceError):
            params.seed_is_not_a_param = 1      # frozen: steps never mutate parameters


@pytest.mark.parametrize("study", st.STUDIES)
def test_every_figure_has_a_whole_caption(study):
    """Captions are whole sentences: one taken from a docstring wrapped over two lines was cut mid-sentence."""
    module = load_study(study)
    figures = module.FIGURES.values() if isinstance(module.FIGURES, dict) else module.FIGURES
    names = {f.__name__.removeprefix("fig_") for f in figures}
    assert set(module.CAPTIONS) == names
    for name, caption in module.CAPTIONS.items():
        if not callable(caption):         # a callable caption is written from the run's numbers
            assert caption.rstrip().endswith((".", ")")) and "\n" not in caption, (name, caption)


def test_study_params_refuse_unknown_and_mistyped_keys():
    from interpret.studies.photoz import Params

    with pytest.raises(ConfigError, match=r"unknown key\(s\) 'n_bot'.*valid keys are .*n_boot"):
        Params.from_mapping({"n_bot": 3})
    with pytest.raises(ConfigError, match="'n_boot' must be an integer; got 'many'"):
        Params.from_mapping({"n_boot": "many"})
    with pytest.raises(ConfigError, match="'fast' must be true or false; got 1"):
        Params.from_mapping({"fast": 1})
    with pytest.raises(ConfigError, match="baseline_values"):
        Params.from_mapping({"baseline": "reference"})
    assert Params.from_mapping({"bands": ["g", "r"]}).bands == ("g", "r")


# --- a user's TorchScript photo-z model on a Parquet catalogue with a split column --------------------------
class _MLP(torch.nn.Module):
    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.net = torch.nn.Sequential(torch.nn.Linear(5, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std).squeeze(-1)


def _train_ts(x: np.ndarray, z: np.ndarray, seed: int, steps: int = 300) -> torch.jit.ScriptModule:
    torch.manual_seed(seed)
    xt, zt = torch.tensor(x, dtype=torch.float32), torch.tensor(z, dtype=torch.float32)
    model = _MLP(xt.mean(0), xt.std(0))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.mean((model(xt) - zt) ** 2)
        loss.backward()
        opt.step()
    with warnings.catch_warnings():                 # torch 2.13 deprecates jit.script; users still ship it
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(model.eval())


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    from interpret.datasets import sdss_sample

    root = tmp_path_factory.mktemp("user")
    cat = sdss_sample().catalog
    bands = ["u", "g", "r", "i", "z"]
    cat = cat[[*bands, "redshift"]].dropna().iloc[:1200].reset_index(drop=True)
    rng = np.random.default_rng(1)
    cat["split"] = rng.choice(["train", "val", "test"], size=len(cat), p=[0.6, 0.1, 0.3])
    cat.to_parquet(root / "galaxies.parquet")
    train = cat["split"] == "train"
    model = _train_ts(cat.loc[train, bands].to_numpy(), cat.loc[train, "redshift"].to_numpy(), seed=0)
    model.save(str(root / "photoz.ts"))
    cfg = root / "photoz.toml"
    cfg.write_text(textwrap.dedent("""
        study = "photoz"
        seed = 0
        [data]
        catalog = "galaxies.parquet"
        columns = ["u", "g", "r", "i", "z"]
        target = "redshift"
        split = "split"
        [model]
        path = "photoz.ts"
        name = "my TorchScript MLP"
        """) + QUICK)
    return root, cfg, cat, bands


def _sigma_nmad(z: np.ndarray, zp: np.ndarray) -> float:
    dz = (zp - z) / (1 + z)
    return float(1.4826 * np.median(np.abs(dz - np.median(dz))))


def test_photoz_scores_exactly_the_users_test_rows(user_files):
    root, cfg, cat, bands = user_files
    ctx = run_study(cfg, overrides={"out": str(root / "run")})
    test = (cat["split"] == "test").to_numpy()
    metrics = pd.read_csv(root / "run" / "tables" / "metrics.csv", index_col=0)
    assert list(metrics.columns[:6]) == ["model", "n", "bias", "bias_lo", "bias_hi", "sigma_nmad"]
    row = metrics.iloc[0]
    assert row["model"] == "my TorchScript MLP" and row["n"] == test.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = torch.jit.load(str(root / "photoz.ts"))
    with torch.no_grad():
        zp = model(torch.tensor(cat.loc[test, bands].to_numpy(), dtype=torch.float32)).numpy()
    assert row["sigma_nmad"] == pytest.approx(_sigma_nmad(cat.loc[test, "redshift"].to_numpy(), zp), rel=1e-5)
    # the retrain ablation fitted on the user's training rows only and scored on the test rows
    assert ctx.store["split"].origin == "user" and len(ctx.store["split"].train) == (cat["split"] == "train").sum()
    # one Shapley sign convention: positive = the band helps; they sum to v(none) - v(all)
    shp = ctx.load("shapley")
    assert shp.values.max() > 0 and shp.efficiency_gap == pytest.approx(0, abs=1e-12)
    manifest = json.loads((root / "run" / "manifest.json").read_text())
    assert all(f["caption"] and "fig" not in f["caption"][:4] for f in manifest["figures"])
    assert "positive = the band lowers the error" in next(f["caption"] for f in manifest["figures"]
                                                          if f["path"].endswith("shapley.png"))


def test_photoz_trains_the_reference_model_on_a_users_catalogue(user_files, tmp_path):
    """[data] without [model]: the reference MLP is fitted on the user's training rows (a catalogue has no band
    metadata: its magnitude columns are the inputs) and scored on their test rows."""
    root, cfg, cat, _ = user_files
    text = cfg.read_text().replace('[model]\npath = "photoz.ts"\nname = "my TorchScript MLP"\n', "")
    assert "[model]" not in text
    (tmp_path / "galaxies.parquet").write_bytes((root / "galaxies.parquet").read_bytes())
    (tmp_path / "mine.toml").write_text(text)
    ctx = run_study(tmp_path / "mine.toml", overrides={"out": str(tmp_path / "run")})
    row = pd.read_csv(tmp_path / "run" / "tables" / "metrics.csv", index_col=0).iloc[0]
    assert row["model"] == "reference MLP on magnitudes" and row["n"] == (cat["split"] == "test").sum()
    assert row["sigma_nmad"] < 0.1 and ctx.store["split"].origin == "user"


def test_cache_is_by_content(user_files, tmp_path):
    root, _, cat, bands = user_files
    import shutil

    for f in ("galaxies.parquet", "photoz.ts", "photoz.toml"):
        shutil.copy(root / f, tmp_path / f)
    cfg, out = tmp_path / "photoz.toml", {"out": str(tmp_path / "run")}
    first = run_study(cfg, overrides=out, report=False)
    assert first.hits == []
    again = run_study(cfg, overrides=out, report=False)                 # identical inputs: every step hits
    assert set(again.hits) == set(first.timings) - {"total"} - {k for k in first.timings if ":" in k}
    # the same path, another model: nothing stale is reported
    train = cat["split"] == "train"
    _train_ts(cat.loc[train, bands].to_numpy(), cat.loc[train, "redshift"].to_numpy(), seed=5, steps=40).save(
        str(tmp_path / "photoz.ts"))
    replaced = run_study(cfg, overrides=out, report=False)
    assert replaced.hits == []
    assert not np.allclose(replaced.load("predictions"), first.load("predictions"))
    # another n (a run-level parameter) recomputes too
    assert run_study(cfg, overrides={**out, "n": 100}, report=False).hits == []


def test_damaged_cache_entry_is_named_and_recomputed(user_files, tmp_path):
    root, cfg, _, _ = user_files
    out = {"out": str(tmp_path / "run")}
    ctx = run_study(cfg, overrides=out, report=False)
    entry = next((tmp_path / "run" / "cache").glob("predictions-*.npz"))
    entry.write_bytes(entry.read_bytes()[:40])                          # truncated
    with pytest.warns(CacheWarning, match=re.escape(entry.name)):
        again = run_study(cfg, overrides=out, report=False)
    assert "predictions" not in again.hits
    np.testing.assert_array_equal(again.load("predictions"), ctx.load("predictions"))


def test_run_folder_lock_names_the_other_run(tmp_path):
    with run_lock(tmp_path / "run"):
        with pytest.raises(RunLockedError, match=r"in use by pid \d+"):
            with run_lock(tmp_path / "run"):
                pass
    with run_lock(tmp_path / "run"):       # released after the first run
        pass


def test_config_keys_a_study_would_ignore_are_refused(user_files, tmp_path):
    _, cfg, _, _ = user_files
    text = cfg.read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('split = "split"', 'split = "split"\nformat = "parquet"'))
    with pytest.raises(ConfigError, match=r"unknown key\(s\) 'format' in \[data\] of study 'photoz'"):
        run_study(bad)
    bad.write_text(text.replace('[data]', '[data]\nimages = "cutouts.h5"').replace("study = \"photoz\"",
                                                                                   "study = \"sdss_real\""))
    with pytest.raises(ConfigError, match="unknown key"):
        run_study(bad)


def test_factory_is_imported_from_the_configs_folder(tmp_path):
    from interpret.studies._models import import_factory

    (tmp_path / "my_nets_for_test.py").write_text("def make(n=2):\n    return ('net', n)\n")
    assert import_factory("my_nets_for_test:make", str(tmp_path))(n=3) == ("net", 3)
    with pytest.raises(ConfigError, match="cannot import 'nope_module'"):
        import_factory("nope_module:make", str(tmp_path))


# --- the report as a reader sees it -------------------------------------------------------------------------
class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.figures = self.captions = 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.figures += tag == "figure"
        self.captions += tag == "figcaption"
        self._skip += tag in ("pre", "code", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("pre", "code", "style")

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def test_report_renders_the_description_and_captions_every_figure(user_files):
    root, cfg, _, _ = user_files
    html = (root / "run" / "report.html").read_text() if (root / "run" / "report.html").exists() else None
    if html is None:
        run_study(cfg, overrides={"out": str(root / "run")})
        html = (root / "run" / "report.html").read_text()
    page = _Page()
    page.feed(html)
    text = " ".join(page.text)
    assert page.figures == 6 and page.captions == page.figures
    assert "``" not in text and "**" not in text and ":func:" not in text     # rendered, not pasted RST
    assert "<ol>" in html and html.count("<li>") >= 5                         # the numbered questions
    assert str(Path.home()) not in text                                        # no local paths in findings


def test_report_from_results_computed_in_python(tmp_path):
    import matplotlib.pyplot as plt

    from interpret.report import rst_to_html, write_report

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = write_report({"line": fig, "table": pd.DataFrame({"a": [1.0]})}, tmp_path / "r.html", title="T",
                        description="Intro with ``code``.\n\n1. first\n2. second", captions={"line": "A line."})
    plt.close(fig)
    html = path.read_text()
    assert "<code>code</code>" in html and "<ol><li>first</li><li>second</li></ol>" in html.replace("\n", "")
    assert "A line." in html
    assert rst_to_html("Run::\n\n    interpret run x.toml\n\nAfter.").count("<pre>") == 1


def test_report_refuses_files_outside_the_run_folder(tmp_path):
    from interpret.exceptions import DataFileError
    from interpret.report import render_report

    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG....")
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({
        "study": "x", "title": "x", "created": "", "timings": {}, "tables": [], "config": {}, "versions": {},
        "figures": [{"path": "../secret.png", "caption": ""}]}))
    with pytest.raises(DataFileError, match="outside the run folder"):
        render_report(run)


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium (headless)")
def test_report_in_headless_chromium_has_no_horizontal_overflow(user_files, tmp_path):
    import subprocess

    root, _, _, _ = user_files
    report = root / "run" / "report.html"
    if not report.exists():
        pytest.skip("run test_photoz_scores_exactly_the_users_test_rows first")
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace(
        "</body>", "<script>document.title = 'W' + document.documentElement.scrollWidth + 'x' + "
                   "window.innerWidth;</script></body>"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        dom = subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                              "--disable-background-networking", "--no-first-run", "--window-size=1400,900",
                              f"--user-data-dir={tmp_path / 'prof'}", "--dump-dom", probe.as_uri()],
                             capture_output=True, text=True, timeout=60).stdout
    m = re.search(r"<title>W(\d+)x(\d+)</title>", dom)
    assert m, dom[:300]
    assert int(m.group(1)) <= int(m.group(2))


def test_unlabelled_split_rows_are_named():
    from interpret.studies._data import _parse_split

    with pytest.raises(ConfigError, match=r"no label in 2 rows \(1, 3\); give every row"):
        _parse_split(np.array(["train", None, "test", np.nan], dtype=object), "split")
    assert list(_parse_split(["Train", " TEST", "val"], "split")) == ["train", "test", "val"]


def test_model_load_errors_speak_the_configs_keys(user_files, tmp_path):
    """A .skops file with types to trust, without [model] trusted: a ConfigError naming the config key (it was
    'study failed' with the API's 'pass trusted=[...]')."""
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    root, cfg, cat, bands = user_files
    model = make_pipeline(StandardScaler(), HistGradientBoostingRegressor(max_iter=5))
    model.fit(cat[bands].to_numpy()[:200], cat["redshift"].to_numpy()[:200])
    sio.dump(model, tmp_path / "hgb.skops")
    (tmp_path / "galaxies.parquet").write_bytes((root / "galaxies.parquet").read_bytes())
    text = cfg.read_text().replace('path = "photoz.ts"', 'path = "hgb.skops"')
    (tmp_path / "mine.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"\[model\] path = 'hgb.skops' could not be loaded: .*\[model\] trusted = "):
        run_study(tmp_path / "mine.toml", overrides={"out": str(tmp_path / "run")})
