"""The in-memory dataset every loader produces: normalised tensors plus metadata."""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass
class ALData:
    """Train pool, test set and optional validation set as tensors.

    `x_*` are already normalised (the evaluation transform); `augment`, when set, is the
    batched training augmentation: the trainer applies it to every training batch, and the
    query context to the pool's inputs under `model.query_transform: train`.
    Indices in records are positions in `x_train` (dataset indices of the training pool).
    `mean`/`std` are the per-channel (or per-feature) statistics the tensors were
    normalised with (None when not normalised); `mismatch_groups` names the test groups
    whose label and spurious attribute disagree (DeepAL+ Table 8). `meta` holds loader
    provenance (class names, source file, ...) that no other layer depends on.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None
    groups_test: torch.Tensor | None = None
    group_names: list[str] | None = None
    augment: Augment | None = None
    mean: list[float] | None = None
    std: list[float] | None = None
    mismatch_groups: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input: (C, H, W) for images, (D,) for tabular data."""
        return tuple(self.x_train.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.x_train.dim() == 4

    def __len__(self) -> int:
        return len(self.y_train)

    def to(self, device: torch.device) -> "ALData":
        """Move every tensor to `device` (the data stays resident there for the whole run)."""
        moved = {
            key: (value.to(device) if isinstance(value, torch.Tensor) else value)
            for key, value in self.__dict__.items()
        }
        return ALData(**moved)
