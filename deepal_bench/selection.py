"""The selection seam: turn per-point scores into a batch, and report its log-probability.

Score-based strategies produce one score per candidate; a `Selection` picks the batch.
`topk` is deterministic (log-probabilities are NaN). Stochastic selections (softmax, power,
soft-rank sampling, DMLE paper §3 / Kirsch et al. 2021) plug in here by registering a class.
Batch-aware strategies select directly and only accept `topk` (meaning "no re-sampling").
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from omegaconf import DictConfig, OmegaConf

from deepal_bench.errors import ConfigError
from deepal_bench.registry import Registry


@dataclass
class Selected:
    """Chosen positions (into the scored candidates) and their log-probabilities."""

    positions: torch.Tensor
    log_probs: torch.Tensor


class Selection:
    kind = "base"
    beta = float("inf")

    def select(self, scores: torch.Tensor, n: int, generator: torch.Generator) -> Selected:
        raise NotImplementedError


SELECTIONS: Registry[Callable[..., Selection]] = Registry("selection.name")


@SELECTIONS.register("topk")
class TopK(Selection):
    """The n highest scores; ties broken by the lower position (stable, deterministic)."""

    kind = "topk"

    def select(self, scores: torch.Tensor, n: int, generator: torch.Generator) -> Selected:
        n = min(n, len(scores))
        order = torch.sort(scores.float(), descending=True, stable=True).indices[:n]
        return Selected(order, torch.full((n,), float("nan")))


def build_selection(cfg: DictConfig | dict) -> Selection:
    options = (
        OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    )
    name = options.pop("name")
    try:
        return SELECTIONS.get(name)(**options)
    except TypeError as err:
        raise ConfigError(f"selection '{name}' got an unexpected option: {err}") from err
