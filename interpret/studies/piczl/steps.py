"""Pure steps of the ``piczl`` study: (demo data, PICZL's ensemble, parameters) -> tables and result objects.

PICZL (Roster et al. 2024, arXiv:2411.07305) is a published photo-z CNN ensemble; its real weights run here on
Keras 3's torch backend. The steps ask: how accurate is it on the demo galaxies with a spectroscopic z
(:func:`score`); which bands and which of its three input branches its redshift rests on, by integrated
gradients (:func:`attributions`, :func:`band_importance`), by removing a band everywhere it enters
(:func:`leave_one_out`, :func:`shapley`); whether the ensemble members agree on that (:func:`rank_agreement`);
and how the redshift information is split between the imaging branches and the catalogue features
(:func:`branch_pid`). None reads a config, writes a file or keeps state; :func:`run_all` wires them.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .params import PiczlParams

__all__ = ["load_data", "load_model", "predictions", "score", "attributions", "band_importance",
           "branch_importance", "rank_agreement", "leave_one_out", "shapley", "source_predictions", "branch_pid",
           "run_all",
           "BRANCHES", "TRAINING_NOTE"]

#: PICZL's three input branches, in its input order.
BRANCHES = ("images", "colour_images", "features")
TRAINING_NOTE = ("PICZL's 'train' demo galaxies may be part of its training sample: these metrics are not a "
                 "held-out test.")
_METRICS = ("bias", "sigma_nmad", "outlier_fraction", "rmse")


# --- data and model -------------------------------------------------------------------------------------
def load_data(params: PiczlParams) -> Any:
    """PICZL's demo galaxies (``params.split``, first ``params.n_galaxies``) with inputs for ``params.mode``."""
    from ...datasets import piczl_demo

    return piczl_demo(params.split, mode=params.mode, n=params.n_galaxies)


def load_model(params: PiczlParams) -> Any:
    """PICZL's trained ensemble for ``params.mode`` (real weights; Keras on torch), or the members named in
    ``params.members`` (re-weighted among themselves)."""
    from ...zoo import piczl

    est = piczl(params.mode)
    return est.subset(list(params.members)) if params.members else est


def _z_spec(demo: Any) -> np.ndarray | None:
    return demo.catalog["z"].to_numpy(float) if "z" in demo.catalog else None


# --- predictions and metrics -----------------------------------------------------------------------------
def predictions(est: Any, demo: Any, *, batch_size: int = 256) -> pd.DataFrame:
    """Per galaxy: spectroscopic z (train), the ensemble's mode and mean, and each member's own mode.

    Columns ``z_spec`` (NaN without one), ``z_mode`` (PICZL's estimate), ``z_mean`` (mixture mean), then one
    column per member (its file stem) with the mode of that member's own mixture.
    """
    from ...zoo._piczl import mixture_pdf

    outs = est.member_outputs(demo.inputs, batch_size=batch_size, progress=False)
    pdf = mixture_pdf(outs, est.weights, est.grid)
    z_spec = _z_spec(demo)
    frame = pd.DataFrame({"z_spec": z_spec if z_spec is not None else np.full(len(demo), np.nan),
                          "z_mode": est.grid[pdf.argmax(1)],
                          "z_mean": sum(w * _mean(o) for w, o in zip(est.weights, outs))})
    for name, out in zip(est.member_names, outs):
        frame[name] = est.grid[mixture_pdf([out], np.ones(1), est.grid).argmax(1)]
    return frame


def _mean(out: np.ndarray) -> np.ndarray:
    g = out.shape[1] // 3
    return (out[:, :g] * out[:, 2 * g:]).sum(1)


