"""scripts/reference suites: every strategy's overrides compose into a valid run config of
our CLI with the suite's data, budget and trainer (so the suite cannot drift from conf/)."""

import sys
from pathlib import Path

import pytest
from support import compose_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepal_bench.run.settings import validate_config  # noqa: E402
from scripts.reference.suites import SUITES  # noqa: E402

# each suite's first strategy and every one with overrides of its own
CASES = [
    (suite, strategy)
    for suite in SUITES.values()
    for i, (strategy, (_, extra)) in enumerate(suite.strategies.items())
    if i == 0 or extra
]


@pytest.mark.parametrize(
    "suite, strategy", CASES, ids=[f"{s.name}-{k}" for s, k in CASES]
)  # fmt: skip
def test_overrides_compose_and_validate(suite, strategy, tmp_path):
    cfg = compose_config(suite.ours_overrides(strategy, "data.npz", 3), tmp_path)
    validate_config(cfg)
    b, t = suite.budget, suite.trainer
    assert (cfg.dataset.name, cfg.dataset.path, cfg.trials) == ("npz", "data.npz", 3)
    assert (cfg.budget.initial, cfg.budget.batch) == (b.initial, b.batch)
    assert cfg.budget.quota == b.batch * b.rounds
    assert (cfg.trainer.lr, cfg.trainer.epochs, cfg.trainer.batch_size) in {
        (t.lr, t.epochs, t.batch_size),
        (0.0001, t.epochs, t.batch_size),  # the DMLE runs at the authors' code's rate
    }
    assert cfg.strategy.name == (suite.fixed_strategy or cfg.strategy.name)


def test_dmle_keys_set_the_estimator():
    suite = SUITES["dmle-iris"]
    cfg = compose_config(suite.ours_overrides("dmle-lr1e-4", "x.npz", 2))
    assert (cfg.estimator.name, cfg.selection.name, cfg.strategy.name) == (
        "dmle",
        "softmax",
        "entropy",
    )
    assert cfg.trainer.lr == 0.0001 and cfg.trainer.init == "warm"


# the DeepAL+ presets' model settings that decide how a strategy scores the pool
SCORING_KEYS = ("dropout", "mc_sampling", "query_transform")


def test_the_image_suite_scores_the_pool_as_the_deepalplus_presets(tmp_path):
    preset = compose_config(["experiment=deepal_plus/cifar10"], tmp_path).model
    suite = SUITES["deepalplus-image"]
    ours = compose_config(suite.ours_overrides("bald", "data.npz", 2), tmp_path).model
    assert [ours.get(k) for k in SCORING_KEYS] == [preset.get(k) for k in SCORING_KEYS]
    assert ours.query_transform == "train"


def test_the_falcun_suite_runs_alfamix_as_the_falcun_presets(tmp_path):
    suite = SUITES["falcun-tabular"]
    ours = compose_config(suite.ours_overrides("alfamix_falcun", "data.npz", 2), tmp_path)
    preset = compose_config(["experiment=falcun/openml_6", "strategy=alfamix_falcun"], tmp_path)
    assert ours.strategy == preset.strategy
    assert (ours.strategy.alpha_mode, ours.strategy.alpha_cap) == ("random", 0.03125)
    assert suite.strategies["alfamix_falcun"][0] == suite.strategies["alfamix"][0]
