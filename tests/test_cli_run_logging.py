"""Python logging through Hydra's job log: start, one line per round, end; errors."""

from support import run_cli

TINY = ["dataset=wine", "trials=2", "budget.initial=10", "budget.batch=10", "budget.quota=20",
        "trainer.epochs=1"]  # fmt: skip


def test_the_job_log_says_what_happened_round_by_round(monkeypatch, tmp_path, capsys):
    assert run_cli(monkeypatch, *TINY, f"results_root={tmp_path}") == 0
    (log,) = tmp_path.rglob("deepal-bench.log")
    lines = log.read_text().splitlines()
    assert "started: entropy on wine" in lines[0]
    rounds = [line for line in lines if "round " in line and "n_labeled=" in line]
    assert [r.split("] - ")[1].split(":")[0] for r in rounds] == [
        f"trial {t}/2 round {r}/2" for t in (1, 2) for r in range(3)
    ]
    assert "finished: 2 trials, mean AUBC" in lines[-1]
    assert "\r" not in capsys.readouterr().err  # no progress bar when stderr is not a terminal
    assert run_cli(monkeypatch, *TINY, f"results_root={tmp_path}") == 0
    assert "skipped: complete with 2 trials" in log.read_text().splitlines()[-1]


def test_a_run_that_fails_after_it_started_leaves_its_error_in_the_log(monkeypatch, tmp_path):
    """SGD with lr 1e38 diverges in round 0, after the checks (a refused config leaves no
    log: tests/test_cli_run_hydra_outputs.py)."""
    diverging = ["trainer.optimizer=sgd", "trainer.lr=1e38", "trainer.momentum=0",
                 "trainer.epochs=3"]  # fmt: skip
    assert run_cli(monkeypatch, *TINY, f"results_root={tmp_path}", *diverging) == 2
    (log,) = tmp_path.rglob("deepal-bench.log")
    last = log.read_text().splitlines()[-1]
    assert "[ERROR]" in last and "Training diverged in trial 0, round 0" in last


def test_a_failing_job_does_not_stop_the_sweep(monkeypatch, tmp_path, capsys):
    """One job refused (its budget does not fit): the other jobs still run, exit status 2."""
    status = run_cli(monkeypatch, "-m", "budget.quota=100000,10", "strategy=random,entropy",
                     *TINY[:2], "budget.initial=10", "budget.batch=10", "trainer.epochs=1",
                     f"results_root={tmp_path}")  # fmt: skip
    assert status == 2
    assert len(list(tmp_path.rglob("DONE"))) == 2
    assert "2 job(s) of the sweep failed" in capsys.readouterr().err
