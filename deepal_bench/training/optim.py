"""Optimiser and learning-rate schedule construction, shared by the trainer and the
auxiliary models of training-coupled strategies (WAAL's critic)."""

from collections.abc import Iterable

import torch

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("none", "cosine", "step")


def build_optimizer(
    kind: str,
    params: Iterable,
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
) -> torch.optim.Optimizer:
    """Adam (`momentum` unused) or SGD over `params` (tensors or parameter groups)."""
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    raise ValueError(f"unknown optimizer '{kind}' (choices: {', '.join(OPTIMIZERS)})")


def build_schedule(
    kind: str, opt: torch.optim.Optimizer, epochs: int, step_size: int, gamma: float
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Cosine annealing over `epochs`, step decay by `gamma` every `step_size`, or none."""
    if kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    if kind == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    return None