def score(preds: pd.DataFrame, *, threshold: float = 0.15) -> pd.DataFrame:
    """Photo-z metrics (dz/(1+z) forms) of the ensemble (mode and mean) and of every member on ``z_spec``.

    One row per model: ``model``, ``n``, ``bias``, ``sigma_nmad``, ``outlier_fraction``, ``rmse`` and a
    ``note`` that the demo galaxies may have been in PICZL's training sample.
    """
    from ... import metrics

    truth = preds["z_spec"].to_numpy(float)
    if np.isnan(truth).all():
        raise ValueError("score(): the galaxies have no spectroscopic z; use the 'train' split")
    rows = []
    for col in [c for c in preds.columns if c != "z_spec"]:
        pred = preds[col].to_numpy(float)
        rows.append({"model": "ensemble (mode)" if col == "z_mode" else "ensemble (mean)" if col == "z_mean"
                     else col, "n": len(truth),
                     "bias": metrics.bias(y_true=truth, y_pred=pred, redshift=True),
                     "sigma_nmad": metrics.sigma_nmad(y_true=truth, y_pred=pred, redshift=True),
                     "outlier_fraction": metrics.outlier_fraction(y_true=truth, y_pred=pred, threshold=threshold,
                                                                  redshift=True),
                     "rmse": metrics.rmse(y_true=truth, y_pred=pred, redshift=True),
                     "note": TRAINING_NOTE})
    return pd.DataFrame(rows)


# --- integrated gradients -------------------------------------------------------------------------------
def _slot_weights(demo: Any) -> list[dict[str, np.ndarray]]:
    """Per input: band -> weight of each channel/feature (1, or 1/2 for a colour shared by two bands)."""
    sizes = [a.shape[-1] for a in demo.inputs]
    owners = [np.zeros(s) for s in sizes]
    for slots in demo.channels.values():
        for i, _, p in slots:
            owners[i][p] += 1
    out: list[dict[str, np.ndarray]] = [{} for _ in sizes]
    for band, slots in demo.channels.items():
        for i, _, p in slots:
            out[i].setdefault(band, np.zeros(sizes[i]))[p] = 1.0 / owners[i][p]
    for i, own in enumerate(owners):
        out[i]["none"] = (own == 0).astype(float)
    return out


def _aggregate(values: Sequence[np.ndarray], weights: list[dict[str, np.ndarray]], label: str) -> pd.DataFrame:
    """Signed and absolute attribution per galaxy, per band (+ 'none') and per branch, as a long table."""
    rows = []
    per_channel = [(v.reshape(v.shape[0], -1, v.shape[-1]).sum(1), np.abs(v).reshape(v.shape[0], -1,
                    v.shape[-1]).sum(1)) for v in values]
    n = values[0].shape[0]
    for unit in [*[b for b in weights[0] if b != "none"], "none"]:
        signed = sum(s @ w.get(unit, 0 * w["none"]) for (s, _), w in zip(per_channel, weights))
        absolute = sum(a @ w.get(unit, 0 * w["none"]) for (_, a), w in zip(per_channel, weights))
        rows.append(pd.DataFrame({"member": label, "galaxy": np.arange(n), "kind": "band", "unit": unit,
                                  "value": signed, "abs_value": absolute}))
    for name, (s, a) in zip(BRANCHES, per_channel):
        rows.append(pd.DataFrame({"member": label, "galaxy": np.arange(n), "kind": "branch", "unit": name,
                                  "value": s.sum(1), "abs_value": a.sum(1)}))
    return pd.concat(rows, ignore_index=True)


