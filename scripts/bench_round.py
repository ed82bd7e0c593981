"""One active-learning round of the harness against a bare PyTorch loop (the floor).

    python scripts/bench_round.py --threads 2                   # CPU sizes, LeNet/ResNet18/MLP
    python scripts/bench_round.py --device cuda                 # GPU sizes (50k pool)
    python scripts/bench_round.py --device cuda --amp --compile --models resnet18

The harness side is what users run: a synthetic `dataset=npz` file in a temporary folder
and `loop.run` (the function behind `deepal-bench`) with one query round (budget.quota =
budget.batch), strategy entropy, trials=1; its round-1 `train_seconds`, `query_seconds`
and `eval_seconds` come from the run's rounds.csv. The floor trains a model built from the
same config on the same tensors (the dataset as the harness loads it) for the same number
of labeled points, epochs and batch size with Adam and cross-entropy in a plain loop, and
runs one forward pass over the same unlabeled pool and test set under `inference_mode`.
Floor and harness run `--repeats` times after a warm-up, taking turns to go first; the CSV
keeps the fastest of each (the least disturbed by other processes). `other_seconds` is the
run's wall time outside the timed steps of its two rounds: set-up (loading the npz,
building the model), records, checkpoints. Writes `--out` (CSV) and its Markdown table
(`.md`, the table of docs/benchmarks.md).
"""

import argparse
import csv
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

from deepal_bench.data import load_dataset
from deepal_bench.models import build_model
from deepal_bench.paths import CONF_DIR
from deepal_bench.results import schema
from deepal_bench.run import loop, placement


@dataclass(frozen=True)
class Setting:
    """One benchmarked model: its overrides, input shape and round sizes."""

    name: str
    model: tuple[str, ...]
    shape: tuple[int, ...]
    pool: int
    initial: int
    batch: int
    test: int
    epochs: int
    batch_size: int


CPU = (
    Setting("lenet", ("model=lenet",), (1, 28, 28), 10_000, 1_000, 1_000, 2_000, 20, 64),
    Setting("resnet18", ("model=resnet18", "model.stem=cifar"), (3, 32, 32), 600, 32, 96, 200,
            2, 64),
    Setting("mlp", ("model=mlp",), (32,), 20_000, 1_000, 1_000, 5_000, 20, 64),
)  # fmt: skip
CUDA = (
    Setting("lenet", ("model=lenet",), (1, 28, 28), 50_000, 1_000, 4_000, 10_000, 20, 64),
    Setting("resnet18", ("model=resnet18", "model.stem=cifar"), (3, 32, 32), 50_000, 1_000,
            4_000, 10_000, 20, 128),
    Setting("mlp", ("model=mlp",), (32,), 50_000, 1_000, 4_000, 10_000, 20, 64),
)  # fmt: skip
COLUMNS = (
    "device",
    "model",
    "input_shape",
    "n_pool",
    "n_initial",
    "n_labeled",
    "epochs",
    "batch_size",
    "amp",
    "compile",
    "threads",
    "repeats",
    "floor_train_seconds",
    "harness_train_seconds",
    "train_ratio",
    "floor_query_seconds",
    "harness_query_seconds",
    "query_ratio",
    "floor_eval_seconds",
    "harness_eval_seconds",
    "round_seconds",
    "query_share",
    "other_seconds",
)


def write_npz(path: Path, setting: Setting, classes: int = 10) -> None:
    """A synthetic dataset: class-dependent means plus noise, uint8 images or float rows."""
    rng = np.random.default_rng(0)
    means = rng.uniform(0.2, 0.8, size=(classes, *setting.shape))

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, classes, n)
        x = np.clip(means[y] + rng.normal(0, 0.2, size=(n, *setting.shape)), 0, 1)
        return (x * 255).astype(np.uint8) if len(setting.shape) == 3 else x.astype(np.float32), y

    (x_train, y_train), (x_test, y_test) = split(setting.pool), split(setting.test)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def config(setting: Setting, data: Path, out: Path, args: argparse.Namespace) -> DictConfig:
    """The composed job config of `deepal-bench` for this setting."""
    overrides = [
        "dataset=npz", f"dataset.path={data}", "dataset.augment=null", *setting.model,
        "strategy=entropy", f"budget.initial={setting.initial}", f"budget.batch={setting.batch}",
        f"budget.quota={setting.batch}", f"trainer.epochs={setting.epochs}",
        f"trainer.batch_size={setting.batch_size}", f"trainer.amp={args.amp}",
        f"trainer.compile={args.compile}", "trials=1", f"device={args.device}",
        f"threads={args.threads}", "progress=false",
    ]  # fmt: skip
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    with open_dict(cfg):
        cfg.output_dir = str(out)
    return cfg


def harness(cfg: DictConfig) -> dict[str, float]:
    """Run the job; round 1's timings and the wall time outside the timed steps."""
    start = time.perf_counter()
    loop.run(cfg, Path(cfg.output_dir))
    wall = time.perf_counter() - start
    rounds = pd.read_csv(Path(cfg.output_dir) / schema.ROUNDS_FILE)
    steps = rounds[["train_seconds", "query_seconds", "eval_seconds"]]
    last = rounds[rounds["round"] == 1].iloc[0]
    return {
        "harness_train_seconds": float(last.train_seconds),
        "harness_query_seconds": float(last.query_seconds),
        "harness_eval_seconds": float(last.eval_seconds),
        "other_seconds": wall - float(steps.to_numpy().sum()),
    }


