"""Sanity checks for attributions: IG completeness and the model-randomisation test.

* Completeness (Sundararajan et al. 2017, arXiv:1703.01365): for path methods the attributions of a galaxy
  sum to ``f(x) - f(baseline)``; the residual (convergence delta) measures integration error.
* Model randomisation (Adebayo et al. 2018, arXiv:1810.03292): an explanation that survives re-initialising
  the model's weights does not explain the model. Layers are randomised from the output down
  (``"cascading"``) or one at a time (``"independent"``), and the maps are compared with the original ones by
  Spearman rank correlation (of |a| and of signed a) and a windowed SSIM.

Examples
--------
>>> import numpy as np, torch
>>> from interpret.attribution import attribute, completeness_check
>>> m = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
>>> a = attribute(m, np.random.default_rng(0).normal(size=(10, 6)).astype("float32"), n_steps=32,
...               progress=False)
>>> completeness_check(a, rtol=1e-3).fraction_passed
1.0
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.ndimage import uniform_filter
from scipy.stats import rankdata

from .._results import Result
from .._validation import as_generator, check_choice
from ..exceptions import BaselineWarning, ValidationError
from ._model import resolve_target
from .core import attribute
from .result import Attribution

__all__ = ["CompletenessCheck", "completeness_check", "RandomizationTest", "randomization_test",
           "spearman_rows", "ssim_rows", "randomizable_layers"]


@dataclass(frozen=True)
class CompletenessCheck(Result):
    """Per-galaxy completeness of a path attribution: ``sum(a) - (f(x) - f(baseline))``."""

    attribution_sum: np.ndarray
    expected: np.ndarray
    rtol: float
    atol: float
    method: str

    @property
    def delta(self) -> np.ndarray:
        """Absolute completeness error per galaxy (same units as the output)."""
        return self.attribution_sum - self.expected

    @property
    def relative_error(self) -> np.ndarray:
        """``|delta| / |f(x) - f(baseline)|`` (inf where the difference is zero and delta is not)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(self.delta) / np.abs(self.expected)
        return np.where(self.delta == 0, 0.0, rel)

    @property
    def passed(self) -> np.ndarray:
        """Boolean per galaxy: ``|delta| <= atol + rtol * |f(x) - f(baseline)|``."""
        return np.abs(self.delta) <= self.atol + self.rtol * np.abs(self.expected)

    @property
    def fraction_passed(self) -> float:
        """Fraction of galaxies within tolerance."""
        return float(self.passed.mean())

    def to_frame(self) -> pd.DataFrame:
        """One row per galaxy: sum, expected, delta, relative error, passed."""
        return pd.DataFrame({"attribution_sum": self.attribution_sum, "expected": self.expected,
                             "delta": self.delta, "relative_error": self.relative_error,
                             "passed": self.passed}, index=pd.RangeIndex(len(self.expected), name="galaxy"))


