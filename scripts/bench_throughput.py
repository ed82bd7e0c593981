"""Measure training and inference images/s per (model, input shape, batch size) and write
the throughput table that `deepal-bench-plan` estimates device-hours from.

    python scripts/bench_throughput.py --threads 2                 # CPU rows of this machine
    python scripts/bench_throughput.py --device cuda               # GPU rows (kind from its name)
    python scripts/bench_throughput.py --models lenet --out /tmp/t.csv

Training is `Trainer.fit` (the harness's trainer: Adam, fresh model, the step loop users
run) on synthetic inputs of the shape; inference is `training.inference.predict` (eval mode,
`inference_mode`, `--eval-batch-size` batches). Each measurement doubles its number of
images until one run takes at least half of `--seconds` (the shorter runs are the warm-up:
lazy initialisation, oneDNN/cuDNN kernel choice), then keeps the faster of that run and one
more (the less disturbed); CUDA work is synchronised before the clock stops. Rows of the measured
device kind replace the table's rows with the same key; other rows are kept.
"""

import argparse
import datetime
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.models import build_model
from deepal_bench.run.loop import timed
from deepal_bench.sweeps.throughput import THROUGHPUT_CSV, forward_mflops, shape_label
from deepal_bench.training.estimators import IMLE, TrainContext
from deepal_bench.training.inference import predict
from deepal_bench.training.trainer import Trainer, TrainerConfig

KEY = ["device_kind", "model", "input_shape", "forward_mflops", "batch_size", "amp", "compile"]
INPUT_BYTES_CAP = 2 * 2**30  # synthetic inputs held at once


@dataclass(frozen=True)
class Entry:
    """One grid row: model options, input shape, training batch sizes (CPU, GPU)."""

    model: dict
    shape: tuple[int, ...]
    cpu_batches: tuple[int, ...]
    gpu_batches: tuple[int, ...]


# The models and shapes of the paper presets (docs/reproducing.md) and the defaults.
GRID = (
    Entry({"name": "lenet"}, (1, 28, 28), (64, 128), (32, 64, 128)),
    Entry({"name": "lenet"}, (3, 32, 32), (64, 128), (64, 128)),
    Entry({"name": "mlp", "hidden": 256, "layers": 2}, (16,), (64, 128), (64, 128)),
    Entry({"name": "mlp", "hidden": 1024, "layers": 1}, (16,), (64,), (64,)),
    Entry({"name": "resnet18", "stem": "cifar"}, (3, 32, 32), (128,), (32, 64, 128)),
    Entry({"name": "resnet18", "stem": "cifar"}, (3, 64, 64), (), (128,)),
    Entry({"name": "resnet18", "stem": "imagenet"}, (1, 28, 28), (64, 128), (64, 128)),
    Entry({"name": "resnet18", "stem": "imagenet"}, (3, 32, 32), (64, 128), (64, 128)),
    Entry({"name": "resnet18", "stem": "imagenet"}, (3, 224, 224), (32,), (32, 128)),
    Entry({"name": "resnet50", "freeze": True}, (3, 32, 32), (128,), (128,)),
    Entry({"name": "vit_small"}, (3, 32, 32), (128,), (128,)),
)


def device_kind(device: torch.device) -> str:
    """`cpu`, or the GPU's model from its name ("NVIDIA H200" -> "h200")."""
    if device.type != "cuda":
        return "cpu"
    return re.sub(r"[^a-z0-9]", "", torch.cuda.get_device_name(device).split()[-1].lower())


def synthetic(n: int, shape: tuple[int, ...], classes: int, device: torch.device) -> ALData:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, *shape, generator=gen)
    y = torch.randint(0, classes, (n,), generator=gen)
    return ALData("synthetic", x, y, x[:1], y[:1], classes).to(device)


def train_seconds(entry: Entry, batch: int, n: int, args, device: torch.device) -> float:
    """Seconds of one `Trainer.fit` epoch over `n` synthetic images (fresh model)."""
    data = synthetic(n, entry.shape, 10, device)
    torch.manual_seed(0)
    model = build_model(entry.model, entry.shape, 10).to(device)
    cfg = TrainerConfig(epochs=1, batch_size=batch, amp=args.amp, compile=args.compile)
    trainer = Trainer(cfg, device)
    context = TrainContext(data, torch.arange(n), round=0)
    gen = torch.Generator().manual_seed(0)
    _, seconds = timed(device, lambda: trainer.fit(model, context, IMLE(), gen))
    return seconds


