"""`deepal-bench-plan OVERRIDES...`: what a sweep costs, printed before anything runs.

It takes the overrides of `deepal-bench -m` and expands them exactly as Hydra's basic
sweeper does (`deepal_bench.sweeps.expand`). Per job, from the composed config alone:

- rounds: trials x (budget.rounds + 1);
- images trained: trials x sum over rounds of (labeled-set size x trainer.epochs), an upper
  bound when `trainer.early_stop_train_acc` is set;
- images inferred: per query round the unlabeled pool times the strategy's passes over it
  (1 for probabilities and embeddings; `mc_passes` full passes for MC strategies with
  `model.mc_sampling: train_mode`, 1 with `dropout`, whose trunk runs once), plus the
  labeled set for strategies that need its outputs, the test set every round and the
  validation set every epoch with `trainer.select: best_val`;
- device-hours per device kind: images trained / training images per second + images
  inferred / inference images per second, from the throughput table
  (`deepal_bench/sweeps/throughput.csv`, measured by `scripts/bench_throughput.py`).

Throughput lookup: rows of the same model variant (`model_variant`) on the same device
kind; the row with the nearest forward FLOPs per image (then the nearest training batch
size, then the same `trainer.amp` and `trainer.compile`) is scaled by
min(1, FLOPs(row) / FLOPs(job)): time is taken as proportional to forward FLOPs for a
larger model, and a smaller one is taken to run no faster than the row (small models are
bound by per-step overhead, not arithmetic), an upper bound on its time. An estimate
from a row of another input shape or batch size is marked `~`. A model variant with no
row on a device kind, or a dataset whose size or shape is not known without its files,
gives "unknown", never zero.

Not counted (the output says so where they apply): the auxiliary training of
training-coupled strategies (CEAL's pseudo-labels, LPL's module, WAAL's critic, VAAL's
networks, adversarial attacks and examples) and the selection kernels' own time
(k-center, k-means, ...; docs/benchmarks.md has their measured cost).
"""

import math
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.flop_counter import FlopCounterMode

from deepal_bench.data.sources import resolve_root
from deepal_bench.errors import ConfigError
from deepal_bench.models import build_model
from deepal_bench.paths import CONF_DIR
from deepal_bench.run.budget import Budget
from deepal_bench.strategies import BatchStrategy, Strategy, build_strategy
from deepal_bench.strategies.base import EMBEDDINGS, LABELED, MC_DROPOUT, PROBS
from deepal_bench.sweeps.expand import expand
from deepal_bench.training.trainer import TrainerConfig
from deepal_bench.typed import build_dataclass

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


# -- datasets: input shape and sizes without loading them ----------------------------------


@dataclass(frozen=True)
class DataShape:
    """What the plan needs of a dataset: one input's shape, the training pool and test set
    sizes, the number of classes; `approximate` when a size is estimated."""

    input_shape: tuple[int, ...]
    n_train: int
    n_test: int
    classes: int
    approximate: bool = False


def _held_out(total: int, test_size: float | int) -> tuple[int, int]:
    """(train, test) sizes of `data.splits.stratified_split` (exact: round(f * n) held out)."""
    n_test = round(test_size * total) if isinstance(test_size, float) else int(test_size)
    return total - n_test, n_test


def _square(channels: int, size: int) -> tuple[int, int, int]:
    return (channels, size, size)


