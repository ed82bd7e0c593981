"""Live tracking as an observer of the loop: what a backend receives, what a failing or
hanging one cannot change, bad logger input, and the logger outside the run's identity."""

import importlib.util
import threading
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import open_dict
from support import assert_same_records, compose_config, run_cli

from deepal_bench.errors import ConfigError
from deepal_bench.paths import CONF_DIR
from deepal_bench.results import schema
from deepal_bench.results.identity import config_hash
from deepal_bench.run import loop, tracking
from deepal_bench.run.tracking import TRACKERS, Backend, check_logger

METRICS = ["n_labeled", "accuracy", "train_seconds", "query_seconds", "eval_seconds"]
# What a backend is called with for two trials of three rounds, in order.
CALLS = ["__init__", *2 * ["start_trial", *3 * ["log_round"], "log_trial", "end_trial"]]


class Recorder(Backend):
    """Keeps every call; fails (RuntimeError) in the method named `fail_in`."""

    name = "recording"
    package = extra = "json"
    calls: list[tuple] = []

    def __init__(self, run, fail_in: str | None = None) -> None:
        super().__init__(run)
        self.fail_in = fail_in
        self._call("__init__", run.name)

    def _call(self, method: str, *args) -> None:
        if method == self.fail_in:
            raise RuntimeError(f"tracker down in {method}")
        Recorder.calls.append((method, *args))

    def start_trial(self, trial, seed):
        self._call("start_trial", trial, seed, self.run.flat_params(trial, seed))

    def log_round(self, step, metrics):
        self._call("log_round", step, metrics)

    def log_trial(self, step, metrics):
        self._call("log_trial", step, metrics)

    def end_trial(self, finished):
        self._call("end_trial", finished)


class Missing(Recorder):
    name = "missing"
    package = "deepal_bench_no_such_package"
    extra = "missing"


class Hanging(Recorder):
    name = "hanging"
    released = threading.Event()  # replaced per test by the fixture, set at its end

    def log_round(self, step, metrics):
        Hanging.released.wait(30)


@pytest.fixture
def backends(monkeypatch):
    """The test backends registered under their names; Recorder's calls cleared."""
    for cls in (Recorder, Missing, Hanging):
        monkeypatch.setitem(TRACKERS._items, cls.name, cls)
    monkeypatch.setattr(Recorder, "calls", [])
    monkeypatch.setattr(Hanging, "released", threading.Event())
    yield
    Hanging.released.set()


def tracked_run(tiny_cfg, tmp_path: Path, name: str, *overrides: str) -> Path:
    cfg = tiny_cfg("trials=2", f"results_root={tmp_path}", *overrides, name=name)
    loop.run(cfg, Path(cfg.output_dir))
    return Path(cfg.output_dir)


@pytest.fixture
def untracked(tiny_cfg, tmp_path) -> Path:
    return tracked_run(tiny_cfg, tmp_path, "untracked")


def of(calls: list[tuple], method: str) -> list[tuple]:
    return [call for call in calls if call[0] == method]


def tracker_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == tracking.__name__]


def test_every_logger_has_one_yaml_and_an_extra():
    yamls = sorted(p.stem for p in (CONF_DIR / "logger").glob("*.yaml"))
    assert yamls == TRACKERS.names() == ["mlflow", "none", "tensorboard", "wandb"]
    pyproject = (CONF_DIR.parent / "pyproject.toml").read_text()
    for name in ("tensorboard", "mlflow", "wandb"):
        cls = TRACKERS.get(name)
        assert cls.extra == name and f"\n{name} = [" in pyproject
        compose_config([f"logger={name}"])


def test_each_trial_is_one_tracker_run_fed_the_records_rows(tiny_cfg, tmp_path, backends):
    path = tracked_run(tiny_cfg, tmp_path, "run", "logger.name=recording")
    rounds = pd.read_csv(path / schema.ROUNDS_FILE)
    summary = pd.read_csv(path / schema.SUMMARY_FILE)
    calls = Recorder.calls
    assert calls[0] == ("__init__", "run")
    assert [c[0] for c in calls] == CALLS
    starts = of(calls, "start_trial")
    assert [(trial, seed) for _, trial, seed, _ in starts] == [(0, 0), (1, 1)]
    params = starts[1][3]
    assert params["strategy.name"] == "entropy" and params["dataset.name"] == "wine"
    assert params["budget.quota"] == 20 and params["trial"] == 1 and params["trial_seed"] == 1
    assert not any(key.startswith(("logger", "output_dir", "trials")) for key in params)
    logged = pd.DataFrame([{"round": step, **m} for _, step, m in of(calls, "log_round")])
    expected = rounds[["round", *METRICS]]
    pd.testing.assert_frame_equal(logged[expected.columns], expected, check_dtype=False)
    assert [step for _, step, _ in of(calls, "log_trial")] == [2, 2]
    trials = pd.DataFrame([m for _, _, m in of(calls, "log_trial")])
    pd.testing.assert_frame_equal(trials, summary.drop(columns="trial"), check_dtype=False)
    assert [finished for _, finished in of(calls, "end_trial")] == [True, True]


