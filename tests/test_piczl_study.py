"""The piczl study end to end on a compact setting: steps, then every figure from the step outputs."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

if importlib.util.find_spec("keras") is None or importlib.util.find_spec("piczl") is None:
    pytest.skip("needs keras and piczl (make install)", allow_module_level=True)

from interpret.exceptions import ConfigError  # noqa: E402
from interpret.studies.piczl import figures  # noqa: E402
from interpret.studies.piczl.params import PiczlParams  # noqa: E402

pytestmark = pytest.mark.xdist_group("piczl")   # one worker runs the shared study run


@pytest.fixture(scope="module")
def outputs(study_run):
    """The study through the runner (config -> cached steps -> figures -> report), with two of the ten
    members (the G=3 ones) on 6 train galaxies: the plumbing, not the science (conftest.study_run)."""
    folder, ctx = study_run("piczl")
    assert (folder / "tiny" / "report.html").is_file() and len(list((folder / "tiny" / "figures").glob("*.png"))) == 5
    assert (folder / "tiny" / "tables" / "metrics.csv").is_file()
    return ctx.store


def test_steps(outputs):
    assert len(outputs["predictions"]) == 6
    assert list(outputs["metrics"]["model"][:2]) == ["ensemble (mode)", "ensemble (mean)"]
    assert len(outputs["metrics"]) == 4 and outputs["metrics"]["note"].str.contains("training").all()
    attr = outputs["attributions"]
    for _, group in attr.groupby("member"):
        bands = group[group["kind"] == "band"].groupby("galaxy")["value"].sum()
        branches = group[group["kind"] == "branch"].groupby("galaxy")["value"].sum()
        np.testing.assert_allclose(bands, branches, rtol=1e-6, atol=1e-9)   # every channel counted once
    imp = outputs["band_importance"]
    assert list(imp.index)[-1] == "ensemble" and len(imp) == 3
    np.testing.assert_allclose(imp.sum(axis=1), 1.0)
    rho = outputs["rank_agreement"].to_numpy()
    np.testing.assert_allclose(rho, rho.T)
    np.testing.assert_allclose(np.diag(rho), 1.0)
    shap = outputs["shapley"]
    assert shap.exact and len(shap.subset_values) == 256
    assert shap.values.sum() == pytest.approx(shap.v_none - shap.v_all, abs=1e-9)   # positive = helps
    assert len(outputs["leave_one_out"].table) == 9
    pid = outputs["pid"]
    assert list(pid["source_a"]) == ["imaging", "imaging", "optical", "optical"]
    assert set(pid["target"]) == {"z_spec", "z_piczl"}
    assert np.isfinite(pid["mutual_information"]).all()


def test_figures(outputs, tmp_path):
    import matplotlib.pyplot as plt

    assert set(figures.FIGURES) == set(figures.CAPTIONS) == set(figures.NEEDS)
    for name, func in figures.FIGURES.items():
        fig = func({k: outputs[k] for k in figures.NEEDS[name]})
        fig.savefig(tmp_path / f"{name}.png", dpi=60)
        plt.close(fig)
        assert (tmp_path / f"{name}.png").stat().st_size > 5000


def test_params():
    assert PiczlParams.from_mapping({"mode": "inactive", "n_galaxies": 20}).n_galaxies == 20
    with pytest.raises(ConfigError, match="mode"):
        PiczlParams.from_mapping({"mode": "agn"})
    with pytest.raises(ConfigError, match="n_galaxies"):
        PiczlParams.from_mapping({"n_galaxies": 80})
