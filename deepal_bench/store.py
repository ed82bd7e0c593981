"""A run directory: resolved config, per-round records, resumable state, completion marker.

All files are written atomically. `state.pt` holds everything needed to resume (the rows
so far, the current trial's labeled mask, model weights and selection history); CSVs are
rewritten from it after every round, so they never disagree with the state.
"""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf

from deepal_bench.config import differing_keys, identity
from deepal_bench.errors import ConfigError
from deepal_bench.results import schema
from deepal_bench.results.io import atomic_torch_save, atomic_write_csv, atomic_write_text
from deepal_bench.selection import SelectionRecord


@dataclass
class RunState:
    """Progress of a run: finished rows plus the in-flight trial's resumable state."""

    rounds: list[dict] = field(default_factory=list)
    queries: list[torch.Tensor] = field(default_factory=list)
    summary: list[dict] = field(default_factory=list)
    trial: int = 0
    next_round: int = 0
    labeled: torch.Tensor | None = None
    model_state: dict | None = None
    selections: list[SelectionRecord] = field(default_factory=list)
    strategy_state: dict | None = None

    def start_trial(self, trial: int) -> None:
        self.trial, self.next_round = trial, 0
        self.labeled, self.model_state, self.selections = None, None, []
        self.strategy_state = None


class RunStore:
    """Reads and writes one run directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def prepare(self, cfg: DictConfig) -> None:
        """Create the directory and write config.yaml; refuse a directory of another config."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(f"output_dir '{self.path}' cannot be created: {err}.") from err
        config_file = self.file(schema.CONFIG_FILE)
        if config_file.exists() and self.file(schema.STATE_FILE).exists():
            diff = differing_keys(identity(OmegaConf.load(config_file)), identity(cfg))
            if diff:
                raise ConfigError(
                    f"output_dir '{self.path}' holds a run with another config (keys that "
                    f"differ: {', '.join(diff)}); choose another output_dir or remove it."
                )
        try:
            atomic_write_text(config_file, OmegaConf.to_yaml(cfg, resolve=True))
        except OSError as err:
            raise ConfigError(f"output_dir '{self.path}' is not writable: {err}.") from err

    def load_state(self) -> RunState:
        path = self.file(schema.STATE_FILE)
        if not path.exists():
            return RunState()
        return torch.load(path, map_location="cpu", weights_only=False)

    def save(self, state: RunState) -> None:
        """Persist the state, then the CSVs derived from it."""
        atomic_torch_save(self.file(schema.STATE_FILE), state)
        atomic_write_csv(
            self.file(schema.ROUNDS_FILE), pd.DataFrame(state.rounds, columns=_columns(state))
        )
        queries = torch.cat(state.queries) if state.queries else torch.empty(0, 3, dtype=torch.long)
        atomic_write_csv(
            self.file(schema.QUERIES_FILE),
            pd.DataFrame(queries.numpy(), columns=schema.QUERIES_COLUMNS),
        )
        atomic_write_csv(
            self.file(schema.SUMMARY_FILE),
            pd.DataFrame(state.summary, columns=schema.SUMMARY_COLUMNS),
        )

    def completed_trials(self) -> int:
        """Trials recorded as finished by the completion marker (0 when absent)."""
        marker = self.file(schema.DONE_FILE)
        return int(marker.read_text().split()[0]) if marker.exists() else 0

    def mark_complete(self, state: RunState, trials: int) -> None:
        """Drop the resumable weights and write the completion marker."""
        state.model_state, state.labeled, state.strategy_state = None, None, None
        atomic_torch_save(self.file(schema.STATE_FILE), state)
        atomic_write_text(self.file(schema.DONE_FILE), f"{trials} trials complete\n")


def _columns(state: RunState) -> list[str]:
    extra = [k for row in state.rounds[:1] for k in row if k not in schema.ROUNDS_COLUMNS]
    return schema.ROUNDS_COLUMNS + extra
