"""The selection seam: turn per-point scores into a batch, and report its log-probability.

Score-based strategies produce one score per candidate; a `Selection` picks the batch.
`topk` is deterministic (log-probabilities are NaN). The stochastic selections of Kirsch et
al. (2021) (DMLE paper §3.2 Table 1, eq. 6, App. A) sample the batch without replacement by
Gumbel-perturbed top-k of a log-weight w(x) with coldness `beta`:

- `softmax`:  P(x) ∝ exp(β·a(x))      w = β·a
- `power`:    P(x) ∝ a(x)^β           w = β·ln a   (scores must be non-negative)
- `softrank`: P(x) ∝ r(x)^(−β)        w = −β·ln r  (r = 1-based descending rank)

and return, per chosen point in draw order, ln P(x_i | x_1..x_{i−1}) of the sequential draw.
Batch-aware strategies select directly and only accept `topk` (meaning "no re-sampling").
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from omegaconf import DictConfig

from deepal_bench.errors import ConfigError
from deepal_bench.kernels.gumbel import descending_ranks, gumbel_topk, sequential_log_probs
from deepal_bench.kernels.numeric import EPS
from deepal_bench.registry import Registry
from deepal_bench.typed import PositiveFloat


@dataclass
class Selected:
    """Chosen positions (into the scored candidates) and their log-probabilities."""

    positions: torch.Tensor
    log_probs: torch.Tensor


@dataclass
class SelectionRecord:
    """One round's selection, kept in the run state so later rounds can re-evaluate it.

    `indices` are dataset indices; `kind`/`beta` name the selection distribution (a
    `selection.name` and its coldness), `score` names the strategy's score function,
    `log_probs` the log-probabilities under the parameters at selection time (NaN for
    deterministic selections).
    """

    round: int
    indices: torch.Tensor
    kind: str
    beta: float
    score: str | None
    log_probs: torch.Tensor


class Selection:
    """Turns scores into a batch. `name` is set by the registry; `stochastic` selections
    sample and report log-probabilities, the others are deterministic."""

    name = "base"
    beta = float("inf")
    stochastic = False

    def select(self, scores: torch.Tensor, n: int, generator: torch.Generator) -> Selected:
        raise NotImplementedError


SELECTIONS: Registry[Callable[..., Selection]] = Registry("selection.name")


@SELECTIONS.register("topk")
class TopK(Selection):
    """The n highest scores. Ties are broken by a random permutation drawn from the round's
    generator (reproducible, never by pool position: when every score ties, as entropy does
    for a model that is certain everywhere, the batch is a seeded random sample)."""

    def select(self, scores: torch.Tensor, n: int, generator: torch.Generator) -> Selected:
        n = min(n, len(scores))
        shuffle = torch.randperm(len(scores), generator=generator).to(scores.device)
        order = torch.sort(scores.float()[shuffle], descending=True, stable=True).indices[:n]
        return Selected(shuffle[order], torch.full((n,), float("nan")))


class StochasticSelection(Selection):
    """Gumbel top-k sampling without replacement from P(x) ∝ exp(log_weights(scores))."""

    stochastic = True

    def __init__(self, beta: PositiveFloat = 1.0) -> None:
        self.beta = float(beta)

    def log_weights(self, scores: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def select(self, scores: torch.Tensor, n: int, generator: torch.Generator) -> Selected:
        w = self.log_weights(scores.double())
        positions = gumbel_topk(w, n, generator)
        return Selected(positions, sequential_log_probs(w, positions).float())


@SELECTIONS.register("softmax")
class Softmax(StochasticSelection):
    """Stochastic softmax sampling, P(x) ∝ exp(β·a(x)) (DMLE Table 1; Kirsch et al. 2021)."""

    def log_weights(self, scores: torch.Tensor) -> torch.Tensor:
        return self.beta * scores


@SELECTIONS.register("power")
class Power(StochasticSelection):
    """Stochastic power sampling, P(x) ∝ a(x)^β (DMLE Table 1); zero scores get weight EPS^β."""

    def select(self, scores: torch.Tensor, n: int, generator: torch.Generator) -> Selected:
        if bool((scores < 0).any()):
            raise ConfigError(
                "selection=power needs non-negative scores (P(x) ∝ a(x)^beta), but the "
                f"strategy produced scores down to {float(scores.min()):.4g}; use "
                "selection=softmax or softrank with this strategy (e.g. margin)."
            )
        return super().select(scores, n, generator)

    def log_weights(self, scores: torch.Tensor) -> torch.Tensor:
        return self.beta * torch.log(scores.clamp_min(EPS))


@SELECTIONS.register("softrank")
class SoftRank(StochasticSelection):
    """Stochastic soft-rank sampling, P(x) ∝ r(x)^(−β), r the descending rank (DMLE Table 1)."""

    def log_weights(self, scores: torch.Tensor) -> torch.Tensor:
        return self.rank_log_weights(descending_ranks(scores).to(scores.dtype))

    def rank_log_weights(self, ranks: torch.Tensor) -> torch.Tensor:
        """−β·ln r for (hard or smooth) ranks r >= 1."""
        return -self.beta * torch.log(ranks)


def build_selection(cfg: DictConfig | dict) -> Selection:
    return SELECTIONS.build(cfg)
