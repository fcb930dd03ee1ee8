"""Tiny configurations and checks shared by the end-to-end tests of the packaged studies (interpret.studies).

``TINY[name]`` is a configuration template (``{n}`` = galaxies) small enough to run a whole study in seconds:
the plumbing, not the science. ``HEAVY[name]`` lists the steps a rerun with identical inputs must take from
the cache. ``conftest.study_run(name)`` runs each once per test session and shares the run between the
parametrised contract test (``test_studies_e2e.py``) and each study's own science checks.
"""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from interpret.runner import RunContext, run_study

_HEAD = 'study = "{study}"\nseed = {seed}\nn = {{n}}\njobs = 1\nprogress = false\n[params]\n'

#: name -> (configuration template, galaxies of the shared run)
TINY: dict[str, str] = {
    "photoz": _HEAD.format(study="photoz", seed=0) + """fast = true
n_boot = 10
n_attribution = 20
ig_steps = 4
n_boot_shapley = 2
pid_n_boot = 2
pid_n_splits = 2
pid_bins = 3
causal_n_boot = 2
""",
    "sdss_real": _HEAD.format(study="sdss_real", seed=1) + """bands = ["u", "g", "r", "i", "z"]
fast = true
n_epochs = 2
retrain_model = "hgb"
n_boot_shapley = 2
pid_measures = ["broja", "mmi"]
pid_splits = ["break"]
pid_bins = 4                     # 64 joint bins for ~400 rows: a sparse-bin warning becomes a note
pid_n_boot = 2
pid_n_splits = 2
causal_colours = ["u-g", "g-r", "r-i", "i-z"]
causal_n_boot = 2
""",
    "band_utilization": _HEAD.format(study="band_utilization", seed=0) + """fast = true
n_epochs = 0
strategies = ["mean", "inpaint"]
hgb_max_iter = 20
n_shapley = 10
n_boot = 5
n_attribution = 4
ig_steps = 4
batch_size = 256
""",
    "stellar_mass": _HEAD.format(study="stellar_mass", seed=0) + """fast = true
image_size = 16
n_boot_metrics = 5
causal_n_boot = 3
pid_measures = ["broja", "mmi"]
pid_bins = 3
pid_n_boot = 3
pid_n_splits = 2
knn_k = 3
pointwise_classes = 3
pointwise_folds = 2
pointwise_epochs = 2
pointwise_hidden = [8]
n_attribution = 6
ig_steps = 4
radial_bins = 4
local_k = 12
local_n_perm = 10
""",
    "optical_lines_to_ir": _HEAD.format(study="optical_lines_to_ir", seed=0) + """fast = true
n_epochs = 2
n_attribution = 10
ig_steps = 4
batch_size = 16
n_boot = 20
n_perm = 50
randomization_bands = ["W3"]
n_randomization = 3
randomization_steps = 2
""",
    # two of PICZL's ten members (the G=3 ones) on 6 of its demo galaxies; n is not used by this study
    "piczl": 'study = "piczl"\n[params]\nn_galaxies = 6\nig_steps = 4\nig_batch = 6\npid_n_shuffles = 5\n'
             'members = ["nll_model_G=3_B=256_lr=0.001", "crps_model_G=3_B=512_lr=0.00115"]\n',
}

#: galaxies of the shared run of each study
N: dict[str, int] = {"photoz": 300, "sdss_real": 400, "band_utilization": 200, "stellar_mass": 200,
                     "optical_lines_to_ir": 160, "piczl": 6}

#: steps a rerun with identical inputs must not recompute
HEAVY: dict[str, tuple[str, ...]] = {
    "photoz": ("predictions", "attribution", "masking", "retrain", "shapley", "pid", "edge_stability"),
    "sdss_real": ("predictions", "retrain_", "mask_", "shapley_", "pid_", "edge_stability"),
    "band_utilization": ("predictions", "mask_mean", "mask_inpaint", "retrain", "all_subsets", "attribution"),
    "stellar_mass": ("predictions", "stability_pc", "stability_fci", "graph_pc", "truth_pc", "truth_fci",
                     "pid_phot_vs_cnn_broja", "pointwise", "attribution", "local"),
    "optical_lines_to_ir": ("predictions", "ig_W1", "ig_W2", "ig_W3", "ig_W4", "lines_W1", "lines_W3", "stack",
                            "randomization_W3"),
    "piczl": ("predictions", "attributions", "leave_one_out", "shapley", "pid", "sources"),
}


def tiny(name: str, n: int | None = None) -> str:
    """The tiny configuration text of study ``name`` with ``n`` galaxies (default: ``N[name]``)."""
    return TINY[name].format(n=N[name] if n is None else n)


def run_config(tmp_path: Path, name: str, text: str) -> RunContext:
    """Write ``text`` as ``tmp_path/configs/<name>.toml`` and run it with outputs in ``tmp_path/<name>``."""
    cfg = tmp_path / "configs" / f"{name}.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(text)
    return run_study(cfg, overrides={"out": str(tmp_path / name)})


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.files: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "img":
            self.files.append(dict(attrs).get("data-file", ""))


def check_figures_and_report(ctx: Any, figures: list) -> dict:
    """Every figure exists as PNG + PDF and is embedded in the HTML report; returns the run manifest."""
    names = [f.__name__.removeprefix("fig_") for f in figures]
    for name in names:
        assert (ctx.figure_dir / f"{name}.png").stat().st_size > 1000, name
        assert (ctx.figure_dir / f"{name}.pdf").exists(), name
    parser = _Images()
    parser.feed((ctx.out / "report.html").read_text())
    assert sorted(parser.files) == sorted(f"{n}.png" for n in names)
    return json.loads((ctx.out / "manifest.json").read_text())
