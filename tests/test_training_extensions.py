"""Trainer extensions (training/extensions.py): chaining."""

import torch

from deepal_bench.training.extensions import ChainExtension, TrainerExtension


def test_chain_extension_concatenates_data_and_sums_losses():
    class Fixed(TrainerExtension):
        def __init__(self, value: float) -> None:
            self.value = value

        def extra_data(self, context):
            return torch.full((1, 2), self.value), torch.tensor([int(self.value)])

        def loss(self, step):
            return torch.tensor(self.value)

    chained = ChainExtension([Fixed(1.0), Fixed(2.0)])
    x, y = chained.extra_data(None)
    assert x.tolist() == [[1.0, 1.0], [2.0, 2.0]] and y.tolist() == [1, 2]
    assert chained.loss(None).item() == 3.0
