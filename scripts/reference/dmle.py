"""The authors' side for DMLE (github neu-spiral/DMLEforAL): their `active_learning_experiment`
(seeding, standardisation, initial point, cycles of query + 10 full-batch steps, their
IMLE and DMLE losses, their Keras MLP and Adam) on the suite's exported Iris split.

Shims, all outside their algorithms (listed in docs/fidelity.md):
- data: their `data` module (which imports tensorflow_datasets and downloads) is replaced
  by one whose `load_data` returns the exported arrays;
- arguments: main.py reads its settings from module globals set under `__main__`
  (init_size, num_cycles, temperature, strategy, dataset, num_epochs); they are set on the
  module, with the values their command line would give;
- paths: main.py saves .npy files under `<dataset>/` of the working directory, so each run
  works in a scratch folder;
- Keras 2: TF_USE_LEGACY_KERAS=1 (tf-keras), the Keras their requirements pin (2.10);
- their prints go to a log file.
"""

import contextlib
import os
import sys
import tempfile
import time
import types
from pathlib import Path

import pandas as pd

from scripts.reference.checkout import DMLE, check_checkout, import_theirs
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

OBJECTIVES = ("imle", "dmle")


def load_main(checkout, arrays: dict) -> types.ModuleType:
    """Their main.py as a module, with the data shim in place of their data.py."""
    root = check_checkout(DMLE, checkout)
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    stub = types.ModuleType("data")
    stub.load_data = lambda dataset, seed: (
        arrays["x_train"],
        arrays["y_train"],
        arrays["x_test"],
        arrays["y_test"],
        [],
        [],
    )
    sys.modules["data"] = stub
    tf = import_theirs(DMLE, root, "tensorflow")
    with contextlib.suppress(RuntimeError):
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    return import_theirs(DMLE, root, "main")


def configure(main: types.ModuleType, suite: Suite, obj: str) -> None:
    """The globals their __main__ block sets from `python main.py 1 5 20 1.0 <seed>
    stochastic_softmax entropy iris <obj>`."""
    b = suite.budget
    main.init_size, main.num_queries, main.num_cycles = b.initial, b.batch, b.rounds
    main.temperature, main.selection, main.strategy = 1.0, "stochastic_softmax", "entropy"
    main.dataset, main.obj, main.num_epochs, main.mode = "iris", obj, 10, "test"


def run_trial(main: types.ModuleType, suite: Suite, obj: str, seed: int, arrays: dict):
    """One seed: their test accuracy after each cycle (they evaluate none before it)."""
    accuracies = main.active_learning_experiment(
        seed, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], [], [],
        sampling_strategy="entropy", selection="stochastic_softmax", obj=obj, mode="test",
    )[0]  # fmt: skip
    b = suite.budget
    return [(seed, c, b.initial + b.batch * c, float(a)) for c, a in enumerate(accuracies, 1)]


def run_theirs(
    checkout, suite: Suite, strategy: str, data_file: Path, seeds: int, out: Path, first: int = 0
) -> Path:
    """Seeds first .. seeds-1 of one estimator through their code (the curves file keeps an
    earlier run's seeds below `first`); writes and returns the curves."""
    arrays = load_arrays(data_file)
    main = load_main(checkout, arrays)
    obj = suite.strategies[strategy][0]
    configure(main, suite, obj)
    path = curve_path(out, suite.name, "theirs", strategy)
    log = path.with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    rows, started, here = [], time.time(), Path.cwd()
    earlier = earlier_seeds(path, first)
    with tempfile.TemporaryDirectory() as scratch, log.open("a" if first else "w") as sink:
        (Path(scratch) / "iris").mkdir()
        os.chdir(scratch)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                for seed in range(first, seeds):  # the curves so far, after every seed
                    rows += run_trial(main, suite, obj, seed, arrays)
                    write_curves(path, with_earlier(earlier, pd.DataFrame(rows, columns=COLUMNS)))
        finally:
            os.chdir(here)
    append_runtime(out, suite.name, "theirs", strategy, seeds - first, time.time() - started)
    return path
