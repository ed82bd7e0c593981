"""Every registered strategy runs end to end (query -> label -> train -> evaluate) on the
bundled digits data through the real loop, and writes a batch of the asked size per round.

Training-coupled strategies run with small auxiliary networks here; their paper widths and
epochs are exercised by scripts/bench_query.py, not by tests."""

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from strategy_fixtures import STRATEGY_CONF

import deepal_bench.cli.run  # noqa: F401  (registers the config resolvers)
from deepal_bench.run.loop import run
from deepal_bench.strategies import STRATEGIES

# Small auxiliary networks (VAAL's paper VAE, width 128 x 30 epochs, took 347 s per round on
# one 2-core machine).
SMALL = {"vaal": ["strategy.width=8", "strategy.z_dim=4", "strategy.epochs=2"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", STRATEGIES.names())
def test_strategy_runs_end_to_end_on_digits(name, tmp_path):
    overrides = [
        f"strategy={name}",
        "device=cpu",
        "trials=1",
        "budget.quota=20",
        "budget.batch=10",
        "trainer.epochs=2",
        "progress=false",
        *SMALL.get(name, []),
    ]
    with initialize_config_dir(str(STRATEGY_CONF.parent), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    run(cfg, tmp_path)
    queries = pd.read_csv(tmp_path / "queries.csv")
    per_round = queries.groupby("round")["pool_index"].agg(["count", "nunique"])
    assert per_round["count"].tolist() == [20, 10, 10]
    assert per_round["nunique"].tolist() == [20, 10, 10]
    assert queries["pool_index"].is_unique
    assert len(pd.read_csv(tmp_path / "rounds.csv")) == 3
