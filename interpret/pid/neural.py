"""Per-galaxy (pointwise) MMI decomposition from cross-fitted neural classifiers (Zhang et al.'s route).

The target (e.g. log M*) is cut into classes (quantile bins by default). For every set S of sources — each
single source and their union — a small torch MLP classifier q(class | x_S) is trained; each galaxy is scored
by a model that never saw it (K-fold cross-fitting), and its pointwise mutual information is

    i(y; x_S) = log2 q(y | x_S) − log2 p_train(y)      (prior surprisal minus the classifier's loss, bits),

with the prior p_train the class frequencies of that model's training split only. The pointwise MMI
decomposition (Zhang et al.) takes, galaxy by galaxy, redundancy = min over the single sources, unique = each
single minus the redundancy, synergy = joint − (redundancy + uniques). Pointwise values can be negative
(a galaxy whose class the inputs make *less* likely than the prior: "misinformation").

Settings and units. The toolkit's default (``setting="toolkit"``) cuts the target into 20 quantile classes,
reports bits and takes each model's prior from its own training split. Zhang et al.'s released code uses
520 uniform bins of 0.0125 dex on log M* in [6.0, 12.5], natural logarithms and a prior from all galaxies;
``setting="zhang2025"`` reproduces that binning, prior and unit (the galaxies are still scored out of fold),
so the per-galaxy numbers can be set beside the paper's. ``units="nats"`` or ``"bits"`` overrides either
setting's unit: the same fit, rescaled by ln 2. Training options travel as one :class:`NeuralTraining`.

The average of i(y; x_S) over galaxies is a cross-entropy (variational) lower bound on I(class; x_S), tight
when the classifier is calibrated. Two summaries are offered by :meth:`PointwisePIDResult.to_pid`:
``"pointwise"`` (mean of the per-galaxy atoms, Zhang et al.'s numbers) and ``"average"`` (MMI applied to the
mean information of each source set; for Gaussian data this converges to the analytic MMI decomposition of
the *binned* target, :func:`interpret.pid._gaussian.gaussian_mmi` with ``n_classes``). Because
mean(min) ≤ min(mean), the pointwise redundancy and synergy are below the averaged ones (by the same amount)
and the unique atoms above: noise in the pointwise values alone makes the mean pointwise redundancy negative.

Accuracy on jointly Gaussian data
---------------------------------
Mean absolute error in bits against the analytic information of the 20-class binned target (default network
and training; 2 seeds at 10^3 and 10^4, 1 at 10^5; ``benchmarks/bench_pid_knn.accuracy``), same Gaussian as
in :mod:`interpret.pid.knn`. Atoms: ``to_pid("average")`` against the analytic MMI atoms of the binned target.
Binning 20 quantile classes itself loses 0.009 bits of the 0.46-bit joint information. Wall time for the
15 trainings (3 source sets x 5 folds) on a shared 2-core CPU, one torch thread.

======= ============ ============== ================ ========
N       I(T; a)      I(T; a, b)     worst MMI atom   time
======= ============ ============== ================ ========
10^3    0.072        0.088          0.046            2 s
10^4    0.013        0.011          0.017            4 s
10^5    0.004        0.005          0.004            41 s
======= ============ ============== ================ ========

References
----------
Zhang et al. (code: github.com/QiufanLin/InterpretSM); Williams & Beer 2010, arXiv:1004.2515;
Barrett 2015, arXiv:1411.2832; Poole et al. 2019, arXiv:1905.06922 (variational MI bounds).
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch
from scipy import stats
from sklearn.model_selection import KFold, StratifiedKFold

from .._compat import REMOVED_IN, renamed_keywords
from .._results import Result
from .._validation import as_generator, check_array, check_choice, check_fraction, check_int
from ..exceptions import EstimationWarning, ValidationError
from ..parallel import seeded_map
from ._classifier import TrainConfig, _train, fit_and_score
from ._mmi import mmi_atoms, set_label, source_sets
from ._result import PIDResult
from .knn import _as_matrix, named_sources

__all__ = ["PointwisePIDResult", "pointwise_decompose", "NeuralTraining", "POINTWISE_SETTINGS"]

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

#: Named target-binning settings (``setting=``). "toolkit": ``n_classes`` (default 20) quantile or uniform
#: classes with edges from the data, bits, the prior of each training split. "zhang2025": the seed paper's
#: released code (InterpretSM, commit a28e173, ``InterpretSM_res_mi.py``): 520 uniform bins of 0.0125 dex on
#: a fixed log M* range [6.0, 12.5], natural logarithms (nats), and the prior estimated from all galaxies
#: (training, validation and test together) as the paper does. Scoring stays cross-fitted in both.
POINTWISE_SETTINGS: dict[str, dict[str, Any]] = {
    "toolkit": {"n_classes": 20, "binning": "quantile", "bin_width": None, "range": None, "units": "bits",
                "prior": "training split"},
    "zhang2025": {"n_classes": 520, "binning": "uniform", "bin_width": 0.0125, "range": (6.0, 12.5),
                  "units": "nats", "prior": "all galaxies"},
}
UNITS = {"bits": 1.0, "nats": float(np.log(2.0))}     # multiply bits by this


@dataclasses.dataclass(frozen=True)
class NeuralTraining:
    """How each cross-fitted classifier of :func:`pointwise_decompose` is built and trained.

    One small object instead of six keywords: the same training travels unchanged between calls, studies
    and benchmarks, and is validated once, here.

    Parameters
    ----------
    hidden : int or sequence of int, default (64, 64)
        Widths of the MLP's hidden layers (ReLU); stored as a tuple.
    epochs : int, default 50
        Most passes over the training split.
    batch_size : int, default 256
        Rows per Adam step.
    lr : float, default 3e-3
        Adam learning rate.
    weight_decay : float, default 1e-4
        Adam weight decay (L2).
    patience : int, default 5
        Stop when the validation loss (15 % of the training split) has not improved for this many epochs;
        the best epoch's weights are kept.

    Examples
    --------
    >>> NeuralTraining(hidden=16, epochs=10).hidden
    (16,)
    """

    hidden: int | Sequence[int] = (64, 64)
    epochs: int = 50
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-4
    patience: int = 5

    def __post_init__(self) -> None:
        func = "NeuralTraining"
        hidden = (self.hidden,) if np.ndim(self.hidden) == 0 else tuple(self.hidden)
        if not hidden:
            raise ValidationError(f"{func}(): 'hidden' must list at least one layer width; got {self.hidden!r}")
        object.__setattr__(self, "hidden", tuple(check_int(h, "hidden", func, minimum=1) for h in hidden))
        for name in ("epochs", "batch_size", "patience"):
            check_int(getattr(self, name), name, func, minimum=1)
        for name, low in (("lr", "> 0"), ("weight_decay", ">= 0")):
            value = getattr(self, name)
            ok = isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool) and \
                np.isfinite(value) and (value > 0 if low == "> 0" else value >= 0)
            if not ok:
                raise ValidationError(f"{func}(): {name!r} must be a finite number {low}; got {value!r}")

    def config(self, device: str) -> TrainConfig:
        """The classifier's :class:`~interpret.pid._classifier.TrainConfig` on ``device``."""
        return TrainConfig(hidden=tuple(self.hidden), epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                           weight_decay=self.weight_decay, patience=self.patience, device=str(device))