def infer_seconds(entry: Entry, n: int, args, device: torch.device) -> float:
    """Seconds of `predict` over `n` synthetic images."""
    data = synthetic(n, entry.shape, 10, device)
    torch.manual_seed(0)
    model = build_model(entry.model, entry.shape, 10).to(device)
    _, seconds = timed(
        device, lambda: predict(model, data.x_train, args.eval_batch_size, amp=args.amp)
    )
    return seconds


def rate(run: Callable[[int], float], step: int, max_steps: int, seconds: float) -> float:
    """Images/s of `run(n)` (seconds for n images, n a multiple of `step`): n doubles (or
    grows to the estimate for `seconds`) until one run takes at least half of `seconds`,
    the shorter runs serving as warm-up; the faster of that run and one more counts."""
    steps = 2
    while True:
        elapsed = run(steps * step)
        if elapsed >= seconds / 2 or steps >= max_steps:
            break
        steps = min(max_steps, max(2 * steps, math.ceil(steps * seconds / max(elapsed, 1e-3))))
    return steps * step / min(elapsed, run(steps * step))


def measure(entry: Entry, batch: int, args, device: torch.device) -> dict:
    """Training and inference images/s of one grid row."""
    cap = max(1, INPUT_BYTES_CAP // (4 * math.prod(entry.shape)))
    train = rate(
        lambda n: train_seconds(entry, batch, n, args, device), batch, cap // batch, args.seconds
    )
    size = min(args.eval_batch_size, cap)
    infer = rate(lambda n: infer_seconds(entry, n, args, device), size, cap // size, args.seconds)
    with torch.device("meta"):
        meta = build_model(entry.model, entry.shape, 10)
    return {
        "model": meta.architecture,
        "input_shape": shape_label(entry.shape),
        "batch_size": batch,
        "forward_mflops": round(forward_mflops(meta, entry.shape), 4),
        "params": sum(p.numel() for p in meta.parameters()),
        "train_images_per_s": round(train, 1),
        "infer_images_per_s": round(infer, 1),
    }


def provenance(kind: str, args: argparse.Namespace, device: torch.device) -> dict:
    """The row's device kind and how it was measured."""
    return {
        "device_kind": kind,
        "amp": args.amp,
        "compile": args.compile,
        "eval_batch_size": args.eval_batch_size,
        "threads": torch.get_num_threads(),
        "deterministic": args.deterministic,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
    }


def merge(out: Path, rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` replace the rows of `out` with the same key; the others are kept."""
    if out.is_file():
        old = pd.read_csv(out)
        keys = set(map(tuple, rows[KEY].astype(str).values))
        old = old[[tuple(k) not in keys for k in old[KEY].astype(str).values]]
        rows = pd.concat([old, rows], ignore_index=True)
    return rows.sort_values(["device_kind", "model", "input_shape", "batch_size"], kind="stable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--kind", help="device kind column (default: cpu, or the GPU's model)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--models", help="comma-separated model names (default: all)")
    parser.add_argument(
        "--seconds", type=float, help="per measurement (default: 2 on the CPU, 1 on a GPU)"
    )
    parser.add_argument("--eval-batch-size", type=int, default=1024)
    parser.add_argument("--amp", action="store_true", help="bf16 autocast (trainer.amp)")
    parser.add_argument("--compile", action="store_true", help="torch.compile (trainer.compile)")
    parser.add_argument(
        "--no-deterministic",
        dest="deterministic",
        action="store_false",
        help="without torch.use_deterministic_algorithms (deterministic: false), "
        "with cudnn.benchmark",
    )
    parser.add_argument("--out", type=Path, default=THROUGHPUT_CSV)
    args = parser.parse_args()
    device = torch.device(args.device)
    args.seconds = args.seconds or (1.0 if device.type == "cuda" else 2.0)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    else:
        torch.backends.cudnn.benchmark = True
    kind = args.kind or device_kind(device)
    wanted = set(args.models.split(",")) if args.models else None
    rows, start = [], time.perf_counter()
    for entry in GRID:
        if wanted is not None and entry.model["name"] not in wanted:
            continue
        for batch in entry.gpu_batches if device.type == "cuda" else entry.cpu_batches:
            row = measure(entry, batch, args, device)
            rows.append({**row, **provenance(kind, args, device)})
            shown = ("model", "input_shape", "batch_size", "train_images_per_s",
                     "infer_images_per_s")  # fmt: skip
            took = time.perf_counter() - start
            print(", ".join(f"{k}={row[k]}" for k in shown), f"({took:.0f} s)", flush=True)
    table = merge(args.out, pd.DataFrame(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(f"wrote {len(rows)} rows ({len(table)} in all) to {args.out}")


if __name__ == "__main__":
    main()
