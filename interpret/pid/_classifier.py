"""One cross-fitted probabilistic classifier: train a small torch MLP on a training split, score held-out rows.

Used by :func:`interpret.pid.neural.pointwise_decompose`. Inputs are standardised with training-split
statistics; 15 % of the training split (stratified-free random draw) is held back for early stopping, and the
weights of the best validation epoch are kept. Randomness (initialisation, splits, batch order) comes from the
generator passed in; the global torch RNG is left as it was, and so is torch's thread count (training runs
with ``TrainConfig.threads`` intra-op threads, default 1: tiny networks gain nothing from more, and parallel
trainings come from ``n_jobs``).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["TrainConfig", "fit_and_score"]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Network and optimiser settings (see :func:`interpret.pid.pointwise_decompose`)."""

    hidden: tuple[int, ...] = (64, 64)
    epochs: int = 50
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.15
    patience: int = 5
    device: str = "cpu"
    threads: int = 1


def _mlp(d_in: int, hidden: Sequence[int], n_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(d_in, h), nn.ReLU()]
        d_in = h
    layers.append(nn.Linear(d_in, n_out))
    return nn.Sequential(*layers)


def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(x), y))


def _train(x: torch.Tensor, y: torch.Tensor, n_classes: int, cfg: TrainConfig,
           rng: np.random.Generator) -> tuple[nn.Module, dict]:
    """Adam with early stopping on a random validation slice; returns the best-epoch model."""
    perm = rng.permutation(len(x))
    n_val = max(1, int(round(cfg.val_fraction * len(x))))
    val, fit = perm[:n_val], perm[n_val:]
    with torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
        torch.manual_seed(int(rng.integers(2**62)))
        model = _mlp(x.shape[1], cfg.hidden, n_classes).to(x.device)
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    best, best_state, since, epochs_run = np.inf, None, 0, 0
    fit_t = torch.as_tensor(fit, device=x.device)
    for epoch in range(1, cfg.epochs + 1):
        epochs_run = epoch
        order = fit_t[torch.randperm(len(fit), generator=gen).to(x.device)]
        for start in range(0, len(order), cfg.batch_size):
            rows = order[start:start + cfg.batch_size]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[rows]), y[rows]).backward()
            opt.step()
        current = _loss(model, x[val], y[val])
        if current < best - 1e-5:
            best, since = current, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            since += 1
            if since >= cfg.patience:
                break
    model.load_state_dict(best_state)
    return model.eval(), {"epochs": epochs_run, "val_loss_nats": best}


def fit_and_score(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                  n_classes: int, cfg: TrainConfig, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Pointwise information log2 q(y|x) − log2 prior(y) of the test rows (bits) and training diagnostics.

    The prior is the class frequency of the training split (all of it, validation slice included).
    """
    old_threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)   # small MLPs: one thread is fastest; parallelism comes from n_jobs
    try:
        return _fit_and_score(x_train, y_train, x_test, y_test, n_classes, cfg, rng)
    finally:
        torch.set_num_threads(old_threads)


def _fit_and_score(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                   n_classes: int, cfg: TrainConfig, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    mean, sd = x_train.mean(axis=0), x_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    dev = torch.device(cfg.device)
    xt = torch.as_tensor((x_train - mean) / sd, dtype=torch.float32, device=dev)
    yt = torch.as_tensor(y_train, dtype=torch.long, device=dev)
    model, info = _train(xt, yt, n_classes, cfg, rng)
    xs = torch.as_tensor((x_test - mean) / sd, dtype=torch.float32, device=dev)
    with torch.no_grad():
        logq = torch.log_softmax(model(xs).double(), dim=1).cpu().numpy()
    prior = np.bincount(y_train, minlength=n_classes) / len(y_train)
    pmi = (logq[np.arange(len(y_test)), y_test] - np.log(prior[y_test])) / np.log(2.0)
    return pmi, info
