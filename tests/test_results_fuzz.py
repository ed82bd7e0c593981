"""A fuzz test over crafted run directories: `deepal-bench-report`, `deepal-bench-paper` and
`deepal-bench-status` run as separate processes, each under a time limit and an address-space
limit (RLIMIT_AS), over one results folder holding an intact run, every crafted kind of
`crafted.KINDS` and seeded random corruptions of intact runs (truncations, flipped bytes,
garbage, links out of the run and to /dev/zero, FIFOs, huge sparse files, folders). Each
command must end normally without a traceback, skip every crafted run with its reason,
still report the intact run, and write nothing outside its output folder."""

import os
import re
import resource
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from crafted import KINDS, crafted_run, intact_run

from deepal_bench.results import schema

pytestmark = pytest.mark.slow

SECONDS = 90  # per command (each imports torch, pandas and matplotlib: about 5 s)
ADDRESS_SPACE = 6 << 30  # bytes; a report's own peak is about 4 GB of address space
RANDOM_RUNS = 40
TARGETS = (schema.CONFIG_FILE, schema.ROUNDS_FILE, schema.QUERIES_FILE, schema.SUMMARY_FILE,
           schema.DONE_FILE, schema.PROVENANCE_FILE, schema.PROGRESS_FILE, schema.LOG_FILE,
           schema.LOCK_FILE, f"{schema.PREDICTIONS_DIR}/{schema.TEST_LABELS_FILE}",
           f"{schema.PREDICTIONS_DIR}/trial0-round1.npy")  # fmt: skip


def _fresh(target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()


def _corrupt(target: Path, canary: Path, rng: np.random.Generator) -> str:
    """Damage `target` one random way; the way, for the failure message."""
    data = target.read_bytes() if target.is_file() else b'{"host": "x"}'
    way = str(rng.choice(["truncate", "flip", "garbage", "dev_zero", "link_out", "fifo",
                          "sparse", "folder", "empty", "repeat"]))  # fmt: skip
    _fresh(target)
    if way == "truncate":
        target.write_bytes(data[: int(rng.integers(0, max(len(data), 1)))])
    elif way == "flip":
        flipped = bytearray(data)
        for i in rng.integers(0, max(len(data), 1), size=3):
            flipped[int(i) % max(len(flipped), 1)] ^= int(rng.integers(1, 256)) if flipped else 0
        target.write_bytes(bytes(flipped))
    elif way == "garbage":
        target.write_bytes(rng.bytes(int(rng.integers(1, 4096))))
    elif way in ("dev_zero", "link_out"):
        target.symlink_to("/dev/zero" if way == "dev_zero" else canary)
    elif way == "fifo":
        os.mkfifo(target)
    elif way == "sparse":
        with open(target, "wb") as handle:
            handle.truncate(10**10)
    elif way == "folder":
        target.mkdir()
    elif way == "empty":
        target.write_bytes(b"")
    else:
        target.write_bytes(data * 1000)
    return way


def random_runs(root: Path, canary: Path, seed: int = 20) -> dict[str, str]:
    """RANDOM_RUNS intact runs, each with one file damaged at random: {name: what was done}."""
    rng = np.random.default_rng(seed)
    done = {}
    for i in range(RANDOM_RUNS):
        name = f"random{i:02d}"
        path = intact_run(root / name, seed=1000 + i)
        target = path / str(rng.choice(TARGETS))
        done[name] = f"{target.relative_to(path)}: {_corrupt(target, canary, rng)}"
    return done


def snapshot(root: Path, skip: Path) -> dict[str, tuple]:
    """(type, size, mtime, content of small regular files) of everything below `root` but
    `skip`, found without following links or opening anything but regular files."""
    seen = {}
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if Path(folder, f) != skip]
        for name in [*folders, *files]:
            path = Path(folder, name)
            info = os.lstat(path)
            small = stat.S_ISREG(info.st_mode) and info.st_size < 1 << 20
            content = path.read_bytes() if small else None
            seen[str(path)] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, content)
    return seen


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def command(module: str, *argv: str) -> subprocess.CompletedProcess:
    code = f"import sys; from deepal_bench.cli.{module} import main; sys.exit(main({list(argv)!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=SECONDS, preexec_fn=_limits)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """(results folder, a file outside it that links point to, the random corruptions)."""
    base = tmp_path_factory.mktemp("fuzz")
    canary = base / "canary"
    canary.write_text("must stay as it is\n")
    root = base / "results"
    intact_run(root / "intact")
    for seed, kind in enumerate(sorted(KINDS), start=1):
        crafted_run(root / kind, kind, seed=seed)
    return root, canary, random_runs(root, canary)


def skipped_reasons(stderr: str) -> dict[str, str]:
    return {Path(m[1]).name: m[2] for m in re.finditer(r"^skipped (\S+): (.+)$", stderr, re.M)}


def used_runs(out: Path) -> set[str]:
    return {Path(config).parent.name for config in pd.read_csv(out / "configs.csv")["config"]}


@pytest.mark.parametrize("family", [None, "deepal_plus"], ids=["report", "paper"])
def test_the_report_skips_every_crafted_run_and_writes_only_into_its_folder(results, family):
    root, canary, corrupted = results
    out = root.parent / f"out-{family or 'report'}"
    before = snapshot(root.parent, out)
    argv = [str(root), "--out", str(out), "--permutations", "20"]
    done = command("paper", family, *argv) if family else command("report", *argv)
    assert done.returncode == 0, done.stderr[-3000:]
    assert snapshot(root.parent, out) == before and canary.read_text() == "must stay as it is\n"
    used, skipped = used_runs(out), skipped_reasons(done.stderr)
    assert "intact" in used
    for kind, expected in KINDS.items():
        if expected.report == "used":
            assert kind in used, kind
        else:
            assert skipped[kind].startswith(expected.report), (kind, skipped[kind])
            assert kind not in used
    for name, what in corrupted.items():
        assert name in used or skipped.get(name), f"{name} ({what}) neither used nor skipped"
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))


def test_status_says_what_every_crafted_run_is(results):
    root, canary, corrupted = results
    before = snapshot(root.parent, root.parent / "none")
    done = command("status", str(root), "--lock-timeout", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert snapshot(root.parent, root.parent / "none") == before
    states = {}
    for line in done.stdout.splitlines()[:-1]:
        state, _, rest = line.partition(f"  {root}/")
        states[rest.partition(":")[0]] = state.strip()
    assert states["intact"] == "complete"
    assert {kind: states[kind] for kind in KINDS} == {k: v.status for k, v in KINDS.items()}
    assert set(corrupted) <= set(states)
    assert done.stdout.splitlines()[-1].startswith(f"{len(states)} runs: ")
