"""The throughput table `deepal-bench-plan` estimates device-hours from: measured training
and inference images per second per (device kind, model architecture, input shape, batch
size, amp, compile), written by `scripts/bench_throughput.py` into
`deepal_bench/sweeps/throughput.csv`.

Lookup: rows of the same architecture (`ALModel.architecture`) on the same device kind; the
row with the nearest forward FLOPs per image (then the nearest training batch size, then
the same `trainer.amp` and `trainer.compile`) is scaled by min(1, FLOPs(row) / FLOPs(job)):
time is taken as proportional to forward FLOPs for a larger model, and a smaller one is
taken to run no faster than the row (small models are bound by per-step overhead, not
arithmetic), an upper bound on its time. An architecture with no row on a device kind
gives None ("unknown"), never zero.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from deepal_bench.errors import ConfigError
from deepal_bench.models import build_model
from deepal_bench.training.trainer import TrainerConfig

THROUGHPUT_CSV = Path(__file__).with_name("throughput.csv")
THROUGHPUT_COLUMNS = (
    "device_kind",
    "model",
    "input_shape",
    "batch_size",
    "amp",
    "compile",
    "forward_mflops",
    "train_images_per_s",
    "infer_images_per_s",
)


def shape_label(shape: tuple[int, ...]) -> str:
    """`1x28x28`: the table's `input_shape` key."""
    return "x".join(str(s) for s in shape)


# -- models: the table's architecture key and forward FLOPs --------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """A model as the throughput table knows it: architecture key and forward MFLOPs per input."""

    variant: str
    mflops: float


_SPECS: dict[str, ModelSpec] = {}


def model_spec(model: dict, input_shape: tuple[int, ...], classes: int) -> ModelSpec:
    """Architecture and forward FLOPs of the job's model, built on the meta device (no
    weights are allocated or loaded)."""
    key = repr((sorted(model.items()), input_shape, classes))
    if key not in _SPECS:
        options = {k: v for k, v in model.items() if k != "pretrained"}
        with torch.device("meta"):
            built = build_model(options, input_shape, classes)
        _SPECS[key] = ModelSpec(built.architecture, forward_mflops(built, input_shape))
    return _SPECS[key]


def forward_mflops(model: torch.nn.Module, input_shape: tuple[int, ...]) -> float:
    """Forward FLOPs of one input (torch.utils.flop_counter), in millions."""
    counter = FlopCounterMode(display=False)
    device = next(model.parameters()).device
    with counter, torch.no_grad():
        model.eval()
        model(torch.zeros((1, *input_shape), device=device))
    return counter.get_total_flops() / 1e6


# -- the table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """Images per second for training and inference; `exact` when measured as the job runs
    (same input shape, batch size, amp and compile), else scaled from the nearest row."""

    train: float
    infer: float
    exact: bool


class ThroughputTable:
    """Measured images/s per (device kind, architecture, input shape, batch size, amp,
    compile)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        missing = sorted(set(THROUGHPUT_COLUMNS) - set(frame.columns))
        if missing:
            raise ConfigError(f"throughput table lacks column(s) {', '.join(missing)}.")
        keys = {k: frame[k].astype(str) for k in ("device_kind", "model", "input_shape")}
        self.frame = frame.assign(**keys)

    @classmethod
    def read(cls, path: Path = THROUGHPUT_CSV) -> "ThroughputTable":
        return cls(pd.read_csv(path))

    def device_kinds(self) -> list[str]:
        """Device kinds in table order (CPU first as measured here)."""
        return list(dict.fromkeys(self.frame["device_kind"].astype(str)))

    def rate(self, kind: str, spec: ModelSpec, shape: str, trainer: TrainerConfig) -> Rate | None:
        """The job's images/s on `kind`, or None when the architecture has no row there."""
        batch, amp, compiled = trainer.batch_size, trainer.amp, trainer.compile
        rows = self.frame[(self.frame.device_kind == kind) & (self.frame.model == spec.variant)]
        if rows.empty:
            return None
        row = min(
            rows.itertuples(),
            key=lambda r: (
                abs(math.log(r.forward_mflops / spec.mflops)),
                abs(math.log(r.batch_size / batch)),
                bool(r.amp) != amp or bool(r.compile) != compiled,
            ),
        )
        scale = min(1.0, float(row.forward_mflops) / spec.mflops)
        exact = (
            row.input_shape == shape
            and int(row.batch_size) == batch
            and (bool(row.amp), bool(row.compile)) == (amp, compiled)
            and abs(math.log(row.forward_mflops / spec.mflops)) < 0.01
        )
        return Rate(row.train_images_per_s * scale, row.infer_images_per_s * scale, exact)