# (shape, train, test, classes) at the default options; docs/datasets.md lists the sources.
FIXED = {
    "mnist": ((1, 28, 28), 60_000, 10_000, 10),
    "fashionmnist": ((1, 28, 28), 60_000, 10_000, 10),
    "svhn": ((3, 32, 32), 73_257, 26_032, 10),
    "cifar10": ((3, 32, 32), 50_000, 10_000, 10),
    "tinyimagenet": ((3, 64, 64), 100_000, 10_000, 200),
}
EMNIST = {
    "byclass": (697_932, 116_323, 62),
    "balanced": (112_800, 18_800, 47),
    "letters": (124_800, 20_800, 26),
}
# MedMNIST v2 (Yang et al. 2023): channels, train, val, test, classes.
MEDMNIST = {
    "pneumoniamnist": (1, 4_708, 524, 624, 2),
    "bloodmnist": (3, 11_959, 1_712, 3_421, 8),
    "dermamnist": (3, 7_007, 1_003, 2_005, 7),
}
# FALCUN App. B Table 4: rows, input features, classes (20% test by default).
OPENML = {6: (16_000, 16, 26), 155: (829_201, 10, 10), 156: (800_000, 10, 5)}
# scikit-learn's bundled sets: rows, input shape, classes.
BUNDLED = {
    "digits": (1_797, (1, 28, 28), 10),
    "iris": (150, (4,), 3),
    "wine": (178, (13,), 3),
    "breast_cancer": (569, (30,), 2),
}


def _fixed(name: str, options: dict) -> DataShape:
    shape, n_train, n_test, classes = FIXED[name]
    return DataShape(shape, n_train, n_test, classes)


def _cifar100(options: dict) -> DataShape:
    return DataShape((3, 32, 32), 50_000, 10_000, 20 if options.get("labels") == "coarse" else 100)


def _cifar10_imb(options: dict) -> DataShape:
    ratios = list(options.get("ratios") or [1] * 10)
    n_train = sum(math.floor(5_000 * r / max(ratios)) for r in ratios)
    return DataShape((3, 32, 32), n_train, 10_000, 10)


def _emnist(options: dict) -> DataShape | None:
    sizes = EMNIST.get(options.get("split", "byclass"))
    return DataShape((1, 28, 28), *sizes) if sizes else None


def _medmnist(options: dict) -> DataShape | None:
    facts = MEDMNIST.get(options.get("flag"))
    if facts is None:
        return None
    channels, n_train, n_val, n_test, classes = facts
    pool = n_train + (n_val if options.get("val", "pool") == "pool" else 0)
    return DataShape(_square(channels, int(options.get("size", 28))), pool, n_test, classes)


def _openml(options: dict) -> DataShape | None:
    facts = None if options.get("path") else OPENML.get(options.get("data_id"))
    if facts is None:
        return None
    rows, features, classes = facts
    return DataShape((features,), *_held_out(rows, options.get("test_size", 0.2)), classes)


def _bundled(name: str, options: dict) -> DataShape:
    rows, shape, classes = BUNDLED[name]
    if name == "digits":
        shape = _square(1, int(options.get("image_size", 28)))
    return DataShape(shape, *_held_out(rows, options.get("test_size", 0.3)), classes)


def _breakhis(options: dict) -> DataShape:
    size = int(options.get("image_size") or 224)
    return DataShape(_square(3, size), *_held_out(7_909, options.get("test_size", 0.3)), 2)


def _waterbirds(options: dict) -> DataShape:
    size = int(options.get("image_size") or 224)
    return DataShape(_square(3, size), 4_795, 5_794, 2)


def _inaturalist(options: dict) -> DataShape | None:
    """iNaturalist 2018 (train 437,513 / val 24,426, 14 super-categories), all images."""
    if options.get("max_per_class") or options.get("test_max_per_class"):
        return None
    if options.get("level", "supercategory") != "supercategory":
        return None
    return DataShape(_square(3, int(options.get("image_size") or 32)), 437_513, 24_426, 14)


def _npz(options: dict) -> DataShape | None:
    """Shapes read from the .npz file's array headers (labels read in full), if present."""
    path = options.get("path")
    file = Path(path).expanduser() if path and Path(path).is_absolute() else None
    file = file or resolve_root(options.get("root")) / (path or "dataset.npz")
    if not file.is_file():
        return None
    with zipfile.ZipFile(file) as archive:
        x_shape = _npy_shape(archive, "x_train.npy")
        n_test = _npy_shape(archive, "x_test.npy")[0]
    with np.load(file, allow_pickle=False) as arrays:
        classes = int(max(arrays["y_train"].max(), arrays["y_test"].max())) + 1
    return DataShape(_npz_input_shape(x_shape), x_shape[0], n_test, classes)


