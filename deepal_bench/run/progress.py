"""Progress as data: `progress.json`, where a run stands, derived from its state.

Written with the records after every round (docs/records.md): the trials the launch that
recorded the last round asked for, that round's trial and round, the rounds per trial and
when it was recorded. `deepal-bench-status` reads it instead of parsing the job log, which
stays for humans. It is read through `results.safe_read` (a regular file below the run
directory, at most MAX_BYTES, strict JSON).
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from deepal_bench.results import schema
from deepal_bench.results.safe_read import DamagedFile, read_json

FORMAT = 1
MAX_BYTES = 64 << 10  # the file is about 120 bytes


class UnreadableProgress(ValueError):
    """progress.json exists but is not what this program writes."""


@dataclass(frozen=True)
class Progress:
    """The last recorded round of a run: `trial` (0-based) and `round` (0 = the initial
    set) of `trials` asked for, with rounds 0..`rounds` per trial; None where unknown (a
    run recorded before progress.json existed)."""

    trials: int | None
    trial: int
    round: int
    rounds: int | None
    updated: str | None = None

    def text(self) -> str:
        """The content of progress.json."""
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=2) + "\n"

    def describe(self) -> str:
        """`trial t/T, round r/R done`, counted as the job log counts (trials from 1)."""
        trials = "?" if self.trials is None else self.trials
        rounds = "?" if self.rounds is None else self.rounds
        return f"trial {self.trial + 1}/{trials}, round {self.round}/{rounds} done"


def _count(data: dict, key: str) -> int:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise UnreadableProgress(f"{schema.PROGRESS_FILE} has no valid {key}")


def read_progress(run_dir: Path) -> Progress | None:
    """The progress.json of a run directory (as data), None when absent."""
    run_dir = Path(run_dir)
    try:
        data = read_json(run_dir / schema.PROGRESS_FILE, MAX_BYTES, run_dir)
    except FileNotFoundError:
        return None
    except (OSError, DamagedFile) as err:
        raise UnreadableProgress(f"{schema.PROGRESS_FILE} cannot be read ({err})") from err
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UnreadableProgress(f"{schema.PROGRESS_FILE} is not of format {FORMAT}")
    updated = data.get("updated")
    return Progress(
        trials=_count(data, "trials"),
        trial=_count(data, "trial"),
        round=_count(data, "round"),
        rounds=_count(data, "rounds"),
        updated=updated if isinstance(updated, str) else None,
    )