def attributions(est: Any, demo: Any, params: PiczlParams) -> pd.DataFrame:
    """Integrated gradients of the mixture mean of every member and of the ensemble, aggregated.

    Each member's mixture mean is attributed to all three inputs from ``params.baseline``; the ensemble's
    attribution is the weight-averaged members' (IG is linear in the explained function, with one baseline
    and one path). Channels and features are summed into the 8 bands (a colour gives half to each of its
    bands; band-free features such as ``dchisq`` and the type go to ``"none"``) and into the 3 branches.

    Returns
    -------
    pandas.DataFrame
        Long table: ``member`` (file stem or ``"ensemble"``), ``galaxy``, ``kind`` ("band" / "branch" /
        "check"), ``unit`` (band, "none", branch name; "delta" and "output" for the completeness check),
        ``value`` (signed sum, redshift units) and ``abs_value`` (sum of absolute values).
    """
    from ...attribution import attribute
    from ...zoo._piczl import MixtureMean

    weights = _slot_weights(demo)
    tables, total = [], None
    for w, name, member in zip(est.weights, est.member_names, est.members):
        module = MixtureMean([member.module], np.ones(1))
        a = attribute(module, demo.inputs, baselines=params.baseline, n_steps=params.ig_steps,
                      batch_size=params.ig_batch, progress=False)
        values = [np.asarray(v, float) for v in a.values]
        tables.append(_aggregate(values, weights, name))
        tables.append(_check_rows(name, a))
        total = [w * v for v in values] if total is None else [t + w * v for t, v in zip(total, values)]
    tables.append(_aggregate(total, weights, "ensemble"))
    return pd.concat(tables, ignore_index=True)


def _check_rows(name: str, a: Any) -> pd.DataFrame:
    n = len(a.output)
    delta = np.full(n, np.nan) if a.delta is None else np.asarray(a.delta, float)
    out = np.asarray(a.output, float) - (0 if a.baseline_output is None else np.asarray(a.baseline_output, float))
    return pd.DataFrame({"member": name, "galaxy": np.r_[np.arange(n), np.arange(n)], "kind": "check",
                         "unit": ["delta"] * n + ["output"] * n, "value": np.r_[delta, out],
                         "abs_value": np.abs(np.r_[delta, out])})


def band_importance(attr: pd.DataFrame, *, absolute: bool = True) -> pd.DataFrame:
    """Members (+ ensemble) x bands: each band's share of the attribution mass (mean over galaxies).

    ``absolute=True`` uses sums of absolute attributions (mass, >= 0; rows sum to 1 with ``"none"``);
    ``False`` the mean signed attribution in redshift units.
    """
    bands = attr[attr["kind"] == "band"]
    col = "abs_value" if absolute else "value"
    table = bands.pivot_table(index=["member", "galaxy"], columns="unit", values=col, sort=False)
    if absolute:
        table = table.div(table.sum(axis=1), axis=0)
    out = table.groupby(level="member", sort=False).mean()
    out.columns.name = None
    return out


def branch_importance(attr: pd.DataFrame) -> pd.DataFrame:
    """Members (+ ensemble) x branches: each input branch's share of the absolute attribution mass."""
    br = attr[attr["kind"] == "branch"].pivot_table(index=["member", "galaxy"], columns="unit",
                                                    values="abs_value", sort=False)
    br = br.div(br.sum(axis=1), axis=0).groupby(level="member", sort=False).mean()
    br.columns.name = None
    return br[list(BRANCHES)]


def rank_agreement(importance: pd.DataFrame) -> pd.DataFrame:
    """Spearman rank correlation between the members' (and the ensemble's) per-band importances.

    ``importance`` is :func:`band_importance` (rows: members, columns: bands and ``"none"``; the 8 bands are
    ranked). Returns the symmetric correlation matrix, members x members.
    """
    from scipy.stats import spearmanr

    bands = importance.drop(columns=["none"], errors="ignore")
    rho = spearmanr(bands.to_numpy().T).statistic
    rho = np.atleast_2d(rho)
    return pd.DataFrame(rho, index=bands.index, columns=bands.index)


# --- band removal -----------------------------------------------------------------------------------------
def leave_one_out(est: Any, demo: Any, params: PiczlParams) -> Any:
    """Each band removed everywhere it enters (images, colours, features), filled with ``params.strategy``.

    Returns :class:`interpret.ablation.AblationResult` (photo-z metrics in dz/(1+z) form on ``z_spec``).
    """
    from ...ablation import Batching, band_ablation

    return band_ablation(est, demo.inputs, _need_truth(demo), bands=demo.bands.names, band_layout=demo.channels,
                         strategy=params.strategy, subsets="leave_one_out", metrics=_METRICS, redshift=True,
                         metric_kwargs={"threshold": params.outlier_threshold},
                         batching=Batching(batch_size=params.batch_size), seed=params.seed, progress=False)


