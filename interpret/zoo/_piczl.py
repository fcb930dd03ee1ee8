"""PICZL's weighted ensemble of Gaussian-mixture CNNs as one :class:`~interpret.estimators.Estimator`.

Every member maps PICZL's three inputs to ``3G`` numbers: G means, G standard deviations and G weights of a
Gaussian mixture in redshift. The ensemble PDF is the ensemble-weighted sum of the member mixtures,
normalised on PICZL's grid (4001 points over 0-8); PICZL's point estimate is its mode on that grid.
For gradients the ensemble's ``module`` returns the mixture *mean* (the mode is not differentiable).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .. import _piczl
from .._estimators._base import Estimator
from .._estimators._wrappers import TorchEstimator
from .._validation import check_choice
from ..exceptions import ValidationError

__all__ = ["piczl", "PiczlEnsemble", "MixtureMean", "mixture_pdf"]

logger = logging.getLogger(__name__)

_ROWS_PER_PDF_CHUNK = 16   # rows per (rows, grid, components) block: ~40 MB for 4001 x 84


def split_mixture(out: np.ndarray | torch.Tensor) -> tuple[Any, Any, Any]:
    """(means, stds, weights), each (n, G), of a member output (n, 3G)."""
    g = out.shape[1] // 3
    return out[:, :g], out[:, g:2 * g], out[:, 2 * g:]


def mixture_pdf(outputs: Sequence[np.ndarray], weights: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Weighted sum of the members' Gaussian mixtures on ``grid``, normalised to unit area there.

    Parameters
    ----------
    outputs : sequence of (n, 3G_m) arrays
        Member outputs (means, stds, weights).
    weights : (M,) array
        Ensemble weights (normalised here).
    grid : (K,) array
        Redshift grid.

    Returns
    -------
    (n, K) array
    """
    w = np.asarray(weights, float) / np.sum(weights)
    parts = [split_mixture(np.asarray(out, float)) for out in outputs]
    mu = np.concatenate([p[0] for p in parts], axis=1)              # all members' components side by side
    inv = 1.0 / np.concatenate([p[1] for p in parts], axis=1)
    amp = np.concatenate([wm * p[2] for wm, p in zip(w, parts)], axis=1) * inv / np.sqrt(2.0 * np.pi)
    pdf = np.empty((mu.shape[0], grid.size))
    for lo in range(0, mu.shape[0], _ROWS_PER_PDF_CHUNK):
        sl = slice(lo, lo + _ROWS_PER_PDF_CHUNK)
        z = (grid[None, :, None] - mu[sl, None, :]) * inv[sl, None, :]
        np.square(z, out=z)
        z *= -0.5
        np.exp(z, out=z)
        z *= amp[sl, None, :]
        pdf[sl] = z.sum(axis=-1)
    area = np.trapezoid(pdf, grid, axis=1)
    return pdf / np.where(area > 0, area, 1.0)[:, None]


