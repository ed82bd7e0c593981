"""Provenance: which code, libraries and machine computed a run's rounds.

Each launch that computes at least one round adds a *session* to the run state (the source
of truth): the package version, the git commit and dirty flag when the package runs from a
git checkout (null otherwise, and whenever git is absent or fails), Python, torch, the CUDA
and cuDNN versions (null unless the run computes on CUDA), the device name, the host, when
the launch started and the first (trial, round) it computed. `provenance.json` is derived
from the state like the CSVs (docs/records.md) and lies outside the run's identity: the
same config run by other code is the same run, and its sessions say which code ran which
rounds. The *code version* of a session is its (package, git_commit).
"""

import json
import platform
import socket
import subprocess
import time
from pathlib import Path

import torch

import deepal_bench

FORMAT = 1
GIT_TIMEOUT = 10.0  # seconds; a hung git (network filesystem) never holds up a run
SESSION_KEYS = ("package", "git_commit", "git_dirty", "python", "torch", "cuda", "cudnn",
                "device", "host", "started", "trial", "round")  # fmt: skip


def utc_now() -> str:
    """The current time as ISO 8601 UTC, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _git(checkout: Path, *args: str) -> str | None:
    """The output of `git -C checkout args`, None when git is absent or fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), *args],
            capture_output=True, text=True, timeout=GIT_TIMEOUT, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def git_state(checkout: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout whose root is `checkout`; (None, None) when it
    is not one (an installed package) or git cannot tell. Dirty = tracked files differ
    from the commit (untracked files, such as results, do not count)."""
    if not (checkout / ".git").exists():
        return None, None
    commit = _git(checkout, "rev-parse", "HEAD")
    if commit is None:
        return None, None
    changes = _git(checkout, "status", "--porcelain", "--untracked-files=no")
    return commit.strip(), None if changes is None else bool(changes.strip())


def cudnn_version() -> str | None:
    """cuDNN's version as `major.minor.patch` (torch reports 90100 for 9.1.0, 8902 for
    8.9.2), None without cuDNN."""
    number = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    if not number:
        return None
    major, rest = divmod(number, 10000 if number >= 10000 else 1000)
    return f"{major}.{rest // 100}.{rest % 100}"


def cpu_model() -> str | None:
    """The CPU's model name where it is cheaply known (/proc/cpuinfo, else platform)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def device_name(device: torch.device) -> str:
    """The GPU's name on CUDA, else `cpu (<model>)` (or `cpu`)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = cpu_model()
    return f"{device.type} ({model})" if model else device.type


def session(device: torch.device, trial: int, round_: int, started: str) -> dict:
    """The provenance of this process computing from (`trial`, `round_`) on `device`."""
    commit, dirty = git_state(Path(deepal_bench.__file__).resolve().parent.parent)
    on_cuda = device.type == "cuda"
    return {
        "package": deepal_bench.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "torch": str(torch.__version__),  # a TorchVersion, which weights_only refuses
        "cuda": torch.version.cuda if on_cuda else None,
        "cudnn": cudnn_version() if on_cuda else None,
        "device": device_name(device),
        "host": socket.gethostname(),
        "started": started,
        "trial": trial,
        "round": round_,
    }


def provenance_text(sessions: list[dict]) -> str | None:
    """The content of provenance.json for `sessions`, None when there is none."""
    if not sessions:
        return None
    return json.dumps({"format": FORMAT, "sessions": sessions}, indent=2) + "\n"
