"""Helpers shared by the tests: run directories written in the exact record format."""

import gzip
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf, open_dict

from deepal_bench.cli import run as cli
from deepal_bench.metrics import aubc
from deepal_bench.paths import CONF_DIR
from deepal_bench.results import schema

TIMES = ["train_seconds", "query_seconds", "eval_seconds", "total_seconds"]
TINY = [
    "dataset=wine",
    "trials=1",
    "budget.initial=10",
    "budget.batch=10",
    "budget.quota=20",
    "trainer.epochs=2",
    "progress=false",
]


def compose_config(overrides: list[str] = (), output_dir: Path | None = None) -> DictConfig:
    """The composed job config for `overrides` (no Hydra runtime), output_dir filled in."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    with open_dict(cfg):
        cfg.output_dir = str(output_dir) if output_dir is not None else None
    return cfg


def run_cli(monkeypatch, *argv: str) -> int:
    """`deepal-bench *argv` in this process; its exit status."""
    with monkeypatch.context() as m:
        m.setattr(sys, "argv", ["deepal-bench", *argv])
        try:
            cli.main()
        except SystemExit as exit_:
            return exit_.code
    return 0


def records(path: Path) -> dict[str, pd.DataFrame]:
    """The three CSVs of a run without their timing columns."""
    out = {}
    for name in (schema.ROUNDS_FILE, schema.QUERIES_FILE, schema.SUMMARY_FILE):
        frame = pd.read_csv(path / name)
        out[name] = frame.drop(columns=[c for c in TIMES if c in frame])
    return out


def assert_same_records(a: Path, b: Path) -> None:
    """Two runs wrote the same records, timing columns aside."""
    ra, rb = records(a), records(b)
    for name in ra:
        pd.testing.assert_frame_equal(ra[name], rb[name])


RANDOM = [[0.5, 0.6, 0.7], [0.5, 0.62, 0.72], [0.5, 0.58, 0.68]]
ENTROPY = [[0.5, 0.7, 0.8], [0.5, 0.72, 0.82], [0.5, 0.69, 0.79]]


def config(strategy: str, seed: int = 0, trials: int = 3, **changes) -> dict:
    cfg = {
        "dataset": {"name": "digits", "test_size": 0.3},
        "model": {"name": "lenet"},
        "strategy": {"name": strategy},
        "estimator": {"name": "imle"},
        "selection": {"name": "topk"},
        "budget": {"initial": 10, "batch": 10, "quota": 20, "initial_mode": "random"},
        "trainer": {"epochs": 20, "lr": 0.001},
        "trials": trials,
        "seed": seed,
        "device": "auto",
        "threads": 2,
        "progress": False,
        "results_root": "results/runs",
        "output_dir": "somewhere",
    }
    for key, value in changes.items():
        section, name = key.split("__")
        cfg[section][name] = value
    return cfg


def write_run(
    path: Path,
    cfg: dict,
    curves: list[list[float]],
    query_seconds: float = 0.0,
    done: bool = True,
    extra: dict[str, list[list[float]]] | None = None,
) -> Path:
    """A run directory as the loop writes it: config.yaml, rounds/queries/summary.csv, DONE.
    `extra` maps an additional rounds.csv column to per-trial curves."""
    path.mkdir(parents=True)
    (path / schema.CONFIG_FILE).write_text(OmegaConf.to_yaml(OmegaConf.create(cfg)))
    b = cfg["budget"]
    rounds, queries, summary = [], [], []
    for trial, curve in enumerate(curves):
        n_labeled = [b["initial"] + min(b["quota"], r * b["batch"]) for r in range(len(curve))]
        for rnd, (n, acc) in enumerate(zip(n_labeled, curve, strict=True)):
            q = query_seconds if rnd else 0.0
            row = [trial, cfg["seed"] + trial, rnd, n, acc, 1.0, q, 0.1]
            rounds.append(row + [values[trial][rnd] for values in (extra or {}).values()])
            previous = n_labeled[rnd - 1] if rnd else 0
            queries += [[trial, rnd, i] for i in range(previous, n)]
        total = len(curve) * 1.1 + query_seconds * (len(curve) - 1)
        summary.append([trial, aubc(n_labeled, curve), curve[-1], total])
    columns = schema.ROUNDS_COLUMNS + list(extra or {})
    pd.DataFrame(rounds, columns=columns).to_csv(path / schema.ROUNDS_FILE, index=False)
    pd.DataFrame(queries, columns=schema.QUERIES_COLUMNS).to_csv(
        path / schema.QUERIES_FILE, index=False
    )
    pd.DataFrame(summary, columns=schema.SUMMARY_COLUMNS).to_csv(
        path / schema.SUMMARY_FILE, index=False
    )
    if done:
        (path / schema.DONE_FILE).write_text(f"{len(curves)} trials complete\n")
    return path


def random_and_entropy(root: Path) -> tuple[Path, Path]:
    """The two complete runs most report tests read: random (RANDOM) and entropy (ENTROPY)."""
    return (write_run(root / "random", config("random"), RANDOM),
            write_run(root / "entropy", config("entropy"), ENTROPY))  # fmt: skip


# --- dataset files in their real on-disk formats -------------------------------------


def pattern(n: int, *shape: int, offset: int = 0) -> np.ndarray:
    """Distinct uint8 images: image i holds (offset + 7 i + position) mod 256."""
    size = int(np.prod(shape))
    values = (offset + 7 * np.arange(n)[:, None] + np.arange(size)[None, :]) % 256
    return values.astype(np.uint8).reshape(n, *shape)


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    blob = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path.with_name(path.name + ".gz"), "wb") as handle:
            handle.write(blob)
    else:
        path.write_bytes(blob)


def write_mnist(root: Path, folder: str = "MNIST", n_train: int = 40, n_test: int = 20):
    raw = root / folder / "raw"
    x_train, x_test = pattern(n_train, 28, 28), pattern(n_test, 28, 28, offset=3)
    y_train, y_test = np.arange(n_train) % 10, (np.arange(n_test) * 3) % 10
    write_idx(raw / "train-images-idx3-ubyte", x_train)
    write_idx(raw / "train-labels-idx1-ubyte", y_train, gz=True)
    write_idx(raw / "t10k-images-idx3-ubyte", x_test, gz=True)
    write_idx(raw / "t10k-labels-idx1-ubyte", y_test)
    return x_train, y_train, x_test, y_test


def write_cifar(root: Path, per_class: int = 2) -> tuple[np.ndarray, np.ndarray]:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    x = pattern(10 * per_class, 3072)
    y = np.arange(len(x)) % 10
    for i, part in enumerate(np.array_split(np.arange(len(x)), 5)):
        batch = {b"data": x[part], b"labels": y[part].tolist(), b"batch_label": b"x"}
        (folder / f"data_batch_{i + 1}").write_bytes(pickle.dumps(batch))
    test = {b"data": pattern(10, 3072, offset=5), b"labels": list(range(10))}
    (folder / "test_batch").write_bytes(pickle.dumps(test))
    return x, y
