"""Parameters of the ``optical_lines_to_ir`` study: a frozen dataclass, validated once at the config boundary."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...exceptions import ConfigError
from .._params import StudyParams

__all__ = ["Params", "IR_BANDS"]

#: The network's outputs: the four WISE bands, in order.
IR_BANDS = ("W1", "W2", "W3", "W4")


@dataclass(frozen=True)
class Params(StudyParams):
    """Parameters of the optical_lines_to_ir study (the config's ``[params]`` table)."""

    fast: bool = False  # few-epoch training (demo / tests)
    n_epochs: int = 0  # spectrum-net epochs (0: trainer default, 30; fast: 6)
    bands: tuple[str, ...] = ('W1', 'W2', 'W3', 'W4')  # WISE outputs explained (subset of W1..W4)
    n_attribution: int = 200  # held-out galaxies attributed
    ig_steps: int = 32  # integrated-gradients nodes
    ig_baseline: str = 'zeros'  # IG reference spectrum: "zeros" (no light) or "mean" (training mean)
    batch_size: int = 32  # galaxies per IG chunk
    n_boot: int = 500  # bootstrap resamples of galaxies for the line-importance intervals
    ci: float = 0.9  # confidence level of those intervals
    continuum_width: float = 30.0  # rest-frame width (A) of each continuum side band
    min_coverage: float = 0.1  # score a line only if >= this fraction of galaxies cover its window
    top_k: int = 5  # top-k lines compared with the truth
    n_perm: int = 2000  # label permutations for the AUC p-value
    truth_lines: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # {band: [lines]} expected lines (default: the mock universe's truth)
    completeness_rtol: float = 0.05  # IG completeness tolerance relative to |f(x) - f(baseline)|
    randomization_bands: tuple[str, ...] = ('W1', 'W3')  # outputs given the model-randomisation test ([] to skip)
    n_randomization: int = 16  # galaxies of the randomisation test
    randomization_steps: int = 16  # IG nodes in the randomisation test
    rest_step: float = 2.0  # rest-frame grid step (A) of the stacked spectrum / attribution
    rest_min_coverage: float = 0.25  # stacked grid kept where >= this fraction of the galaxies have data
    spectra_frame: str = 'observed'  # "observed" or "rest": spectra already de-redshifted (the catalogue redshift is then set aside)

    def validate(self) -> None:
        """Bands are WISE outputs, the baseline is known and every truth line is in the line catalogue."""
        from ...data.lines import get_line

        bad = [b for b in [*self.bands, *self.randomization_bands] if b not in IR_BANDS]
        if bad or not self.bands:
            raise ConfigError(f"optical_lines_to_ir: params.bands / randomization_bands must be non-empty subsets "
                              f"of {list(IR_BANDS)}; got {bad or self.bands}")
        if self.ig_baseline not in ("zeros", "mean"):
            raise ConfigError(f"optical_lines_to_ir: params.ig_baseline must be 'zeros' or 'mean'; got "
                              f"{self.ig_baseline!r}")
        if self.spectra_frame not in ("observed", "rest"):
            raise ConfigError(f"optical_lines_to_ir: params.spectra_frame must be 'observed' or 'rest'; got "
                              f"{self.spectra_frame!r}")
        if not isinstance(self.truth_lines, Mapping):
            raise ConfigError("optical_lines_to_ir: params.truth_lines must be a table {band = [line names]}")
        for lines in self.truth_lines.values():
            for line in lines:
                get_line(line)     # unknown names raise with the valid list