def completeness_check(a: Attribution, *, rtol: float = 1e-2, atol: float = 1e-6) -> CompletenessCheck:
    """Check that a path attribution sums to ``f(x) - f(baseline)`` for every galaxy.

    Parameters
    ----------
    a : Attribution
        From a path method with a baseline output (integrated_gradients, deeplift).
    rtol, atol : float, default 1e-2 and 1e-6
        Tolerance relative to ``|f(x) - f(baseline)|`` and absolute.

    Returns
    -------
    CompletenessCheck

    Examples
    --------
    Too few integration steps show up as galaxies whose attributions do not sum to ``f(x) - f(baseline)``:

    >>> import numpy as np, torch
    >>> from interpret.attribution import attribute
    >>> _ = torch.manual_seed(0)
    >>> m = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> x = np.random.default_rng(0).normal(size=(20, 6)).astype("float32")
    >>> for n_steps in (2, 32):
    ...     c = completeness_check(attribute(m, x, n_steps=n_steps, progress=False), rtol=1e-3)
    ...     print(n_steps, c.fraction_passed)
    2 0.4
    32 1.0
    """
    if not isinstance(a, Attribution) or a.baseline_output is None:
        raise ValidationError("completeness_check(): 'a' must be an Attribution from a path method "
                              "(integrated_gradients or deeplift) that records f(baseline)")
    return CompletenessCheck(a.total().astype(float), np.asarray(a.output - a.baseline_output, dtype=float),
                             float(rtol), float(atol), a.method)


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation between matching rows (galaxies) of two (N, ...) arrays."""
    ra = rankdata(a.reshape(a.shape[0], -1), axis=1)
    rb = rankdata(b.reshape(b.shape[0], -1), axis=1)
    ra -= ra.mean(1, keepdims=True)
    rb -= rb.mean(1, keepdims=True)
    den = np.sqrt((ra**2).sum(1) * (rb**2).sum(1))
    return np.where(den > 0, (ra * rb).sum(1) / np.where(den > 0, den, 1.0), 0.0)


def ssim_rows(a: np.ndarray, b: np.ndarray, window: int = 5) -> np.ndarray:
    """Mean windowed SSIM (Wang et al. 2004) per galaxy between |a| and |b|, each scaled to [0, 1]."""
    def scale(x):
        x = np.abs(x.astype(float))
        m = x.reshape(x.shape[0], -1).max(1).reshape((-1,) + (1,) * (x.ndim - 1))
        return x / np.where(m > 0, m, 1.0)

    x, y = scale(a), scale(b)
    n_sp = 2 if x.ndim >= 4 else 1
    size = (1,) * (x.ndim - n_sp) + (min(window, *x.shape[-n_sp:]),) * n_sp
    mx, my = uniform_filter(x, size), uniform_filter(y, size)
    vx = uniform_filter(x * x, size) - mx**2
    vy = uniform_filter(y * y, size) - my**2
    cxy = uniform_filter(x * y, size) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return s.reshape(s.shape[0], -1).mean(1)


def randomizable_layers(module: torch.nn.Module) -> list[str]:
    """Names of the modules that own parameters directly, in registration (≈ forward) order."""
    return [name for name, m in module.named_modules()
            if name and any(True for _ in m.parameters(recurse=False))]


def _randomize(module: torch.nn.Module, name: str, gen: torch.Generator) -> None:
    sub = module.get_submodule(name)
    with torch.no_grad():
        for p in sub.parameters(recurse=False):
            sigma = float(p.std()) if p.numel() > 1 else 0.0
            sigma = sigma if sigma > 0 else 0.1
            noise = torch.randn(p.shape, generator=gen, dtype=p.dtype) * sigma
            p.copy_(noise.to(p.device))


@dataclass(frozen=True)
class RandomizationTest(Result):
    """Similarity between original and weight-randomised attributions, one row per randomisation stage."""

    scores: pd.DataFrame
    mode: str
    method: str

    def passed(self, threshold: float = 0.5, metric: str = "spearman_abs") -> bool:
        """True when randomisation changes the maps: ``metric`` below ``threshold`` at the last cascading
        stage, or for every independently randomised layer.

        Input-weighted methods (IG and input x gradient with a zero baseline) keep the input's structure in
        |a| (Adebayo et al. 2018); test their signed maps with ``metric="spearman"``.
        """
        check_choice(metric, "metric", "RandomizationTest.passed", ("spearman_abs", "spearman", "ssim"))
        s = self.scores[metric]
        return bool(s.iloc[-1] < threshold) if self.mode == "cascading" else bool((s < threshold).all())

    def to_frame(self) -> pd.DataFrame:
        """The scores table."""
        return self.scores.copy()


def randomization_test(
    estimator: Any,
    x: Any,
    method: str = "integrated_gradients",
    *,
    mode: str = "cascading",
    layers: list[str] | None = None,
    target: int | str | None = None,
    seed: int | np.random.Generator | None = None,
    progress: bool | None = None,
    **attribute_kwargs: Any,
) -> RandomizationTest:
    """Model-parameter randomisation test of Adebayo et al. (2018, arXiv:1810.03292).

    Parameters
    ----------
    estimator : torch.nn.Module or Estimator
        Differentiable model (it is copied; the original is not modified).
    x : ndarray (N, ...)
        Inputs to explain (a few dozen galaxies suffice); for multi-input models the maps of the first
        input are compared.
    method : str, default "integrated_gradients"
        Attribution method (any key of ``METHODS``).
    mode : {"cascading", "independent"}
        Randomise layers cumulatively from the output down, or one layer at a time.
    layers : list of str, optional
        Submodule names to randomise (default :func:`randomizable_layers`, i.e. every parametrised layer).
    target, seed, progress, **attribute_kwargs
        Passed to :func:`attribute` (the same seed for every stage).

    Returns
    -------
    RandomizationTest
        ``scores``: one row per stage with ``layer``, mean ``spearman_abs``, ``spearman`` and ``ssim`` over
        galaxies (and their standard deviations).

    Examples
    --------
    >>> import numpy as np, torch
    >>> _ = torch.manual_seed(0)
    >>> m = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    >>> x = np.random.default_rng(0).normal(size=(20, 6)).astype("float32")
    >>> r = randomization_test(m, x, "input_x_gradient", seed=0, progress=False)
    >>> r.scores["layer"].tolist()                    # cascading: the output layer first, then all layers
    ['2', '0']
    >>> r.passed(), r.passed(metric="spearman")       # |x * grad| keeps the input's structure: test signed maps
    (False, True)
    """
    check_choice(mode, "mode", "randomization_test", ("cascading", "independent"))
    module = estimator if isinstance(estimator, torch.nn.Module) else getattr(estimator, "module", None)
    if module is None:
        raise ValidationError("randomization_test(): the estimator has no torch module to randomise")
    if isinstance(module, torch.jit.ScriptModule):
        raise ValidationError("randomization_test(): a TorchScript model's layers cannot be re-drawn one by one; "
                              "load the model as a state dict with its factory (ip.load_estimator(path, "
                              "factory=...)) to run the test")
    t_idx, _ = resolve_target(target, getattr(estimator, "output_names", None))
    names = layers or randomizable_layers(module)
    if not names:
        raise ValidationError("randomization_test(): the module has no parametrised layers")
    kw = {"method": method, "target": t_idx, "seed": seed, "progress": progress, **attribute_kwargs}
    ref = attribute(module, x, **kw).input_values(0)
    rng = as_generator(seed)
    gen = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))
    order = names[::-1] if mode == "cascading" else names
    work, rows = copy.deepcopy(module), []
    for name in order:
        if mode == "independent":
            work = copy.deepcopy(module)
        _randomize(work, name, gen)
        with warnings.catch_warnings():   # a randomised model's f(baseline) is meaningless by design
            warnings.simplefilter("ignore", BaselineWarning)
            new = attribute(work, x, **kw).input_values(0)
        sp_abs, sp, ss = spearman_rows(np.abs(ref), np.abs(new)), spearman_rows(ref, new), ssim_rows(ref, new)
        rows.append({"layer": name, "spearman_abs": sp_abs.mean(), "spearman_abs_std": sp_abs.std(),
                     "spearman": sp.mean(), "spearman_std": sp.std(), "ssim": ss.mean(), "ssim_std": ss.std()})
    scores = pd.DataFrame(rows).rename_axis("stage")
    return RandomizationTest(scores, mode, method)