_TRAINING_KEYWORDS = ("hidden", "epochs", "batch_size", "lr", "weight_decay", "patience")


def _legacy_training(func: F) -> F:
    """Accept the six training keywords that :class:`NeuralTraining` replaces, with one FutureWarning."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        old = {k: kwargs.pop(k) for k in _TRAINING_KEYWORDS if k in kwargs}
        if old:
            if kwargs.get("training") is not None:
                raise ValidationError(f"{func.__name__}(): pass training= only (it replaces {', '.join(old)})")
            spelled = ", ".join(f"{k}=..." for k in old)
            warnings.warn(f"{func.__name__}(): {', '.join(old)} {'is' if len(old) == 1 else 'are'} removed in "
                          f"{REMOVED_IN}; use training=NeuralTraining({spelled})", FutureWarning, stacklevel=2)
            kwargs["training"] = NeuralTraining(**old)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@dataclasses.dataclass(frozen=True)
class PointwisePIDResult(Result):
    """Per-galaxy MMI atoms and the pointwise information they come from, in ``units`` (bits by default).

    Attributes
    ----------
    sources : tuple of str
        Source names, lattice order.
    atoms : DataFrame, shape (n, n_atoms)
        One row per galaxy (index of the input target when it was a pandas Series), one column per lattice
        atom labelled as in :class:`~interpret.pid.PIDResult` (``"{a}{b}"``, ``"{a}"``, ``"{b}"``, ``"{a,b}"``).
    information : DataFrame, shape (n, n_sets)
        Pointwise information i(y; x_S) of every source set, columns ``"a"``, ``"b"``, ``"a+b"``.
    classes : ndarray of int, shape (n,)
        Each galaxy's target class.
    bin_edges : ndarray, shape (n_classes + 1,)
        Class edges on the target (empty when the target was already discrete).
    n_folds : int
        Cross-fitting folds.
    ci_level : float
        Level of the confidence intervals in :meth:`to_pid`.
    details : dict
        Binning, network, training (epochs run, validation losses per set and fold), wall time.
    units : {"bits", "nats"}
        Units of ``atoms``, ``information`` and the tables of :meth:`binned` / :meth:`by_class`
        (:meth:`to_pid` always reports bits, like every :class:`PIDResult`).
    """

    sources: tuple[str, ...]
    atoms: pd.DataFrame
    information: pd.DataFrame
    classes: np.ndarray
    bin_edges: np.ndarray
    n_folds: int = 5
    ci_level: float = 0.95
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    units: str = "bits"

    @property
    def summary(self) -> PIDResult:
        """Mean of the per-galaxy atoms as a :class:`PIDResult` (``to_pid("pointwise")``)."""
        return self.to_pid()

    def to_pid(self, aggregate: str = "pointwise") -> PIDResult:
        """Average decomposition with normal-approximation CIs of the mean, in bits (whatever ``units``).

        Parameters
        ----------
        aggregate : {"pointwise", "average"}, default "pointwise"
            ``"pointwise"``: mean of the per-galaxy atoms (Zhang et al.). ``"average"``: MMI of the mean
            information of each source set (comparable with the kNN and binned routes).
        """
        check_choice(aggregate, "aggregate", "to_pid", ("pointwise", "average"))
        n = len(self.atoms)
        z = stats.norm.ppf(0.5 + self.ci_level / 2)
        to_bits = 1.0 / UNITS[self.units]
        information = self.information * to_bits if to_bits != 1.0 else self.information
        mean_info = information.mean()
        if aggregate == "pointwise":
            frame = self.atoms * to_bits if to_bits != 1.0 else self.atoms
            atoms = {c: float(frame[c].mean()) for c in frame.columns}
            ci = {c: _mean_ci(frame[c].to_numpy(), z) for c in frame.columns}
        else:
            sets = source_sets(len(self.sources))
            atoms = mmi_atoms({s: float(mean_info[set_label(s, self.sources)]) for s in sets}, self.sources)
            ci = {}
        joint = information.iloc[:, -1].to_numpy()
        ci["mutual_information"] = _mean_ci(joint, z)
        details = {**self.details, "aggregate": aggregate, "information": mean_info.to_dict(),
                   "ci_method": "normal approximation of the mean over galaxies (models fixed)"}
        return PIDResult(measure="mmi", sources=self.sources, atoms=atoms, mutual_information=float(joint.mean()),
                         estimator="neural", n_samples=n, ci=ci, ci_level=self.ci_level, details=details)

    def to_frame(self) -> pd.DataFrame:
        """Per-galaxy table: the atoms, ``I[<set>]`` pointwise information columns and ``class``."""
        info = self.information.rename(columns=lambda c: f"I[{c}]")
        return pd.concat([self.atoms, info], axis=1).assign(**{"class": self.classes})

    def binned(self, by: Any, *, bins: int | Sequence[float] = 8, binning: str = "quantile") -> pd.DataFrame:
        """Mean per-galaxy atoms in bins of a catalogue quantity (what the stack plots draw).

        Parameters
        ----------
        by : array-like, shape (n,)
            Quantity per galaxy (e.g. ``catalog["log_mstar"]`` or a magnitude), aligned with the rows.
        bins : int or sequence of float, default 8
            Number of bins or explicit edges.
        binning : {"quantile", "uniform"}, default "quantile"
            How to place ``bins`` when it is an int.

        Returns
        -------
        DataFrame
            One row per non-empty bin: ``low``, ``high``, ``center`` (median of ``by`` in the bin), ``n``, one
            column per atom (mean bits) and ``total`` (mean joint information).
        """
        values = _aligned(by, len(self.atoms), "binned", "by")
        check_choice(binning, "binning", "binned", ("quantile", "uniform"))
        if np.ndim(bins) == 0:
            nb = check_int(bins, "bins", "binned", minimum=1)
            q = np.linspace(0, 1, nb + 1)
            edges = np.unique(np.quantile(values, q) if binning == "quantile" else
                              np.linspace(values.min(), values.max(), nb + 1))
        else:
            edges = np.asarray(bins, dtype=float)
        if len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise ValidationError(f"binned(): bins of 'by' must be increasing edges spanning a range; got {edges}")
        idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
        inside = (values >= edges[0]) & (values <= edges[-1])
        table = self._group(idx[inside], inside, values)
        table.insert(0, "low", edges[table.index.to_numpy()])
        table.insert(1, "high", edges[table.index.to_numpy() + 1])
        return table.reset_index(drop=True)

    def by_class(self, labels: Any) -> pd.DataFrame:
        """Mean per-galaxy atoms per galaxy class (e.g. morphological type), one row per label."""
        lab = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels)
        if lab.shape != (len(self.atoms),):
            raise ValidationError(f"by_class(): 'labels' must have shape ({len(self.atoms)},); got {lab.shape}")
        codes, uniques = pd.factorize(lab, sort=True)
        table = self._group(codes, np.ones(len(lab), bool), None)
        table.index = pd.Index([uniques[i] for i in table.index], name="class")
        return table

    def _group(self, group: np.ndarray, mask: np.ndarray, values: np.ndarray | None) -> pd.DataFrame:
        frame = self.atoms.loc[mask].reset_index(drop=True)
        frame["total"] = self.information.iloc[:, -1].to_numpy()[mask]
        grouped = frame.groupby(group)
        table = grouped.mean()
        table.insert(0, "n", grouped.size())
        if values is not None:
            table.insert(0, "center", pd.Series(values[mask]).groupby(group).median())
        return table


def _mean_ci(values: np.ndarray, z: float) -> tuple[float, float]:
    half = z * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean() - half), float(values.mean() + half)


def _aligned(x: Any, n: int, func: str, name: str) -> np.ndarray:
    arr = check_array(x.to_numpy() if isinstance(x, pd.Series) else x, name, func, ndim=1, dtype=float)
    if len(arr) != n:
        raise ValidationError(f"{func}(): '{name}' has {len(arr)} rows; the result has {n} galaxies")
    return arr


# --- target classes ------------------------------------------------------------------------------------
def _is_discrete(t: Any) -> bool:
    if isinstance(t, pd.Series) and isinstance(t.dtype, pd.CategoricalDtype):
        return True
    return np.asarray(t).dtype.kind in "biuOSU"


def _target_classes(target: Any, n_classes: int, binning: str, func: str,
                    span: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Class index per row (0..K-1, no empty class) and the bin edges (empty for a discrete target).

    ``span``: fixed ``(low, high)`` of ``n_classes`` uniform bins (a named setting's grid) instead of edges
    from the data; rows outside it are refused.
    """
    if _is_discrete(target):
        raw = target.to_numpy() if isinstance(target, pd.Series) else np.asarray(target)
        if pd.isna(raw).any():
            rows = ", ".join(map(str, np.flatnonzero(pd.isna(raw))[:5]))
            raise ValidationError(f"{func}(): 'target' has {int(pd.isna(raw).sum())} missing values (rows {rows}); "
                                  "drop them first")
        codes, _ = pd.factorize(raw, sort=True)
        return codes.astype(np.int64), np.zeros(0)
    t = _as_matrix(target, "target", func)
    if t.shape[1] != 1:
        raise ValidationError(f"{func}(): 'target' must be 1-D; got shape {t.shape}")
    t = t[:, 0]
    if span is not None:
        outside = (t < span[0]) | (t > span[1])
        if outside.any():
            rows = ", ".join(map(str, np.flatnonzero(outside)[:5]))
            raise ValidationError(f"{func}(): {int(outside.sum())} target values (rows {rows}) lie outside the "
                                  f"setting's range [{span[0]}, {span[1]}]; drop them or use setting='toolkit'")
        edges = np.linspace(span[0], span[1], n_classes + 1)
    elif binning == "quantile":
        edges = np.unique(np.quantile(t, np.linspace(0, 1, n_classes + 1)))
    else:
        edges = np.linspace(t.min(), t.max(), n_classes + 1)
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(edges) - 2)
    used, codes = np.unique(idx, return_inverse=True)
    if len(used) < n_classes:
        logger.info("%s(): %d of %d target bins are occupied", func, len(used), n_classes)
    return codes.astype(np.int64), edges


