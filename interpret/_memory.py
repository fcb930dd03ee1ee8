"""Batch sizes that fit in memory: probe one forward(+backward) pass, then scale to a memory budget.

On CUDA the probe is measured: two passes of ``k`` and ``2k`` rows give the fixed and the per-row cost from
:func:`torch.cuda.max_memory_allocated`, and the budget defaults to 80 % of the free device memory. On the CPU
the per-row cost is estimated from the sizes of every layer's activations (forward hooks; the backward pass
holds roughly one gradient per saved activation) and the budget defaults to a quarter of the available RAM,
at most 2 GiB (larger batches do not run faster on CPU).

Examples
--------
>>> import numpy as np, torch
>>> from interpret._memory import auto_batch_size
>>> net = torch.nn.Sequential(torch.nn.Linear(100, 1000), torch.nn.ReLU(), torch.nn.Linear(1000, 1))
>>> auto_batch_size(net, np.zeros((4, 100), np.float32), budget_bytes=2**20)   # 1 MiB
62
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from .exceptions import ValidationError

__all__ = ["auto_batch_size", "available_memory", "activation_bytes_per_row", "cpu_pass_rows", "CPU_PASS_BYTES",
           "WORKING_SET_BYTES"]

log = logging.getLogger(__name__)

_CPU_BUDGET_CAP = 2 * 2**30
_PROBE_ROWS = 8
_SCRIPT_FACTOR = 16     # per-row bytes = this x input bytes when activations cannot be hooked (TorchScript)
#: Working set [bytes] of one CPU forward+backward pass that the attribution engines aim for. Larger passes spill
#: the activations out of the caches and run slower per row (a 5x32x32 CNN's IG runs about 3x faster per row in
#: cache-sized passes than in passes of thousands of rows; benchmarks/RESULTS.md).
CPU_PASS_BYTES = 64 * 2**20
#: Default cap [bytes] on what an attribution holds besides its inputs and outputs (passes + chunk buffers):
#: peak memory stays within inputs + outputs + this at any number of galaxies (issue 21).
WORKING_SET_BYTES = 2**30


def available_memory(device: torch.device | str = "cpu") -> int:
    """Bytes that can still be allocated on ``device`` (free device memory on CUDA, available RAM on CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil comes with dask; sysconf is the Linux fallback
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def _as_tensors(sample: Any, device: torch.device, dtype: torch.dtype, k: int) -> tuple[torch.Tensor, ...]:
    arrays = sample if isinstance(sample, (tuple, list)) else (sample,)
    out = []
    for a in arrays:
        t = torch.as_tensor(a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.array(a))  # copy: may be read-only
        t = t[:k] if len(t) >= k else t[torch.arange(k) % len(t)]     # repeat rows up to k
        out.append(t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype))
    return tuple(out)


def _pass(forward: Callable, xs: tuple[torch.Tensor, ...], backward: bool) -> None:
    if not backward:
        with torch.no_grad():
            forward(*xs)
        return
    xs = tuple(x.clone().requires_grad_(True) if x.is_floating_point() else x for x in xs)
    with torch.enable_grad():
        out = forward(*xs)
        out = out[0] if isinstance(out, (tuple, list)) else out
        out = torch.stack([v.float().sum() for v in out.values()]).sum() if isinstance(out, dict) else out
        torch.autograd.grad(out.float().sum(), [x for x in xs if x.requires_grad], allow_unused=True)


def _tensor_bytes(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_tensor_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_tensor_bytes(v) for v in value.values())
    return 0


def activation_bytes_per_row(module: torch.nn.Module, xs: Sequence[torch.Tensor], *, backward: bool = True
                             ) -> float:
    """Estimated bytes per input row of one pass on the CPU, from the outputs of every leaf layer."""
    k = int(xs[0].shape[0])
    in_bytes = sum(_tensor_bytes(x) for x in xs) / k
    sizes: list[int] = []
    handles = []
    try:
        for m in module.modules():
            if not list(m.children()):
                handles.append(m.register_forward_hook(lambda _m, _i, o: sizes.append(_tensor_bytes(o))))
    except (RuntimeError, AttributeError):    # TorchScript modules take no Python hooks
        for h in handles:
            h.remove()
        return _SCRIPT_FACTOR * in_bytes
    try:
        _pass(module, tuple(xs), backward)
    finally:
        for h in handles:
            h.remove()
    if not sizes:
        return _SCRIPT_FACTOR * in_bytes
    if backward:   # activations kept for backward + one gradient of each, + the input and its gradient
        return 2.0 * (sum(sizes) / k + in_bytes)
    return in_bytes + 2.0 * max(sizes) / k   # no_grad: about one layer's input and output alive at a time


