"""End to end on the mock universe: the two-input photo-z reference model (images + magnitudes)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import interpret as ip
from interpret.ablation import RetrainSpec, band_ablation, band_shapley, compare_modes
from interpret.metrics import sigma_nmad

# trains a reference network (about a minute on 2 cores); tests/test_ablation.py covers the same code on
# synthetic inputs in seconds
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def photoz():
    u = ip.mock.make_universe(n=200, seed=0, progress=False)
    est = ip.mock.train_reference(u, task="photoz", fast=True, seed=0, progress=False)
    mags = u.catalog[list(u.bands.names)].to_numpy(np.float32)
    return u, est, mags


def test_leave_one_out_on_images_and_magnitudes(photoz):
    u, est, mags = photoz
    sel = slice(0, 120)
    x, z = (u.images[sel], mags[sel]), u.catalog["redshift"].to_numpy()[sel]
    t = band_ablation(est, x, z, bands=u.bands, strategy="mean", redshift=True, progress=False)
    tab = t.table
    assert tab["label"].tolist() == ["all"] + [f"-{b}" for b in u.bands.names]
    assert np.isfinite(tab.drop(columns=["label", "kept", "dropped"]).to_numpy(dtype=float)).all()
    # the full-set row is the model's own score
    assert tab.loc[0, "sigma_nmad"] == pytest.approx(sigma_nmad(z, est.predict(x, progress=False), redshift=True),
                                                     rel=1e-6)
    assert "outlier_fraction" in tab                          # a declared redshift adds the photo-z outlier rate
    assert (tab["delta_rmse"].iloc[1:].abs() > 0).all()       # every band reaches the model through 2 inputs


def test_shapley_over_survey_groups_and_mantis_shrimp_retrain(photoz):
    u, est, mags = photoz
    sel = slice(0, 80)
    x, z = (u.images[sel], mags[sel]), u.catalog["redshift"].to_numpy()[sel]
    names = list(u.bands.names)
    groups = {"ugr": ["u", "g", "r"], "iz": ["i", "z"], "WISE": ["W1", "W2", "W3", "W4"]}
    layout = {g: [(inp, 1, names.index(b)) for b in members for inp in (0, 1)] for g, members in groups.items()}
    s = band_shapley(est, x, z, bands=list(groups), band_layout=layout, metric="sigma_nmad", strategy="inpaint",
                     redshift=True, progress=False)
    assert s.exact and len(s.subset_values) == 8
    assert abs(s.efficiency_gap) < 1e-12
    assert s.sum() == pytest.approx(s.v_none - s.v_all)     # error metric: positive = the band helps
    # retraining without WISE / without u, as Mantis Shrimp did, on the catalogue magnitudes
    from sklearn.neighbors import KNeighborsRegressor

    cat = u.catalog[names]
    zz = u.catalog["redshift"].to_numpy()
    retrained = band_ablation(None, cat, zz, bands=names, seed=0, progress=False,
                              retrain=RetrainSpec(lambda xs, ys: KNeighborsRegressor(10).fit(xs, ys)),
                              subsets=[{"drop": groups["WISE"]}, {"drop": ["u"]}], metrics="sigma_nmad")
    masked_cat = band_ablation(est, (u.images, mags), zz, bands=names, band_layout=(None, 1),   # magnitudes only
                               subsets=[{"drop": groups["WISE"]}, {"drop": ["u"]}], metrics="sigma_nmad",
                               progress=False)
    both = compare_modes(masked_cat, retrained)
    assert list(both.index) == ["all", "-W1,W2,W3,W4", "-u"]
    assert isinstance(both, pd.DataFrame) and np.isfinite(both.iloc[:, 2:].to_numpy(dtype=float)).all()
