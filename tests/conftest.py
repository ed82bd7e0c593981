"""Shared fixtures: tiny run configs composed from conf/ exactly as the CLI does."""

import pytest
import torch
from omegaconf import DictConfig
from support import TINY, compose_config


@pytest.fixture
def tiny_cfg(tmp_path):
    """A factory for tiny, fast run configs writing into tmp_path."""

    def make(*overrides: str, name: str = "run") -> DictConfig:
        return compose_config([*TINY, *overrides], tmp_path / name)

    return make


@pytest.fixture(autouse=True)
def _torch_threads():
    torch.set_num_threads(2)
