"""Parameters of the ``piczl`` study: a frozen dataclass with the full defaults and a compact demo setting."""
from __future__ import annotations

from dataclasses import dataclass

from ...exceptions import ConfigError
from .._params import StudyParams

__all__ = ["PiczlParams", "Params", "COMPACT"]


@dataclass(frozen=True)
class PiczlParams(StudyParams):
    """Parameters of the piczl study (``[params]``)."""

    mode: str = "active"              # PICZL ensemble: "active" (10 members) or "inactive" (8)
    split: str = "train"              # demo galaxies analysed: "train" has spectroscopic z (metrics, ablation)
    n_galaxies: int = 50              # first n demo galaxies (PICZL scales features over the galaxies given)
    ig_steps: int = 32                # integrated-gradients nodes
    ig_batch: int = 10                # galaxies per IG chunk (memory: ig_batch * ig_steps forward rows)
    baseline: str = "mean"            # IG baseline: "mean" (the sample's mean galaxy, per input) or "zeros"
    strategy: str = "mean"            # fill of a removed band (interpret.ablation.STRATEGIES)
    shapley_metric: str = "sigma_nmad"  # error metric of the band Shapley values (dz/(1+z) form)
    outlier_threshold: float = 0.15   # |dz|/(1+z) of a catastrophic outlier
    pid_measure: str = "broja"        # PID redundancy measure (interpret.pid.MEASURES)
    pid_bins: int = 3                 # bins per variable (50 galaxies: keep it small)
    pid_n_shuffles: int = 50          # target shuffles of the PID bias correction
    batch_size: int = 256             # galaxies per forward pass
    seed: int = 0                     # PID cross-fitting / shuffles, noise fills
    members: tuple[str, ...] = ()     # a subset of the ensemble's members by name (empty: all; for quick checks)

    def validate(self) -> None:
        if self.mode not in ("active", "inactive"):
            raise ConfigError(f"[params] mode must be 'active' or 'inactive'; got {self.mode!r}")
        if self.split not in ("run", "train"):
            raise ConfigError(f"[params] split must be 'run' or 'train'; got {self.split!r}")
        if not 4 <= self.n_galaxies <= 50:
            raise ConfigError(f"[params] n_galaxies must be in [4, 50] (PICZL ships 50 demo galaxies); got "
                              f"{self.n_galaxies}")
        if self.baseline not in ("mean", "zeros"):
            raise ConfigError(f"[params] baseline must be 'mean' or 'zeros'; got {self.baseline!r}")
        for name in ("ig_steps", "ig_batch", "pid_bins", "batch_size"):
            if getattr(self, name) < 2:
                raise ConfigError(f"[params] {name} must be >= 2; got {getattr(self, name)}")


Params = PiczlParams

#: The compact setting of ``interpret demo`` and the end-to-end test: 12 train galaxies, 8 IG nodes.
COMPACT = PiczlParams(n_galaxies=12, ig_steps=8, ig_batch=12, pid_n_shuffles=10)
