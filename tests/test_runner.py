"""The study runner, cache, HTML report and CLI, exercised with a small study written by the test."""
from __future__ import annotations

import html.parser
import json
import textwrap

import pytest

from interpret.cli import main
from interpret.exceptions import ConfigError
from interpret.runner import cache_key, run_study, validate_config

STUDY = textwrap.dedent('''
    """Toy study: a sum and a figure."""
    import numpy as np
    import pandas as pd
    import matplotlib.pyplot as plt

    DEFAULTS = {"scale": 1.0}
    CALLS = []

    def compute(ctx):
        def heavy():
            CALLS.append(1)
            rng = np.random.default_rng(ctx.seed)
            return rng.normal(size=(ctx.config["n"] or 10,)) * ctx.params.scale
        x = ctx.cached("draws", {"n": ctx.config["n"], "scale": ctx.params.scale, "seed": ctx.seed}, heavy)
        ctx.add_table("summary", pd.DataFrame({"mean": [x.mean()], "calls": [len(CALLS)]}))
        ctx.notes.append(f"mean of {x.size} draws")

    def fig_hist(ctx):
        fig, ax = plt.subplots()
        ax.hist(ctx.load("draws"))
        ax.set_xlabel("value")
        return fig

    FIGURES = [fig_hist]
''')


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "analyses" / "configs").mkdir(parents=True)
    (tmp_path / "analyses" / "toy.py").write_text(STUDY)
    cfg = tmp_path / "analyses" / "configs" / "toy.toml"
    cfg.write_text('study = "toy"\nseed = 3\nn = 50\n[params]\nscale = 2.0\n')
    return tmp_path, cfg


def test_run_study_caches_and_reports(project):
    root, cfg = project
    ctx = run_study(cfg, overrides={"out": str(root / "run")}, study_dirs=[root / "analyses"])
    assert (root / "run" / "figures" / "hist.png").is_file()
    assert (root / "run" / "figures" / "hist.pdf").is_file()
    report = (root / "run" / "report.html").read_text()
    manifest = json.loads((root / "run" / "manifest.json").read_text())
    imgs = []

    class P(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                imgs.append(dict(attrs))

    P().feed(report)
    assert [i["data-file"] for i in imgs] == ["hist.png"]
    assert imgs[0]["src"].startswith("data:image/png;base64,")
    assert manifest["config"]["params"]["scale"] == 2.0
    first = ctx.load("draws")
    # second run hits the cache: same numbers, compute not called again (module reloaded => CALLS fresh)
    ctx2 = run_study(cfg, overrides={"out": str(root / "run")}, study_dirs=[root / "analyses"])
    assert (ctx2.load("draws") == first).all()
    assert ctx2.tables["summary"]["calls"].iloc[0] == 0
    assert "draws" not in ctx2.timings and ctx2.hits == ["draws"]


def test_bad_configs_have_clear_errors(project):
    root, cfg = project
    dirs = [root / "analyses"]
    cfg.write_text('study = "toy"\nsed = 3\n')
    with pytest.raises(ConfigError, match=r"unknown key\(s\) 'sed'.*valid keys are .*seed"):
        run_study(cfg, study_dirs=dirs)
    cfg.write_text('study = "toy"\n[params]\nscal = 1\n')
    with pytest.raises(ConfigError, match=r"\[params\] of study 'toy': unknown key\(s\) 'scal'; valid keys are scale"):
        run_study(cfg, study_dirs=dirs)
    cfg.write_text('study = "toy"\n[params]\nscale = "big"\n')
    with pytest.raises(ConfigError, match=r"'scale' must be a number; got 'big'"):
        run_study(cfg, study_dirs=dirs)
    cfg.write_text('study = "toy"\n')       # a user study is found only in folders named explicitly
    with pytest.raises(ConfigError, match="unknown study 'toy'.*--analyses"):
        run_study(cfg)
    with pytest.raises(ConfigError, match="does not exist"):
        run_study(root / "missing.toml")
    with pytest.raises(ConfigError, match="no 'study' key"):
        validate_config({"seed": 1})


def test_cli_exit_codes(project, capsys, monkeypatch):
    root, cfg = project
    monkeypatch.chdir(root)
    an = ["--analyses", str(root / "analyses")]
    assert main(["run", str(cfg), "--out", str(root / "r1"), "--no-progress", "--seed", "5", *an]) == 0
    assert json.loads((root / "r1" / "manifest.json").read_text())["config"]["seed"] == 5
    assert main(["report", str(root / "r1")]) == 0
    assert main(["run", str(root / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["report", str(root / "empty")]) == 3
    assert main(["figures", "--only", "toy", "--out", str(root / "runs"), "--figures", str(root / "figs"), *an]) == 0
    assert (root / "figs" / "toy" / "hist.png").is_file()
    assert main(["figures", "--only", "nosuch"]) == 2
    (root / "analyses" / "toy.py").write_text(STUDY.replace("x.mean()", "1 / 0"))
    assert main(["run", str(cfg), "--out", str(root / "r2"), *an]) == 1


def test_cache_key_is_stable_and_sensitive():
    assert cache_key("a", {"x": 1, "y": [1, 2]}) == cache_key("a", {"y": [1, 2], "x": 1})
    assert cache_key("a", {"x": 1}) != cache_key("a", {"x": 2})


WARNS = textwrap.dedent('''
    """Toy study whose cached step warns, and whose report turns the warning into a note."""
    import warnings

    import numpy as np
    from interpret.exceptions import BaselineWarning

    DEFAULTS = {}

    def compute(ctx):
        def heavy():
            warnings.warn("f(baseline) is far outside the predictions", BaselineWarning)
            warnings.warn("a third-party warning", DeprecationWarning)
            return np.arange(3.0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ctx.cached("step", {"n": 3}, heavy)
        ctx.notes.extend(f"{w.category.__name__}: {w.message}" for w in caught)

    FIGURES = []
''')


def test_a_cached_step_replays_its_library_warnings(tmp_path):
    """A rerun from the cache reports what the first run reported: the library warnings a step raised when it
    was computed are recorded in its sidecar and re-issued on a cache hit (only interpret.exceptions
    categories; a third-party warning is not replayed)."""
    (tmp_path / "analyses" / "configs").mkdir(parents=True)
    (tmp_path / "analyses" / "warns.py").write_text(WARNS)
    cfg = tmp_path / "analyses" / "configs" / "warns.toml"
    cfg.write_text('study = "warns"\n')
    kw = {"overrides": {"out": str(tmp_path / "run")}, "study_dirs": [tmp_path / "analyses"], "report": False}
    first = run_study(cfg, **kw)
    assert first.notes == ["BaselineWarning: f(baseline) is far outside the predictions",
                           "DeprecationWarning: a third-party warning"]
    again = run_study(cfg, **kw)
    assert again.hits == ["step"]
    assert again.notes == ["BaselineWarning: f(baseline) is far outside the predictions"]
