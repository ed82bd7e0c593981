"""A strategy's acquisition as a differentiable function of the model (the DMLE seam).

DMLE (Kalkanlı et al., eq. 11) re-evaluates the probability of every past selection under
the current parameters, so it needs the acquisition a(x, D, θ) as a function it can
differentiate. A strategy that can provide it returns a `DifferentiableScore` from
`Strategy.differentiable_score()`; the estimators take that typed capability, never the
strategy object or its name.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import torch


class ScoreInput(Enum):
    """What the score function is applied to."""

    PROBS = "probs"  # eval-mode softmax, N x C
    MC_PROBS = "mc_probs"  # `mc_passes` MC-dropout softmax passes, passes x N x C
    CORESET = "coreset"  # distance of φ(x, θ) to the nearest labeled point (DMLE eq. 4)


@dataclass(frozen=True)
class DifferentiableScore:
    """`function(outputs) -> scores` (higher = more informative) on `source` outputs.

    `name` is the strategy's registry name (recorded with each selection); `function` is
    None for CORESET, whose score the estimator computes from embeddings itself.
    """

    name: str
    source: ScoreInput
    function: Callable[[torch.Tensor], torch.Tensor] | None = None
    mc_passes: int = 0
