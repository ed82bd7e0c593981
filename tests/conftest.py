"""Shared fixtures: compose configs from conf/ exactly as the CLI does."""

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

from deepal_bench.cli import CONF_DIR

TINY = [
    "dataset=wine",
    "trials=1",
    "budget.initial=10",
    "budget.batch=10",
    "budget.quota=20",
    "trainer.epochs=2",
    "progress=false",
]


def compose_config(overrides: list[str] = (), output_dir: Path | None = None) -> DictConfig:
    """The composed job config for `overrides` (no Hydra runtime), output_dir filled in."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    with open_dict(cfg):
        cfg.output_dir = str(output_dir) if output_dir is not None else None
    return cfg


@pytest.fixture
def tiny_cfg(tmp_path):
    """A factory for tiny, fast run configs writing into tmp_path."""

    def make(*overrides: str, name: str = "run") -> DictConfig:
        return compose_config([*TINY, *overrides], tmp_path / name)

    return make


@pytest.fixture(autouse=True)
def _torch_threads():
    torch.set_num_threads(2)
