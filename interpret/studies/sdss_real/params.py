"""Parameters of the ``sdss_real`` study: a frozen dataclass, validated once when the config is read."""
from __future__ import annotations

from dataclasses import dataclass

from ...exceptions import ConfigError
from .._params import StudyParams

__all__ = ["Params", "SdssRealParams", "PID_SPLITS"]

#: PID source splits: name -> {source name: colours}; see the study's docstring for the physics.
PID_SPLITS: dict[str, dict[str, list[str]]] = {
    "break": {"blue": ["u-g", "g-r"], "red": ["r-i", "i-z"]},
    "optical_nir": {"optical": ["u-g", "g-r", "r-i", "i-z"], "NIR": ["z-J", "J-H", "H-Ks"]},
}


@dataclass(frozen=True)
class SdssRealParams(StudyParams):
    """Parameters of the sdss_real study (the config's ``[params]`` table)."""

    bands: tuple[str, ...] = ('u', 'g', 'r', 'i', 'z', 'J', 'H', 'Ks')  # magnitude columns used by every model
    max_mag_err: float = 0.5  # quality cut: magnitude error (mag) in every used band below this
    fast: bool = False  # few-epoch training (demo / tests)
    n_epochs: int = 0  # reference-MLP epochs (0: trainer default, 150; fast: 18)
    retrain_model: str = 'mlp'  # refit for retrain mode: "mlp" (reference trainer) or "hgb" (sklearn)
    retrain_test_size: float = 0.25  # held-out fraction of retrain mode
    strategies: tuple[str, ...] = ('inpaint', 'mean')  # masking fills (interpret.ablation.STRATEGIES); the first one is
    photoz_metric: str = 'sigma_nmad'  # Shapley metric of the photo-z model
    mass_metric: str = 'rmse'  # Shapley metric of the mass model (dex)
    n_boot_shapley: int = 50  # galaxy bootstrap resamples for Shapley error bars
    outlier_threshold: float = 0.15  # photo-z outlier |dz|/(1+z)
    mass_outlier_dex: float = 0.3  # mass outlier |dlog M|
    pid_measures: tuple[str, ...] = ('broja', 'mmi', 'wb')
    pid_splits: tuple[str, ...] = ('break', 'optical_nir')
    pid_bins: int = 8
    pid_n_boot: int = 100
    pid_ci_level: float = 0.9
    pid_n_splits: int = 5  # cross-fitting folds reducing each colour group to one variable
    causal_colours: tuple[str, ...] = ('u-g', 'g-r', 'r-i', 'i-z', 'z-Ks')
    causal_method: str = 'pc'
    causal_test: str = 'fisherz'
    causal_alpha: float = 0.01
    causal_n_boot: int = 100
    min_edge_frequency: float = 0.5  # edges drawn in the graph figure

    def validate(self) -> None:
        if self.retrain_model not in ("mlp", "hgb"):
            raise ConfigError(f"sdss_real: params.retrain_model must be 'mlp' or 'hgb'; got {self.retrain_model!r}")
        bad = [s for s in self.pid_splits if s not in PID_SPLITS]
        if bad:
            raise ConfigError(f"sdss_real: unknown pid_splits {bad}; valid splits are {sorted(PID_SPLITS)}")


Params = SdssRealParams
