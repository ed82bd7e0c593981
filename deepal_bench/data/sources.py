"""Where each dataset's files live under the data root, how to fetch them, and the error
raised when they are missing with download off.

The data root is `dataset.root`; its default is the `DEEPAL_DATA` environment variable,
falling back to `./data`. A file counts as present when it exists or when its gzip
(`<name>.gz`) does.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deepal_bench.errors import ConfigError

ENV_VAR = "DEEPAL_DATA"


@dataclass(frozen=True)
class Source:
    """The on-disk files of one dataset and how to obtain them.

    `files(options)` lists the expected paths relative to the root for the loader options
    (e.g. EMNIST's `split`); `fetch(root, options)`, when set, downloads them; `how` tells a
    user how to obtain the files by hand; `origin` is where they come from.
    """

    name: str
    files: Callable[[dict], list[str]]
    how: str
    origin: str
    fetch: Callable[[Path, dict], None] | None = None


SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> Source:
    SOURCES[source.name] = source
    return source


def default_root() -> Path:
    """`$DEEPAL_DATA`, or `./data` when the variable is unset or empty."""
    return Path(os.environ.get(ENV_VAR) or "data")


def resolve_root(root: str | Path | None) -> Path:
    return Path(root).expanduser() if root not in (None, "") else default_root()


def _exists(path: Path) -> bool:
    return path.exists() or path.with_name(path.name + ".gz").exists()


def missing_files(name: str, root: Path, options: dict | None = None) -> list[str]:
    """The expected files of dataset `name` that are not under `root`."""
    return [f for f in SOURCES[name].files(options or {}) if not _exists(root / f)]


def ensure(name: str, root: str | Path | None, download: bool, options: dict | None = None) -> Path:
    """Return the resolved root holding dataset `name`'s files, fetching them if allowed.

    With download off (or no downloader) and files missing, raise a ConfigError naming the
    dataset, the expected location and file names, and how to obtain them.
    """
    source, path, options = SOURCES[name], resolve_root(root), options or {}
    missing = missing_files(name, path, options)
    if missing and download and source.fetch is not None:
        path.mkdir(parents=True, exist_ok=True)
        try:
            source.fetch(path, options)
        except (OSError, RuntimeError) as err:
            raise ConfigError(
                f"dataset '{name}': download into {path} failed ({err}). {source.how}"
            ) from err
        missing = missing_files(name, path, options)
    if missing:
        shown = ", ".join(missing[:6]) + (
            f" and {len(missing) - 6} more" if len(missing) > 6 else ""
        )
        args = "".join(f" {k}={v}" for k, v in options.items() if v is not None)
        hint = (
            "Pass dataset.download=true (or run `deepal-bench-data download "
            f"{name}{args} --root {path}`) where the network allows, or obtain them by hand: "
            if source.fetch is not None and not download
            else "Obtain them by hand: "
        )
        raise ConfigError(
            f"dataset '{name}': files not found under {path.resolve()}: {shown}. {hint}"
            f"{source.how} Source: {source.origin}. Set dataset.root (default: the "
            f"{ENV_VAR} environment variable, else ./data) to the folder that holds them."
        )
    return path