def _check_classes(classes: np.ndarray, n_folds: int, func: str, sparse_ok: bool = False) -> int:
    """Number of classes; refuses classes too small to be in every training split (unless ``sparse_ok``)."""
    counts = np.bincount(classes)
    k = len(counts)
    if k < 2:
        raise ValidationError(f"{func}(): the target falls into a single class; it carries no information - "
                              "use more classes or a varying target")
    if counts.min() < n_folds and not sparse_ok:
        worst = int(np.argmin(counts))
        raise ValidationError(f"{func}(): class {worst} has {counts.min()} galaxies, fewer than n_folds={n_folds}; "
                              f"use fewer classes (n_classes <= {max(2, len(classes) // (10 * n_folds))}), fewer "
                              "folds, or more galaxies")
    if len(classes) / k < 20:
        warnings.warn(f"{func}(): {len(classes)} galaxies in {k} classes ({len(classes) / k:.1f} per class, "
                      "fewer than 20); the classifiers and priors are noisy - use fewer classes",
                      EstimationWarning, stacklevel=3)
    return k


# --- the cross-fitted jobs -------------------------------------------------------------------------------
class _Job:
    """Picklable task: train on the other folds for one source set, score the held-out fold."""

    def __init__(self, inputs: list[np.ndarray], classes: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]],
                 n_classes: int, cfg: TrainConfig, prior: np.ndarray | None = None):
        self.inputs, self.classes, self.folds, self.n_classes, self.cfg = inputs, classes, folds, n_classes, cfg
        self.prior = prior

    def __call__(self, item: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, dict]:
        s, f = item
        train, test = self.folds[f]
        x, y = self.inputs[s], self.classes
        if self.prior is None:
            return fit_and_score(x[train], y[train], x[test], y[test], self.n_classes, self.cfg, rng)
        return _fit_and_score_fixed_prior(x[train], y[train], x[test], y[test], self.n_classes, self.cfg, rng,
                                          self.prior)


