"""The SLURM presets compose into the sbatch script a cluster user needs."""

import os

import submitit
from hydra import compose, initialize_config_dir
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from omegaconf import OmegaConf

from deepal_bench.cli.run import CONF_DIR  # registers the dal_* resolvers


def sbatch(tmp_path, monkeypatch, *overrides: str) -> str:
    """The sbatch file submitit would submit for one job of the sweep, built the way
    hydra-submitit-launcher builds its executor (nothing is submitted)."""
    monkeypatch.setenv("DEEPAL_SLURM_PARTITION", "gpu-a100")
    fake = tmp_path / "bin"  # submitit refuses to build an executor without `srun` on PATH
    fake.mkdir()
    (fake / "srun").write_text("#!/bin/sh\nexit 0\n")
    (fake / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=list(overrides), return_hydra_config=True)
    params = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    params.pop("_target_")
    executor = submitit.AutoExecutor(
        folder=tmp_path, cluster="slurm", slurm_max_num_timeout=params.pop("max_num_timeout")
    )
    params.pop("submitit_folder")
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(**{k if k in base else f"slurm_{k}": v for k, v in params.items()})
    return executor._executor._make_submission_file_text("python -m deepal_bench", "uid")


def test_slurm_preset_asks_for_a_gpu_threads_and_requeues(tmp_path, monkeypatch):
    text = sbatch(tmp_path, monkeypatch, "hydra/launcher=slurm", "threads=6")
    assert "#SBATCH --gpus-per-task=1" in text and "#SBATCH --cpus-per-task=6" in text
    assert "#SBATCH --partition=gpu-a100" in text and "#SBATCH --time=720" in text
    assert "#SBATCH --signal=USR2@120" in text and "export OMP_NUM_THREADS=6" in text
    assert "#SBATCH --array" not in text or "%64" in text


def test_slurm_cpu_preset_asks_for_no_gpu_and_overrides_win(tmp_path, monkeypatch):
    text = sbatch(
        tmp_path, monkeypatch, "hydra/launcher=slurm_cpu", "hydra.launcher.partition=cpu-long"
    )
    assert "gpus" not in text and "#SBATCH --partition=cpu-long" in text
    assert "#SBATCH --cpus-per-task=1" in text  # threads: 1 by default


def test_presets_requeue_runs_that_resume(tmp_path, monkeypatch):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/launcher=slurm"], return_hydra_config=True)
    assert cfg.hydra.launcher.max_num_timeout > 0
    assert cfg.hydra.launcher.array_parallelism == 64