@pytest.mark.parametrize("fail_in", ["__init__", "start_trial", "log_round", "log_trial",
                                     "end_trial"])  # fmt: skip
def test_a_failing_logger_warns_once_and_leaves_the_records_unchanged(
    tiny_cfg, tmp_path, backends, untracked, caplog, fail_in
):
    with caplog.at_level("WARNING", logger="deepal_bench"):
        path = tracked_run(tiny_cfg, tmp_path, "tracked", "logger.name=recording",
                           f"+logger.fail_in={fail_in}")  # fmt: skip
    assert_same_records(path, untracked)
    assert (path / schema.DONE_FILE).is_file()
    (warning,) = tracker_warnings(caplog)
    assert f"logger 'recording' failed (RuntimeError: tracker down in {fail_in})" in warning
    assert "its records are not affected" in warning
    assert [c[0] for c in Recorder.calls] == CALLS[: CALLS.index(fail_in)]


def test_a_hanging_logger_neither_delays_nor_blocks_the_run(
    tiny_cfg, tmp_path, backends, untracked, caplog, monkeypatch
):
    monkeypatch.setattr(tracking, "CLOSE_TIMEOUT", 0.2)
    with caplog.at_level("WARNING", logger="deepal_bench"):
        path = tracked_run(tiny_cfg, tmp_path, "tracked", "logger.name=hanging")
    assert_same_records(path, untracked)
    (warning,) = tracker_warnings(caplog)
    assert "logger 'hanging' did not finish within 0.2 s" in warning


def test_a_missing_package_is_refused_naming_the_extra_before_anything_is_written(
    tmp_path, backends, monkeypatch, capsys
):
    status = run_cli(monkeypatch, "dataset=wine", "trials=1", f"results_root={tmp_path}",
                     "logger.name=missing")  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert (
        "logger=missing needs the Python package 'deepal_bench_no_such_package', which is not "
        "installed: install it with pip install 'deepal-bench[missing]'"
    ) in err
    assert [f for f in tmp_path.rglob("*") if f.is_file()] == []  # not even the job log


@pytest.mark.parametrize("name", ["tensorboard", "mlflow", "wandb"])
def test_a_real_logger_is_accepted_exactly_when_its_package_is_installed(name):
    cfg = compose_config([f"logger={name}"])
    if importlib.util.find_spec(TRACKERS.get(name).package) is None:
        with pytest.raises(ConfigError, match=rf"pip install 'deepal-bench\[{name}\]'"):
            check_logger(cfg)
    else:
        check_logger(cfg)


def test_an_unknown_logger_lists_the_valid_ones(tmp_path, monkeypatch, capsys):
    assert run_cli(monkeypatch, "logger=nope", f"results_root={tmp_path}") != 0
    err = capsys.readouterr().err
    assert "logger/nope" in err
    assert all(name in err for name in ("mlflow", "none", "tensorboard", "wandb"))
    with pytest.raises(ConfigError, match="Unknown logger.name 'nope'. Valid choices: mlflow, "):
        check_logger(compose_config(["logger.name=nope"]))
    with pytest.raises(
        ConfigError, match="Invalid logger.mode='sometimes': it must be one of online, offline"
    ):
        check_logger(compose_config(["logger=wandb", "logger.mode=sometimes"]))
    with pytest.raises(ConfigError, match="logger 'tensorboard' got an unexpected option"):
        check_logger(compose_config(["logger=tensorboard", "+logger.project=x"]))


@pytest.mark.parametrize("preset", [[], ["experiment=deepal_plus/mnist"], ["experiment=quick"]])
def test_the_logger_is_not_part_of_the_run_identity(preset):
    hashes = {config_hash(compose_config([*preset, f"logger={name}"])) for name in TRACKERS}
    before = compose_config(preset)  # as composed before the logger group existed
    with open_dict(before):
        del before["logger"]
    assert hashes == {config_hash(before)}


def test_a_resumed_run_may_log_elsewhere(tiny_cfg, tmp_path, backends):
    first = tiny_cfg("trials=1", f"results_root={tmp_path}")
    loop.run(first, Path(first.output_dir))
    more = tiny_cfg("trials=2", f"results_root={tmp_path}", "logger.name=recording")
    loop.run(more, Path(more.output_dir))
    assert [trial for _, trial, _, _ in of(Recorder.calls, "start_trial")] == [1]
    assert len(of(Recorder.calls, "log_round")) == 3
