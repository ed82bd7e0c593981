"""Each real logger, offline: a run of two trials is read back from what the backend wrote
(TensorBoard event files, MLflow's file store, W&B's offline run files) and equals the
run's rounds.csv and summary.csv. Skipped only where the package is missing; the dev extra
installs all three."""

import json
import struct
from pathlib import Path

import pandas as pd
import pytest

from deepal_bench.results import schema
from deepal_bench.run import loop

METRICS = ["n_labeled", "accuracy", "train_seconds", "query_seconds", "eval_seconds"]
TRIAL_METRICS = ["aubc", "f_acc", "total_seconds"]


def tracked_run(tiny_cfg, tmp_path: Path, monkeypatch, *overrides: str) -> Path:
    """A two-trial run in tmp_path/runs/run (results_root tmp_path/runs) with `overrides`,
    interrupted while training trial 0's last round and then resumed, so that trial 0's
    tracker run is continued by a second session."""
    cfg = tiny_cfg("trials=2", f"results_root={tmp_path / 'runs'}", *overrides, name="runs/run")
    path, train = Path(cfg.output_dir), loop.TrialRun.train

    def interrupted(self, rnd):
        if (self.trial, rnd) == (0, 2):
            raise KeyboardInterrupt
        return train(self, rnd)

    with monkeypatch.context() as patch:
        patch.setattr(loop.TrialRun, "train", interrupted)
        with pytest.raises(KeyboardInterrupt):
            loop.run(cfg, path)
    loop.run(cfg, path)
    return path


def assert_logged_the_records(path: Path, rounds: list[dict], trials: list[dict]) -> None:
    """What a backend logged (one dict per round, one per trial, each with its trial and
    round) equals rounds.csv and summary.csv (float32 where TensorBoard stores it)."""
    expected = pd.read_csv(path / schema.ROUNDS_FILE)[["trial", "round", *METRICS]]
    logged = pd.DataFrame(rounds).sort_values(["trial", "round"], ignore_index=True)
    pd.testing.assert_frame_equal(logged[expected.columns], expected, check_dtype=False)
    summary = pd.read_csv(path / schema.SUMMARY_FILE)[["trial", *TRIAL_METRICS]]
    logged = pd.DataFrame(trials).sort_values("trial", ignore_index=True)
    pd.testing.assert_frame_equal(logged[summary.columns], summary, check_dtype=False)


def test_tensorboard_event_files_hold_the_rounds_and_the_trials(tiny_cfg, tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    path = tracked_run(tiny_cfg, tmp_path, monkeypatch, "logger=tensorboard")
    log_dir = tmp_path / "runs" / "tensorboard" / "run"
    assert sorted(p.name for p in log_dir.iterdir()) == ["trial0", "trial1"]
    rounds, trials = [], []
    for trial in (0, 1):
        events = EventAccumulator(str(log_dir / f"trial{trial}"))
        events.Reload()
        steps = [e.step for e in events.Scalars("accuracy")]
        columns = {c: [e.value for e in events.Scalars(c)] for c in METRICS}
        rounds += [{"trial": trial, "round": step} | {c: v[i] for c, v in columns.items()}
                   for i, step in enumerate(steps)]  # fmt: skip
        ends = {c: events.Scalars(c) for c in TRIAL_METRICS}
        assert {e.step for c in TRIAL_METRICS for e in ends[c]} == {steps[-1]}
        trials.append({"trial": trial} | {c: ends[c][0].value for c in TRIAL_METRICS})
        content = events.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
        hparams = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
        assert hparams.hparams["strategy.name"].string_value == "entropy"
        assert hparams.hparams["trial_seed"].number_value == trial
    assert_logged_the_records(path, rounds, trials)


def test_mlflow_file_store_holds_the_rounds_and_the_trials(tiny_cfg, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for it to use files
    uri = (tmp_path / "mlruns").as_uri()
    path = tracked_run(
        tiny_cfg, tmp_path, monkeypatch, "logger=mlflow", f"logger.tracking_uri={uri}"
    )
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(str(tmp_path / "runs"))
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["run/trial0", "run/trial1"]
    rounds, trials = [], []
    for run in runs:
        assert run.info.status == "FINISHED"
        assert run.data.params["strategy.name"] == "entropy"
        trial = int(run.data.params["trial"])
        assert run.data.params["trial_seed"] == str(trial)
        by_step: dict[int, dict] = {}
        for column in METRICS:
            for m in client.get_metric_history(run.info.run_id, column):
                by_step.setdefault(m.step, {"trial": trial, "round": m.step})[column] = m.value
        rounds += by_step.values()
        trials.append({"trial": trial} | {c: run.data.metrics[c] for c in TRIAL_METRICS})
    assert_logged_the_records(path, rounds, trials)


def wandb_records(path: Path) -> list:
    """The protobuf records of a W&B run file (`run-<id>.wandb`): a 7-byte header, then
    LevelDB's log format (32 KiB blocks of chunks: crc32, length, type; types 1 = full,
    2 = first, 3 = middle, 4 = last)."""
    from wandb.proto import wandb_internal_pb2

    data, position, pending, records = path.read_bytes(), 7, b"", []
    assert data[:4] == b":W&B"
    while position + 7 <= len(data):
        left = 32768 - position % 32768
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if left < 7 or (length, kind) == (0, 0):  # the rest of the block is padding
            position += left
            continue
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            records.append(wandb_internal_pb2.Record.FromString(pending))
            pending = b""
    return records


def _updates(items) -> dict:
    """Key -> value of a record's items (a key is a string or a path of strings)."""
    named = ((i.key or "/".join(i.nested_key), i.value_json) for i in items)
    return {key: json.loads(value) for key, value in named if key}


def test_wandb_offline_files_hold_the_rounds_and_the_trials(tiny_cfg, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    for variable in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(variable, str(tmp_path / "wandb-home"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    path = tracked_run(tiny_cfg, tmp_path, monkeypatch, "logger=wandb", f"logger.dir={tmp_path}")
    files = sorted((tmp_path / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 3  # trial 0 in two sessions of one W&B run, trial 1
    rounds, final = [], {}
    for file in files:
        records = {}
        for record in wandb_records(file):
            records.setdefault(record.WhichOneof("record_type"), []).append(record)
        (run,) = [r.run for r in records["run"]]
        config = _updates(run.config.update)
        trial = config["trial"]
        assert run.display_name == f"run/trial{trial}" and config["trial_seed"] == trial
        assert run.run_group == str(tmp_path / "runs") and run.project == "deepal-bench"
        assert config["strategy"]["name"] == "entropy"
        for history in (_updates(r.history.item) for r in records["history"]):
            rounds.append({"trial": trial, "round": history["_step"]} | history)
        summary = final.setdefault(run.run_id, {"trial": trial})
        assert summary["trial"] == trial
        for update in records["summary"]:
            summary |= _updates(update.summary.update)
    assert len(final) == 2
    assert_logged_the_records(path, rounds, list(final.values()))