def _npy_shape(archive: zipfile.ZipFile, member: str) -> tuple[int, ...]:
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        reader = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        return tuple(reader(f)[0])


def _npz_input_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """One input's shape as `data.user._array` lays the arrays out."""
    if len(shape) == 2:
        return (shape[1],)
    if len(shape) == 3:
        return (1, shape[1], shape[2])
    channels_last = shape[-1] in (1, 3) and shape[1] not in (1, 3)
    return (shape[3], shape[1], shape[2]) if channels_last else tuple(shape[1:])


DATASET_SHAPES: dict[str, Callable[[dict], DataShape | None]] = {
    **{name: (lambda o, n=name: _fixed(n, o)) for name in FIXED},
    **{name: (lambda o, n=name: _bundled(n, o)) for name in BUNDLED},
    "cifar100": _cifar100,
    "cifar10_imb": _cifar10_imb,
    "emnist": _emnist,
    "medmnist": _medmnist,
    "openml": _openml,
    "breakhis": _breakhis,
    "waterbirds": _waterbirds,
    "inaturalist": _inaturalist,
    "npz": _npz,
}


def data_shape(dataset: dict) -> DataShape | None:
    """The dataset's shape and sizes after the catalogue's pipeline steps that change them
    (image_size, subset, imbalance, test_subset); None when unknown without its files."""
    loader = DATASET_SHAPES.get(dataset["name"])
    shape = loader(dataset) if loader is not None else None
    if shape is None:
        return None
    input_shape, n_train, n_test = shape.input_shape, shape.n_train, shape.n_test
    approximate = shape.approximate
    if dataset.get("image_size") and len(input_shape) == 3:
        input_shape = _square(input_shape[0], int(dataset["image_size"]))
    if dataset.get("imbalance"):  # class c keeps floor(n_c r_c / max r); classes taken balanced
        ratios = list(dataset["imbalance"])
        n_train = sum(math.floor(n_train / len(ratios) * r / max(ratios)) for r in ratios)
        approximate = True
    if dataset.get("subset"):
        n_train = min(n_train, int(dataset["subset"]))
    if dataset.get("test_subset"):
        n_test = min(n_test, int(dataset["test_subset"]))
    return DataShape(input_shape, n_train, n_test, shape.classes, approximate)


def shape_label(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)


# -- models: the throughput table's variant key and forward FLOPs --------------------------


@dataclass(frozen=True)
class ModelSpec:
    """A model as the throughput table knows it: variant key and forward FLOPs per input."""

    variant: str
    mflops: float


_CLASS_NAMES = {
    "LeNet": "lenet",
    "MLP": "mlp",
    "ResNet18": "resnet18",
    "ResNet50": "resnet50",
    "SmallViT": "vit_small",
    "ViTB16": "vit_b_16",
}
_SPECS: dict[str, ModelSpec] = {}


def model_variant(name: str, options: dict) -> str:
    """The throughput table's `model` key: the model's name plus what changes its cost
    beyond FLOPs (ResNet18's stem, a frozen ResNet-50 backbone)."""
    if name == "resnet18":
        return f"resnet18/{options.get('stem', 'cifar')}"
    if name == "resnet50" and options.get("freeze"):
        return "resnet50/frozen"
    return name


def model_spec(model: dict, input_shape: tuple[int, ...], classes: int) -> ModelSpec:
    """Variant and forward FLOPs of the job's model, built on the meta device (no weights
    are allocated or loaded)."""
    key = repr((sorted(model.items()), input_shape, classes))
    if key not in _SPECS:
        options = {k: v for k, v in model.items() if k != "pretrained"}
        with torch.device("meta"):
            built = build_model(options, input_shape, classes)
        name = _CLASS_NAMES.get(type(built).__name__, str(model["name"]))
        _SPECS[key] = ModelSpec(model_variant(name, options), forward_mflops(built, input_shape))
    return _SPECS[key]