class Floor:
    """The bare loop on the harness's tensors: Adam + cross-entropy, then forward passes."""

    def __init__(self, cfg: DictConfig, setting: Setting, args: argparse.Namespace) -> None:
        self.cfg, self.setting, self.args = cfg, setting, args
        self.device = placement.resolve_device(cfg.device)
        data = load_dataset(cfg.dataset).to(self.device)
        n_labeled = setting.initial + setting.batch
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
        order = order.to(self.device)
        self.x, self.y = data.x_train[order[:n_labeled]], data.y_train[order[:n_labeled]]
        self.pool, self.test = data.x_train[order[setting.initial :]], data.x_test
        self.shape, self.classes = data.input_shape, data.num_classes

    def model(self) -> torch.nn.Module:
        torch.manual_seed(0)
        model = build_model(self.cfg.model, self.shape, self.classes).to(self.device)
        return torch.compile(model) if self.args.compile else model

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.args.amp)

    def train(self, model: torch.nn.Module, epochs: int) -> None:
        opt = torch.optim.Adam(model.parameters(), lr=float(self.cfg.trainer.lr))
        model.train()
        n, batch = len(self.y), self.setting.batch_size
        for _ in range(epochs):
            perm = torch.randperm(n, device=self.device)
            for start in range(0, n, batch):
                idx = perm[start : start + batch]
                with self.autocast():
                    logits = model(self.x[idx])
                loss = F.cross_entropy(logits.float(), self.y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

    @torch.inference_mode()
    def forward(self, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        model.eval()
        out, size = [], int(self.cfg.trainer.eval_batch_size)
        with self.autocast():
            for start in range(0, len(x), size):
                out.append(torch.softmax(model(x[start : start + size]).float(), 1))
        return torch.cat(out)

    def warm_up(self) -> None:
        model = self.model()
        self.train(model, 1)
        self.forward(model, self.test)

    def measure(self) -> dict[str, float]:
        model = self.model()
        _, train = loop.timed(self.device, lambda: self.train(model, self.setting.epochs))
        _, query = loop.timed(self.device, lambda: self.forward(model, self.pool))
        _, test = loop.timed(self.device, lambda: self.forward(model, self.test))
        return {
            "floor_train_seconds": train,
            "floor_query_seconds": query,
            "floor_eval_seconds": test,
        }


def bench(setting: Setting, args: argparse.Namespace, work: Path) -> dict:
    """Fastest floor and harness timings over the repeats, and their ratios."""
    data = work / f"{setting.name}.npz"
    write_npz(data, setting)
    cfg = config(setting, data, work / "warm-up", args)
    placement.configure_torch(cfg, placement.resolve_device(cfg.device), placement.ALONE)
    floor = Floor(cfg, setting, args)
    floor.warm_up()
    best: dict[str, float] = {}
    for repeat in range(args.repeats):
        run = config(setting, data, work / setting.name / f"r{repeat}", args)
        sides = [floor.measure, lambda cfg=run: harness(cfg)]  # alternate which runs first
        times = {k: v for side in sides[:: 1 - 2 * (repeat % 2)] for k, v in side().items()}
        best = {k: min(v, best.get(k, math.inf)) for k, v in times.items()}
    round_seconds = sum(best[f"harness_{k}_seconds"] for k in ("train", "query", "eval"))
    return {
        "device": args.device,
        "model": setting.name,
        "input_shape": "x".join(map(str, setting.shape)),
        "n_pool": setting.pool,
        "n_initial": setting.initial,
        "n_labeled": setting.initial + setting.batch,
        "epochs": setting.epochs,
        "batch_size": setting.batch_size,
        "amp": args.amp,
        "compile": args.compile,
        "threads": torch.get_num_threads(),
        "repeats": args.repeats,
        **best,
        "train_ratio": best["harness_train_seconds"] / best["floor_train_seconds"],
        "query_ratio": best["harness_query_seconds"] / best["floor_query_seconds"],
        "round_seconds": round_seconds,
        "query_share": best["harness_query_seconds"] / round_seconds,
    }


def markdown(rows: list[dict]) -> str:
    """The rows as the table of docs/benchmarks.md."""
    lines = [
        "| device | model | input | labeled x epochs | floor train | harness train | ratio "
        "| floor pool pass | harness query | query share of round | set-up + records |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['device']}{' amp' if r['amp'] else ''}{' compile' if r['compile'] else ''} "
            f"| {r['model']} | {r['input_shape']} | {r['n_labeled']:,} x {r['epochs']} "
            f"| {r['floor_train_seconds']:.2f} s | {r['harness_train_seconds']:.2f} s "
            f"| **{r['train_ratio']:.3f}** | {r['floor_query_seconds']:.2f} s "
            f"({r['n_pool'] - r['n_initial']:,}) | {r['harness_query_seconds']:.2f} s "
            f"| {100 * r['query_share']:.1f} % | {r['other_seconds']:.2f} s |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="lenet,resnet18,mlp")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--amp", action="store_true", help="trainer.amp (bf16 autocast)")
    parser.add_argument("--compile", action="store_true", help="trainer.compile")
    parser.add_argument("--out", type=Path, default=Path("results/bench/round.csv"))
    args = parser.parse_args()
    settings = {s.name: s for s in (CUDA if args.device == "cuda" else CPU)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            rows.append(bench(settings[name], args, Path(tmp)))
            print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    args.out.with_suffix(".md").write_text(markdown(rows) + "\n")
    print(markdown(rows))
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
