"""Estimation from binned samples: the joint pmf by flat-index ``np.bincount``, plug-in entropies,
occupancy warnings, shuffle-null bias correction and bootstrap confidence intervals.

Plug-in mutual information from histograms is biased upward by roughly ``(occupied bins - 1) / (2 n ln 2)``
bits (Miller 1955; Panzeri & Treves 1996). :func:`shuffle_null` estimates the bias of every atom by
recomputing the decomposition with the target permuted (which destroys target-source dependence but keeps
the dependence between sources) and :func:`bootstrap` gives percentile intervals; both run through
:func:`interpret.parallel.seeded_map`, so the same seed gives the same numbers on any backend.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from ..exceptions import EstimationWarning
from ..parallel import seeded_map

__all__ = [
    "joint_counts",
    "joint_pmf",
    "entropy_bits",
    "check_occupancy",
    "shuffle_null",
    "bootstrap",
]

AtomFunc = Callable[[np.ndarray], dict[str, float]]


def joint_counts(codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """Dense contingency table of integer-coded variables by one flat-index ``np.bincount``.

    Parameters
    ----------
    codes : sequence of numpy.ndarray of int, each shape (n,)
        Codes ``0 .. sizes[i] - 1`` of each variable.
    sizes : sequence of int
        Alphabet size of each variable.

    Returns
    -------
    numpy.ndarray of int, shape ``tuple(sizes)``

    Examples
    --------
    >>> import numpy as np
    >>> joint_counts([np.array([0, 1, 1]), np.array([1, 0, 0])], [2, 2]).tolist()
    [[0, 1], [2, 0]]
    """
    flat = np.ravel_multi_index(tuple(np.asarray(c, dtype=np.intp) for c in codes), tuple(sizes))
    return np.bincount(flat, minlength=int(np.prod(sizes))).reshape(tuple(sizes))


def joint_pmf(codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """:func:`joint_counts` normalised to a probability table (float64).

    Examples
    --------
    >>> import numpy as np
    >>> joint_pmf([np.array([0, 1, 1, 1]), np.array([1, 0, 0, 1])], [2, 2]).tolist()
    [[0.0, 0.25], [0.5, 0.25]]
    """
    counts = joint_counts(codes, sizes)
    return counts / counts.sum()


def entropy_bits(p: np.ndarray) -> float:
    """Shannon entropy of a pmf (any shape), in bits.

    Examples
    --------
    >>> import numpy as np
    >>> entropy_bits(np.full((2, 2), 0.25)), entropy_bits([0.5, 0.5, 0.0])
    (2.0, 1.0)
    """
    p = np.asarray(p, dtype=float).ravel()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def check_occupancy(counts: np.ndarray, *, min_per_bin: float = 10.0, func: str = "decompose",
                    stacklevel: int = 2) -> dict[str, float]:
    """Warn when the samples per occupied joint bin are too few for a trustworthy plug-in estimate.

    Parameters
    ----------
    counts : numpy.ndarray of int
        Joint contingency table of target and sources.
    min_per_bin : float, default 10
        Required mean number of samples per occupied joint bin.
    func : str
        Public function named in the message.
    stacklevel : int, default 2
        Frames above the caller to attribute the warning to (as :func:`warnings.warn`).

    Returns
    -------
    dict
        ``n_samples``, ``occupied_bins``, ``samples_per_bin`` (mean over occupied bins), ``min_per_bin``.
    """
    n = int(counts.sum())
    occupied = int((counts > 0).sum())
    per_bin = n / max(occupied, 1)
    if per_bin < min_per_bin:
        warnings.warn(
            f"{func}(): {n} samples over {occupied} occupied joint bins is {per_bin:.1f} samples per bin; "
            f"at least {min_per_bin:g} are needed (about {int(np.ceil(min_per_bin * occupied))} samples at "
            "these bins): use fewer bins or more data, and consider bias_correction='shuffle'",
            EstimationWarning, stacklevel=stacklevel + 1,
        )
    return {"n_samples": n, "occupied_bins": occupied, "samples_per_bin": per_bin, "min_per_bin": min_per_bin}


class _ShuffleTask:
    """Picklable: atoms of the table with the target (last axis) permuted."""

    def __init__(self, codes: Sequence[np.ndarray], sizes: Sequence[int], atoms: AtomFunc):
        self.codes, self.sizes, self.atoms = list(codes), list(sizes), atoms

    def __call__(self, _: int, rng: np.random.Generator) -> dict[str, float]:
        codes = self.codes[:-1] + [rng.permutation(self.codes[-1])]
        return self.atoms(joint_pmf(codes, self.sizes))


class _BootstrapTask(_ShuffleTask):
    """Picklable: atoms of the table of a row resample."""

    def __call__(self, _: int, rng: np.random.Generator) -> dict[str, float]:
        idx = rng.integers(0, len(self.codes[0]), len(self.codes[0]))
        return self.atoms(joint_pmf([c[idx] for c in self.codes], self.sizes))


def _stack(draws: list[dict[str, float]]) -> dict[str, np.ndarray]:
    return {key: np.array([d[key] for d in draws]) for key in draws[0]}


def shuffle_null(
    codes: Sequence[np.ndarray], sizes: Sequence[int], atoms: AtomFunc, *, n_shuffles: int = 20,
    seed: int | np.random.Generator | None = None, n_jobs: int | None = None, progress: bool | None = None,
) -> dict[str, np.ndarray]:
    """Null distribution of every atom with the target (last code array) permuted.

    Under the permutation every true atom is zero, so the null mean estimates the plug-in bias at these
    bins and sample size; :func:`interpret.pid.decompose` subtracts it (``bias_correction="shuffle"``).

    Parameters
    ----------
    codes, sizes
        As :func:`joint_counts`; the target is the last variable.
    atoms : callable
        Maps a pmf of shape ``sizes`` to a dict of atom values (bits), including ``"mutual_information"``.
    n_shuffles : int, default 20
    seed, n_jobs, progress
        Seeded, parallel through :func:`interpret.parallel.seeded_map`.

    Returns
    -------
    dict of str -> numpy.ndarray, shape (n_shuffles,)

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.pid.estimation import entropy_bits as H
    >>> def mi(pmf):                                  # one "atom": I(source; target) of a 2-D pmf
    ...     return {"mutual_information": H(pmf.sum(1)) + H(pmf.sum(0)) - H(pmf)}
    >>> rng = np.random.default_rng(0)
    >>> s = rng.integers(0, 4, 300)
    >>> t = (s + rng.integers(0, 2, 300)) % 4              # target depends on the source
    >>> null = shuffle_null([s, t], [4, 4], mi, n_shuffles=30, seed=0, progress=False)
    >>> observed = mi(joint_pmf([s, t], [4, 4]))["mutual_information"]
    >>> null["mutual_information"].shape, bool(observed > null["mutual_information"].max())
    ((30,), True)
    """
    draws = seeded_map(_ShuffleTask(codes, sizes, atoms), range(n_shuffles), seed=seed, n_jobs=n_jobs,
                       progress=progress, desc="shuffle null")
    return _stack(draws)


def bootstrap(
    codes: Sequence[np.ndarray], sizes: Sequence[int], atoms: AtomFunc, *, n_boot: int = 100,
    seed: int | np.random.Generator | None = None, n_jobs: int | None = None, progress: bool | None = None,
) -> dict[str, np.ndarray]:
    """Bootstrap distribution (rows resampled with replacement) of every atom; arguments as :func:`shuffle_null`.

    Returns
    -------
    dict of str -> numpy.ndarray, shape (n_boot,)

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.pid.estimation import entropy_bits as H
    >>> def mi(pmf):                                  # one "atom": I(source; target) of a 2-D pmf
    ...     return {"mutual_information": H(pmf.sum(1)) + H(pmf.sum(0)) - H(pmf)}
    >>> rng = np.random.default_rng(0)
    >>> s = rng.integers(0, 4, 300)
    >>> t = (s + rng.integers(0, 2, 300)) % 4
    >>> boot = bootstrap([s, t], [4, 4], mi, n_boot=50, seed=0, progress=False)
    >>> lo, hi = np.quantile(boot["mutual_information"], [0.05, 0.95])
    >>> boot["mutual_information"].shape, bool(lo < 1.0 < hi)                  # true I(s; t) = 1 bit
    ((50,), True)
    """
    draws = seeded_map(_BootstrapTask(codes, sizes, atoms), range(n_boot), seed=seed, n_jobs=n_jobs,
                       progress=progress, desc="bootstrap")
    return _stack(draws)
