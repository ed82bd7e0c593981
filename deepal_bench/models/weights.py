"""Offline loading of pretrained torchvision weights from $TORCH_HOME/hub/checkpoints."""

import os
from pathlib import Path

import torch
from torch import nn
from torchvision.models import WeightsEnum

from deepal_bench.errors import ConfigError


def checkpoint_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def load_pretrained(net: nn.Module, weights: WeightsEnum) -> None:
    """Load `weights` into `net` from the local hub cache; never download.

    Raises a ConfigError naming the expected file and where it comes from when absent.
    """
    file_name = os.path.basename(weights.url)
    path = checkpoint_dir() / file_name
    if not path.is_file():
        raise ConfigError(
            f"Pretrained weights not found: expected {path}. Download {weights.url} on a "
            f"machine with network access and copy it there (the folder is "
            f"$TORCH_HOME/hub/checkpoints, TORCH_HOME defaults to ~/.cache/torch), or set "
            f"model.pretrained=false."
        )
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