def shapley(est: Any, demo: Any, params: PiczlParams) -> Any:
    """Exact band Shapley values over all 2^8 = 256 band subsets (positive = the band lowers the error).

    Returns :class:`interpret.ablation.ShapleyResult` for ``params.shapley_metric``.
    """
    from ...ablation import Batching, ShapleySampling, band_shapley

    return band_shapley(est, demo.inputs, _need_truth(demo), bands=demo.bands.names, band_layout=demo.channels,
                        metric=params.shapley_metric, redshift=True, strategy=params.strategy,
                        sampling=ShapleySampling(exact=True), batching=Batching(batch_size=params.batch_size),
                        seed=params.seed, progress=False)


def _need_truth(demo: Any) -> np.ndarray:
    z = _z_spec(demo)
    if z is None:
        raise ValueError("the 'run' demo galaxies have no spectroscopic z; band removal needs split='train'")
    return z


# --- information ----------------------------------------------------------------------------------------
def source_predictions(est: Any, demo: Any, params: PiczlParams) -> pd.DataFrame:
    """PICZL's estimate from parts of its inputs, the rest set to the sample mean (per element).

    Columns: ``full``; ``imaging`` (catalogue features at their mean), ``catalogue`` (both image inputs at
    their mean images); ``optical`` (every slot of W1-W4 at its mean, colours with a WISE band included) and
    ``wise`` (every slot of g r i z at its mean).
    """
    mean = [np.broadcast_to(a.mean(0, keepdims=True), a.shape) for a in demo.inputs]

    def without(bands: Sequence[str]) -> tuple[np.ndarray, ...]:
        arrays = [a.copy() for a in demo.inputs]
        for band in bands:
            for i, _, p in demo.channels[band]:
                arrays[i][..., p] = mean[i][..., p]
        return tuple(arrays)

    views = {"full": demo.inputs,
             "imaging": (demo.inputs[0], demo.inputs[1], np.ascontiguousarray(mean[2])),
             "catalogue": (np.ascontiguousarray(mean[0]), np.ascontiguousarray(mean[1]), demo.inputs[2]),
             "optical": without(("W1", "W2", "W3", "W4")), "wise": without(("g", "r", "i", "z"))}
    return pd.DataFrame({k: est.predict(x, batch_size=params.batch_size, progress=False)
                         for k, x in views.items()})


def _binned_mi(target: np.ndarray, source: np.ndarray, bins: int, n_shuffles: int, seed: int) -> float:
    """Plug-in I(target; source) in bits on quantile bins, minus its mean over target shuffles."""
    def codes(v: np.ndarray) -> np.ndarray:
        edges = np.unique(np.quantile(v, np.linspace(0, 1, bins + 1)[1:-1]))
        return np.searchsorted(edges, v, side="right")

    def mi(t: np.ndarray, s: np.ndarray) -> float:
        joint = np.zeros((t.max() + 1, s.max() + 1))
        np.add.at(joint, (t, s), 1.0)
        joint /= joint.sum()
        outer = joint.sum(1, keepdims=True) @ joint.sum(0, keepdims=True)
        nz = joint > 0
        return float(np.sum(joint[nz] * np.log2(joint[nz] / outer[nz])))

    t, s = codes(target), codes(source)
    rng = np.random.default_rng(seed)
    return mi(t, s) - float(np.mean([mi(rng.permutation(t), s) for _ in range(n_shuffles)]))


