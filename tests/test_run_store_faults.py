"""Fault injection: real runs SIGKILLed at many moments, two concurrent writers.

Killed runs are forked from a server process that has imported the package once
(multiprocessing's forkserver), so each scenario costs only the run itself. A kill point is
the k-th atomic write of a run, either after its temporary file is written (before the
rename) or right after the rename; the rerun in this process must end with records
identical, timing columns aside, to an uninterrupted run.
"""

import contextlib
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from support import assert_same_records, compose_config

from deepal_bench.errors import ConfigError
from deepal_bench.results import schema
from deepal_bench.run import loop

pytestmark = pytest.mark.slow
FORK = multiprocessing.get_context("forkserver")
FORK.set_forkserver_preload(["deepal_bench.run.loop"])


def killed_run(cfg_yaml: str, kill_at: int, phase: str) -> None:
    """Run, SIGKILLing this process at the `kill_at`-th record rename (`phase` temp|after)."""
    import torch

    torch.set_num_threads(1)
    real_replace = os.replace
    count = {"n": 0}

    def replace(src, dst, **dir_fds):
        if Path(src).name.startswith(f".{schema.LOCK_FILE}"):
            return real_replace(src, dst, **dir_fds)
        count["n"] += 1
        if count["n"] == kill_at and phase == "temp":
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst, **dir_fds)
        if count["n"] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace
    cfg = OmegaConf.create(cfg_yaml)
    loop.run(cfg, cfg.output_dir)


def plain_run(cfg_yaml: str) -> None:
    """Run to the end; exit status 2 when refused with a ConfigError."""
    import torch

    torch.set_num_threads(1)
    cfg = OmegaConf.create(cfg_yaml)
    try:
        loop.run(cfg, cfg.output_dir)
    except ConfigError:
        os._exit(2)


def start(target, *args) -> multiprocessing.Process:
    process = FORK.Process(target=target, args=args)
    process.start()
    return process


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "run"
    cfg = compose_config(RUN, out)
    loop.run(cfg, str(out))
    return out


RUN = [
    "dataset=wine", "trials=2", "budget.initial=10", "budget.batch=10", "budget.quota=20",
    "trainer.epochs=2", "progress=false", "threads=1", "strategy=entropy",
]  # fmt: skip
# 2 trials x 3 rounds x (state.pt + 3 CSVs) + config.yaml + completion (state + 3 CSVs + DONE)
WRITES = 1 + 2 * 3 * 4 + 5


def _kill_and_rerun(tmp_path: Path, kill_at: int, phase: str) -> Path:
    out = tmp_path / f"run-{kill_at}-{phase}"
    cfg = compose_config(RUN, out)
    process = start(killed_run, OmegaConf.to_yaml(cfg), kill_at, phase)
    process.join(timeout=120)
    assert process.exitcode == -signal.SIGKILL
    assert not (out / schema.DONE_FILE).exists() or kill_at >= WRITES
    loop.run(cfg, str(out))
    assert (out / schema.DONE_FILE).read_text() == "2 trials complete\n"
    assert not list(out.glob(f".*{schema.TEMP_SUFFIX}"))
    return out


@pytest.mark.parametrize("kill_at", range(1, WRITES + 1))
def test_kill_inside_every_record_write_resumes_to_identical_records(tmp_path, reference, kill_at):
    for phase in ("temp", "after") if kill_at % 2 or kill_at > WRITES - 9 else ("temp",):
        assert_same_records(_kill_and_rerun(tmp_path, kill_at, phase), reference)


def test_kill_at_random_moments_resumes_to_identical_records(tmp_path, reference):
    rng = random.Random(0)
    for attempt in range(4):
        out = tmp_path / f"random-{attempt}"
        cfg = compose_config(RUN, out)
        process = start(plain_run, OmegaConf.to_yaml(cfg))
        time.sleep(rng.uniform(0.05, 1.5))
        with contextlib.suppress(ProcessLookupError):  # it may have finished already
            os.kill(process.pid, signal.SIGKILL)
        process.join()
        loop.run(cfg, str(out))
        assert_same_records(out, reference)


def test_two_concurrent_writers_never_mix_records(tmp_path, reference):
    """Finding 2: two configs 50 ms apart on one output_dir both exited 0 and mixed."""
    out = tmp_path / "shared"
    entropy = compose_config(RUN, out)
    margin = compose_config([*RUN, "strategy=margin"], out)
    first = start(plain_run, OmegaConf.to_yaml(entropy))
    time.sleep(0.05)
    second = start(plain_run, OmegaConf.to_yaml(margin))
    first.join(timeout=120)
    second.join(timeout=120)
    assert sorted([first.exitcode, second.exitcode]) == [0, 2]
    assert "name: entropy" in (out / schema.CONFIG_FILE).read_text()
    assert_same_records(out, reference)
