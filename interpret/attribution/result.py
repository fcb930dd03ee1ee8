"""The :class:`Attribution` result returned by every attribution method."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from ..exceptions import ValidationError
from . import aggregate

__all__ = ["Attribution"]


@dataclass(frozen=True)
class Attribution(Result):
    """Per-galaxy attribution maps for one estimator output.

    Attributes
    ----------
    values : ndarray or tuple of ndarray
        Attributions, same shape as the input (a tuple with one array per input for multi-input models).
    method : str
        Name of the attribution method (a key of :data:`interpret.attribution.METHODS`).
    output : ndarray, shape (N,)
        The explained output f(x) for every galaxy.
    target : int or None
        Output index explained (None for single-output models).
    target_name : str or None
        Output name when the estimator has output names.
    input_names : tuple of str or None
        Names of the inputs (multi-input models).
    baseline_output : ndarray (N,) or None
        f(baseline) for path methods (IG, DeepLift); None otherwise.
    delta : ndarray (N,) or None
        Completeness (convergence) error ``sum(values) - (output - baseline_output)`` where defined.
    n_steps : ndarray (N,) or None
        Integration nodes used per galaxy (Integrated Gradients).
    params : dict
        The method's options (JSON-able), e.g. ``{"rule": "gauss_legendre", "baselines": "zeros"}``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from interpret.attribution import attribute
    >>> m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 1))
    >>> a = attribute(m, np.ones((3, 2, 4, 4), np.float32), progress=False)
    >>> a.values.shape, list(a.per_band(["g", "r"]).index)
    ((3, 2, 4, 4), ['g', 'r'])
    >>> a  # doctest: +ELLIPSIS
    Attribution(method='integrated_gradients', n_galaxies=3, values=float32 (3, 2, 4, 4), ...)
    """

    values: Any
    method: str
    output: np.ndarray
    target: int | None = None
    target_name: str | None = None
    input_names: tuple | None = None
    baseline_output: np.ndarray | None = None
    delta: np.ndarray | None = None
    n_steps: np.ndarray | None = None
    params: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        """One line: the method, the sizes and the scalar options; arrays by dtype and shape only."""
        def short(v: Any) -> str:
            if isinstance(v, tuple) and v and all(isinstance(a, np.ndarray) for a in v):
                return "(" + ", ".join(short(a) for a in v) + ")"
            if isinstance(v, (float, np.floating)):
                return f"{float(v):.3g}"
            r = f"{v.dtype} {v.shape}" if isinstance(v, np.ndarray) else repr(v)
            return r if len(r) <= 60 else r[:57] + "..."

        parts = [f"method={self.method!r}", f"n_galaxies={self.n_galaxies}", f"values={short(self.values)}"]
        parts += [f"{k}={getattr(self, k)!r}" for k in ("target", "target_name", "input_names")
                  if getattr(self, k) is not None]
        if self.delta is not None and np.size(self.delta):
            parts.append(f"max|delta|={float(np.max(np.abs(self.delta))):.3g}")
        if self.params:
            parts.append("params={" + ", ".join(f"{k}: {short(v)}" for k, v in self.params.items()) + "}")
        return f"Attribution({', '.join(parts)})"

    # --- helpers ------------------------------------------------------------------------------------
    @property
    def n_galaxies(self) -> int:
        """Number of galaxies N."""
        return int(np.asarray(self.output).shape[0])

    def input_values(self, input: int | str = 0) -> np.ndarray:
        """Attributions of one input (by index or name) as an array (N, ...)."""
        if not isinstance(self.values, tuple):
            if input not in (0, None) and not (self.input_names and input in self.input_names[:1]):
                raise ValidationError(f"Attribution: single-input result has no input {input!r}")
            return self.values
        if isinstance(input, str):
            if not self.input_names or input not in self.input_names:
                raise ValidationError(f"Attribution: unknown input {input!r}; names are {self.input_names}")
            input = list(self.input_names).index(input)
        return self.values[input]

    def total(self) -> np.ndarray:
        """Sum of attributions per galaxy over all inputs and features, shape (N,)."""
        vals = self.values if isinstance(self.values, tuple) else (self.values,)
        return sum(v.reshape(v.shape[0], -1).sum(1) for v in vals)

    # --- aggregation --------------------------------------------------------------------------------
    def per_band(self, bands: Any = None, *, input: int | str = 0) -> pd.DataFrame:
        """Signed and absolute attribution mass per band (axis 1); see :func:`aggregate.per_band`."""
        return aggregate.per_band(self.input_values(input), bands)

    def radial_profile(self, bands: Any = None, *, input: int | str = 0, center: Sequence[float] | None = None,
                       n_bins: int = 8, r_max: float | None = None, absolute: bool = True,
                       normalize: bool = True) -> pd.DataFrame:
        """Radial profile of the attribution around the galaxy centre; see :func:`aggregate.radial_profile`."""
        return aggregate.radial_profile(self.input_values(input), bands, center=center, n_bins=n_bins,
                                        r_max=r_max, absolute=absolute, normalize=normalize)

    def mean_map(self, *, input: int | str = 0, absolute: bool = False, normalize: bool = False) -> np.ndarray:
        """Stacked mean map over galaxies; see :func:`aggregate.mean_map`."""
        return aggregate.mean_map(self.input_values(input), absolute=absolute, normalize=normalize)

    def per_wavelength(self, wavelength: np.ndarray | None = None, *, input: int | str = 0,
                       normalize: bool = False) -> pd.DataFrame:
        """Mean attribution per wavelength pixel for spectra; see :func:`aggregate.per_wavelength`."""
        return aggregate.per_wavelength(self.input_values(input), wavelength, normalize=normalize)

    def to_frame(self) -> pd.DataFrame:
        """One row per galaxy: output, baseline output, attribution sum, |attribution| sum, delta, steps."""
        vals = self.values if isinstance(self.values, tuple) else (self.values,)
        frame = pd.DataFrame({
            "output": np.asarray(self.output, dtype=float),
            "attribution_sum": self.total().astype(float),
            "attribution_abs_sum": sum(np.abs(v).reshape(v.shape[0], -1).sum(1) for v in vals).astype(float),
        }, index=pd.RangeIndex(self.n_galaxies, name="galaxy"))
        if self.baseline_output is not None:
            frame["baseline_output"] = np.asarray(self.baseline_output, dtype=float)
        if self.delta is not None:
            frame["delta"] = np.asarray(self.delta, dtype=float)
        if self.n_steps is not None:
            frame["n_steps"] = np.asarray(self.n_steps)
        return frame
