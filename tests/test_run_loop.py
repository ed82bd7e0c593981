"""The loop: records format, determinism, resume after an interruption, skip when done."""

from pathlib import Path

import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from deepal_bench.results import schema
from deepal_bench.run import loop
from deepal_bench.run.placement import ALONE, configure_torch
from deepal_bench.training.trainer import Trainer

TIMES = ["train_seconds", "query_seconds", "eval_seconds"]


def _records(path):
    rounds = pd.read_csv(path / schema.ROUNDS_FILE)
    queries = pd.read_csv(path / schema.QUERIES_FILE)
    summary = pd.read_csv(path / schema.SUMMARY_FILE)
    return rounds, queries, summary


def test_records_follow_the_design_format(tiny_cfg):
    cfg = tiny_cfg("strategy=entropy", "trials=2")
    loop.run(cfg, cfg.output_dir)
    out = Path(cfg.output_dir)
    rounds, queries, summary = _records(out)
    assert list(rounds.columns) == schema.ROUNDS_COLUMNS
    assert list(queries.columns) == schema.QUERIES_COLUMNS
    assert list(summary.columns) == schema.SUMMARY_COLUMNS
    assert rounds.groupby("trial")["n_labeled"].apply(list).tolist() == [[10, 20, 30]] * 2
    assert rounds["seed"].tolist() == [0, 0, 0, 1, 1, 1]
    # round 0 = initial set; queried points are distinct dataset indices within a trial
    assert queries.groupby(["trial", "round"]).size().tolist() == [10] * 6
    assert not queries.duplicated(["trial", "pool_index"]).any()
    assert (out / schema.DONE_FILE).exists() and (out / schema.CONFIG_FILE).exists()
    assert (rounds.query("round == 0")["query_seconds"] == 0).all()


def test_same_seed_same_queries_and_accuracies(tiny_cfg):
    a, b = tiny_cfg("strategy=badge", name="a"), tiny_cfg("strategy=badge", name="b")
    loop.run(a, a.output_dir)
    loop.run(b, b.output_dir)
    ra, qa, _ = _records(Path(a.output_dir))
    rb, qb, _ = _records(Path(b.output_dir))
    pd.testing.assert_frame_equal(qa, qb)
    pd.testing.assert_frame_equal(ra.drop(columns=TIMES), rb.drop(columns=TIMES))


def test_other_seed_other_initial_set(tiny_cfg):
    a, b = tiny_cfg("seed=0", name="a"), tiny_cfg("seed=1", name="b")
    loop.run(a, a.output_dir)
    loop.run(b, b.output_dir)
    qa = _records(Path(a.output_dir))[1]
    qb = _records(Path(b.output_dir))[1]
    assert set(qa.query("round == 0").pool_index) != set(qb.query("round == 0").pool_index)


@pytest.mark.parametrize("strategy", ["bald", "kcenter"])
def test_interrupted_run_resumes_to_identical_records(tiny_cfg, monkeypatch, strategy):
    reference = tiny_cfg(f"strategy={strategy}", "trials=2", name="reference")
    loop.run(reference, reference.output_dir)

    crashed = tiny_cfg(f"strategy={strategy}", "trials=2", name="crashed")
    calls = {"n": 0}
    real_fit = Trainer.fit

    def crash_on_fifth_fit(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # trial 1, round 1
            raise KeyboardInterrupt
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "fit", crash_on_fifth_fit)
    with pytest.raises(KeyboardInterrupt):
        loop.run(crashed, crashed.output_dir)
    path = Path(crashed.output_dir)
    assert not (path / schema.DONE_FILE).exists()
    assert len(pd.read_csv(path / schema.ROUNDS_FILE)) == 4
    monkeypatch.setattr(Trainer, "fit", real_fit)
    loop.run(crashed, crashed.output_dir)

    ref = _records(Path(reference.output_dir))
    got = _records(path)
    pd.testing.assert_frame_equal(ref[1], got[1])
    pd.testing.assert_frame_equal(ref[0].drop(columns=TIMES), got[0].drop(columns=TIMES))
    pd.testing.assert_frame_equal(
        ref[2].drop(columns="total_seconds"), got[2].drop(columns="total_seconds")
    )


