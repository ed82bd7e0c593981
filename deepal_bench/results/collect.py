"""Find and load runs under results directories (any depth, Hydra multirun layout included).

A run is a directory with `config.yaml`. Complete runs (completion marker present, records
readable and consistent) are loaded; incomplete or damaged ones are returned as `Skipped`
with the reason, never mixed in silently.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from deepal_bench.results import schema

# Keys that distinguish strategies within a setting, not settings from each other.
STRATEGY_KEYS = ("strategy", "seed")


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


@dataclass
class Skipped:
    path: Path
    reason: str


def find_run_dirs(roots: list[Path]) -> list[Path]:
    """Every directory below `roots` (or a root itself) that holds a config.yaml."""
    found = set()
    for root in roots:
        root = Path(root)
        if (root / schema.CONFIG_FILE).is_file():
            found.add(root)
        found.update(p.parent for p in root.rglob(schema.CONFIG_FILE) if ".hydra" not in p.parts)
    return sorted(found)


def load_run(path: Path) -> Run | Skipped:
    """Load one run directory, or say why it is skipped."""
    if not (path / schema.DONE_FILE).exists():
        return Skipped(path, "incomplete (no completion marker)")
    try:
        config = OmegaConf.load(path / schema.CONFIG_FILE)
        rounds = pd.read_csv(path / schema.ROUNDS_FILE)
        queries = pd.read_csv(path / schema.QUERIES_FILE)
        summary = pd.read_csv(path / schema.SUMMARY_FILE)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        return Skipped(path, f"damaged records ({err})")
    for frame, columns, name in (
        (rounds, schema.ROUNDS_COLUMNS, schema.ROUNDS_FILE),
        (queries, schema.QUERIES_COLUMNS, schema.QUERIES_FILE),
        (summary, schema.SUMMARY_COLUMNS, schema.SUMMARY_FILE),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            return Skipped(path, f"damaged records ({name} lacks {', '.join(missing)})")
    trials = int(config.trials)
    if sorted(summary["trial"]) != list(range(trials)):
        return Skipped(path, f"damaged records (summary has trials {list(summary['trial'])})")
    return Run(path, config, rounds, queries, summary)


def collect(roots: list[Path]) -> tuple[list[Run], list[Skipped]]:
    runs, skipped = [], []
    for path in find_run_dirs(roots):
        loaded = load_run(path)
        (runs if isinstance(loaded, Run) else skipped).append(loaded)
    return runs, skipped
