"""Which adapter runs the authors' side of a suite."""

import sys
import traceback
from pathlib import Path

from scripts.reference.suites import Suite


def run(
    suite: Suite, checkout: str, strategy: str, data_file: Path, seeds: int, out: Path, first: int
):
    """Run seeds first .. seeds-1 of `strategy` of `suite` through the authors' code of its
    system."""
    if suite.system == "deepalplus":
        from scripts.reference.deepalplus import run_theirs
    elif suite.system == "falcun":
        from scripts.reference.falcun import run_theirs
    else:
        from scripts.reference.dmle import run_theirs
    return run_theirs(checkout, suite, strategy, data_file, seeds, out, first)


def record_failure(out: Path, suite: Suite, strategy: str, exc: Exception) -> Path:
    """Write why the authors' code failed on `strategy` (the innermost frame and the error)
    next to the curves, and say so on stderr."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    reason = f"{type(exc).__name__}: {exc} (at {frame.filename}:{frame.lineno}, {frame.line})"
    path = Path(out) / suite.name / "theirs" / f"{strategy}.failed"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(reason + "\n")
    print(f"reference: their {strategy} failed: {reason}", file=sys.stderr)
    return path
