"""Reading a run's `provenance.json`: which code, libraries, device and host made it.

The file (docs/records.md) holds one entry per session, a launch that computed at least one
round: `{"format": 1, "sessions": [{"package", "git_commit", "git_dirty", "python", "torch",
"cuda", "cudnn", "device", "host", "started", "trial", "round"}, ...]}`. It lies outside the
run's identity: a run written before provenance existed has no file and is "unknown", never
damaged. A file that cannot be read is reported with the reason and the run is still used;
its code version is then unknown too.

A run's code version is the set of distinct (package, git commit) of its sessions.
"""

from dataclasses import dataclass
from pathlib import Path

from deepal_bench.results import schema
from deepal_bench.results.safe_read import read_json

FORMAT = 1
TEXT_FIELDS = (
    "package",
    "git_commit",
    "python",
    "torch",
    "cuda",
    "cudnn",
    "device",
    "host",
    "started",
)
MAX_BYTES = 1 << 20  # a provenance file is a few hundred bytes per session
UNKNOWN = "unknown"
UNKNOWN_CODE = "code unknown"
SESSION_FIELDS = (*TEXT_FIELDS, "git_dirty", "trial", "round")


@dataclass(frozen=True)
class Session:
    """One launch of a run, as `provenance.json` records it (None where not recorded)."""

    package: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    python: str | None = None
    torch: str | None = None
    cuda: str | None = None
    cudnn: str | None = None
    device: str | None = None
    host: str | None = None
    started: str | None = None
    trial: int | None = None
    round: int | None = None

    @property
    def code_version(self) -> tuple[str | None, str | None]:
        return self.package, self.git_commit


@dataclass(frozen=True)
class Provenance:
    """A run's sessions; none when the file is absent (`problem` says why it was unreadable)."""

    sessions: tuple[Session, ...] = ()
    problem: str | None = None

    @property
    def known(self) -> bool:
        return bool(self.sessions)

    @property
    def code_versions(self) -> frozenset[tuple[str | None, str | None]]:
        return frozenset(session.code_version for session in self.sessions)

    def describe(self) -> str:
        """One phrase for a run (deepal-bench-status): its code version(s), `+dirty` where a
        session ran it with uncommitted changes, and device(s); a run whose rounds were
        computed by more than one code version says so first."""
        if not self.known:
            return f"code unknown: {self.problem}" if self.problem else UNKNOWN_CODE
        versions = dict.fromkeys(s.code_version for s in self.sessions)
        texts = [
            code_version_text(v)
            + "+dirty" * any(s.git_dirty and s.code_version == v for s in self.sessions)
            for v in versions
        ]
        devices = ", ".join(dict.fromkeys(str(s.device) for s in self.sessions))
        if len(texts) > 1:
            return f"MIXED code versions {', '.join(texts)} on {devices}"
        return f"code {texts[0]} on {devices}"


def code_version_text(version: tuple[str | None, str | None]) -> str:
    """`0.1.0@1a2b3c4` (a commit shortened to 7 characters; `no git` when not in a checkout)."""
    package, commit = version
    return f"{package or UNKNOWN}@{commit[:7] if commit else 'no git'}"


def read_provenance(path: Path) -> Provenance:
    """The provenance of the run directory `path`; `Provenance()` when it has no file."""
    try:
        return Provenance(sessions=_sessions(_load(Path(path))))
    except FileNotFoundError:
        return Provenance()
    except (OSError, ValueError) as err:
        return Provenance(problem=f"unreadable {schema.PROVENANCE_FILE} ({err})")


def _load(run_dir: Path) -> dict:
    """The file as JSON, read safely (`results.safe_read`: a regular file below the run
    directory, at most MAX_BYTES, bounded nesting)."""
    data = read_json(run_dir / schema.PROVENANCE_FILE, MAX_BYTES, run_dir)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a format {FORMAT} provenance mapping")
    return data


def _sessions(data: dict) -> tuple[Session, ...]:
    sessions = data.get("sessions")
    if not isinstance(sessions, list):
        raise ValueError("'sessions' is not a list")
    return tuple(_session(entry) for entry in sessions)


def _session(entry: object) -> Session:
    if not isinstance(entry, dict):
        raise ValueError("a session is not a mapping")
    missing = [name for name in SESSION_FIELDS if name not in entry]
    if missing:
        raise ValueError(f"a session lacks {', '.join(missing)}")
    values = {name: _text(entry, name) for name in TEXT_FIELDS}
    dirty = entry.get("git_dirty")
    if dirty is not None and not isinstance(dirty, bool):
        raise ValueError(f"git_dirty={dirty!r} is not true, false or null")
    return Session(
        **values, git_dirty=dirty, trial=_count(entry, "trial"), round=_count(entry, "round")
    )


def _text(entry: dict, name: str) -> str | None:
    value = entry.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name}={value!r} is not a string")
    return value


def _count(entry: dict, name: str) -> int | None:
    value = entry.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name}={value!r} is not a count")
    return value
