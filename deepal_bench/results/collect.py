"""Find, load and group runs under results directories (any depth, Hydra multirun included).

A run is a directory with `config.yaml`. Complete runs (completion marker present, records
readable and consistent) are loaded; incomplete or damaged ones are returned as `Skipped`
with the reason, never mixed in silently.

Runs are then grouped into (setting, strategy) cells whose trials are pooled. Two runs are
pooled only if their configs match apart from the seed and the trial count (and keys that
do not change what a run computes); otherwise the differing keys are named and the runs
are kept apart, by suffixing the setting (or strategy) label with those keys' values.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf

from deepal_bench.metrics.records import TRIAL_METRICS
from deepal_bench.results import schema
from deepal_bench.results.checks import check_records
from deepal_bench.results.identity import NON_IDENTITY_KEYS, differing_keys
from deepal_bench.results.io import read_done
from deepal_bench.results.predictions import read_predictions

# Keys ignored when deciding whether two runs of a cell may be pooled.
POOLING_IGNORED_KEYS = (*NON_IDENTITY_KEYS, "seed", "store_predictions")
# The default setting label: dataset / model / budget / estimator-selection.
DEFAULT_GROUP_BY = (
    "dataset.name",
    "model.name",
    "budget.initial",
    "budget.quota",
    "budget.batch",
    "estimator.name",
    "selection.name",
)


@dataclass
class Run:
    path: Path
    config: DictConfig
    rounds: pd.DataFrame
    queries: pd.DataFrame
    summary: pd.DataFrame

    @property
    def strategy(self) -> str:
        return str(self.config.strategy.name)

    @property
    def setting(self) -> str:
        """Human-readable setting: dataset / model / budget / estimator-selection."""
        c = self.config
        budget = f"{c.budget.initial}+{c.budget.quota}/{c.budget.batch}"
        return f"{c.dataset.name}/{c.model.name}/{budget}/{c.estimator.name}-{c.selection.name}"

    @property
    def is_full_data(self) -> bool:
        """A reference run without acquisition (budget.quota = 0): DeepAL+'s "Full" row when
        budget.initial is the whole training pool."""
        return int(self.config.budget.quota) == 0

    def pooling_config(self) -> dict:
        """The resolved config without the keys that may differ between pooled runs."""
        container = OmegaConf.to_container(self.config, resolve=True)
        for key in POOLING_IGNORED_KEYS:
            container.pop(key, None)
        return container


INCOMPLETE, DAMAGED, DUPLICATE = "incomplete", "damaged", "duplicate"


@dataclass
class Skipped:
    """A run left out of a report: where, why, and the kind of reason (for the totals)."""

    path: Path
    reason: str
    kind: str = DAMAGED


@dataclass
class Cell:
    """The runs of one strategy on one setting whose trials are pooled."""

    setting: str
    strategy: str
    runs: list[Run] = field(default_factory=list)

    @property
    def config(self) -> DictConfig:
        return self.runs[0].config


def find_run_dirs(roots: list[Path]) -> list[Path]:
    """Every directory below `roots` (or a root itself) that holds a config.yaml."""
    found = set()
    for root in roots:
        root = Path(root)
        if (root / schema.CONFIG_FILE).is_file():
            found.add(root)
        found.update(p.parent for p in root.rglob(schema.CONFIG_FILE) if ".hydra" not in p.parts)
    return sorted(found)


def _escaped(value: object) -> object:
    """`value` with every `${` escaped, so OmegaConf shows interpolations literally."""
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, str):
        return value.replace("${", "\\${")
    return value


def read_config(path: Path) -> DictConfig:
    """A run's config.yaml as data: parsed safely, interpolations kept literal (never
    resolved: a config from someone else cannot read this machine's environment)."""
    data = yaml.safe_load((path / schema.CONFIG_FILE).read_text())
    if not isinstance(data, dict):
        raise ValueError("config.yaml is not a mapping")
    return OmegaConf.create(_escaped(data))


