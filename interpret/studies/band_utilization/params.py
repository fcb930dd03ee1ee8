"""Parameters of the ``band_utilization`` study: a frozen dataclass with the full defaults (``[params]``)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...exceptions import ConfigError
from .._params import StudyParams

__all__ = ["Params", "METRICS"]

#: Photo-z metrics of every subset (dz/(1+z) forms; ``outlier_fraction`` is eta, ``rmse`` is in redshift).
METRICS = ("sigma_nmad", "outlier_fraction", "bias", "rmse")


def _groups() -> Mapping[str, Any]:
    """Mantis Shrimp's band groups (no u - the UV band standing in for GALEX -, no WISE, neither), no W3+W4."""
    return MappingProxyType({"no_u": ["u"], "no_WISE": ["W1", "W2", "W3", "W4"],
                             "no_u_no_WISE": ["u", "W1", "W2", "W3", "W4"], "no_W3_W4": ["W3", "W4"]})


@dataclass(frozen=True)
class Params(StudyParams):
    """Parameters of the band_utilization study (the config's ``[params]`` table)."""

    fast: bool = False  # few-epoch training (demo / tests)
    n_epochs: int = 0  # CNN epochs (0: trainer default, 40, or 6 with fast)
    strategies: tuple[str, ...] = ('mean', 'inpaint')  # masking fills compared (interpret.ablation.STRATEGIES)
    groups: Mapping[str, Any] = field(default_factory=_groups)  # {name = [bands dropped]}; unknown bands: skipped
    retrain_model: str = 'hgb'  # photometry-only refit: "hgb" (sklearn) or "mlp" (reference trainer)
    retrain_test_size: float = 0.25  # held-out fraction of retrain mode
    retrain_epochs: int = 0  # MLP refit epochs (0: trainer default; fast: 18)
    hgb_max_iter: int = 300  # boosting iterations of the HGB refit
    shapley_strategy: str = 'mean'  # fill of the exact Shapley game
    shapley_metrics: tuple[str, ...] = ('sigma_nmad', 'outlier_fraction', 'rmse')
    n_shapley: int = 150  # held-out galaxies of the 512-subset Shapley game
    n_boot: int = 200  # galaxy bootstrap resamples (Shapley errors, metric intervals)
    n_attribution: int = 100  # held-out galaxies attributed with integrated gradients
    ig_steps: int = 32  # integration nodes of integrated gradients
    outlier_threshold: float = 0.15  # |dz|/(1+z) defining an outlier (eta)
    batch_size: int = 512  # rows per forward pass

    def validate(self) -> None:
        """Refuse an unknown refit model, fill strategy or Shapley metric, and groups that are not a table."""
        from ... import ablation

        if self.retrain_model not in ("hgb", "mlp"):
            raise ConfigError(f"band_utilization: params.retrain_model must be 'hgb' or 'mlp'; got "
                              f"{self.retrain_model!r}")
        bad = [s for s in [*self.strategies, self.shapley_strategy] if s not in ablation.STRATEGIES]
        if bad:
            raise ConfigError(f"band_utilization: unknown fill strategies {bad}; valid ones are "
                              f"{sorted(ablation.STRATEGIES)}")
        bad = [m for m in self.shapley_metrics if m not in METRICS]
        if bad or not self.shapley_metrics:
            raise ConfigError(f"band_utilization: params.shapley_metrics must be a non-empty subset of "
                              f"{list(METRICS)}; got {self.shapley_metrics}")
        if not isinstance(self.groups, Mapping):
            raise ConfigError("band_utilization: params.groups must be a table {name = [bands dropped]}")
