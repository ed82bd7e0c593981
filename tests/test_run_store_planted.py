"""A run directory prepared by someone else (its path follows from the config hash): the run
never writes through a symbolic link planted in it, never waits on a FIFO, never reads a
file without bounds, and refuses with one paragraph before it writes anything. Each run is
made in a forked child under a time and memory limit (`crafted.bounded`)."""

import ast
import io
import logging
import os
from contextlib import redirect_stderr
from pathlib import Path

import pytest
import torch
from crafted import alias_bomb, bounded
from support import run_cli

from deepal_bench.errors import ConfigError
from deepal_bench.results import schema
from deepal_bench.results.io import NoFollowFileHandler, UnsafePath, atomic_write_text
from deepal_bench.run.store import RunStore

TINY = ["dataset=wine", "trials=1", "budget.initial=10", "budget.batch=10", "budget.quota=10",
        "trainer.epochs=1", "progress=false", "store_predictions=true"]  # fmt: skip


def launch(monkeypatch, run: Path) -> tuple[int, str]:
    """(exit status, stderr) of `deepal-bench` on `run`, run in a bounded child."""

    def child() -> tuple[int, str]:
        err = io.StringIO()
        with redirect_stderr(err):
            status = run_cli(monkeypatch, *TINY, f"output_dir={run}")
        return status, err.getvalue()[:6000]

    answer = bounded(child, seconds=60)
    assert answer.startswith("ok: "), answer
    return ast.literal_eval(answer.removeprefix("ok: "))


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}  # fmt: skip


@pytest.fixture
def planted(tmp_path) -> tuple[Path, Path]:
    """(the run directory, a folder outside it holding a file the links point to)."""
    run, outside = tmp_path / "run", tmp_path / "outside"
    run.mkdir()
    outside.mkdir()
    (outside / "victim").write_text("keep me\n")
    return run, outside


@pytest.mark.parametrize(
    ("name", "target"),
    [
        (schema.LOG_FILE, "victim"),
        (schema.PREDICTIONS_DIR, "."),
        (".hydra", "."),
        (schema.CONFIG_FILE, "victim"),
        (schema.ROUNDS_FILE, "victim"),
        (schema.STATE_FILE, "victim"),
        (schema.DONE_FILE, "/dev/zero"),
        (schema.LOCK_FILE, "victim"),
    ],
)
def test_a_planted_link_is_refused_before_anything_is_written(monkeypatch, planted, name, target):
    run, outside = planted
    (run / name).symlink_to(outside / target if target != "/dev/zero" else target)
    before = snapshot(outside)
    status, err = launch(monkeypatch, run)
    assert status == 2
    assert f"holds {name} (a symbolic link) where deepal-bench reads or writes" in err
    assert "Traceback" not in err
    assert snapshot(outside) == before
    assert [p.name for p in run.iterdir()] == [name]


@pytest.mark.parametrize("name", [schema.LOCK_FILE, schema.ROUNDS_FILE, schema.STATE_FILE])
def test_a_fifo_is_refused_at_once(monkeypatch, planted, name):
    """A FIFO named LOCK kept deepal-bench waiting for ever."""
    run, _ = planted
    os.mkfifo(run / name)
    status, err = launch(monkeypatch, run)
    assert status == 2 and f"holds {name} (a FIFO)" in err


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (alias_bomb(), "config.yaml uses a YAML alias (line 2)"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "config.yaml is nested deeper than 64 levels"),
    ],
    ids=["alias-bomb", "5000-deep"],
)
def test_a_crafted_config_is_one_paragraph(monkeypatch, planted, text, reason):
    """An alias bomb hung the run, a 5000-deep config.yaml ended in a RecursionError."""
    run, _ = planted
    (run / schema.CONFIG_FILE).write_text(text)
    status, err = launch(monkeypatch, run)
    assert status == 2
    assert reason in err and "Traceback" not in err and err.count("\n") == 1


def test_a_crafted_identity_in_the_state_is_one_paragraph(monkeypatch, planted):
    run, _ = planted
    state = {"format": 3, "identity": "[" * 100000 + "]" * 100000}
    torch.save(state, run / schema.STATE_FILE)
    status, err = launch(monkeypatch, run)
    assert status == 2
    assert "state.pt is damaged or was not written by this program (the identity in" in err
    assert "nested deeper than 64 levels" in err and "Traceback" not in err


def test_a_huge_state_is_refused_by_its_size(monkeypatch, planted):
    run, _ = planted
    with open(run / schema.STATE_FILE, "wb") as handle:
        handle.truncate(1 << 40)  # 1 TB that take no disk
    status, err = launch(monkeypatch, run)
    assert status == 2 and "(larger than 17,179,869,184 bytes)" in err


def test_a_link_planted_after_the_start_is_not_written_through(planted):
    """The check at the start and the write are apart in time: every write itself opens
    the folders on its way without following links."""
    run, outside = planted
    store = RunStore(run, lock_timeout=5)
    store.open()
    try:
        (run / schema.PREDICTIONS_DIR).symlink_to(outside)
        with pytest.raises(ConfigError, match="predictions is a symbolic link or no folder"):
            store.write_test_labels(torch.arange(3).numpy())
    finally:
        store.close()
    assert sorted(p.name for p in outside.iterdir()) == ["victim"]


def test_the_job_log_is_never_opened_through_a_link(planted):
    run, outside = planted
    (run / schema.LOG_FILE).symlink_to(outside / "victim")
    handler = NoFollowFileHandler(run / schema.LOG_FILE, delay=True)
    with pytest.raises(OSError):
        handler._open()
    (run / schema.LOG_FILE).unlink()
    os.mkfifo(run / schema.LOG_FILE)
    assert bounded(lambda: _open_refused(handler)) == "ok: 'refused'"
    assert (outside / "victim").read_text() == "keep me\n"


def _open_refused(handler: logging.FileHandler) -> str:
    try:
        handler._open()
    except OSError:
        return "refused"
    return "opened"


def test_writes_below_a_folder_follow_no_link(planted):
    run, outside = planted
    (run / "figures").symlink_to(outside)
    with pytest.raises(UnsafePath, match="figures is a symbolic link or no folder"):
        atomic_write_text(run / "figures" / "victim", "x", within=run)
    (run / "table.csv").symlink_to(outside / "victim")
    atomic_write_text(run / "table.csv", "replaced\n", within=run)  # the link is replaced
    assert not (run / "table.csv").is_symlink() and (run / "table.csv").read_text() == "replaced\n"
    assert (outside / "victim").read_text() == "keep me\n"
    atomic_write_text(run / "deeper" / "inside" / "file", "made\n", within=run)
    assert (run / "deeper" / "inside" / "file").read_text() == "made\n"