class MixtureMean(torch.nn.Module):
    """The ensemble's mixture mean ``sum_m w_m sum_g pi_mg mu_mg`` (shape (n,)): differentiable."""

    def __init__(self, members: Sequence[torch.nn.Module], weights: np.ndarray) -> None:
        super().__init__()
        self.members = torch.nn.ModuleList(members)
        self.register_buffer("weights", torch.as_tensor(np.asarray(weights) / np.sum(weights), dtype=torch.float32))

    def forward(self, images: torch.Tensor, colour_images: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        total = 0.0
        for w, member in zip(self.weights, self.members):
            mu, _, pi = split_mixture(member(images, colour_images, features))
            total = total + w * (pi * mu).sum(dim=1)
        return total


class PiczlEnsemble(TorchEstimator):
    """PICZL's weighted ensemble: ``predict`` gives its point estimate, ``module`` the differentiable mean.

    Attributes
    ----------
    mode : str
        "active" or "inactive".
    members : tuple of Estimator
        One Keras (torch-backend) estimator per member; ``members[i].predict(x)`` gives its (n, 3G) output.
    member_names : tuple of str
        Member file names (e.g. ``"crps_model_G=19_B=256_lr=0.001"``).
    weights : ndarray
        Normalised ensemble weights (sum 1), in ``members`` order.
    estimate : str
        What ``predict`` returns: "mode" (PICZL's point estimate) or "mean" (the module's output).
    grid : ndarray
        PICZL's redshift grid (4001 points over 0-8).
    """

    def __init__(self, members: Sequence[Estimator], weights: np.ndarray, *, mode: str,
                 member_names: Sequence[str], estimate: str = "mode",
                 device: torch.device | str | None = "cpu") -> None:
        self.members = tuple(members)
        self.weights = np.asarray(weights, float) / np.sum(weights)
        module = MixtureMean([m.module for m in self.members], self.weights)
        super().__init__(module, device=device, input_names=_piczl.INPUT_NAMES,
                         input_shapes=self.members[0].input_shapes)
        self.mode = mode
        self.member_names = tuple(member_names)
        self.estimate = estimate
        self.grid = _piczl.GRID.copy()

    def __repr__(self) -> str:
        return f"PiczlEnsemble(mode={self.mode!r}, members={len(self.members)}, estimate={self.estimate!r})"

    def subset(self, members: Sequence[int | str]) -> PiczlEnsemble:
        """The ensemble of some members only (by index or name), their weights renormalised."""
        idx = [self.member_names.index(m) if isinstance(m, str) else int(m) for m in members]
        if not idx:
            raise ValidationError("PiczlEnsemble.subset(): give at least one member")
        return PiczlEnsemble([self.members[i] for i in idx], self.weights[idx], mode=self.mode,
                             member_names=[self.member_names[i] for i in idx], estimate=self.estimate,
                             device=self.device)

    def member_outputs(self, x: Any, batch_size: int = 256, progress: bool | None = None) -> list[np.ndarray]:
        """Each member's raw output (n, 3G): G means, G standard deviations, G weights."""
        return [m.predict(x, batch_size=batch_size, progress=progress) for m in self.members]

    def predict_pdf(self, x: Any, grid: np.ndarray | None = None, *, batch_size: int = 256,
                    progress: bool | None = None) -> np.ndarray:
        """The ensemble redshift PDF (n, K) on ``grid`` (default PICZL's 4001 points over 0-8), unit area."""
        grid = self.grid if grid is None else np.asarray(grid, float)
        if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
            raise ValidationError(f"PiczlEnsemble.predict_pdf(): 'grid' must be an increasing 1-D array of at "
                                  f"least 2 redshifts; got shape {grid.shape}")
        return mixture_pdf(self.member_outputs(x, batch_size, progress), self.weights, grid)

    def predict(self, x: Any, batch_size: int | str = 256, progress: bool | None = None, *,
                check_finite: bool = True) -> np.ndarray:
        """PICZL's point estimate (n,): the mode of the ensemble PDF on its grid (``estimate="mode"``).

        With ``estimate="mean"`` the differentiable mixture mean (what ``module`` returns) instead.
        """
        if self.estimate == "mean":
            return super().predict(x, batch_size=batch_size, progress=progress, check_finite=check_finite)
        bs = 256 if isinstance(batch_size, str) else batch_size
        pdf = self.predict_pdf(x, batch_size=bs, progress=progress)
        return self.grid[np.argmax(pdf, axis=1)]


def piczl(mode: str = "active", *, estimate: str = "mode", device: str | torch.device | None = None
          ) -> PiczlEnsemble:
    """PICZL's trained CNN ensemble (real weights from the installed ``piczl`` package) as an Estimator.

    Parameters
    ----------
    mode : {"active", "inactive"}, default "active"
        PICZL's ensemble for AGN / active galaxies (10 members) or for inactive galaxies (8 members; its
        inputs add PSF images and morphology features).
    estimate : {"mode", "mean"}, default "mode"
        What ``predict`` returns: PICZL's point estimate (the mode of the weighted mixture PDF on 4001
        points over 0-8) or the mixture mean. ``module`` always returns the (differentiable) mean.
    device : str or torch.device, optional
        Where to evaluate (default CPU).

    Returns
    -------
    PiczlEnsemble
        Takes the three inputs of :func:`interpret.datasets.piczl_demo` (``d.inputs``), channel-last.

    References
    ----------
    Roster et al. (2024), "PICZL: Image-based photometric redshifts for AGN", arXiv:2411.07305.

    Examples
    --------
    >>> import interpret as ip
    >>> d = ip.datasets.piczl_demo("run", n=20)  # doctest: +SKIP
    >>> ip.zoo.piczl("active").predict(d.inputs, progress=False)[:3]  # doctest: +SKIP
    array([6.048, 0.426, 0.288])
    """
    from ..estimators import load_estimator

    check_choice(mode, "mode", "piczl", _piczl.MODES)
    check_choice(estimate, "estimate", "piczl", ("mode", "mean"))
    files, weights = _piczl.ensemble_config(mode)
    members = [load_estimator(f, device=device) for f in files]
    return PiczlEnsemble(members, weights, mode=mode, member_names=[f.stem for f in files], estimate=estimate,
                         device=members[0].device)
