"""Two-layer MLP for tabular (or flattened) inputs, with dropout before the head."""

import math

import torch
from torch import nn

from deepal_bench.models.base import ALModel


class MLP(ALModel):
    """input -> hidden -> ReLU -> hidden -> ReLU -> dropout -> head (two hidden layers)."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        hidden: int = 256,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(input_shape), hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.head = nn.Linear(hidden, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def mc_trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.body[:-1](x)

    def mc_tail(self, h: torch.Tensor) -> torch.Tensor:
        return self.head(self.body[-1](h))

    def feature_taps(self) -> list[nn.Module]:
        """The activations of both hidden layers."""
        return [self.body[2], self.body[4]]
