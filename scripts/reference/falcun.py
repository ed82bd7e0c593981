"""The authors' side for FALCUN (github sobermeier/falcun): their `active_loop` (seeding,
initial pool, training with their early stop, query, update, evaluation), their models and
their query strategies, called as their executables/falcun_tabular.py calls it.

Shims, all outside their algorithms (listed in docs/fidelity.md):
- data: `get_dataset` of their active_loop returns the suite's exported arrays (as
  `get_openml` returns OpenML data: float tensors, labels, class counts);
- logging: their MLflow logger is replaced by a recorder of the accuracies they log (their
  `database` argument), so mlflow is not needed;
- a missing name: their dataset.py imports DIRTY_MNIST_CONFIG from settings.py, which does
  not define it (so their code cannot be imported as published); it is set to None (only
  their DirtyMNIST loader would read it);
- configuration: their config/*.json files are read with trailing commas tolerated
  (config/strat/falcun.json has one, which Python's json refuses); `num_workers: 0`;
- their prints go to a log file.
"""

import contextlib
import json
import re
import sys
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from scripts.reference.checkout import FALCUN, check_checkout, import_theirs
from scripts.reference.curves import (
    COLUMNS,
    append_runtime,
    curve_path,
    earlier_seeds,
    with_earlier,
    write_curves,
)
from scripts.reference.data import load_arrays
from scripts.reference.suites import Suite


class Recorder:
    """Stands in for their MLFlowLogger: keeps (seed, labeled points, accuracy)."""

    def __init__(self, path: Path | None = None, earlier: pd.DataFrame | None = None) -> None:
        self.rows: list[tuple[int, int, float]] = []
        self.path = path
        self.earlier = pd.DataFrame(columns=COLUMNS) if earlier is None else earlier

    def log_results(self, result: dict, step) -> None:
        for key, value in result.items():
            if key.startswith("acc_"):
                self.rows.append((int(key[4:]), int(step), float(value)))
        if self.path is not None:  # the curves so far, so a stopped run keeps them
            write_curves(self.path, self.frame())

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows, columns=["seed", "n_labeled", "accuracy"])
        frame["round"] = frame.groupby("seed").cumcount()
        return with_earlier(self.earlier, frame)

    def log_params(self, *args, **kwargs) -> None:
        return None

    def log_metric_statistics(self, *args, **kwargs) -> None:
        return None

    def finalise_experiment(self, *args, **kwargs) -> None:
        return None


def read_config(root: Path, name: str) -> dict:
    """One of their config/<name>.json files, trailing commas tolerated."""
    text = (root / "config" / f"{name}.json").read_text()
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


def load_loop(checkout) -> tuple[Path, types.ModuleType]:
    """Their active_loop module (the MLflow logger module stubbed, as the loop only names it
    in a type hint)."""
    root = check_checkout(FALCUN, checkout)
    stub = types.ModuleType("src.deepal.database")
    stub.MLFlowLogger = Recorder
    sys.modules.setdefault("src.deepal.database", stub)
    settings = import_theirs(FALCUN, root, "src.deepal.settings")
    if not hasattr(settings, "DIRTY_MNIST_CONFIG"):
        settings.DIRTY_MNIST_CONFIG = None
    return root, import_theirs(FALCUN, root, "src.deepal.active_loop")


def _their_dataset(arrays: dict):
    """What their get_openml returns, from the exported arrays."""
    y_train = torch.from_numpy(arrays["y_train"]).long()
    counts = torch.tensor(np.bincount(arrays["y_train"]).astype(float))
    return (torch.from_numpy(arrays["x_train"]), y_train, torch.from_numpy(arrays["x_test"]),
            torch.from_numpy(arrays["y_test"]).long(), counts)  # fmt: skip


def _settings(root: Path, suite: Suite, name: str) -> dict:
    """Their active_loop keyword arguments for the suite: config/backbone/linear.json,
    config/ds/openml.json and config/strat/<name>.json with the suite's budget and trainer."""
    backbone, ds = read_config(root, "backbone/linear"), read_config(root, "ds/openml")
    ds.pop("ids", None)
    ds["loader_tr_args"] = {"batch_size": suite.trainer.batch_size, "num_workers": 0}
    ds["loader_te_args"] = {"batch_size": 1000, "num_workers": 0}
    b, t = suite.budget, suite.trainer
    train = dict(backbone["train_params"], lr=t.lr, epochs=t.epochs,
                 early_stopping=t.early_stop_train_acc is not None)  # fmt: skip
    return {
        "acq_strategy": name,
        "model_architecture": backbone["model_architecture"],
        "ds": "openml-reference",
        "al_params": {"n_queries": b.batch, "n_initials": b.initial,
                      "budget": b.initial + b.batch * b.rounds, "weight_reset_type": "new_init"},
        "m_params": dict(backbone["model_params"]),
        "ds_params": ds,
        "train_params": train,
        "acq_strategy_params": read_config(root, f"strat/{name.lower()}")["default"],
    }  # fmt: skip


def run_theirs(
    checkout, suite: Suite, strategy: str, data_file: Path, seeds: int, out: Path, first: int = 0
) -> Path:
    """Seeds first .. seeds-1 of one strategy through their active_loop (the curves file
    keeps an earlier run's seeds below `first`); writes and returns the curves."""
    root, loop = load_loop(checkout)
    arrays = load_arrays(data_file)
    loop.get_dataset = lambda ds, ds_args: _their_dataset(arrays)
    name = suite.strategies[strategy][0]
    path = curve_path(out, suite.name, "theirs", strategy)
    recorder, started = Recorder(path, earlier_seeds(path, first)), time.time()
    log = path.with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    stats_dir = Path(out) / suite.name / "theirs_stats" / strategy
    with log.open("a" if first else "w") as sink, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):  # fmt: skip
        loop.active_loop(**_settings(root, suite, name), database=recorder,
                         seeds=list(range(first, seeds)), output_path=stats_dir)  # fmt: skip
    write_curves(path, recorder.frame())
    append_runtime(out, suite.name, "theirs", strategy, seeds - first, time.time() - started)
    return path