def forward_mflops(model: torch.nn.Module, input_shape: tuple[int, ...]) -> float:
    """Forward FLOPs of one input (torch.utils.flop_counter), in millions."""
    counter = FlopCounterMode(display=False)
    device = next(model.parameters()).device
    with counter, torch.no_grad():
        model.eval()
        model(torch.zeros((1, *input_shape), device=device))
    return counter.get_total_flops() / 1e6


# -- the throughput table ------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """Images per second for training and inference; `exact` when measured as the job runs
    (same input shape, batch size, amp and compile), else scaled from the nearest row."""

    train: float
    infer: float
    exact: bool


class ThroughputTable:
    """Measured images/s per (device kind, model variant, input shape, batch size, amp,
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
        """The job's images/s on `kind`, or None when the variant has no row there."""
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


# -- per job -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolPasses:
    """Passes over the unlabeled pool and over the labeled set per query round, and what
    the strategy costs beyond them that the plan does not count."""

    candidates: int
    labeled: int
    uncounted: str | None


# What a job costs beyond its counted images that the plan leaves out, by kind.
AUXILIARY = "auxiliary training, attacks and own query passes"
KERNEL = "selection kernel"
OBJECTIVE = "extra forward passes in the training objective"


def pool_passes(strategy: Strategy, mc_sampling: str) -> PoolPasses:
    """From what the strategy asks the query context for (`needs`): one pass for
    probabilities and embeddings (one cached forward), `mc_passes` full passes for MC
    sampling in `train_mode` or one with `dropout` (the trunk runs once, the passes re-sample
    a cheap tail), one over the labeled set for `labeled`; a training-coupled strategy does
    at least one pass of its own."""
    needs = strategy.needs
    passes = int(PROBS in needs or EMBEDDINGS in needs)
    if MC_DROPOUT in needs:
        passes += int(strategy.mc_passes) if mc_sampling == "train_mode" else 1
    labeled = int(LABELED in needs)
    uncounted = None
    if type(strategy).trainer_extension is not Strategy.trainer_extension:
        passes = max(passes, 1)
        uncounted = AUXILIARY
    elif isinstance(strategy, BatchStrategy) and needs:
        uncounted = KERNEL
    return PoolPasses(passes, labeled, uncounted)


@dataclass
class JobCost:
    """One job's workload and estimated hours per device kind (None = unknown)."""

    dataset: str
    model: str
    input: str
    rounds: int
    train_images: int
    infer_images: int | None
    upper_bound: bool
    hours: dict[str, float | None]
    interpolated: set[str] = field(default_factory=set)
    uncounted: list[tuple[str, str]] = field(default_factory=list)


def labeled_sizes(budget: Budget) -> list[int]:
    """Labeled-set size trained on in each round 0..rounds."""
    sizes = [budget.initial]
    for rnd in range(1, budget.rounds + 1):
        sizes.append(sizes[-1] + budget.batch_size(rnd))
    return sizes


def _plain(node: DictConfig) -> dict:
    return OmegaConf.to_container(node, resolve=True)


def dataset_label(dataset: dict) -> str:
    """The dataset's name, its variant (medmnist flag, EMNIST split, OpenML id) and the
    derived-dataset steps that change its pool (subset, redundancy, imbalance)."""
    parts = [dataset.get("flag") or dataset.get("split") or dataset.get("data_id")]
    parts += [f"{k} {dataset[k]}" for k in ("subset", "imbalance") if dataset.get(k)]
    parts += ["redundant"] if dataset.get("redundancy") else []
    details = ", ".join(str(p) for p in parts if p is not None)
    return f"{dataset['name']} ({details})" if details else str(dataset["name"])


def job_cost(cfg: DictConfig, table: ThroughputTable) -> JobCost:
    """Rounds, images and hours of one composed job config."""
    trials = int(cfg.trials)
    budget = build_dataclass("budget", Budget, _plain(cfg.budget))
    trainer = build_dataclass("trainer", TrainerConfig, _plain(cfg.trainer))
    dataset, model = _plain(cfg.dataset), _plain(cfg.model)
    sizes = labeled_sizes(budget)
    train_images = trials * sum(sizes) * trainer.epochs
    shape = data_shape(dataset)
    passes = pool_passes(build_strategy(cfg.strategy), model.get("mc_sampling", "dropout"))
    cost = JobCost(
        dataset_label(dataset),
        str(model["name"]),
        "unknown",
        trials * len(sizes),
        train_images,
        None,
        trainer.early_stop_train_acc is not None,
        dict.fromkeys(table.device_kinds()),
    )
    if passes.uncounted:
        cost.uncounted.append((passes.uncounted, str(cfg.strategy.name)))
    if cfg.estimator.name != "imle":
        cost.uncounted.append((OBJECTIVE, f"estimator {cfg.estimator.name}"))
    if shape is None:
        return cost
    spec = model_spec(model, shape.input_shape, shape.classes)
    cost.model, cost.input = spec.variant, shape_label(shape.input_shape)
    cost.infer_images = trials * inferred_per_trial(sizes, shape, passes, budget, trainer)
    for kind in cost.hours:
        rate = table.rate(kind, spec, cost.input, trainer)
        if rate is not None:
            seconds = cost.train_images / rate.train + cost.infer_images / rate.infer
            cost.hours[kind] = seconds / 3600
            if not rate.exact or shape.approximate:
                cost.interpolated.add(kind)
    return cost


def inferred_per_trial(
    sizes: list[int], shape: DataShape, passes: PoolPasses, budget: Budget, trainer: TrainerConfig
) -> int:
    """Images one trial infers: the query passes before every round after the first, the
    test set every round, the validation set every epoch with `select: best_val`."""
    pool = shape.n_train - budget.validation
    queries = sum(passes.candidates * (pool - n) + passes.labeled * n for n in sizes[:-1])
    tests = len(sizes) * shape.n_test
    validation = len(sizes) * trainer.epochs * budget.validation
    return queries + tests + (validation if trainer.select == "best_val" else 0)


# -- the sweep -----------------------------------------------------------------------------


@dataclass
class Group:
    """Jobs of one dataset x model x input shape, summed."""

    dataset: str
    model: str
    input: str
    jobs: int = 0
    rounds: int = 0
    train_images: int = 0
    infer_images: int | None = 0
    upper_bound: bool = False
    hours: dict[str, float | None] = field(default_factory=dict)
    interpolated: set[str] = field(default_factory=set)

    def add(self, job: JobCost) -> None:
        self.jobs += 1
        self.rounds += job.rounds
        self.train_images += job.train_images
        self.infer_images = _sum(self.infer_images, job.infer_images)
        self.upper_bound |= job.upper_bound
        for kind, hours in job.hours.items():
            self.hours[kind] = _sum(self.hours.get(kind, 0.0), hours)
        self.interpolated |= job.interpolated


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


@dataclass
class Plan:
    """A sweep's groups and totals."""

    title: str
    kinds: list[str]
    groups: list[Group]
    total: Group
    uncounted: dict[str, list[str]]


def plan(overrides: list[str], table: ThroughputTable) -> Plan:
    """Expand the sweep of `deepal-bench -m *overrides` and cost every job."""
    groups: dict[tuple[str, str, str], Group] = {}
    total = Group("total", "", "")
    uncounted: dict[str, list[str]] = {}
    for job in expand(overrides):
        cost = job_cost(job.config, table)
        key = (cost.dataset, cost.model, cost.input)
        groups.setdefault(key, Group(*key)).add(cost)
        total.add(cost)
        for what, who in cost.uncounted:
            names = uncounted.setdefault(what, [])
            if who not in names:
                names.append(who)
    return Plan(
        sweep_title(overrides), table.device_kinds(), list(groups.values()), total, uncounted
    )


def sweep_title(overrides: Iterable[str]) -> str:
    """The preset's first comment line (up to a colon or parenthesis) when an experiment is
    chosen, and the command line."""
    command = "deepal-bench -m " + " ".join(overrides)
    for item in overrides:
        key, _, value = item.lstrip("+").partition("=")
        if key == "experiment":
            preset = CONF_DIR / "experiment" / f"{value}.yaml"
            lines = preset.read_text().splitlines() if preset.is_file() else []
            comments = [x for x in lines if x.startswith("#") and "@package" not in x]
            if comments:
                return re.split(r":| \(", comments[0].lstrip("# "))[0] + f" ({command})"
    return command


# -- output --------------------------------------------------------------------------------


def count(n: int | None) -> str:
    """1,234 below a million, else 1.23 M / 4.56 G."""
    if n is None:
        return "unknown"
    if n < 1_000_000:
        return f"{n:,}"
    return f"{n / 1e6:.2f} M" if n < 1e9 else f"{n / 1e9:.2f} G"


def hours(value: float | None, interpolated: bool, upper_bound: bool) -> str:
    if value is None:
        return "unknown"
    text = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    return ("<=" if upper_bound else "") + ("~" if interpolated else "") + text


def _row(group: Group, kinds: list[str], name: str) -> list[str]:
    bound = "<=" if group.upper_bound else ""
    return [
        name,
        group.input,
        str(group.jobs),
        f"{group.rounds:,}",
        bound + count(group.train_images),
        count(group.infer_images),
        *(hours(group.hours.get(k), k in group.interpolated, group.upper_bound) for k in kinds),
    ]


def format_plan(result: Plan) -> str:
    """The plan as a Markdown table, a totals line and the notes."""
    kinds = result.kinds
    header = [
        "dataset x model",
        "input",
        "jobs",
        "rounds",
        "images trained",
        "images inferred",
        *(f"{k} hours" for k in kinds),
    ]
    rows = [_row(g, kinds, f"{g.dataset} x {g.model}") for g in result.groups]
    rows.append(_row(result.total, kinds, "**total**"))
    lines = [f"| {' | '.join(header)} |", "|" + "---|" * len(header)]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    t = result.total
    costs = ", ".join(
        f"{hours(t.hours.get(k), k in t.interpolated, t.upper_bound)} {k}-hours" for k in kinds
    )
    summary = (
        f"{result.title}: {t.jobs} jobs, {t.rounds:,} rounds, "
        f"{'<=' if t.upper_bound else ''}{count(t.train_images)} images trained, "
        f"{count(t.infer_images)} images inferred; {costs or 'no throughput rows'}."
    )
    notes = [
        "hours: device-hours, one job after another on one device: images trained / training "
        "images/s + images inferred / inference images/s (deepal_bench/sweeps/throughput.csv); ~ = "
        "from a row of another input shape, batch size, amp or compile setting, scaled by "
        "forward FLOPs; unknown = no row for that model there, or a dataset whose size is "
        "unknown without its files.",
    ]
    if kinds == ["cpu"] or not kinds:
        notes.append(
            "no GPU rows in the throughput table yet: measure them on the GPU with "
            "`python scripts/bench_throughput.py --device cuda`."
        )
    if t.upper_bound:
        notes.append("<= = upper bound: trainer.early_stop_train_acc may stop epochs early.")
    for what, names in result.uncounted.items():
        notes.append(f"not counted: the {what} of {', '.join(names)}.")
    return "\n".join([summary, "", *lines, "", *(f"- {n}" for n in notes)])
