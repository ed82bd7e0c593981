"""Every YAML in conf/ composes with the defaults and builds its component."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf
from support import compose_config

from deepal_bench.cli.run import CONF_DIR
from deepal_bench.results.identity import run_path
from deepal_bench.run.budget import Budget
from deepal_bench.selection import build_selection
from deepal_bench.strategies import build_strategy
from deepal_bench.training.estimators import build_estimator
from deepal_bench.training.trainer import TrainerConfig

GROUPS = [
    "dataset",
    "model",
    "strategy",
    "estimator",
    "selection",
    "budget",
    "trainer",
    "experiment",
]
OPTIONS = [(g, p.stem) for g in GROUPS for p in sorted((CONF_DIR / g).glob("*.yaml"))]


def test_every_group_exists_and_has_options():
    assert {g for g, _ in OPTIONS} == set(GROUPS)


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}/{o}" for g, o in OPTIONS])
def test_option_composes_with_the_defaults(group, option):
    cfg = compose_config([f"{group}={option}"], Path("/tmp/unused"))
    container = OmegaConf.to_container(cfg, resolve=False)
    for key in ("trials", "seed", "device", "output_dir"):
        assert key in container
    build_strategy(cfg.strategy)
    build_selection(cfg.selection)
    build_estimator(cfg.estimator)
    TrainerConfig(**OmegaConf.to_container(cfg.trainer, resolve=True))
    Budget(**OmegaConf.to_container(cfg.budget, resolve=True))


def test_default_output_dir_is_derived_from_choices_seed_and_config():
    cfg = compose_config(["strategy=badge", "seed=3"])
    choices = {
        "dataset": "digits",
        "model": "auto",
        "strategy": "badge",
        "estimator": "imle",
        "selection": "topk",
        "budget": "digits",
    }
    path = run_path(cfg, choices)
    assert path.startswith("digits/auto/badge/imle-topk/digits/seed3-")
    other = compose_config(["strategy=badge", "seed=3", "trainer.lr=0.01"])
    assert run_path(other, choices) != path
    more_trials = compose_config(["strategy=badge", "seed=3", "trials=7"])
    assert run_path(more_trials, choices) == path
