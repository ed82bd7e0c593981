"""End to end: the Iris DMLE preset (shortened) through the loop, records and selections."""

import math

import pytest
from hydra import compose, initialize_config_dir

from deepal_bench.cli.run import CONF_DIR
from deepal_bench.run.loop import run
from deepal_bench.run.store import RunStore


def _cfg(tmp_path, *overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            "config",
            overrides=[
                "experiment=dmle/iris",
                "budget=dmle_k5",
                "budget.quota=10",
                "trials=1",
                "progress=false",
                f"output_dir={tmp_path}",
                *overrides,
            ],
        )


@pytest.mark.slow
def test_iris_preset_dmle_softrank_runs_and_records_selections(tmp_path):
    cfg = _cfg(tmp_path, "estimator=dmle", "selection=softrank")
    assert cfg.trials == 1 and cfg.budget.initial == 1 and cfg.budget.validation == 10
    assert cfg.trainer.init == "warm" and cfg.selection.beta == 1.0
    state = run(cfg, tmp_path)
    rounds = [r["n_labeled"] for r in state.rounds]
    assert rounds == [1, 6, 11]
    # the finished state keeps the selection history of the last trial
    assert [s.round for s in state.selections] == [1, 2]
    for record in state.selections:
        assert record.kind == "softrank" and record.score == "entropy" and record.beta == 1.0
        assert len(record.indices) == 5
        assert all(math.isfinite(v) and v < 0 for v in record.log_probs.tolist())
    assert RunStore(tmp_path).completed_trials() == 1


@pytest.mark.slow
def test_lure_with_topk_fails_at_start_up(tmp_path):
    from deepal_bench.errors import ConfigError

    with pytest.raises(ConfigError, match="lure"):
        run(_cfg(tmp_path, "estimator=lure", "selection=topk"), tmp_path)
