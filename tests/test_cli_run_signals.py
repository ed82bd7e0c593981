"""Stop signals with real signals: SIGTERM (SLURM pre-emption), SIGINT, SIGUSR1 and SIGUSR2
(SLURM's --signal, submitit) stop `deepal-bench` once the commit under way is done, release
the lock and hand the signal on; the run, relaunched on another node, resumes at once and
ends with an uninterrupted run's records."""

import os
import signal
import socket
from pathlib import Path

import pytest
from racing import DIGITS, Injected, cfg_yaml, cli_child, run_child, start, wait_until
from support import assert_same_records, compose_config

from deepal_bench.cli import status as status_cli
from deepal_bench.results import schema
from deepal_bench.run import loop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "run"
    process = start(run_child, cfg_yaml(out))
    process.join(120)
    assert process.exitcode == 0
    return out


def stop_in_a_commit(tmp_path: Path, signum: int, handlers: str = "") -> tuple[Path, int]:
    """`deepal-bench` on digits, sent `signum` while it saves its second round; the run
    directory and the exit code (negative: died of that signal)."""
    out = tmp_path / "run"
    marker = str(tmp_path / "committing")
    argv = [*DIGITS, f"output_dir={out}"]
    child = start(cli_child, argv, Injected(pause_in_commit=(marker, 1.0)), handlers)
    wait_until(lambda: Path(marker).exists(), what="the commit of round 1")
    os.kill(child.pid, signum)
    child.join(60)
    return out, child.exitcode


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2])
def test_a_signal_stops_after_the_commit_releases_the_lock_and_a_relaunch_resumes(
    tmp_path, reference, signum, monkeypatch, capsys, caplog
):
    """SIGTERM had no handler: the process died at once, mid-commit, and left a LOCK with a
    fresh heartbeat that made a requeue on another node wait lock_timeout, and status show
    it in progress."""
    out, exitcode = stop_in_a_commit(tmp_path, signum)
    assert exitcode == -signum  # died of the signal, as an unhandled one would have killed it
    assert not (out / schema.LOCK_FILE).exists() and not list(out.glob(".lock-*"))
    log = (out / schema.LOG_FILE).read_text()
    assert f"stopped by {signal.Signals(signum).name} before the next commit" in log
    status_cli.main([str(tmp_path)])
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(
        f"stale        {out}: interrupted at trial 1/1, round 1/2 done, resumes on relaunch  "
    )
    monkeypatch.setattr(socket, "gethostname", lambda: "node-2")  # a requeue elsewhere
    with caplog.at_level("INFO", logger="deepal_bench"):
        loop.run(compose_config([*DIGITS], out), out)
    assert "disagreed" not in caplog.text and "locked by" not in caplog.text
    assert "resumed: entropy on digits" in caplog.text and "at trial 0 round 2" in caplog.text
    assert_same_records(out, reference)


@pytest.mark.parametrize("signum, exitcode", [(signal.SIGUSR2, 255), (signal.SIGTERM, 143)])
def test_a_launchers_handler_runs_once_the_lock_is_released(tmp_path, signum, exitcode):
    """Under submitit, its SIGUSR2 handler requeues the job (exit -1) and it ignores
    SIGTERM; either runs only after the run has stopped and released its lock."""
    out, status = stop_in_a_commit(tmp_path, signum, handlers="launcher")
    assert status == exitcode
    handled = Path(str(out) + ".handled").read_text()
    assert handled == f"{signal.Signals(signum).name} LOCK=False"
