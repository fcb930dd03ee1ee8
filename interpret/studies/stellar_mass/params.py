"""Parameters of the ``stellar_mass`` study: one frozen dataclass, validated once at the config boundary."""
from __future__ import annotations

from dataclasses import dataclass

from ...exceptions import ConfigError
from .._params import StudyParams

__all__ = ["StellarMassParams", "Params", "PAIR_LABEL"]

#: The PID source pairs the study knows, and how the report names them.
PAIR_LABEL = {"phot_vs_morph": "photometry model vs morphology", "colours_vs_morph": "colours vs morphology",
              "phot_vs_cnn": "photometry model vs image CNN"}


@dataclass(frozen=True)
class StellarMassParams(StudyParams):
    """Parameters of the stellar_mass study (the config's ``[params]`` table)."""

    fast: bool = False  # few-epoch CNN training (demo / tests)
    n_epochs: int = 20  # CNN epochs (0: trainer default, 40; ignored when fast)
    bands: str = 'sdss'  # mock image bands (anything ip.data.bands.get_bandset accepts)
    pixel_scale: float = 0.396  # mock pixel scale (arcsec); SDSS's
    image_size: int = 32  # mock cutout side (pixels)
    redshift_range: tuple[float, ...] = (0.02, 0.4)  # mock redshifts (optical sources at z ~ 0.5+ are a few pixels across)
    phot_model: str = 'hgb'  # photometry-only model: "hgb" (sklearn) or "mlp" (reference PhotometryMLP)
    phot_redshift: bool = True  # the photometry model gets the spec-z (the CNN does not)
    mass_outlier_dex: float = 0.3  # |Delta log M| defining a catastrophic outlier
    n_boot_metrics: int = 200  # bootstrap resamples of the held-out metrics
    colours: tuple[str, ...] = ('u-g', 'g-r', 'r-i', 'i-z')
    magnitude: str = 'r'  # the magnitude node of the causal graph
    causal_methods: tuple[str, ...] = ('pc', 'fci')
    causal_test: str = 'fisherz'
    causal_alpha: float = 0.01
    causal_n_boot: int = 50
    min_edge_frequency: float = 0.5  # edges drawn in the graph figure
    pid_pairs: tuple[str, ...] = ('phot_vs_morph', 'colours_vs_morph', 'phot_vs_cnn')
    pid_measures: tuple[str, ...] = ('broja', 'mmi', 'wb')
    pid_bins: int = 8
    pid_n_boot: int = 100
    pid_ci_level: float = 0.9
    pid_n_splits: int = 5  # cross-fitting folds reducing a multi-column source to one variable
    pid_knn: bool = True  # also the kNN (binning-free) MMI decomposition of every pair
    knn_k: int = 5
    knn_scaling: str = 'standardize'  # kNN route scaling of each source ("standardize" or "whiten")
    pointwise_pair: str = 'phot_vs_cnn'  # per-galaxy neural PID of this pair ("" to skip)
    pointwise_classes: int = 10
    pointwise_folds: int = 5
    pointwise_epochs: int = 40
    pointwise_hidden: tuple[int, ...] = (32, 32)
    pointwise_batch: int = 64
    n_attribution: int = 100  # galaxies attributed with integrated gradients
    ig_steps: int = 32
    radial_bins: int = 8
    local_queries: tuple[str, ...] = ('sersic_n', 'r_eff_arcsec', 'axis_ratio', 'g-r')
    local_k: int = 50
    local_n_perm: int = 100
    local_alpha: float = 0.05

    def validate(self) -> None:
        if self.phot_model not in ("hgb", "mlp"):
            raise ConfigError(f"stellar_mass: params.phot_model must be 'hgb' or 'mlp'; got {self.phot_model!r}")
        bad = [x for x in [*self.pid_pairs, *([self.pointwise_pair] if self.pointwise_pair else [])]
               if x not in PAIR_LABEL]
        if bad:
            raise ConfigError(f"stellar_mass: unknown PID pair(s) {bad}; valid pairs are {sorted(PAIR_LABEL)}")


Params = StellarMassParams
