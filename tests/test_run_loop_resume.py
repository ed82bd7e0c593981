"""An interrupted run of a training-coupled strategy resumes with the same records: what the
query needs from training (LPL's module, WAAL's critic, VAAL's seed) is in the run state."""

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

import deepal_bench.cli.run as cli
from deepal_bench.run import loop
from deepal_bench.run.store import RunStore


def _cfg(strategy: str, out: str):
    with initialize_config_dir(config_dir=str(cli.CONF_DIR), version_base="1.3"):
        return compose(
            "config",
            overrides=[
                f"strategy={strategy}",
                "dataset=wine",
                "trials=1",
                "budget.initial=10",
                "budget.batch=5",
                "budget.quota=10",
                "trainer.epochs=3",
                "progress=false",
                "threads=1",
                f"output_dir={out}",
            ],
        )


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["lpl", "waal", "vaal"])
def test_interrupted_run_resumes_with_identical_records(strategy, tmp_path, monkeypatch):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    loop.run(_cfg(strategy, str(whole)), whole)
    save = RunStore.save
    calls = []

    def save_then_crash(self, state):
        save(self, state)
        calls.append(1)
        if len(calls) == 2:  # rounds 0 and 1 are on disk, round 2 is not
            raise KeyboardInterrupt

    monkeypatch.setattr(RunStore, "save", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        loop.run(_cfg(strategy, str(broken)), broken)
    monkeypatch.setattr(RunStore, "save", save)
    loop.run(_cfg(strategy, str(broken)), broken)
    for name in ("queries.csv", "rounds.csv"):
        a, b = pd.read_csv(whole / name), pd.read_csv(broken / name)
        columns = [c for c in a.columns if not c.endswith("_seconds")]
        pd.testing.assert_frame_equal(a[columns], b[columns])