def _fit_and_score_fixed_prior(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                               n_classes: int, cfg: TrainConfig, rng: np.random.Generator,
                               prior: np.ndarray) -> tuple[np.ndarray, dict]:
    """As :func:`~interpret.pid._classifier.fit_and_score` (same training, same draws from ``rng``), with a
    prior fixed beforehand: a class absent from this training split keeps a finite prior surprisal."""
    old_threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        mean, sd = x_train.mean(axis=0), x_train.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        dev = torch.device(cfg.device)
        xt = torch.as_tensor((x_train - mean) / sd, dtype=torch.float32, device=dev)
        model, info = _train(xt, torch.as_tensor(y_train, dtype=torch.long, device=dev), n_classes, cfg, rng)
        xs = torch.as_tensor((x_test - mean) / sd, dtype=torch.float32, device=dev)
        with torch.no_grad():
            logq = torch.log_softmax(model(xs).double(), dim=1).cpu().numpy()
    finally:
        torch.set_num_threads(old_threads)
    return (logq[np.arange(len(y_test)), y_test] - np.log(prior[y_test])) / np.log(2.0), info


def _check_options(func: str, method: str, setting: str, n_classes: int | None, binning: str | None,
                   units: str | None, n_folds: int, training: Any, ci_level: float, device: str) -> dict[str, Any]:
    """Validated options: the setting's binning and units with the caller's overrides, and the training."""
    check_choice(method, "method", func, ("neural",))
    check_choice(setting, "setting", func, tuple(POINTWISE_SETTINGS))
    opts = dict(POINTWISE_SETTINGS[setting])
    if setting != "toolkit":
        for key, value in (("n_classes", n_classes), ("binning", binning)):
            if value is not None and value != opts[key]:
                raise ValidationError(f"{func}(): setting={setting!r} uses {key}={opts[key]!r}; got {key}={value!r}: "
                                      "drop it or use setting='toolkit'")
    opts["n_classes"] = check_int(opts["n_classes"] if n_classes is None else n_classes, "n_classes", func, minimum=2)
    opts["binning"] = check_choice(opts["binning"] if binning is None else binning, "binning", func,
                                   ("quantile", "uniform"))
    opts["units"] = check_choice(opts["units"] if units is None else units, "units", func, tuple(UNITS))
    check_int(n_folds, "n_folds", func, minimum=2)
    check_fraction(ci_level, "ci_level", func)
    training = NeuralTraining() if training is None else training
    if not isinstance(training, NeuralTraining):
        raise ValidationError(f"{func}(): 'training' must be a NeuralTraining(hidden=..., epochs=..., ...); "
                              f"got {type(training).__name__}")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValidationError(f"{func}(): device {device!r} requested but CUDA is not available; use device='cpu'")
    opts["cfg"] = training.config(device)
    return opts


