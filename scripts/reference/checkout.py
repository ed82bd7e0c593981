"""The authors' checkouts: what each must contain, and one paragraph when it does not.

The suite never installs, vendors or depends on the authors' code: the user clones the
repository and passes its folder with --checkout. Before anything runs, the folder is
checked for the files each adapter imports, and importing it is checked for the packages
the authors' code needs; what is missing is named in one paragraph (exit status 2).
"""

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from deepal_bench.errors import ConfigError


@dataclass(frozen=True)
class Repository:
    """A public repository of a seed system, the commit the suite was proven against, and
    the files its adapter imports (relative to the checkout root)."""

    system: str
    github: str
    commit: str
    files: tuple[str, ...]


DEEPALPLUS = Repository(
    "DeepAL+",
    "SineZHAN/deepALplus",
    "93c2884e40e9a0b55cd2cf9527d3d1ff9d7e0c20",
    ("arguments.py", "data.py", "handlers.py", "nets.py", "nets_lossprediction.py",
     "nets_waal.py", "parameters.py", "utils.py", "query_strategies/__init__.py",
     "query_strategies/strategy.py"),
)  # fmt: skip
FALCUN = Repository(
    "FALCUN",
    "sobermeier/falcun",
    "e257662cb2d6ca3722cbe1b9819c4f737c83c91e",
    ("src/deepal/active_loop.py", "src/deepal/dataset.py", "src/deepal/models/__init__.py",
     "src/deepal/query_strategies/__init__.py", "src/deepal/query_strategies/strategy.py",
     "config/strat/falcun.json"),
)  # fmt: skip
DMLE = Repository(
    "DMLE",
    "neu-spiral/DMLEforAL",
    "f74c3a230ae75e968d3a7ebe4743086eaa61478e",
    ("main.py", "model.py", "utils.py"),
)


def _clone_hint(repo: Repository) -> str:
    return (
        f"Pass --checkout <folder> with a clone of github.com/{repo.github} (the suite was "
        f"proven against commit {repo.commit[:12]}: git clone https://github.com/"
        f"{repo.github} && git -C {repo.github.split('/')[1]} checkout {repo.commit[:12]}). "
        "Nothing was run."
    )


def check_checkout(repo: Repository, path: str | Path) -> Path:
    """The checkout folder, resolved; a ConfigError naming the folder and every missing file
    when it is not a checkout of `repo`."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(
            f"--checkout {path}: no such folder; the {repo.system} reference comparison "
            f"imports the authors' code from there. {_clone_hint(repo)}"
        )
    missing = [f for f in repo.files if not (root / f).is_file()]
    if missing:
        raise ConfigError(
            f"--checkout {root} is not a checkout of {repo.github}: it lacks "
            f"{', '.join(missing)}, which the {repo.system} adapter imports. {_clone_hint(repo)}"
        )
    return root


def import_theirs(repo: Repository, root: Path, module: str) -> ModuleType:
    """Import `module` from the checkout (its folder first on sys.path); a missing package
    of theirs becomes a ConfigError naming it."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"The {repo.system} code at {root} imports '{exc.name}', which is not installed "
            f"in this Python ({sys.executable}). Install the authors' dependencies in a "
            "separate virtual environment (never into the project's), e.g. "
            f"`pip install {exc.name}`, and run the suite with that Python. Nothing was run."
        ) from exc
