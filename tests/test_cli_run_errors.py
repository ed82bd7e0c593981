"""Bad input gives one clear paragraph naming the key and the valid choices."""

import os
import subprocess
import sys

import pytest
import torch

from deepal_bench.errors import ConfigError
from deepal_bench.run import loop


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deepal_bench", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_unknown_group_option_lists_the_valid_ones(tmp_path):
    result = cli("strategy=nonexistent", f"results_root={tmp_path}")
    assert result.returncode != 0
    assert "strategy/nonexistent" in result.stderr
    for choice in ("badge", "entropy", "kcenter", "random"):
        assert choice in result.stderr


def test_unwritable_output_dir_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = cli(f"output_dir={blocker}/run", "trials=1")
    assert result.returncode == 2
    assert "output_dir" in result.stderr and "not writable" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_error_from_the_run_is_printed_without_traceback(tmp_path):
    result = cli("dataset=wine", "budget.quota=100000", f"results_root={tmp_path}", "trials=1")
    assert result.returncode == 2
    assert "budget.quota=100000" in result.stderr and "training pool" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        (["budget.initial=1000"], r"budget.initial=1000 is larger than the training pool \(125"),
        (["budget.quota=120"], r"lower budget.quota to at most 115"),
        (["strategy.name=nope"], r"Unknown strategy.name 'nope'. Valid choices: .*badge"),
        (["model.name=nope"], r"Unknown model.name 'nope'. Valid choices: .*lenet"),
        (["dataset.name=nope"], r"Unknown dataset.name 'nope'. Valid choices: .*digits"),
        (["trainer.optimizer=rmsprop"], r"trainer.optimizer 'rmsprop'. Valid choices: adam, sgd"),
        (["budget.initial_mode=odd"], r"budget.initial_mode 'odd'. Valid choices: balanced"),
        (["device=tpu"], r"Unknown device 'tpu'. Valid choices: auto, cpu, cuda"),
        (["strategy=bald", "model.dropout=0.0"], r"strategy 'bald' needs MC dropout"),
        (["model=lenet"], r"model 'lenet' needs image inputs"),
        (["trainer.select=best_val"], r"needs a validation set"),
        (["+strategy.bogus=1"], r"strategy 'entropy' got an unexpected option"),
    ],
)
def test_bad_values_are_config_errors(tiny_cfg, overrides, pattern):
    cfg = tiny_cfg(*overrides)
    with pytest.raises(ConfigError, match=pattern):
        loop.run(cfg, cfg.output_dir)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_cuda_without_cuda_is_a_config_error(tiny_cfg):
    cfg = tiny_cfg("device=cuda")
    with pytest.raises(ConfigError, match="CUDA is not available"):
        loop.run(cfg, cfg.output_dir)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_output_dir_is_refused(tiny_cfg, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    cfg = tiny_cfg(f"output_dir={ro}/run")
    with pytest.raises(ConfigError, match="output_dir"):
        loop.run(cfg, str(ro / "run"))