def load_run(path: Path) -> Run | Skipped:
    """Load one run directory, or say why it is skipped."""
    trials = read_done(path)
    if trials is None:
        return Skipped(path, "incomplete (no completion marker)", INCOMPLETE)
    if trials == 0:
        return Skipped(path, "damaged records (unreadable completion marker DONE)", DAMAGED)
    try:
        config = read_config(path)
        frames = {name: pd.read_csv(path / name) for name in schema.RECORD_FILES}
    except (OSError, ValueError, yaml.YAMLError, pd.errors.ParserError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return Skipped(path, f"damaged records ({reason})", DAMAGED)
    try:
        container = OmegaConf.to_container(config, resolve=True)
        problem = check_records(container, trials, frames)
    except (KeyError, TypeError, ValueError) as err:
        problem = f"config.yaml lacks or mistypes a key ({type(err).__name__}: {err})"
    problem = problem or _predictions_problem(path)
    if problem:
        return Skipped(path, f"damaged records ({problem})", DAMAGED)
    return Run(path, config, *(frames[name] for name in schema.RECORD_FILES))


def _predictions_problem(path: Path) -> str | None:
    """Why the stored test predictions (`store_predictions=true`) cannot be read, if they
    cannot: an object (pickled) array, another dtype or length, an unreadable file."""
    try:
        read_predictions(path)
    except (OSError, ValueError) as err:
        return f"predictions: {str(err).splitlines()[0]}"
    return None


def collect(roots: list[Path]) -> tuple[list[Run], list[Skipped]]:
    runs, skipped = [], []
    for path in find_run_dirs(roots):
        loaded = load_run(path)
        (runs if isinstance(loaded, Run) else skipped).append(loaded)
    return runs, skipped


def _select(config: dict, key: str):
    value = config
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _label(config: dict, group_by: tuple[str, ...] | None) -> str:
    if group_by is None:
        b = config["budget"]
        return (
            f"{config['dataset']['name']}/{config['model']['name']}/"
            f"{b['initial']}+{b['quota']}/{b['batch']}/"
            f"{config['estimator']['name']}-{config['selection']['name']}"
        )
    return "/".join(str(_select(config, key)) for key in group_by)


def _disambiguate(label: str, configs: dict[str, dict]) -> tuple[dict[str, str], str | None]:
    """Label per distinct config (by its JSON key) and a note naming the differing keys."""
    if len(configs) == 1:
        return {key: label for key in configs}, None
    first, *others = configs.values()
    keys = sorted({k for other in others for k in differing_keys(first, other)})
    labels = {
        key: f"{label} [{', '.join(f'{k}={_select(c, k)}' for k in keys)}]"
        for key, c in configs.items()
    }
    note = (
        f"{label}: {len(configs)} configs differ in {', '.join(keys)}; "
        "their runs are not averaged together"
    )
    return labels, note


def _key(config: dict) -> str:
    return json.dumps(config, sort_keys=True, default=str)


def _without_strategy(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "strategy"}


def group_cells(
    runs: list[Run], group_by: tuple[str, ...] | None = None
) -> tuple[list[Cell], list[Skipped], list[str]]:
    """Pool runs into (setting, strategy) cells; returns cells, duplicate runs, notes.

    The setting label is built from the `group_by` config keys (default: dataset, model,
    budget, estimator, selection). Runs whose configs (without the strategy) differ but
    share a label get the differing keys appended to the label; runs of one strategy whose
    strategy configs differ likewise. A run whose trial seeds already appear in its cell
    (the same trials twice) is skipped as a duplicate.
    """
    notes: list[str] = []
    configs = {id(run): run.pooling_config() for run in runs}
    by_label: dict[str, dict[str, dict]] = {}
    for run in runs:
        setting_config = _without_strategy(configs[id(run)])
        label = _label(configs[id(run)], group_by)
        by_label.setdefault(label, {})[_key(setting_config)] = setting_config
    setting_of: dict[str, str] = {}
    for label, variants in by_label.items():
        labels, note = _disambiguate(label, variants)
        setting_of.update(labels)
        notes += [note] if note else []
    setting = {id(run): setting_of[_key(_without_strategy(configs[id(run)]))] for run in runs}
    by_strategy: dict[tuple[str, str], dict[str, dict]] = {}
    for run in runs:
        part = {"strategy": configs[id(run)]["strategy"]}
        by_strategy.setdefault((setting[id(run)], run.strategy), {})[_key(part)] = part
    strategy_of: dict[tuple[str, str], str] = {}
    for (label, name), variants in by_strategy.items():
        labels, note = _disambiguate(name, variants)
        strategy_of.update({(label, key): value for key, value in labels.items()})
        notes += [f"{label}: {note}"] if note else []
    cells: dict[tuple[str, str], Cell] = {}
    duplicates: list[Skipped] = []
    for run in sorted(runs, key=lambda r: str(r.path)):
        label = setting[id(run)]
        strategy = strategy_of[(label, _key({"strategy": configs[id(run)]["strategy"]}))]
        cell = cells.setdefault((label, strategy), Cell(label, strategy))
        seen = {int(s) for r in cell.runs for s in r.rounds["seed"].unique()}
        repeated = sorted(seen & {int(s) for s in run.rounds["seed"].unique()})
        if repeated:
            reason = f"duplicate trials (seeds {repeated}) of {label}, {strategy}"
            duplicates.append(Skipped(run.path, reason, DUPLICATE))
            continue
        cell.runs.append(run)
    return [cells[k] for k in sorted(cells)], duplicates, notes


def trial_table(cells: list[Cell]) -> pd.DataFrame:
    """One row per (setting, strategy, trial): AUBC, F-acc, times, first/last-cycle accuracy."""
    rows = []
    for cell in cells:
        for run in cell.runs:
            for trial in run.summary.itertuples():
                mine = run.rounds[run.rounds["trial"] == trial.trial].sort_values("round")
                acc = mine["accuracy"].to_numpy()
                rows.append(
                    {
                        "setting": cell.setting,
                        "strategy": cell.strategy,
                        "dataset": str(run.config.dataset.name),
                        "model": str(run.config.model.name),
                        "batch": int(run.config.budget.batch),
                        "seed": int(mine["seed"].iloc[0]),
                        "n_labeled": int(mine["n_labeled"].iloc[-1]),
                        **{name: float(getattr(trial, name)) for name in TRIAL_METRICS},
                        "al_seconds": float((mine["train_seconds"] + mine["query_seconds"]).sum()),
                        "first_acc": float(acc[1] if len(acc) > 1 else acc[0]),
                        "last_acc": float(acc[-1]),
                        "path": str(run.path),
                    }
                )
    return pd.DataFrame(rows)


def round_table(cells: list[Cell]) -> pd.DataFrame:
    """One row per (setting, strategy, trial, round), with every rounds.csv column."""
    frames = [
        run.rounds.assign(setting=cell.setting, strategy=cell.strategy)
        for cell in cells
        for run in cell.runs
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
