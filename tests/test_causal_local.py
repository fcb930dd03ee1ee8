"""local_dependence: neighbourhood correlation test in an embedding (Zhang et al.)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import cKDTree

from interpret import load_result
from interpret.causal import LocalDependence, local_dependence
from interpret.exceptions import EstimationWarning, ValidationError


def _universe(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n, 3))
    z = emb[:, 0] + 0.3 * rng.normal(size=n)               # a confounder partly encoded in the embedding
    q = rng.normal(size=n)
    return rng, emb, z, q


def test_independent_query_gives_uniform_p_values():
    rng, emb, z, q = _universe()
    r = local_dependence(emb, z + 0.5 * rng.normal(size=len(z)), q, k=60, n_permutations=99, seed=0)
    assert r.fraction_significant(0.05) == pytest.approx(0.05, abs=0.025)
    assert abs(np.mean(r.correlation)) < 0.05   # ~3 sigma: overlapping neighbourhoods of 60 (sd of r ~ 0.13)


def test_dependent_query_is_detected():
    rng, emb, z, q = _universe()
    r = local_dependence(emb, z + 0.5 * q, q, k=60, n_permutations=99, seed=0)
    assert r.fraction_significant(0.05) > 0.95
    assert np.median(r.efficiency) > 0.3


def test_conditioning_removes_dependence_through_a_common_cause():
    rng, emb, z, _ = _universe()
    t = z + 0.3 * rng.normal(size=len(z))
    q = np.tanh(z) + 0.3 * rng.normal(size=len(z))
    emb = emb[:, 1:]                                       # neighbourhoods do not fix z
    plain = local_dependence(emb, t, q, k=80, n_permutations=49, seed=1)
    cond = local_dependence(emb, t, q, k=80, condition=z, n_permutations=49, seed=1)
    assert plain.fraction_significant() > 0.5
    assert cond.fraction_significant() < 0.12 and cond.conditioned


def test_vectorised_correlation_equals_per_galaxy_loop():
    rng, emb, z, q = _universe(400)
    t = z + q + rng.normal(size=400)
    r = local_dependence(emb, t, q, k=30, n_permutations=5, seed=0, detrend="none")     # the paper's statistic
    _, idx = cKDTree(emb).query(emb[:5], k=30)
    for i in range(5):
        assert r.correlation[i] == pytest.approx(stats.pearsonr(t[idx[i]], q[idx[i]])[0], abs=1e-10)


def test_seeded_round_trip_and_reference_rows(tmp_path):
    rng, emb, z, q = _universe(500)
    a = local_dependence(emb, z, q, k=40, n_permutations=20, seed=3)
    b = local_dependence(emb, z, q, k=40, n_permutations=20, seed=3)
    np.testing.assert_array_equal(a.p_value, b.p_value)
    a.save(tmp_path / "ld.ipres")
    back = load_result(tmp_path / "ld.ipres")
    assert isinstance(back, LocalDependence)
    np.testing.assert_array_equal(back.correlation, a.correlation)
    assert list(a.to_frame().columns) == ["correlation", "p_value", "null_std", "efficiency", "q_value"]
    train = np.arange(500) < 300
    c = local_dependence(emb, z, q, k=40, reference=train, n_permutations=5, seed=0)
    assert c.correlation.shape == (500,)


def test_bad_input_and_degenerate_neighbourhoods():
    rng, emb, z, q = _universe(200)
    with pytest.raises(ValidationError, match="same number of rows"):
        local_dependence(emb, z[:-1], q)
    with pytest.raises(ValidationError, match="exceeds the 200 reference rows"):
        local_dependence(emb, z, q, k=300)
    with pytest.raises(ValidationError, match="NaN"):
        local_dependence(emb, np.where(np.arange(200) == 3, np.nan, z), q, k=20)
    with pytest.raises(ValidationError, match="unknown alternative"):
        local_dependence(emb, z, q, k=20, alternative="both")
    with pytest.warns(EstimationWarning, match="constant"):
        r = local_dependence(emb, np.ones(200), q, k=20, n_permutations=3, seed=0)
    assert np.isnan(r.p_value).all()


@pytest.mark.parametrize("conditioned", [False, True])
@pytest.mark.parametrize("n_trend", [0, 2])
def test_chunked_nulls_equal_the_explicit_permutation_statistics(conditioned, n_trend):
    """The fused per-chunk nulls equal correlations of explicitly permuted and residualised queries."""
    from interpret.causal.local import _chunk, _plan, _poly, _residualise, _rowcorr, _standardise

    rng, emb, z, q = _universe(300)
    t = z + 0.3 * q + rng.normal(size=300)
    c = (z + rng.normal(size=300))[:, None] if conditioned else None
    plan, rows = _plan(emb, t, q, c, None, k=25, degree=2, alternative="two-sided", n_perm=7, block_size=2,
                       n_trend=n_trend, rng=np.random.default_rng(0))
    r, _, _, s1, s2, dsum, dcount = _chunk(plan, emb[rows])
    _, idx = plan.tree.query(emb[rows], k=25)
    tn, qn = plan.t[idx], plan.q[idx]
    parts = ([np.ones(idx.shape + (1,))] if c is None else [_poly(plan.c[idx], 2)])
    if n_trend:        # the 2 leading principal directions of the (isotropic) embedding, linearly
        assert plan.trend.shape == (300, 2)
        parts.append(_standardise(plan.trend[idx]))
    design = None if c is None and not n_trend else np.concatenate(parts, axis=2)
    if design is not None:
        tn, qn = _residualise(tn, design), _residualise(qn, design)
    np.testing.assert_allclose(r, _rowcorr(tn, qn), atol=1e-12)
    resid = (lambda v: v) if design is None else (lambda v: _residualise(v, design))
    null = np.stack([_rowcorr(tn, resid(qn[:, p])) for p in plan.perms], 1)   # shared rank permutations
    np.testing.assert_allclose(s1, null.sum(1), atol=1e-10)
    np.testing.assert_allclose(s2, (null ** 2).sum(1), atol=1e-10)
    for b, off in enumerate(plan.offsets.T):                              # block-restricted query permutations
        qp = plan.q[np.arange(len(off)) + off]
        assert sorted(qp) == sorted(plan.q)
        g = qp[idx] if design is None else _residualise(qp[idx], design)
        rb = _rowcorr(tn, g)
        assert dcount[b] == np.isfinite(rb).sum()
        assert dsum[b] == pytest.approx(np.nansum(rb ** 2), rel=1e-10)


@pytest.mark.parametrize("size", [2, 3])
def test_blocks_are_compact_runs_and_the_dataset_null_permutes_inside_them(size):
    """Blocks of size..2 size - 1 rows (also with duplicated points), closer together than random pairs; every
    dataset permutation is a permutation of the rows that moves values only inside a block."""
    from interpret.causal.local import _block_offsets, _blocks

    emb = np.random.default_rng(0).normal(size=(1001, 3))
    for e in (emb, np.round(emb)):                         # continuous, and mostly exact duplicates
        counts = np.bincount(_blocks(e, size))
        assert counts.min() >= size and counts.max() <= 2 * size - 1
    ids = np.sort(_blocks(emb, size))
    order = np.argsort(_blocks(emb, size), kind="stable")
    spread = np.mean([np.linalg.norm(emb[order][ids == b].std(0)) for b in range(0, ids.max(), 7)])
    assert spread < 0.3 * np.linalg.norm(emb.std(0))     # random pairs: ~0.67
    off = _block_offsets(ids, 20, np.random.default_rng(1))
    assert off.shape == (1001, 20)
    src = np.arange(1001)[:, None] + off
    assert (ids[src] == ids[:, None]).all()
    assert (np.sort(src, axis=0) == np.arange(1001)[:, None]).all()


def test_result_does_not_depend_on_n_jobs():
    rng, emb, z, q = _universe(2500)          # several chunks of query rows
    c = q + rng.normal(size=2500)
    a = local_dependence(emb, z, q, k=20, condition=c, n_permutations=200, seed=5)
    b = local_dependence(emb, z, q, k=20, condition=c, n_permutations=200, seed=5, n_jobs=2)
    for name in ("correlation", "p_value", "null_std", "efficiency"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.dataset_p_value == b.dataset_p_value