def test_complete_run_is_not_recomputed_and_more_trials_extend_it(tiny_cfg, monkeypatch):
    cfg = tiny_cfg(name="run")
    loop.run(cfg, cfg.output_dir)
    path = Path(cfg.output_dir)
    before = pd.read_csv(path / schema.ROUNDS_FILE)

    def fail(*args, **kwargs):
        raise AssertionError("a complete run must not train again")

    monkeypatch.setattr(Trainer, "fit", fail)
    loop.run(cfg, cfg.output_dir)
    monkeypatch.undo()

    more = tiny_cfg("trials=2", name="run")
    loop.run(more, more.output_dir)
    after = pd.read_csv(path / schema.ROUNDS_FILE)
    pd.testing.assert_frame_equal(after.query("trial == 0").reset_index(drop=True), before)
    assert sorted(after.trial.unique()) == [0, 1]
    assert (path / schema.DONE_FILE).read_text().startswith("2 ")


def test_output_dir_of_another_config_is_refused(tiny_cfg):
    from deepal_bench.errors import ConfigError

    cfg = tiny_cfg(name="run")
    loop.run(cfg, cfg.output_dir)
    other = tiny_cfg("trainer.lr=0.1", name="run")
    with pytest.raises(ConfigError, match="trainer.lr"):
        loop.run(other, other.output_dir)


def test_last_batch_may_be_smaller(tiny_cfg):
    cfg = tiny_cfg("budget.quota=25", "strategy=margin")
    loop.run(cfg, cfg.output_dir)
    rounds, queries, summary = _records(Path(cfg.output_dir))
    assert rounds["n_labeled"].tolist() == [10, 20, 30, 35]
    from deepal_bench.metrics import aubc

    expected = aubc(rounds["n_labeled"], rounds["accuracy"])
    assert summary["aubc"].iloc[0] == pytest.approx(expected)


@pytest.mark.parametrize("deterministic", [True, False])
def test_cudnn_autotuner_only_when_not_deterministic(deterministic):
    cfg = OmegaConf.create({"threads": None, "deterministic": deterministic})
    before = (torch.backends.cudnn.benchmark, torch.are_deterministic_algorithms_enabled())
    try:
        configure_torch(cfg, torch.device("cpu"), ALONE)
        assert torch.backends.cudnn.benchmark is not deterministic
    finally:
        torch.backends.cudnn.benchmark = before[0]
        torch.use_deterministic_algorithms(before[1])


@pytest.fixture
def inference_forwards():
    """For every layer forward run under inference mode (query and test inference, never
    training): whether bf16 autocast was on and the output's dtype."""
    seen: list[tuple[bool, torch.dtype]] = []

    def hook(module, inputs, output):
        if torch.is_inference_mode_enabled() and isinstance(module, torch.nn.Linear):
            seen.append((torch.is_autocast_enabled("cpu"), output.dtype))

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    yield seen
    handle.remove()


@pytest.mark.parametrize("amp", [True, False])
def test_trainer_amp_reaches_query_and_test_inference(tiny_cfg, inference_forwards, amp):
    """`trainer.amp` trained under bf16 autocast but queried and evaluated in float32, so
    bench_round --amp compared a bf16 baseline with fp32 harness passes."""
    cfg = tiny_cfg("device=cpu", f"trainer.amp={amp}", "strategy=bald", name=str(amp))
    loop.run(cfg, cfg.output_dir)
    # The MLP has 3 linear layers (2 hidden + head): 3 test evaluations run all three; 2
    # queries run the trunk's two once, then the head for each of 10 MC passes.
    assert len(inference_forwards) == 3 * 3 + 2 * (2 + 10)
    expected = (True, torch.bfloat16) if amp else (False, torch.float32)
    assert set(inference_forwards) == {expected}
