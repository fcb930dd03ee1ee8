"""Parameters of the ``photoz`` study: a frozen dataclass, validated once when the config is read."""
from __future__ import annotations

from dataclasses import dataclass

from ...exceptions import ConfigError
from .._params import StudyParams

__all__ = ["Params"]


@dataclass(frozen=True)
class Params(StudyParams):
    """Parameters of the photoz study (``[params]``)."""

    bands: tuple[str, ...] = ("u", "g", "r", "i", "z")  # default data: SDSS magnitude columns = model inputs
    max_mag_err: float = 0.5          # default data: magnitude-error cut (mag)
    fast: bool = False                # default model: few-epoch reference MLP (demo / tests)
    outlier_threshold: float = 0.15   # |dz|/(1+z) of an outlier
    n_boot: int = 200                 # bootstrap resamples of the metric intervals
    ci_level: float = 0.68            # their level
    baseline: str = "train_mean"      # attribution baseline: "train_mean" or "reference" (baseline_values)
    baseline_values: tuple[float, ...] = ()   # one value per input column, for baseline = "reference"
    n_attribution: int = 1000         # test galaxies attributed
    ig_steps: int = 32                # integrated-gradients steps
    strategy: str = "mean"            # masking fill (interpret.ablation.STRATEGIES)
    retrain: str = "hgb"              # refit model of retrain ablation: "hgb" (scikit-learn) or "none"
    shapley_metric: str = "sigma_nmad"  # metric of the band Shapley values
    n_boot_shapley: int = 20          # galaxy bootstraps of the Shapley errors
    pid_measure: str = "broja"        # PID redundancy measure (interpret.pid.MEASURES)
    pid_bins: int = 8
    pid_n_boot: int = 50
    pid_n_splits: int = 5             # cross-fitting folds reducing a colour group to E[z | group]
    causal_test: str = "fisherz"      # "fisherz" (linear) or "kci" (non-linear, subsampled)
    causal_alpha: float = 0.01
    causal_n_boot: int = 50
    causal_max_rows: int = 2000       # rows per causal search (kci is cubic in the rows: keep it ~300)

    def validate(self) -> None:
        if self.baseline not in ("train_mean", "reference"):
            raise ConfigError(f"[params] baseline must be 'train_mean' or 'reference'; got {self.baseline!r}")
        if self.baseline == "reference" and not self.baseline_values:
            raise ConfigError("[params] baseline = 'reference' needs baseline_values (one per input column)")
        if self.retrain not in ("hgb", "none"):
            raise ConfigError(f"[params] retrain must be 'hgb' or 'none'; got {self.retrain!r}")
        if self.causal_test not in ("fisherz", "kci"):
            raise ConfigError(f"[params] causal_test must be 'fisherz' or 'kci'; got {self.causal_test!r}")
