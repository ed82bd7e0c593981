"""The Hydra app: `deepal-bench [overrides]` runs one job, `deepal-bench -m` a sweep.

Each job writes its records into `output_dir` (by default
`<results_root>/<dataset>/<model>/<strategy>/<estimator>-<selection>/<budget>/seed<S>-<hash>`),
resumes it when interrupted and skips it when complete. Bad input ends with a one-paragraph
error naming the key and the valid choices (exit status 2), and leaves the run directory as
it was: the job log is created by its first record, which the run logs once every check has
passed, and Hydra's `.hydra/` is written here beside the records once the checks pass
(`hydra.output_subdir: null` keeps Hydra from writing it before them). In a sweep a failing
job is reported and the others still run; the sweep then exits with status 2.

SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 (SLURM pre-emption, submitit's requeue signal) stop
the run before its next commit and release its lock; the signal is then handed to the
handler in place before (`results.stopping.hand_over`): the process dies of it (status
128 + signal to a shell, as an unhandled signal would give), or a launcher's handler runs
(submitit requeues the job). A sweep stops with its current job.
"""

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from deepal_bench.errors import ConfigError
from deepal_bench.paths import CONF_DIR
from deepal_bench.results import schema
from deepal_bench.results.identity import run_path
from deepal_bench.results.io import atomic_write_text
from deepal_bench.results.stopping import Stopped, hand_over, stop_on_signals
from deepal_bench.run.loop import run
from deepal_bench.run.placement import from_hydra, scheduler_cpus
from deepal_bench.run.store import LockLost

log = logging.getLogger("deepal_bench")
FAILED_JOBS: list[str] = []  # jobs of this process's sweep that failed (basic launcher)
HYDRA_SUBDIR = ".hydra"


def _job_log_open() -> bool:
    """Whether this job's log file exists: it is created by its first record
    (`delay: true` in conf/config.yaml), and the run's first record follows its checks."""
    return any(
        isinstance(h, logging.FileHandler) and h.stream is not None
        for h in logging.getLogger().handlers
    )


def _report(message: str, where: str = "") -> None:
    """The error on stderr, and in the job log once the run has started one."""
    if _job_log_open():
        log.error(message)
    print(f"deepal-bench: error{where}: {message}", file=sys.stderr)


def _fail(message: str) -> None:
    _report(message)
    sys.exit(2)


def _in_sweep() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _lost(err: LockLost, output_dir: Path) -> str:
    return (
        f"this process lost the lock of output_dir '{output_dir}': {err}. It stopped before "
        f"its next commit, so the records hold exactly what it had committed; a process "
        f"that took the lock over continues the run, otherwise relaunch to resume it."
    )


def _stopped(stop: Stopped, output_dir: Path) -> None:
    log.warning(
        "stopped by %s before the next commit; the lock of %s is released and its records "
        "hold every round saved so far: a relaunch resumes at once, on any node",
        stop, output_dir,
    )  # fmt: skip


def _run_path_resolver(*, _root_: DictConfig) -> str:
    choices = OmegaConf.select(_root_, "hydra.runtime.choices", default={}) or {}
    job_cfg = OmegaConf.masked_copy(_root_, [k for k in _root_ if k != "hydra"])
    return run_path(job_cfg, dict(choices))


def _writable_dir_resolver(path: str) -> str:
    """Create `path` (Hydra's job directory) or stop with a clear error if it cannot be."""
    if not path.strip():
        _fail(
            f"Invalid output_dir={path!r}: it must be a folder path (leave it out for the "
            f"default, <results_root>/<dataset>/<model>/<strategy>/...)."
        )
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK):
            raise PermissionError("permission denied")
    except OSError as err:
        _fail(f"output_dir '{path}' is not writable ({err}); choose another output_dir.")
    return path


OmegaConf.register_new_resolver("dal_run_path", _run_path_resolver, replace=True)
OmegaConf.register_new_resolver("dal_cpus", scheduler_cpus, replace=True)
OmegaConf.register_new_resolver("dal_writable_dir", _writable_dir_resolver, replace=True)


def _save_hydra_outputs(cfg: DictConfig, output_dir: Path) -> None:
    """Hydra's `.hydra/` (job config, Hydra's config, overrides) beside the run's records,
    once every check has passed; never through a symbolic link (`results.io`)."""
    if not (output_dir / schema.CONFIG_FILE).is_file():
        return
    hydra_cfg = HydraConfig.instance().cfg
    files = {"config.yaml": cfg, "hydra.yaml": hydra_cfg,
             "overrides.yaml": hydra_cfg.hydra.overrides.task}  # fmt: skip
    try:
        for name, node in files.items():
            path = output_dir / HYDRA_SUBDIR / name
            atomic_write_text(path, OmegaConf.to_yaml(node), within=output_dir)
    except OSError as err:
        log.warning("%s/ not written (%s); the records are unaffected", HYDRA_SUBDIR, err)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> None:
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    with open_dict(cfg):
        cfg.output_dir = str(output_dir)
    try:
        with stop_on_signals():
            state = run(cfg, output_dir, from_hydra(), lambda: _save_hydra_outputs(cfg, output_dir))
    except Stopped as stop:
        _stopped(stop, output_dir)
        hand_over()
    except (ConfigError, LockLost) as err:
        message = str(err) if isinstance(err, ConfigError) else _lost(err, output_dir)
        if not _in_sweep():
            _fail(message)
        _report(message, f" in {output_dir}")
        FAILED_JOBS.append(str(output_dir))
        return
    done = [row for row in state.summary if row["trial"] < cfg.trials]
    if done:
        aubcs = [row["aubc"] for row in done]
        print(
            f"{cfg.strategy.name}: {len(done)} trials, mean AUBC {sum(aubcs) / len(aubcs):.4f}, "
            f"records in {output_dir}",
            flush=True,
        )


def main() -> None:
    """Console entry point (`deepal-bench`)."""
    FAILED_JOBS.clear()
    _app()
    if FAILED_JOBS:
        print(
            f"deepal-bench: {len(FAILED_JOBS)} job(s) of the sweep failed (their errors are "
            f"above, and in the deepal-bench.log of each that had started): "
            f"{', '.join(FAILED_JOBS)}",
            file=sys.stderr,
        )
        sys.exit(2)
