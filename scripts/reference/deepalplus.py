"""The authors' side for DeepAL+ (github SineZHAN/deepALplus): their `Data`, nets, `Net`
training loop and query strategies, driven round by round exactly as their demo.py does.

demo.py is a script (argument parsing, log files and result files at import), so the
adapter repeats its 30-line loop (initialize_labels, train, predict, then query, update,
train, predict per round; CEAL's and WAAL's special calls included) around their objects.
Shims, all outside their algorithms (listed in docs/fidelity.md):
- data: the suite's exported arrays in their `Data`, with their handlers;
- settings: an `args_task` dict built from their parameters.py entry of the same kind,
  with the suite's epochs, learning rate, batch size and classes, and `num_workers: 0`;
- device: `.cuda()` is the identity and faiss k-means runs on the CPU when no GPU exists;
- their prints and progress bars go to a log file.
"""

import argparse
import contextlib
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch

from scripts.reference.checkout import DEEPALPLUS, check_checkout, import_theirs
from scripts.reference.curves import (
    append_runtime,
    curve_path,
    earlier_seeds,
    with_earlier,
    write_curves,
)
from scripts.reference.data import channel_stats, load_arrays
from scripts.reference.suites import Suite


def load_modules(checkout: str | Path) -> SimpleNamespace:
    """Their modules, imported from the checkout (checked first)."""
    root = check_checkout(DEEPALPLUS, checkout)
    names = ("arguments", "parameters", "data", "handlers", "nets", "nets_lossprediction",
             "nets_waal", "utils", "query_strategies")  # fmt: skip
    mods = SimpleNamespace(**{n: import_theirs(DEEPALPLUS, root, n) for n in names})
    mods.root = root
    _device_shims(mods)
    return mods


def _device_shims(mods: SimpleNamespace) -> None:
    """Without a GPU: `.cuda()` returns the object itself, faiss k-means runs on the CPU."""
    if torch.cuda.is_available():
        return
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self
    gpu_kmeans = sys.modules["query_strategies.kmeans_sampling_gpu"]
    original = gpu_kmeans.FaissKmeans

    class CpuFaissKmeans(original):
        def __init__(self, n_clusters=8, gpu=True, n_init=10, max_iter=300):
            super().__init__(n_clusters, False, n_init, max_iter)

    gpu_kmeans.FaissKmeans = CpuFaissKmeans


def their_args(mods: SimpleNamespace, strategy: str, suite: Suite, seed: int) -> argparse.Namespace:
    """Their arguments.py defaults (lpl epochs, CEAL delta, VAAL sizes ...) with the suite's
    budget, as `python demo.py -a <strategy> -s <initial> -q <quota> -b <batch>` sets them."""
    saved, sys.argv = sys.argv, ["demo.py"]
    try:
        args = mods.arguments.get_args()
    finally:
        sys.argv = saved
    b = suite.budget
    args.ALstrategy, args.initseed, args.batch = strategy, b.initial, b.batch
    args.quota, args.seed, args.iteration = b.batch * b.rounds, seed, 1
    return args


def args_task(mods: SimpleNamespace, suite: Suite, arrays: dict) -> dict:
    """Their parameters.py entry for the suite's kind of data, with the suite's settings."""
    kind = suite.extra.get("their_params", "openml")
    task = dict(mods.parameters.args_pool[kind])
    t = suite.trainer
    task.update(
        n_epoch=t.epochs,
        num_class=int(max(arrays["y_train"].max(), arrays["y_test"].max()) + 1),
        optimizer={"adam": "Adam", "sgd": "SGD"}[t.optimizer],
        optimizer_args={"lr": t.lr},
        loader_tr_args={"batch_size": t.batch_size, "num_workers": 0},
        loader_te_args={"batch_size": 1000, "num_workers": 0},
        name=suite.extra.get("their_name", task["name"]),
    )
    if "transforms" in suite.extra:
        mean, std = channel_stats(arrays["x_train"])
        task["transform_train"], task["transform"] = suite.extra["transforms"](mean, std)
    return task


