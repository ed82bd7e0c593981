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

Dataset sizes come from the dataset's descriptor (`deepal_bench.data.sizes`); a size that
is not known without the dataset's files is "unknown", with the reason in the notes. The
hours come from the throughput table (`deepal_bench.sweeps.throughput`, which says how a
row is chosen and scaled); an estimate from a row of another input shape or batch size is
marked `~`, an architecture with no row on a device kind gives "unknown", never zero. The
output table is `deepal_bench.cli.plan.format_plan`.

Not counted (the output says so where they apply): the auxiliary training of
training-coupled strategies (CEAL's pseudo-labels, LPL's module, WAAL's critic, VAAL's
networks, adversarial attacks and examples), the selection kernels' own time
(k-center, k-means, ...; docs/benchmarks.md has their measured cost) and the forward
passes of an estimator whose objective re-scores past selections
(`Estimator.extra_forward_passes`: DMLE).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from omegaconf import DictConfig, OmegaConf

from deepal_bench.data.descriptor import Sizes, Unknown
from deepal_bench.data.sizes import dataset_sizes
from deepal_bench.paths import CONF_DIR
from deepal_bench.run.budget import Budget
from deepal_bench.strategies import BatchStrategy, Strategy, build_strategy
from deepal_bench.strategies.base import EMBEDDINGS, LABELED, MC_DROPOUT, PROBS
from deepal_bench.sweeps.expand import expand
from deepal_bench.sweeps.throughput import ThroughputTable, model_spec, shape_label
from deepal_bench.training.estimators import build_estimator
from deepal_bench.training.trainer import TrainerConfig
from deepal_bench.typed import build_dataclass

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
    unknown: str | None = None  # why the dataset's sizes are unknown


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
    labeled = labeled_sizes(budget)
    sizes = dataset_sizes(dataset, budget.validation)
    passes = pool_passes(build_strategy(cfg.strategy), model.get("mc_sampling", "dropout"))
    cost = JobCost(
        dataset_label(dataset),
        str(model["name"]),
        "unknown",
        trials * len(labeled),
        trials * sum(labeled) * trainer.epochs,
        None,
        trainer.early_stop_train_acc is not None,
        dict.fromkeys(table.device_kinds()),
    )
    if passes.uncounted:
        cost.uncounted.append((passes.uncounted, str(cfg.strategy.name)))
    if build_estimator(cfg.estimator).extra_forward_passes:
        cost.uncounted.append((OBJECTIVE, f"estimator {cfg.estimator.name}"))
    if isinstance(sizes, Unknown):
        cost.unknown = sizes.reason
        return cost
    cost.infer_images = trials * inferred_per_trial(labeled, sizes, passes, trainer)
    _estimate_hours(cost, model, sizes, table, trainer)
    return cost


def _estimate_hours(
    cost: JobCost, model: dict, sizes: Sizes, table: ThroughputTable, trainer: TrainerConfig
) -> None:
    """The job's model and input as the throughput table keys them, and its hours per
    device kind that has a row for the model."""
    spec = model_spec(model, sizes.input_shape, sizes.classes)
    cost.model, cost.input = spec.variant, shape_label(sizes.input_shape)
    for kind in cost.hours:
        rate = table.rate(kind, spec, cost.input, trainer)
        if rate is not None:
            seconds = cost.train_images / rate.train + cost.infer_images / rate.infer
            cost.hours[kind] = seconds / 3600
            if not rate.exact or sizes.approximate:
                cost.interpolated.add(kind)


def inferred_per_trial(
    labeled: list[int], sizes: Sizes, passes: PoolPasses, trainer: TrainerConfig
) -> int:
    """Images one trial infers: the query passes before every round after the first, the
    test set every round, the validation set every epoch with `select: best_val`."""
    pool = sizes.train
    queries = sum(passes.candidates * (pool - n) + passes.labeled * n for n in labeled[:-1])
    tests = len(labeled) * sizes.test
    validation = len(labeled) * trainer.epochs * sizes.val
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
    """A sweep's groups and totals; `uncounted` (what is left out -> by whom) and `unknown`
    (dataset -> why its sizes are unknown) become the notes."""

    title: str
    kinds: list[str]
    groups: list[Group]
    total: Group
    uncounted: dict[str, list[str]]
    unknown: dict[str, str] = field(default_factory=dict)


def plan(overrides: list[str], table: ThroughputTable) -> Plan:
    """Expand the sweep of `deepal-bench -m *overrides` and cost every job."""
    groups: dict[tuple[str, str, str], Group] = {}
    result = Plan(sweep_title(overrides), table.device_kinds(), [], Group("total", "", ""), {})
    for job in expand(overrides):
        cost = job_cost(job.config, table)
        key = (cost.dataset, cost.model, cost.input)
        groups.setdefault(key, Group(*key)).add(cost)
        result.total.add(cost)
        for what, who in cost.uncounted:
            names = result.uncounted.setdefault(what, [])
            if who not in names:
                names.append(who)
        if cost.unknown is not None:
            result.unknown.setdefault(cost.dataset, cost.unknown)
    result.groups = list(groups.values())
    return result


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