@_legacy_training
@renamed_keywords(ci="ci_level", estimator="method")
def pointwise_decompose(target: Any, sources: Any, *, method: str = "neural", setting: str = "toolkit",
                        n_classes: int | None = None, binning: str | None = None, units: str | None = None,
                        n_folds: int = 5, training: NeuralTraining | None = None, ci_level: float = 0.95,
                        seed: int | np.random.Generator | None = None, device: str = "cpu",
                        n_jobs: int | None = None, progress: bool | None = None) -> PointwisePIDResult:
    """Per-galaxy MMI decomposition of I(target; sources) from cross-fitted neural classifiers (bits or nats).

    Parameters
    ----------
    target : array-like, shape (n,)
        Continuous target (cut into ``n_classes`` bins) or discrete labels (integers, strings, categorical:
        used as classes as they are).
    sources : dict of str -> array-like, shape (n,) or (n, d)
        2 to 4 sources; a classifier is trained for every non-empty set of them (3 sets for 2 sources).
    method : {"neural"}, default "neural"
        The only per-galaxy route.
    setting : {"toolkit", "zhang2025"}, default "toolkit"
        Named target binning (:data:`POINTWISE_SETTINGS`). ``"toolkit"``: ``n_classes`` bins with edges from
        the data, bits, each training split's prior. ``"zhang2025"``: the seed paper's released code, to
        compare with its numbers: 520 uniform bins of 0.0125 dex on log M* in [6.0, 12.5] (other rows are
        refused), nats, the prior from all galaxies; classes too small for every fold are then allowed (the
        folds are no longer stratified when a class has fewer galaxies than folds).
    n_classes : int or None, default None (20)
        Number of target bins (the classes) of the ``"toolkit"`` setting. More bins approach the continuous
        MI but need more galaxies: at least ``n_folds`` per class (error) and 20 per class (warning otherwise).
    binning : {"quantile", "uniform"} or None, default None ("quantile")
        Equal-count or equal-width bins, edges from the whole target (the prior is still from each training
        split only).
    units : {"bits", "nats"} or None, default None (the setting's: bits, or nats for "zhang2025")
        Units of the per-galaxy values; nats = bits x ln 2 exactly (the same fit, rescaled).
    n_folds : int, default 5
        Cross-fitting folds (stratified by class when every class has ``n_folds`` galaxies): every galaxy is
        scored by the model not trained on it.
    training : NeuralTraining or None, default None (``NeuralTraining()``)
        Network and Adam training of every classifier: ``hidden`` (64, 64), ``epochs`` 50, ``batch_size``
        256, ``lr`` 3e-3, ``weight_decay`` 1e-4, ``patience`` 5. The six keywords themselves still work
        until 0.4 with a ``FutureWarning``.
    ci_level : float, default 0.95
        Level of the CIs reported by :meth:`PointwisePIDResult.to_pid` (``ci=``: old name, FutureWarning).
    seed : int, Generator or None
        Seeds folds, initialisation and batch order; the same seed gives the same numbers on one device.
    device : str, default "cpu"
        Torch device (``"cuda"`` when available).
    n_jobs : int or None
        Parallel trainings (through :func:`interpret.parallel.seeded_map`).
    progress : bool or None
        Progress bar over the ``n_sets x n_folds`` trainings.

    Returns
    -------
    PointwisePIDResult
        Per-galaxy atoms and pointwise information; ``.summary`` / ``.to_pid()`` average them.

    Raises
    ------
    ValidationError
        Mismatched lengths, NaN/inf (count and first rows), constant sources, fewer galaxies per class than
        folds, a single class, unknown options.

    References
    ----------
    Zhang et al. 2025, arXiv:2509.23901, code github.com/QiufanLin/InterpretSM; Williams & Beer 2010,
    arXiv:1004.2515.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(2, 1500))
    >>> t = a + 0.5 * rng.normal(size=1500)
    >>> r = pointwise_decompose(t, {"a": a, "b": b}, n_classes=4, training=NeuralTraining(hidden=16, epochs=10),
    ...                         seed=0, progress=False)
    >>> r.atoms.shape
    (1500, 4)
    >>> r.summary.unique["a"] > r.summary.unique["b"]
    True
    """
    func = "pointwise_decompose"
    opts = _check_options(func, method, setting, n_classes, binning, units, n_folds, training, ci_level, device)
    t0 = time.perf_counter()
    named = named_sources(sources, func)
    names = tuple(named)
    mats = {nm: _as_matrix(v, f"sources[{nm!r}]", func) for nm, v in named.items()}
    lengths = {"target": len(target), **{f"sources[{nm!r}]": len(v) for nm, v in mats.items()}}
    if len(set(lengths.values())) > 1:
        raise ValidationError(f"{func}(): inputs must have the same number of rows; "
                              + ", ".join(f"{k} has {v}" for k, v in lengths.items()))
    global_prior = opts["prior"] == "all galaxies"
    span = opts["range"] if not _is_discrete(target) else None
    classes, edges = _target_classes(target, opts["n_classes"], opts["binning"], func, span)
    k = _check_classes(classes, n_folds, func, sparse_ok=global_prior)
    rng = as_generator(seed)
    stratified = bool(np.bincount(classes).min() >= n_folds)
    splitter = (StratifiedKFold if stratified else KFold)(n_folds, shuffle=True, random_state=int(rng.integers(2**31)))
    folds = list(splitter.split(np.zeros(len(classes)), classes))
    sets = source_sets(len(names))
    inputs = [np.hstack([mats[names[i]] for i in s]) for s in sets]
    prior = np.bincount(classes, minlength=k) / len(classes) if global_prior else None
    items = [(s, f) for s in range(len(sets)) for f in range(n_folds)]
    out = seeded_map(_Job(inputs, classes, folds, k, opts["cfg"], prior), items, seed=rng, n_jobs=n_jobs,
                     progress=progress, desc=f"{func} trainings")
    opts.update(setting=setting, stratified=stratified, seconds=time.perf_counter() - t0)
    return _assemble(target, names, sets, folds, items, out, classes, edges, opts, n_folds, ci_level)


