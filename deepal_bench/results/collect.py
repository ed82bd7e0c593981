"""Find and load runs under results directories (any depth, Hydra multirun included).

A run is a directory with `config.yaml`. Complete runs (completion marker present, records
readable and consistent) are loaded with their provenance; incomplete or damaged ones are
returned as `Skipped` with the reason, never mixed in silently. Every file is read through
`results.safe_read` (regular files below the run directory, no symbolic link followed,
bounded sizes, YAML without aliases, never blocking), so a crafted run is skipped as damaged
and the others are still loaded. Pooling runs into cells is `results.records`.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from deepal_bench.results import schema
from deepal_bench.results.checks import check_config, check_records
from deepal_bench.results.io import done_marker, read_config
from deepal_bench.results.predictions import read_predictions
from deepal_bench.results.provenance import Provenance, read_provenance
from deepal_bench.results.safe_read import DamagedFile, read_csv

HYDRA_FOLDER = ".hydra"  # Hydra's copy of a job's config: never a run directory


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


def run_directories_under(
    roots: list[Path], markers: tuple[str, ...] = (schema.CONFIG_FILE,)
) -> list[Path]:
    """Every folder below `roots` (or a root itself) holding one of `markers` (a run's
    config.yaml by default), found without following a symbolic link to a folder; Hydra's
    `.hydra/` folders are not run directories."""
    found = set()
    for root in roots:
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = [s for s in subfolders if s != HYDRA_FOLDER]
            if any(name in files for name in markers):
                found.add(Path(folder))
    return sorted(found)


_INTERPOLATION = re.compile(r"(\\*)\$\{")


def _escaped(value: object) -> object:
    """`value` with every `${` escaped (and the backslashes before it kept), so OmegaConf
    shows interpolations literally."""
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, str):
        return _INTERPOLATION.sub(lambda m: m[1] * 2 + "\\${", value)
    return value


def _check_plain(value: object, key: str = "") -> None:
    """What OmegaConf could not keep as data: a key that is not a string, the missing-value
    marker `???` (never in a config.yaml this program writes)."""
    if isinstance(value, dict):
        for name, inner in value.items():
            if not isinstance(name, str):
                raise DamagedFile(f"{schema.CONFIG_FILE} has a key {name!r} that is not text")
            _check_plain(inner, f"{key}{name}.")
    elif isinstance(value, list):
        for inner in value:
            _check_plain(inner, key)
    elif value == "???":
        raise DamagedFile(f"{schema.CONFIG_FILE} holds ??? at {key.rstrip('.')}")


def read_run_config(path: Path) -> DictConfig:
    """A run's config.yaml as data: read with `results.io.read_config` (bounded, no
    aliases), interpolations kept literal (never resolved: a config from someone else
    cannot read this machine's environment)."""
    data = read_config(path)
    if data is None:
        raise DamagedFile(f"no {schema.CONFIG_FILE}")
    _check_plain(data)
    try:
        config = OmegaConf.create(_escaped(data))
        kept = OmegaConf.to_container(config, resolve=True) == data
    except OmegaConfBaseException as err:
        raise DamagedFile(f"{schema.CONFIG_FILE} is not a config ({type(err).__name__})") from None
    if not kept:
        raise DamagedFile(f"{schema.CONFIG_FILE} holds values OmegaConf does not keep literally")
    return config


def _damaged(path: Path, reason: object) -> Skipped:
    return Skipped(path, f"damaged records ({reason})", DAMAGED)


def _read_records(path: Path) -> tuple[DictConfig, dict[str, pd.DataFrame]]:
    """The config and the three CSVs; DamagedFile naming what cannot be read."""
    config = read_run_config(path)
    frames = {}
    for name in schema.RECORD_FILES:
        try:
            frames[name] = read_csv(path / name, within=path)
        except FileNotFoundError:
            raise DamagedFile(f"no {name}") from None
    return config, frames


def load_run(path: Path) -> Run | Skipped:
    """Load one run directory, or say why it is skipped."""
    try:
        trials = done_marker(path)
    except DamagedFile as err:
        return _damaged(path, f"unreadable completion marker: {err}")
    if trials is None:
        return Skipped(path, "incomplete (no completion marker)", INCOMPLETE)
    try:
        config, frames = _read_records(path)
    except (DamagedFile, OSError) as err:
        return _damaged(path, str(err).splitlines()[0] if str(err) else type(err).__name__)
    container = OmegaConf.to_container(config, resolve=True)
    problem = (
        check_config(container)
        or check_records(container, trials, frames)
        or _predictions_problem(path)
    )
    if problem:
        return _damaged(path, problem)
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
