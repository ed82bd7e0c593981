"""ALFA-Mix adapter: the candidate set grows before any random top-up."""

import torch

from deepal_bench.strategies import build_strategy

W = torch.tensor([[1.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]])


class _Context:
    """The QueryContext surface ALFA-Mix reads, on hand-made tensors."""

    def __init__(self, emb: torch.Tensor) -> None:
        self._emb = emb
        self.generator = torch.Generator().manual_seed(0)

    def embeddings(self) -> torch.Tensor:
        return self._emb

    def probs(self) -> torch.Tensor:
        return torch.softmax(self._emb @ W.T, 1)

    def labeled_embeddings(self) -> torch.Tensor:
        return torch.tensor([[1.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]])

    def labeled_labels(self) -> torch.Tensor:
        return torch.tensor([0, 1])

    def head(self) -> tuple[torch.Tensor, torch.Tensor]:
        return W, torch.zeros(2)


def test_alfamix_queries_candidates_found_at_a_larger_eps_before_random_points():
    # Closed form in D = 4: z_1 flips once eps > 2 z_1 / (1 + z_1). Only z_1 = 0.05 flips at
    # eps = 0.2 and 0.4; at 0.6 also 0.3, 0.35 and 0.4 do: 4 > n = 2 candidates. The 30
    # points at z_1 >= 3 never flip and must not be queried.
    first = torch.tensor([0.05, 0.3, 0.35, 0.4] + torch.linspace(3, 6, 30).tolist())
    emb = torch.zeros(len(first), 4)
    emb[:, 0] = first
    emb[:, 1] = torch.linspace(0.0, 0.5, len(first))  # distinct directions for k-means
    chosen = build_strategy({"name": "alfamix"}).select(_Context(emb), 2).tolist()
    assert len(set(chosen)) == 2
    assert set(chosen) <= {0, 1, 2, 3}
