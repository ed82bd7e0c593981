"""Typed configuration: bad input is one paragraph naming key, value and what is allowed,
exit status 2, no traceback, no record written."""

import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import DictConfig

from deepal_bench.cli import run as cli
from deepal_bench.results import schema
from deepal_bench.run import loop
from deepal_bench.run.budget import Budget
from deepal_bench.run.placement import available_cores
from deepal_bench.run.settings import (
    THREADS_PER_CORE,
    Choice,
    RunSettings,
    Settings,
    validate_config,
)
from deepal_bench.training.trainer import TrainerConfig

RECORDS = (schema.CONFIG_FILE, schema.ROUNDS_FILE, schema.STATE_FILE, schema.DONE_FILE)
TINY = ["dataset=wine", "trials=1", "trainer.epochs=1", "progress=false"]


def run_cli(capsys, tmp_path: Path, *overrides: str) -> tuple[int, str]:
    """`deepal-bench` in this process; (exit status, stderr)."""
    argv = ["deepal-bench", *TINY, f"results_root={tmp_path}", *overrides]
    old = sys.argv
    sys.argv = argv
    try:
        cli.main()
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    finally:
        sys.argv = old
    return status, capsys.readouterr().err


def records_written(root: Path) -> list[Path]:
    """Record files under `root` (Hydra's own `.hydra/` copy of the job config aside)."""
    return [p for p in root.rglob("*") if p.name in RECORDS and ".hydra" not in p.parts]


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["trials=0"], "trials=0"),
        (["trials=-1"], "trials=-1"),
        (["trials=1.5"], "trials=1.5"),
        (["deterministic=maybe"], "deterministic='maybe'"),
        (["strategy=bald", "strategy.mc_passes=0"], "strategy.mc_passes=0"),
        (["budget.quota=abc"], "budget.quota='abc'"),
        (["budget.quota=1.5"], "budget.quota=1.5"),
        (["seed=abc"], "seed='abc'"),
        (["threads=-3"], "threads=-3"),
        (["threads=abc"], "threads='abc'"),
        (["strategy=bald", "strategy.mc_passes=abc"], "strategy.mc_passes='abc'"),
        (["strategy=bald", "strategy.mc_passes=-2"], "strategy.mc_passes=-2"),
        (["selection=softmax", "selection.beta=abc"], "selection.beta='abc'"),
        (["trainer.lr=-1"], "trainer.lr=-1"),
        (["trainer.batch_size=abc"], "trainer.batch_size='abc'"),
        (["strategy=kcenter", "strategy.pca_dim=abc"], "strategy.pca_dim='abc'"),
        (["trainer.early_stop_train_acc=abc"], "trainer.early_stop_train_acc='abc'"),
        (["dataset.test_size=2.0"], "dataset.test_size=2.0"),
        (["trainer.lr=inf"], "trainer.lr=inf"),
        (["trainer.weight_decay=inf"], "trainer.weight_decay=inf"),
        (["trainer.lr=nan"], "trainer.lr=nan"),
        (["lock_timeout=inf"], "lock_timeout=inf"),
        (["seed=4294967296"], "seed=4294967296"),
        (["seed=-1"], "seed=-1"),
        (["dataset.split_seed=4294967296"], "dataset.split_seed=4294967296"),
        (["threads=100000"], "threads=100000"),
    ],
)
def test_each_bad_value_of_the_issue_is_refused_before_anything_is_written(
    capsys, tmp_path, overrides, key
):
    status, err = run_cli(capsys, tmp_path, *overrides)
    assert status == 2
    assert "Traceback" not in err and f"Invalid {key}: it must be" in err
    assert err.count("\n") == 1  # one paragraph
    assert records_written(tmp_path) == []


def test_infinite_numbers_say_what_is_allowed(capsys, tmp_path):
    status, err = run_cli(capsys, tmp_path, "trainer.lr=inf")
    assert status == 2 and "Invalid trainer.lr=inf: it must be a finite number > 0." in err


def test_a_trial_seed_past_32_bits_is_refused_with_the_largest_seed_allowed(capsys, tmp_path):
    """seed + trial is masked to 32 bits when seeds are derived: seed 4294967295 with two
    trials would give trial 1 the seed of trial 0 of seed=0."""
    status, err = run_cli(capsys, tmp_path, "seed=4294967295", "trials=2")
    assert status == 2 and "Traceback" not in err
    assert "Invalid seed=4294967295 with trials=2" in err and "at most 4294967294" in err
    assert records_written(tmp_path) == []
    status, _ = run_cli(capsys, tmp_path, "seed=4294967294", "trials=2", "budget.quota=0")
    assert status == 0


def test_an_empty_output_dir_is_named_invalid_not_unwritable(capsys, tmp_path):
    """It used to say "permission denied"."""
    status, err = run_cli(capsys, tmp_path, "output_dir=''")
    assert status == 2 and "Invalid output_dir='': it must be a folder path" in err
    assert "permission" not in err