def their_data(mods: SimpleNamespace, suite: Suite, arrays: dict, task: dict):
    """Their `Data` over the exported arrays, with the handler their code uses for them."""
    y_train, y_test = torch.from_numpy(arrays["y_train"]), torch.from_numpy(arrays["y_test"])
    if arrays["x_train"].dtype == np.uint8:  # images: H x W x C uint8, as CIFAR10_Handler
        x_train, x_test = arrays["x_train"], arrays["x_test"]
        handler = mods.handlers.CIFAR10_Handler
    else:  # tabular float features, as get_openml returns them
        x_train, x_test = torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["x_test"])
        handler = mods.handlers.openml_Handler
    return mods.data.Data(x_train, y_train, x_test, y_test, handler, task)


def their_strategy(mods: SimpleNamespace, suite: Suite, name: str, dataset, task, args):
    """Their network and strategy objects (utils.get_net*/get_strategy, or the suite's
    builder for image nets at reduced size)."""
    device = torch.device("cpu")
    build = suite.extra.get("build_net")
    if build is not None:
        net = build(mods, name, task, device)
    elif name == "LossPredictionLoss":
        net = mods.utils.get_net_lpl(suite.extra["their_dataset"], task, device)
    elif name == "WAAL":
        net = mods.utils.get_net_waal(suite.extra["their_dataset"], task, device)
    else:
        net = mods.nets.Net(mods.nets.openml_Net, task, device)
    return mods.utils.get_strategy(name, dataset, net, args, task)


def _train(strategy, name: str, new_data=None) -> None:
    """demo.py's train call for this strategy (CEAL with its pseudo-labeled data, WAAL by
    model name)."""
    if new_data is not None:
        strategy.train(new_data)
    elif name == "WAAL":
        strategy.train(model_name=name)
    else:
        strategy.train()


def run_trial(mods, suite: Suite, name: str, seed: int, arrays: dict) -> list[float]:
    """One trial as demo.py runs it (seeded once, then rounds 0..R); test accuracies."""
    np.random.seed(seed)
    torch.manual_seed(seed)
    task = args_task(mods, suite, arrays)
    dataset = their_data(mods, suite, arrays, task)
    args = their_args(mods, name, suite, seed)
    strategy = their_strategy(mods, suite, name, dataset, task, args)
    dataset.initialize_labels(args.initseed)
    _train(strategy, name)
    accuracy = [dataset.cal_test_acc(strategy.predict(dataset.get_test_data()))]
    for rd in range(1, suite.budget.rounds + 1):
        new_data = None
        if "CEALSampling" in name:
            q_idxs, new_data = strategy.query(args.batch, rd, option=name[13:])
        else:
            q_idxs = strategy.query(args.batch)
        strategy.update(q_idxs)
        _train(strategy, name, new_data)
        accuracy.append(dataset.cal_test_acc(strategy.predict(dataset.get_test_data())))
    return accuracy


def run_theirs(
    checkout, suite: Suite, strategy: str, data_file: Path, seeds: int, out: Path, first: int = 0
) -> Path:
    """Seeds first .. seeds-1 of one strategy through their code (the curves file keeps an
    earlier run's seeds below `first`); writes and returns the curves file."""
    mods = load_modules(checkout)
    arrays = load_arrays(data_file)
    name = suite.strategies[strategy][0]
    path = curve_path(out, suite.name, "theirs", strategy)
    log = path.with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    earlier, rows, started = earlier_seeds(path, first), [], time.time()
    with log.open("a" if first else "w") as sink, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):  # fmt: skip
        for seed in range(first, seeds):  # the curves so far are rewritten after every seed
            accuracy = run_trial(mods, suite, name, seed, arrays)
            rows += [(seed, r, n, a) for r, (n, a) in
                     enumerate(zip(suite.budget.n_labeled, accuracy, strict=True))]  # fmt: skip
            frame = pd.DataFrame(rows, columns=["seed", "round", "n_labeled", "accuracy"])
            write_curves(path, with_earlier(earlier, frame))
    append_runtime(out, suite.name, "theirs", strategy, seeds - first, time.time() - started)
    return path
