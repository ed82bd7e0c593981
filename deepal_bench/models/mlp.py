"""MLP for tabular (or flattened) inputs: `layers` hidden ReLU layers, dropout before the head."""

import math

import torch
from torch import nn

from deepal_bench.errors import ConfigError
from deepal_bench.models.base import ALModel, dropout_layer


class MLP(ALModel):
    """input -> [Linear(hidden) -> ReLU] x layers -> dropout -> head.

    `layers` counts hidden layers (default 2). One hidden layer is FALCUN's tabular MLP
    (§4: "a simple multi-layer-perceptron (MLP) with two layers as proposed in Ash et al.
    (2020) with a hidden dimensionality of 1024"; sobermeier/falcun
    config/backbone/linear.json: hidden [1024], no dropout), DeepAL+'s openml_Net (nets.py:
    256 units, no dropout) and DMLE's Iris network (neu-spiral/DMLEforAL model.py: Dense(64)
    -> ReLU -> softmax). `dropout` 0 builds no dropout layer.
    """

    family = "mlp"

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        hidden: int = 256,
        dropout: float = 0.5,
        layers: int = 2,
    ) -> None:
        super().__init__()
        if layers < 1:
            raise ConfigError(f"model.layers must be >= 1 (hidden layers), got {layers}.")
        widths = [math.prod(input_shape)] + [hidden] * layers
        blocks: list[nn.Module] = [nn.Flatten()]
        for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
            blocks += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        self.body = nn.Sequential(*blocks, dropout_layer(dropout))
        self.head = nn.Linear(hidden, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def mc_trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.body[:-1](x)

    def mc_tail(self, h: torch.Tensor) -> torch.Tensor:
        return self.head(self.body[-1](h))

    def feature_taps(self) -> list[nn.Module]:
        """The activation of every hidden layer."""
        return [m for m in self.body if isinstance(m, nn.ReLU)]
