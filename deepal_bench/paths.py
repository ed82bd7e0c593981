"""Where the configs and the published paper numbers are.

Both have one copy in the repository (`conf/`, `results/paper/`) and ship inside the package
(`deepal_bench/conf`, `deepal_bench/paper_numbers`, mapped by pyproject.toml). An installed
wheel finds them inside the package; a source checkout (editable install) at the top of the
repository.
"""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _shipped(inside: str, in_repository: Path) -> Path:
    path = PACKAGE / inside
    return path if path.is_dir() else in_repository


CONF_DIR = _shipped("conf", PACKAGE.parent / "conf")
PAPER_DIR = _shipped("paper_numbers", PACKAGE.parent / "results" / "paper")
