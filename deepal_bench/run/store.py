"""A run directory: config, per-round records, resumable state, completion marker, lock.

`state.pt` is the source of truth: everything needed to resume (the rows so far, the
in-flight trial's labeled mask, model weights, selection history) and the run's progress
and provenance, as tensors and plain containers, loaded with `weights_only=True` so that a
crafted file cannot run code. The CSVs (summary.csv recomputed from the rounds),
`progress.json`, `provenance.json` and `DONE` are derived from it: every start compares
them with the state and rewrites what differs (a kill between two writes, a truncated
file), and `DONE` is written last, only when the CSVs agree with a state whose trials are
all finished. `config.yaml` is written once, after every validation; later starts check
that they ask for the same run (against `config.yaml` and against the identity stored in
the state).

Every write is a commit (`_commit`): the lock's lease is checked first, the file is renamed
into place out of the lock holder's staging folder (so that a process whose lock was taken
over cannot make a write visible, see `results.lock`), and a stop signal arriving meanwhile
waits until the commit is done (`results.stopping`).

Every file of the directory is hostile until checked: the store reads through
`results.safe_read` (regular files below the run directory, size caps, `state.pt` at most
STATE_CAP before `torch.load` sees it) and writes relative to the directory's descriptor
(`results.io`), and a run refuses to start, with one paragraph, when the directory holds a
symbolic link or a special file where it reads or writes (`check_planted`).
"""

import contextlib
import errno
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf

from deepal_bench.errors import ConfigError
from deepal_bench.results import schema
from deepal_bench.results.checks import summary_frame
from deepal_bench.results.identity import differing_keys, identity, identity_of
from deepal_bench.results.io import (
    UnsafePath,
    atomic_torch_save,
    atomic_write_text,
    read_config,
    read_done,
    remove_temp_files,
    remove_through,
    write_done,
)
from deepal_bench.results.lock import LockHeld, LockLost, RunLock
from deepal_bench.results.predictions import write_predictions, write_test_labels
from deepal_bench.results.safe_read import (
    DamagedFile,
    open_file,
    parse_json,
    read_bytes,
    special_kind,
)
from deepal_bench.results.stopping import deferred
from deepal_bench.run.progress import Progress
from deepal_bench.run.provenance import provenance_text
from deepal_bench.selection import SelectionRecord

log = logging.getLogger(__name__)

STATE_CAP = 16 << 30  # bytes of state.pt read at most (weights of the largest models + the rows)
HYDRA_FOLDER = ".hydra"  # Hydra's copy of the job config, written beside the records
# Every name the run reads or writes in its directory, and the folders it writes into.
WRITTEN = (schema.CONFIG_FILE, schema.STATE_FILE, *schema.RECORD_FILES, schema.PROGRESS_FILE,
           schema.PROVENANCE_FILE, schema.DONE_FILE, schema.LOCK_FILE, schema.LOG_FILE)  # fmt: skip
WRITTEN_FOLDERS = (schema.PREDICTIONS_DIR, HYDRA_FOLDER)


class DamagedRun(ConfigError):
    """A run directory whose files cannot be trusted or read."""


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
    identity: str | None = None
    # Progress and provenance (absent from format 2): the trials the launch that saved
    # last asked for, the rounds per trial after round 0, when the last round was saved,
    # and one provenance session per launch that computed a round (run.provenance).
    launch_trials: int | None = None
    query_rounds: int | None = None
    saved_at: str | None = None
    sessions: list[dict] = field(default_factory=list)

    def start_trial(self, trial: int) -> None:
        self.trial, self.next_round = trial, 0
        self.labeled, self.model_state, self.selections = None, None, []
        self.strategy_state = None

    def to_plain(self) -> dict:
        """Tensors and plain containers only (loadable with `weights_only=True`)."""
        plain = {k: v for k, v in vars(self).items() if k != "selections"}
        plain["selections"] = [asdict(s) for s in self.selections]
        return {"format": schema.STATE_FORMAT, **plain}

    @classmethod
    def from_plain(cls, data: object) -> "RunState":
        """Rebuild from `to_plain`'s layout; raises ValueError naming what is wrong."""
        if not isinstance(data, dict) or data.get("format") not in schema.STATE_FORMATS_READ:
            raise ValueError(f"not a run state of format {schema.STATE_FORMAT}")
        fields = {k: v for k, v in data.items() if k != "format"}
        fields["selections"] = [SelectionRecord(**s) for s in fields.get("selections", [])]
        state = cls(**fields)
        _check_state(state)
        return state

    def finished_trials(self) -> int:
        return len(self.summary)