def _pid_row(target: np.ndarray, a: np.ndarray, b: np.ndarray, names: tuple[str, str],
             params: PiczlParams) -> dict[str, Any]:
    from ...pid import Resampling, decompose

    flat = [n for n, v in zip(names, (a, b)) if np.ptp(v) == 0]
    if flat:   # a constant source carries nothing: R = S = U_flat = 0, U_other = I(target; other)
        other = b if flat == [names[0]] else a
        info = 0.0 if len(flat) == 2 else _binned_mi(target, other, params.pid_bins, params.pid_n_shuffles,
                                                     params.seed)
        return {"redundancy": 0.0, "unique_a": info if flat == [names[1]] else 0.0,
                "unique_b": info if flat == [names[0]] else 0.0, "synergy": 0.0, "mutual_information": info,
                "warning": f"the estimate from the {' and the '.join(flat)} alone is constant"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = decompose(target, {names[0]: a, names[1]: b}, measure=params.pid_measure, bins=params.pid_bins,
                      resampling=Resampling(bias_correction="shuffle", n_shuffles=params.pid_n_shuffles),
                      seed=params.seed, progress=False)
    return {"redundancy": r.redundancy, "unique_a": r.unique[names[0]], "unique_b": r.unique[names[1]],
            "synergy": r.synergy, "mutual_information": r.mutual_information,
            "warning": "; ".join(sorted({str(w.message).split(";")[0] for w in caught}))}


def branch_pid(est: Any, demo: Any, params: PiczlParams) -> pd.DataFrame:
    """PID of redshift between what two parts of PICZL's inputs tell the ensemble.

    Pairs of sources (each the ensemble's estimate from that part alone, :func:`source_predictions`):
    imaging branches vs catalogue features, and optical (g r i z) vs WISE (W1-W4) bands. Targets: the
    spectroscopic z (train split) and the ensemble's full estimate. Plug-in ``params.pid_measure`` on
    ``params.pid_bins`` quantile bins with shuffle bias correction; the demo has 50 galaxies, so few
    galaxies per cell is expected and the estimator's warning is kept in ``warning``. A constant source
    (an input part the trained network ignores) gets zero redundancy, synergy and unique information.

    Returns
    -------
    pandas.DataFrame
        One row per (pair, target): ``source_a``, ``source_b``, ``target``, ``n``, ``redundancy``,
        ``unique_a``, ``unique_b``, ``synergy``, ``mutual_information`` (bits), ``warning``.
    """
    sources = source_predictions(est, demo, params)
    targets = {"z_spec": _z_spec(demo), "z_piczl": sources["full"].to_numpy()}
    rows = []
    for names in (("imaging", "catalogue"), ("optical", "wise")):
        for tname, target in targets.items():
            if target is None:
                continue
            row = _pid_row(target, sources[names[0]].to_numpy(), sources[names[1]].to_numpy(), names, params)
            rows.append({"source_a": names[0], "source_b": names[1], "target": tname, "n": len(target), **row})
    return pd.DataFrame(rows)


# --- everything -------------------------------------------------------------------------------------------
def run_all(params: PiczlParams, *, demo: Any = None, est: Any = None) -> dict[str, Any]:
    """Every step in order; the dict holds what the figure functions read (keys as in ``figures.NEEDS``)."""
    import time

    demo = load_data(params) if demo is None else demo
    est = load_model(params) if est is None else est
    out: dict[str, Any] = {"params": params, "seconds": {}}

    def timed(key: str, func: Any, *args: Any) -> None:
        t0 = time.perf_counter()
        out[key] = func(*args)
        out["seconds"][key] = time.perf_counter() - t0

    timed("predictions", predictions, est, demo)
    if "z" in demo.catalog:
        out["metrics"] = score(out["predictions"], threshold=params.outlier_threshold)
    timed("attributions", attributions, est, demo, params)
    out["band_importance"] = band_importance(out["attributions"])
    out["branch_importance"] = branch_importance(out["attributions"])
    out["rank_agreement"] = rank_agreement(out["band_importance"])
    if "z" in demo.catalog:
        timed("leave_one_out", leave_one_out, est, demo, params)
        timed("shapley", shapley, est, demo, params)
    timed("sources", source_predictions, est, demo, params)
    timed("pid", branch_pid, est, demo, params)
    return out