def test_threads_are_capped_at_a_multiple_of_the_usable_cores(capsys, tmp_path):
    most = THREADS_PER_CORE * available_cores()
    status, err = run_cli(capsys, tmp_path, f"threads={most + 1}")
    assert status == 2 and f"integer from 1 to {most}" in err
    assert records_written(tmp_path) == []


# Keys with their types; hypothesis draws values of the wrong type or out of range.
TYPED_KEYS = {
    "trials": "positive_int",
    "seed": "int",
    "threads": "positive_int_or_null",
    "lock_timeout": "positive_number",
    "budget.initial": "positive_int",
    "budget.batch": "positive_int",
    "budget.quota": "non_negative_int",
    "trainer.lr": "positive_number",
    "trainer.epochs": "positive_int",
    "trainer.batch_size": "positive_int",
    "trainer.momentum": "unit_interval",
    "deterministic": "bool",
    "progress": "bool",
}
BAD = {
    "positive_int": st.one_of(st.integers(max_value=0), st.text(alphabet="abcxyz", min_size=1),
                              st.floats(0.1, 9.9).filter(lambda v: not v.is_integer())),
    "positive_int_or_null": st.one_of(st.integers(max_value=0), st.sampled_from(["abc", "1.5"])),
    "non_negative_int": st.one_of(st.integers(max_value=-1), st.sampled_from(["abc", "2.5"])),
    "int": st.one_of(st.text(alphabet="abcxyz", min_size=1), st.sampled_from(["1.5", "true"])),
    "positive_number": st.one_of(st.integers(max_value=0), st.sampled_from(["abc", "-0.5"])),
    "unit_interval": st.one_of(st.floats(1.0, 100.0), st.floats(-100.0, -0.01)),
    "bool": st.sampled_from(["maybe", "1", "0", "yess", "abc"]),
}  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_generated_bad_overrides_exit_2_without_traceback_or_records(capsys, tmp_path, data):
    key = data.draw(st.sampled_from(sorted(TYPED_KEYS)))
    value = data.draw(BAD[TYPED_KEYS[key]])
    status, err = run_cli(capsys, tmp_path, f"{key}={value}")
    assert status == 2, err
    assert "Traceback" not in err and key in err
    assert records_written(tmp_path) == []


def test_dmle_with_a_score_without_gradient_is_refused_before_anything_is_written(capsys, tmp_path):
    """DMLE with Freeman's variation ratio (argmax votes, no gradient) would
    silently train as IMLE."""
    overrides = ["estimator=dmle", "strategy=var_ratio", "strategy.variant=freeman"]
    budget = ["budget.initial=10", "budget.batch=10", "budget.quota=20"]
    status, err = run_cli(capsys, tmp_path, *overrides, *budget)
    assert status == 2
    assert "differentiable" in err and "Traceback" not in err
    assert records_written(tmp_path) == []


def test_validate_config_returns_the_typed_settings_of_every_group(tiny_cfg):
    """validate_config built a RunSettings and threw it away; the loop read the raw config."""
    cfg = tiny_cfg("strategy=bald", "strategy.mc_passes=7", "selection=softmax",
                   "selection.beta=2.0", "trainer.amp=true")  # fmt: skip
    settings = validate_config(cfg)
    assert isinstance(settings, Settings)
    assert settings.run == RunSettings(
        trials=1, seed=0, device="auto", threads=1, lock_timeout=300, deterministic=True,
        progress=False, store_predictions=False, results_root="results/runs",
        output_dir=cfg.output_dir,
    )  # fmt: skip
    assert settings.budget == Budget(initial=10, batch=10, quota=20)
    assert isinstance(settings.trainer, TrainerConfig)
    assert (settings.trainer.epochs, settings.trainer.amp) == (2, True)
    assert settings.strategy == Choice("bald", {"mc_passes": 7})
    assert settings.selection == Choice("softmax", {"beta": 2.0})
    assert settings.estimator == Choice("imle", {})
    assert settings.model.name == "auto" and settings.dataset.name == "wine"
    for choice in (settings.model, settings.dataset):
        assert not isinstance(choice.options, DictConfig)
        assert choice.config() == {"name": choice.name, **choice.options}
    assert settings.dataset.options["root"] == cfg.dataset.root  # interpolations resolved


def test_the_loop_reads_the_validated_settings(tiny_cfg, monkeypatch):
    """What validate_config returns is what runs: a seed changed there (and not in the raw
    config) seeds the trials; config.yaml still stores the raw config."""
    validated = loop.validate_config

    def reseeded(cfg):
        settings = validated(cfg)
        return replace(settings, run=replace(settings.run, seed=40))

    monkeypatch.setattr(loop, "validate_config", reseeded)
    cfg = tiny_cfg(name="reseeded")
    loop.run(cfg, cfg.output_dir)
    out = Path(cfg.output_dir)
    assert pd.read_csv(out / schema.ROUNDS_FILE)["seed"].unique().tolist() == [40]
    assert yaml.safe_load((out / schema.CONFIG_FILE).read_text())["seed"] == 0
