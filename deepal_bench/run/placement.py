"""Where a job runs: its device, and among the jobs that share its machine, its torch
threads and GPU.

`threads: auto` gives each job the cores this process may use (its CPU affinity, which
SLURM and containers restrict) divided by the jobs running at once: the joblib launcher's
`n_jobs`, else 1. Under joblib on a machine with several GPUs, job k uses GPU k mod (visible
GPUs); elsewhere (one run, SLURM jobs with their own allocation) the current device.
"""

import os
from dataclasses import dataclass
from typing import Protocol

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf
from threadpoolctl import threadpool_limits

from deepal_bench.errors import ConfigError, unknown_choice

DEVICES = ("auto", "cpu", "cuda")
SCHEDULER_CPUS = 4  # CPUs a cluster launcher asks for when threads is auto or null


@dataclass(frozen=True)
class Placement:
    concurrent_jobs: int = 1
    job_index: int = 0

    def threads(self, setting: int | str | None) -> int | None:
        """The torch thread count for `threads` (an integer, auto, or null = torch's)."""
        if setting == "auto":
            return max(1, available_cores() // self.concurrent_jobs)
        return setting

    def gpu(self, visible: int) -> int | None:
        """The GPU index of this job when several jobs share `visible` GPUs, else None."""
        if self.concurrent_jobs <= 1 or visible <= 1:
            return None
        return self.job_index % visible


ALONE = Placement()


def available_cores() -> int:
    """The cores this process may run on (affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def scheduler_cpus(threads: int | str | None) -> int:
    """CPUs to request from a cluster scheduler for a job with `threads`."""
    return threads if isinstance(threads, int) else SCHEDULER_CPUS


def from_hydra() -> Placement:
    """The placement of the current Hydra job (joblib's n_jobs and this job's index)."""
    if not HydraConfig.initialized():
        return Placement()
    hydra = HydraConfig.get()
    launcher = OmegaConf.select(hydra, "launcher._target_", default="") or ""
    if "JoblibLauncher" not in launcher:
        return Placement()
    n_jobs = int(OmegaConf.select(hydra, "launcher.n_jobs", default=1))
    n_jobs = available_cores() if n_jobs < 1 else n_jobs
    return Placement(n_jobs, int(OmegaConf.select(hydra, "job.num", default=0) or 0))


def resolve_device(name: str, placement: Placement = ALONE) -> torch.device:
    """`auto` picks CUDA when present; `cuda` without CUDA is a ConfigError. Jobs sharing a
    machine's GPUs (joblib) get one each, round-robin."""
    if name not in DEVICES:
        raise unknown_choice("device", name, DEVICES)
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device=cuda was asked for but CUDA is not available; use device=auto or cpu."
        )
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    index = placement.gpu(torch.cuda.device_count())
    return torch.device("cuda" if index is None else f"cuda:{index}")


class TorchSettings(Protocol):
    """What `configure_torch` reads: the top-level `threads` and `deterministic` keys (of
    the validated `RunSettings`, or of a composed config)."""

    threads: int | str | None
    deterministic: bool


def configure_torch(cfg: TorchSettings, device: torch.device, placement: Placement) -> None:
    """Thread count (torch and the BLAS libraries), the GPU, deterministic algorithms (same
    seed => same records on CPU); cuDNN's autotuner (`cudnn.benchmark`) only when
    `deterministic: false`, since the algorithm it picks may differ between runs."""
    threads = placement.threads(cfg.threads)
    if threads:
        torch.set_num_threads(threads)
        threadpool_limits(threads)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if cfg.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    torch.backends.cudnn.benchmark = not cfg.deterministic