def _assemble(target: Any, names: tuple[str, ...], sets: list, folds: list, items: list, out: list,
              classes: np.ndarray, edges: np.ndarray, opts: dict[str, Any], n_folds: int,
              ci: float) -> PointwisePIDResult:
    """Place every fold's held-out scores, build the per-galaxy atoms (bits, then rescaled) and the result."""
    n, cfg, scale = len(classes), opts["cfg"], UNITS[opts["units"]]
    info = {s: np.empty(n) for s in sets}
    training = []
    for (s, f), (pmi, diag) in zip(items, out):
        info[sets[s]][folds[f][1]] = pmi
        training.append({"set": set_label(sets[s], names), "fold": f, **diag})
    index = target.index if isinstance(target, pd.Series) else pd.RangeIndex(n)
    atoms = pd.DataFrame(mmi_atoms(info, names), index=index) * scale
    information = pd.DataFrame({set_label(s, names): info[s] for s in sets}, index=index) * scale
    prior = ("class frequencies of all galaxies" if opts["prior"] == "all galaxies"
             else "class frequencies of each training split")
    details = {"setting": opts["setting"], "units": opts["units"], "n_classes": int(len(np.bincount(classes))),
               "binning": opts["binning"] if len(edges) else "discrete", "bin_width": opts["bin_width"],
               "range": opts["range"], "stratified_folds": opts["stratified"],
               "hidden": list(cfg.hidden), "epochs_max": cfg.epochs, "lr": cfg.lr,
               "weight_decay": cfg.weight_decay, "batch_size": cfg.batch_size, "patience": cfg.patience,
               "device": cfg.device, "training": training, "seconds": opts["seconds"], "prior": prior}
    return PointwisePIDResult(sources=names, atoms=atoms, information=information, classes=classes,
                              bin_edges=edges, n_folds=n_folds, ci_level=ci, details=details, units=opts["units"])
