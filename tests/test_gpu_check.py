"""scripts/gpu_check.sh: valid bash, every step it plans calls a real script with flags that
script accepts, and without a GPU it stops after the environment step with a paragraph."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu_check.sh"
REQUIRED = ["environment", "install", "cuda_tests", "bench_round", "bench_kernels",
            "embedded_default", "report"]  # fmt: skip


def run_check(out: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), str(out)],
        env={**os.environ, "PYTHON": sys.executable, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def planned_steps(tmp_path: Path) -> dict[str, list[str]]:
    done = run_check(tmp_path, GPU_CHECK_DRY_RUN="1")
    assert done.returncode == 0, done.stderr
    steps = re.findall(r"^== (\w+) \(at most \d+s\): (.*)$", done.stdout, re.M)
    return {name: command.split() for name, command in steps}


def test_the_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_dry_run_plans_every_required_step_on_cuda(tmp_path):
    steps = planned_steps(tmp_path)
    assert list(steps)[: len(REQUIRED)] == REQUIRED
    assert "-m" in steps["cuda_tests"] and "cuda" in steps["cuda_tests"]
    cuda_files = [arg for arg in steps["cuda_tests"] if arg.startswith("tests/")]
    assert "tests/test_cuda.py" in cuda_files
    assert all("mark.cuda" in (ROOT / f).read_text() for f in cuda_files)
    for name in ("bench_round", "bench_kernels"):
        assert steps[name][steps[name].index("--device") + 1] == "cuda"
    sizes = steps["bench_kernels"][steps["bench_kernels"].index("--sizes") + 1]
    assert max(int(n) for n in sizes.split(",")) == 200_000
    assert "device=cuda" in steps["embedded_default"]
    for name in ("bench_round", "bench_kernels"):
        assert steps[name][steps[name].index("--out") + 1].startswith(str(tmp_path))


def test_every_planned_script_accepts_the_flags_it_is_given(tmp_path):
    for name, command in planned_steps(tmp_path).items():
        scripts = [arg for arg in command if arg.startswith("scripts/")]
        if not scripts:
            continue
        assert (ROOT / scripts[0]).is_file(), name
        usage = subprocess.run(
            [sys.executable, scripts[0], "--help"], cwd=ROOT, capture_output=True, text=True
        ).stdout
        for flag in (arg.split("=")[0] for arg in command if arg.startswith("--")):
            assert flag in usage, f"{name}: {scripts[0]} has no {flag}"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without a GPU")
def test_without_a_gpu_it_stops_after_the_environment_with_a_paragraph(tmp_path):
    done = run_check(tmp_path, GPU_CHECK_SECONDS="60")
    assert done.returncode == 1
    assert "No CUDA device is visible to torch" in (tmp_path / "environment.txt").read_text()
    rows = (tmp_path / "steps.csv").read_text().splitlines()
    assert rows == ["step,status,seconds", rows[1]] and rows[1].startswith("environment,1,")