def _check_state(state: RunState) -> None:
    checks = (
        (isinstance(state.rounds, list) and all(isinstance(r, dict) for r in state.rounds),
         "rounds"),
        (isinstance(state.queries, list)
         and all(isinstance(q, torch.Tensor) and q.dim() == 2 for q in state.queries), "queries"),
        (isinstance(state.summary, list) and all(isinstance(r, dict) for r in state.summary),
         "summary"),
        (isinstance(state.trial, int) and isinstance(state.next_round, int), "trial counters"),
        ([r.get("trial") for r in state.summary] == list(range(len(state.summary))),
         "summary trials"),
        (isinstance(state.sessions, list) and all(isinstance(s, dict) for s in state.sessions),
         "provenance sessions"),
        (all(isinstance(v, int | None) for v in (state.launch_trials, state.query_rounds))
         and isinstance(state.saved_at, str | None), "progress fields"),
    )  # fmt: skip
    for ok, what in checks:
        if not ok:
            raise ValueError(f"its {what} are malformed")


class RunStore:
    """Reads and writes one run directory, owned through its lock while open."""

    def __init__(self, path: Path, lock_timeout: float = 300.0) -> None:
        self.path = Path(path)
        self.lock = RunLock(self.path, lease=lock_timeout)

    def file(self, name: str) -> Path:
        return self.path / name

    # -- ownership ---------------------------------------------------------------------

    def open(self) -> None:
        """Create the directory, refuse one where something was planted (`check_planted`),
        take its lock; clean temp files of killed writes."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.check_planted()
            self.lock.acquire()
        except LockHeld as held:
            raise ConfigError(
                f"output_dir '{self.path}' is in use by {held} (lock file "
                f"{self.file(schema.LOCK_FILE)}). Wait for it to finish, or stop it (on "
                f"SIGTERM it stops before its next commit and releases the lock). If it is "
                f"killed without releasing it, a relaunch watches its heartbeat and takes "
                f"over once the heartbeat has stood still for that lease."
            ) from held
        except OSError as err:
            raise ConfigError(f"output_dir '{self.path}' cannot be written: {err}.") from err
        if self.lock.took_over is not None:
            log.warning("took over the stale lock of %s", self.lock.took_over.describe())
        for tmp in remove_temp_files(self.path):
            log.info("removed %s, left by an interrupted write", tmp.name)

    def close(self) -> None:
        self.lock.release()

    def check_planted(self) -> None:
        """Refuse a directory holding a symbolic link, FIFO, device or socket at a name the
        run reads or writes (or anything but a folder where it writes a folder): nothing of
        this program makes one, and a link could lead its writes outside the directory."""
        expected = {
            **dict.fromkeys(WRITTEN, "a file"),
            **dict.fromkeys(WRITTEN_FOLDERS, "a folder"),
        }
        found = [
            f"{name} ({kind})"
            for name, wanted in expected.items()
            if (kind := _entry_kind(self.file(name))) not in (None, wanted)
        ]
        if found:
            raise ConfigError(
                f"output_dir '{self.path}' holds {', '.join(found)} where deepal-bench reads "
                f"or writes its records; this program never makes such entries, and a "
                f"symbolic link there could lead its writes out of the directory. Nothing "
                f"was written: remove them (or the run directory), or choose another "
                f"output_dir."
            )

    @contextlib.contextmanager
    def _commit(self) -> Iterator[Path]:
        """One commit: the lease checked, writes renamed out of the holder's staging
        folder (yielded), stop signals held back until it is done. A write refused because
        the folder was fenced is a LockLost; one refused because a symbolic link was planted
        on its way meanwhile is a ConfigError."""
        with deferred():
            self.lock.check()
            try:
                yield self.lock.stage
            except UnsafePath as err:
                raise ConfigError(
                    f"output_dir '{self.path}': {err.strerror}. Something else writes into "
                    f"this run directory; the records hold what was committed before. Remove "
                    f"the link and relaunch to resume."
                ) from err
            except OSError as err:
                if err.errno != errno.ESTALE and self.lock.stage.is_dir():
                    raise
                raise LockLost(
                    f"its staging folder was removed by a process that took the lock over "
                    f"({err.strerror}); nothing more was written"
                ) from err

    # -- identity ----------------------------------------------------------------------

    def check_identity(self, cfg: DictConfig, state: RunState | None) -> None:
        """Refuse a directory that holds another run (by config.yaml or by the state)."""
        wanted = identity(cfg)
        stored = self.read_config()
        if stored is not None:
            self._refuse_if_differs(identity_of(stored), wanted, schema.CONFIG_FILE)
        if state is not None and state.identity is not None:
            self._refuse_if_differs(self._state_identity(state), wanted, schema.STATE_FILE)
        if stored is None and state is None and self._has_records():
            raise DamagedRun(
                f"output_dir '{self.path}' holds records but neither {schema.CONFIG_FILE} "
                f"nor {schema.STATE_FILE}, so it is unknown which run wrote them; remove "
                f"the directory or choose another output_dir."
            )

    def _refuse_if_differs(self, stored: dict, wanted: dict, source: str) -> None:
        diff = differing_keys(stored, wanted)
        if diff:
            raise ConfigError(
                f"output_dir '{self.path}' holds a run with another config (by its {source}; "
                f"keys that differ: {', '.join(diff)}); choose another output_dir or remove it."
            )

    def _state_identity(self, state: "RunState") -> dict:
        try:
            stored = parse_json(state.identity, name=f"the identity in {schema.STATE_FILE}")
        except DamagedFile as err:
            raise self._damaged(schema.STATE_FILE, str(err)) from err
        if not isinstance(stored, dict):
            raise self._damaged(schema.STATE_FILE, "its identity is not a mapping")
        return stored

    def _damaged(self, name: str, reason: str) -> "DamagedRun":
        return DamagedRun(
            f"{self.file(name)} is damaged or was not written by this program ({reason}). It "
            f"is never executed; to start this run again from scratch (same seeds, same "
            f"records), remove the run directory '{self.path}' or choose another output_dir."
        )

    def _has_records(self) -> bool:
        names = (schema.ROUNDS_FILE, schema.QUERIES_FILE, schema.SUMMARY_FILE, schema.DONE_FILE)
        return any(self.file(n).exists() for n in names)

    def read_config(self) -> dict | None:
        """config.yaml as plain data (`results.io.read_config`: bounded, no aliases, never
        resolved), None when absent."""
        try:
            return read_config(self.path)
        except (OSError, DamagedFile) as err:
            raise DamagedRun(
                f"{self.file(schema.CONFIG_FILE)} cannot be read ({err}); it was not written "
                f"by this program as it is. Remove the run directory or restore the file."
            ) from err

    def write_config(self, cfg: DictConfig) -> None:
        """Write config.yaml once (the run's identity; trial counts live in DONE)."""
        if not self.file(schema.CONFIG_FILE).exists():
            self.write_text(schema.CONFIG_FILE, OmegaConf.to_yaml(cfg, resolve=True))

    def write_text(self, name: str, text: str) -> None:
        """Commit `text` as the file `name` of the run directory."""
        with self._commit() as stage:
            atomic_write_text(self.file(name), text, stage, self.path)

    def write_test_labels(self, labels: np.ndarray) -> None:
        with self._commit() as stage:
            write_test_labels(self.path, labels, stage)

    def write_predictions(self, trial: int, round_: int, pred: np.ndarray) -> None:
        with self._commit() as stage:
            write_predictions(self.path, trial, round_, pred, stage)

    # -- state and records -------------------------------------------------------------

    def load_state(self) -> RunState | None:
        """The saved state, None when there is none; a damaged file is a DamagedRun."""
        try:
            with open_file(self.file(schema.STATE_FILE), self.path) as (handle, size):
                if size > STATE_CAP:
                    raise DamagedFile(f"larger than {STATE_CAP:,} bytes")
                data = torch.load(handle, map_location="cpu", weights_only=True)
            return RunState.from_plain(data)
        except FileNotFoundError:
            return None
        except Exception as err:  # any unreadable, crafted or truncated file
            reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
            raise self._damaged(schema.STATE_FILE, reason) from err

    def save(self, state: RunState) -> None:
        """Persist the state, then the CSVs derived from it (one commit)."""
        with self._commit() as stage:
            atomic_torch_save(self.file(schema.STATE_FILE), state.to_plain(), stage, self.path)
            self.write_records(state)

    def write_records(self, state: RunState, only_changed: bool = False) -> list[str]:
        """Write the records derived from `state` (or only those that differ from it);
        their names."""
        written = []
        for name, text in _record_texts(state).items():
            path = self.file(name)
            if only_changed and _same_text(path, text):
                continue
            self.write_text(name, text)
            written.append(name)
        return written

    def completed_trials(self) -> int:
        """Trials recorded as finished by the completion marker (0 when absent or unreadable)."""
        return read_done(self.path) or 0

    def repair(self, state: RunState) -> list[str]:
        """Rewrite the CSVs that disagree with the state; drop a DONE the state does not
        support. Returns the names of the files changed."""
        changed = self.write_records(state, only_changed=True)
        done = self.completed_trials()
        if done and (done > state.finished_trials() or state.labeled is not None):
            with self._commit() as stage:
                remove_through(self.file(schema.DONE_FILE), stage)
            changed.append(schema.DONE_FILE)
        return changed

    def mark_complete(self, state: RunState, trials: int) -> None:
        """Drop the resumable weights, make the CSVs agree, then write the marker last."""
        state.model_state, state.labeled, state.strategy_state = None, None, None
        with self._commit() as stage:
            self.save(state)
            write_done(self.path, trials, stage)


def _record_frames(state: RunState) -> dict[str, pd.DataFrame]:
    """The CSVs: the rows and queried points of the state, the summary of its finished
    trials recomputed from their rows."""
    extra = [k for row in state.rounds[:1] for k in row if k not in schema.ROUNDS_COLUMNS]
    queries = torch.cat(state.queries) if state.queries else torch.empty(0, 3, dtype=torch.long)
    rounds = pd.DataFrame(state.rounds, columns=schema.ROUNDS_COLUMNS + extra)
    return {
        schema.ROUNDS_FILE: rounds,
        schema.QUERIES_FILE: pd.DataFrame(queries.numpy(), columns=schema.QUERIES_COLUMNS),
        schema.SUMMARY_FILE: summary_frame(rounds, [row["trial"] for row in state.summary]),
    }


def _progress(state: RunState) -> Progress | None:
    """Where the state stands, None before its first round or when it predates progress."""
    if not state.rounds or state.launch_trials is None or state.query_rounds is None:
        return None
    last = state.rounds[-1]
    return Progress(
        state.launch_trials, last["trial"], last["round"], state.query_rounds, state.saved_at
    )


def _record_texts(state: RunState) -> dict[str, str]:
    """Every record derived from the state, as the text of its file (CSVs, then the
    progress and provenance JSON where the state has them)."""
    texts = {name: frame.to_csv(index=False) for name, frame in _record_frames(state).items()}
    progress, provenance = _progress(state), provenance_text(state.sessions)
    if progress is not None:
        texts[schema.PROGRESS_FILE] = progress.text()
    if provenance is not None:
        texts[schema.PROVENANCE_FILE] = provenance
    return texts


def _entry_kind(path: Path) -> str | None:
    """ "a file" (regular), "a folder", "a symbolic link", ... for `path` itself; None when
    there is nothing."""
    kind = special_kind(path)
    return kind if kind is not None else "a file" if os.path.lexists(path) else None


def _same_text(path: Path, text: str) -> bool:
    """Whether `path` (a regular file of its folder, read no further than `text` is long)
    holds exactly `text`."""
    data = text.encode()
    try:
        return read_bytes(path, len(data), path.parent) == data
    except (OSError, DamagedFile):
        return False


__all__ = ["DamagedRun", "LockLost", "RunState", "RunStore"]