def cpu_pass_rows(module: Callable, sample: Any, target_bytes: int = CPU_PASS_BYTES) -> int:
    """Rows of one CPU forward+backward pass whose working set is about ``target_bytes`` (cache-friendly).

    Parameters
    ----------
    module : torch.nn.Module or callable
        The differentiable model; a plain callable is sized from its input bytes (``16 x`` per row).
    sample : ndarray, tensor, or tuple of them
        A few input rows (one array per input).
    target_bytes : int, default :data:`CPU_PASS_BYTES`

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> import numpy as np, torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(1000, 256), torch.nn.ReLU(), torch.nn.Linear(256, 1))
    >>> 1000 < cpu_pass_rows(net, np.zeros((4, 1000), np.float32)) < 10000
    True
    """
    params = list(module.parameters()) if isinstance(module, torch.nn.Module) else []
    dtype = next((p.dtype for p in params if p.is_floating_point()), torch.float32)
    xs = _as_tensors(sample, torch.device("cpu"), dtype, _PROBE_ROWS)
    if isinstance(module, torch.nn.Module) and all(p.device.type == "cpu" for p in params):
        per_row = activation_bytes_per_row(module, xs, backward=True)
    else:
        per_row = _SCRIPT_FACTOR * sum(_tensor_bytes(x) for x in xs) / _PROBE_ROWS
    return max(1, int(target_bytes // max(per_row, 1.0)))


def _cuda_per_row(forward: Callable, sample: Any, device: torch.device, dtype: torch.dtype,
                  backward: bool) -> tuple[float, float]:
    """(fixed bytes, bytes per row) measured from two passes of k and 2k rows."""
    peaks = []
    for k in (_PROBE_ROWS, 2 * _PROBE_ROWS):
        xs = _as_tensors(sample, device, dtype, k)
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        _pass(forward, xs, backward)
        torch.cuda.synchronize(device)
        peaks.append(torch.cuda.max_memory_allocated(device) - base)
        del xs
    per_row = max(peaks[1] - peaks[0], 1) / _PROBE_ROWS
    return max(peaks[0] - _PROBE_ROWS * per_row, 0.0), per_row


def auto_batch_size(module: Callable, sample: Any, device: torch.device | str | None = None,
                    budget_bytes: int | None = None, *, backward: bool = True, rows_per_item: int = 1,
                    max_rows: int = 65536) -> int:
    """Largest batch of galaxies whose forward(+backward) pass fits in ``budget_bytes``.

    Parameters
    ----------
    module : torch.nn.Module or callable
        ``module(*tensors) -> tensor``; hooks on its layers estimate CPU memory (a plain callable on the CPU
        falls back to ``16 x`` the input bytes per row).
    sample : ndarray, tensor, or tuple of them
        A few input rows (one array per input), shape (k, ...); rows are repeated when fewer than needed.
    device : str or torch.device, optional
        Where the pass runs (default: the module's device, else CPU).
    budget_bytes : int, optional
        Memory the pass may use; default 80 % of free CUDA memory, or min(available RAM / 4, 2 GiB) on CPU.
    backward : bool, default True
        Include the backward pass with respect to the inputs (attribution); False for prediction.
    rows_per_item : int, default 1
        Rows one galaxy expands to (``n_steps`` for Integrated Gradients): the result is in galaxies.
    max_rows : int, default 65536
        Upper bound on the returned rows x ``rows_per_item``.

    Returns
    -------
    int
        Galaxies per batch, at least 1.
    """
    params = list(module.parameters()) if isinstance(module, torch.nn.Module) else []
    device = torch.device(device if device is not None else (params[0].device if params else "cpu"))
    dtype = next((p.dtype for p in params if p.is_floating_point()), torch.float32)
    if budget_bytes is not None and int(budget_bytes) <= 0:
        raise ValidationError(f"auto_batch_size(): 'budget_bytes' must be positive; got {budget_bytes}")
    if device.type == "cuda":
        budget = int(0.8 * available_memory(device)) if budget_bytes is None else int(budget_bytes)
        fixed, per_row = _cuda_per_row(module, sample, device, dtype, backward)
    else:
        budget = (min(available_memory() // 4, _CPU_BUDGET_CAP) if budget_bytes is None else int(budget_bytes))
        xs = _as_tensors(sample, device, dtype, _PROBE_ROWS)
        if isinstance(module, torch.nn.Module):
            per_row = activation_bytes_per_row(module, xs, backward=backward)
        else:
            per_row = _SCRIPT_FACTOR * sum(_tensor_bytes(x) for x in xs) / _PROBE_ROWS
        fixed = 0.0
    rows = int(max(budget - fixed, 0) // max(per_row, 1.0))
    galaxies = max(1, min(rows, int(max_rows)) // max(int(rows_per_item), 1))
    log.info("auto_batch_size: %.0f bytes/row (+%.0f fixed), budget %d bytes on %s -> %d galaxies",
             per_row, fixed, budget, device, galaxies)
    return galaxies
