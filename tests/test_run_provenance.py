"""Provenance: which code, libraries and machine computed a run's rounds, recorded in the
state and derived into provenance.json, outside the run's identity."""

import json
import platform
import socket
import subprocess
from pathlib import Path

import pytest
import torch

import deepal_bench
from deepal_bench.results import schema
from deepal_bench.results.provenance import Provenance, Session, read_provenance
from deepal_bench.run import loop, provenance
from deepal_bench.run.store import RunStore

CHECKOUT = Path(deepal_bench.__file__).resolve().parent.parent


def stop_after_rounds(monkeypatch, rounds: int) -> None:
    """Ctrl-C right after the `rounds`-th save of this launch."""
    save, saved = RunStore.save, []

    def save_then_stop(self, state):
        save(self, state)
        saved.append(1)
        if len(saved) == rounds:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunStore, "save", save_then_stop)


def sessions(path: Path) -> list[dict]:
    return json.loads((path / schema.PROVENANCE_FILE).read_text())["sessions"]


def test_a_run_records_its_code_libraries_and_machine(tiny_cfg):
    """No record held the package version, git commit, torch, CUDA or cuDNN version, or
    device name."""
    cfg = tiny_cfg("device=cpu")
    loop.run(cfg, cfg.output_dir)
    data = json.loads((Path(cfg.output_dir) / schema.PROVENANCE_FILE).read_text())
    assert data["format"] == 1
    (only,) = data["sessions"]
    assert list(only) == list(provenance.SESSION_KEYS)
    assert only["package"] == deepal_bench.__version__
    assert only["python"] == platform.python_version()
    assert only["torch"] == str(torch.__version__)
    assert only["cuda"] is None and only["cudnn"] is None  # computed on the CPU
    assert only["device"].startswith("cpu")
    assert only["host"] == socket.gethostname()
    assert (only["trial"], only["round"]) == (0, 0)
    if (CHECKOUT / ".git").exists():
        command = ["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"]
        head = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
        assert only["git_commit"] == head and isinstance(only["git_dirty"], bool)


def test_each_launch_that_computes_a_round_adds_a_session(tiny_cfg, monkeypatch):
    """A resumed run lists the launch that computed each stretch of rounds; a launch that
    finds the run complete adds none."""
    cfg = tiny_cfg("trials=2")
    with monkeypatch.context() as m:
        stop_after_rounds(m, 2)
        with pytest.raises(KeyboardInterrupt):
            loop.run(cfg, cfg.output_dir)
    out = Path(cfg.output_dir)
    assert [(s["trial"], s["round"]) for s in sessions(out)] == [(0, 0)]
    loop.run(cfg, cfg.output_dir)
    assert [(s["trial"], s["round"]) for s in sessions(out)] == [(0, 0), (0, 2)]
    before = (out / schema.PROVENANCE_FILE).read_text()
    loop.run(cfg, cfg.output_dir)  # complete: skipped
    assert (out / schema.PROVENANCE_FILE).read_text() == before
    loop.run(tiny_cfg("trials=3"), cfg.output_dir)  # one more trial
    assert [(s["trial"], s["round"]) for s in sessions(out)] == [(0, 0), (0, 2), (2, 0)]


def test_a_kernel_fix_resumes_the_same_run_and_the_mix_is_recorded(tiny_cfg, monkeypatch):
    """Provenance is outside the identity: other code resumes the same run (no refusal), and
    its sessions say that two code versions computed its rounds."""
    cfg = tiny_cfg("trials=2")
    with monkeypatch.context() as m:
        stop_after_rounds(m, 3)
        with pytest.raises(KeyboardInterrupt):
            loop.run(cfg, cfg.output_dir)
    first = deepal_bench.__version__
    monkeypatch.setattr(deepal_bench, "__version__", "99.0.0")
    state = loop.run(cfg, cfg.output_dir)
    assert state.finished_trials() == 2 and "99.0.0" not in state.identity
    found = sessions(Path(cfg.output_dir))
    assert [(s["package"], s["trial"], s["round"]) for s in found] == [
        (first, 0, 0),
        ("99.0.0", 1, 0),
    ]
    assert (
        read_provenance(Path(cfg.output_dir)).describe().startswith(f"MIXED code versions {first}@")
    )


def test_provenance_json_is_derived_from_the_state(tiny_cfg):
    cfg = tiny_cfg()
    loop.run(cfg, cfg.output_dir)
    path = Path(cfg.output_dir) / schema.PROVENANCE_FILE
    written = path.read_text()
    path.write_text("{damaged")
    loop.run(cfg, cfg.output_dir)  # complete: repaired from the state, nothing computed
    assert path.read_text() == written


def test_without_git_the_commit_is_null_and_the_run_goes_on(tiny_cfg, monkeypatch, tmp_path):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert provenance.git_state(CHECKOUT) == (None, None)
    assert provenance.git_state(tmp_path) == (None, None)  # not a checkout
    cfg = tiny_cfg()
    loop.run(cfg, cfg.output_dir)
    (only,) = sessions(Path(cfg.output_dir))
    assert (only["git_commit"], only["git_dirty"]) == (None, None)


def test_git_state_of_a_checkout_and_its_dirty_flag(tmp_path):
    repo = tmp_path / "checkout"
    repo.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip

    try:
        git("init", "-q")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git is not available")
    (repo / "code.py").write_text("x = 1\n")
    git("add", "code.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = git("rev-parse", "HEAD")
    (repo / "results.csv").write_text("untracked\n")
    assert provenance.git_state(repo) == (head, False)  # untracked files do not count
    (repo / "code.py").write_text("x = 2\n")
    assert provenance.git_state(repo) == (head, True)


@pytest.mark.parametrize(("number", "version"), [(90100, "9.1.0"), (8902, "8.9.2"), (None, None)])
def test_cudnn_version_as_torch_reports_it(monkeypatch, number, version):
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: number)
    assert provenance.cudnn_version() == version


def test_code_versions_are_package_and_commit_in_order_of_first_run():
    first = Session(package="0.1.0", git_commit="a" * 40, git_dirty=False, device="cpu")
    dirty = Session(package="0.1.0", git_commit="a" * 40, git_dirty=True, device="cpu")
    other = Session(package="0.2.0", git_commit=None, device="NVIDIA H100 80GB HBM3")
    assert Provenance((first,)).describe() == "code 0.1.0@aaaaaaa on cpu"
    assert Provenance((first, dirty)).describe() == "code 0.1.0@aaaaaaa+dirty on cpu"
    assert Provenance((first, dirty, other)).describe() == (
        "MIXED code versions 0.1.0@aaaaaaa+dirty, 0.2.0@no git on cpu, NVIDIA H100 80GB HBM3"
    )
    assert Provenance().describe() == "code unknown"


NOT_OURS = ["{not json", "[]", '{"format": 2, "sessions": []}', '{"format": 1, "sessions": [{}]}']


@pytest.mark.parametrize("content", NOT_OURS)
def test_a_provenance_file_that_is_not_ours_is_read_as_unknown_with_the_reason(tmp_path, content):
    (tmp_path / schema.PROVENANCE_FILE).write_text(content)
    found = read_provenance(tmp_path)
    assert not found.known and found.problem
    assert found.describe().startswith("code unknown: unreadable provenance.json")
    assert read_provenance(tmp_path / "absent") == Provenance()
