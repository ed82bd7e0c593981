"""Find and load runs under results directories (any depth, Hydra multirun included).

A run is a directory with `config.yaml`. Complete runs (completion marker present, records
readable and consistent) are loaded with their provenance; incomplete or damaged ones are
returned as `Skipped` with the reason, never mixed in silently. Pooling runs into cells is
`results.records`.
"""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf

from deepal_bench.results import schema
from deepal_bench.results.checks import check_records
from deepal_bench.results.io import read_done
from deepal_bench.results.predictions import read_predictions
from deepal_bench.results.provenance import Provenance, read_provenance


@dataclass
class Run:
    path: Path
    config: DictConfig
    rounds: pd.DataFrame
    queries: pd.DataFrame
    summary: pd.DataFrame
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def strategy(self) -> str:
        return str(self.config.strategy.name)

    @property
    def setting(self) -> str:
        """Human-readable setting: dataset / model / budget / estimator-selection."""
        c = self.config
        budget = f"{c.budget.initial}+{c.budget.quota}/{c.budget.batch}"
        return f"{c.dataset.name}/{c.model.name}/{budget}/{c.estimator.name}-{c.selection.name}"


INCOMPLETE, DAMAGED, DUPLICATE = "incomplete", "damaged", "duplicate"


@dataclass
class Skipped:
    """A run left out of a report: where, why, and the kind of reason (for the totals)."""

    path: Path
    reason: str
    kind: str = DAMAGED


def run_directories_under(roots: list[Path]) -> list[Path]:
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


def read_run_config(path: Path) -> DictConfig:
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
        config = read_run_config(path)
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
    records = (frames[name] for name in schema.RECORD_FILES)
    return Run(path, config, *records, provenance=read_provenance(path))


def _predictions_problem(path: Path) -> str | None:
    """Why the stored test predictions (`store_predictions=true`) cannot be read, if they
    cannot: an object (pickled) array, another dtype or length, an unreadable file."""
    try:
        read_predictions(path)
    except (OSError, ValueError) as err:
        return f"predictions: {str(err).splitlines()[0]}"
    return None


def collect(roots: list[Path]) -> tuple[list[Run], list[Skipped]]:
    """Every run below `roots`: the complete ones loaded, the others with their reason."""
    runs, skipped = [], []
    for path in run_directories_under(roots):
        loaded = load_run(path)
        (runs if isinstance(loaded, Run) else skipped).append(loaded)
    return runs, skipped
