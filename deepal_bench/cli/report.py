"""`deepal-bench-report RESULTS_DIR... [--out DIR] [--baseline random] [--group-by KEY...]`.

Collects every run under the given directories, prints the AUBC / F-acc table (mean ± std
over trials per strategy) and writes every table and figure of the report into `--out`.
The command, its flags and `deepal-bench-paper` share this module's code: both run a report
family (`report.families`) through `report.pipeline`.
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

from deepal_bench.report import tables
from deepal_bench.report.families import GENERIC
from deepal_bench.report.family import Context, Family, Options, Outcome
from deepal_bench.report.formats import summary_markdown
from deepal_bench.report.pipeline import run_family
from deepal_bench.report.published import PAPER_DIR, load_published
from deepal_bench.results.collect import Skipped, collect
from deepal_bench.results.io import UnsafePath, planted_entries
from deepal_bench.results.records import pool_runs
from deepal_bench.results.safe_read import DamagedFile

PROG = "deepal-bench-report"


def add_common_arguments(parser: argparse.ArgumentParser, reference: str | None) -> None:
    """The RESULTS_DIR arguments and the flags both report commands take."""
    parser.add_argument("results_dirs", nargs="+", type=Path, metavar="RESULTS_DIR")
    parser.add_argument(
        "--baseline", default="random", help="strategy for ratios and tests (default: random)"
    )
    parser.add_argument(
        "--group-by",
        nargs="+",
        default=None,
        metavar="KEY",
        help="dotted config keys that label a setting (default: dataset.name "
        "model.name budget.initial budget.quota budget.batch estimator.name "
        "selection.name); settings that differ in other keys stay apart",
    )
    parser.add_argument("--margin", type=float, default=0.005, help="win-tie-loss margin")
    parser.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="significance level (dueling matrix, significant shares)",
    )
    parser.add_argument(
        "--permutations",
        type=int,
        default=10_000,
        help="label permutations per test when runs stored predictions (RALIF: 10,000)",
    )
    parser.add_argument(
        "--reference",
        default=reference,
        help="strategy the permutation tests compare every other one with "
        f"(default: {reference or 'the baseline'})",
    )
    parser.add_argument("--no-figures", action="store_true", help="write the tables only")
    parser.add_argument("--paper-dir", type=Path, default=PAPER_DIR, help=argparse.SUPPRESS)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Collect every run under RESULTS_DIR (any depth) and write the report: "
        "AUBC / F-acc / time ratio, first/last cycle and AUCA ratio, win-tie-loss, dueling "
        "matrix and significance tables (Markdown, CSV, LaTeX), curves and plots (PNG, PDF), "
        "AUBC against total seconds with the Pareto front, deepal-bench-plan's estimate next to "
        "the measured seconds, ours vs every published cell with the same settings, index.md "
        "with each run's provenance and index.html, the whole report in one page that opens "
        "from the file system. Incomplete or damaged runs are listed and skipped.",
    )
    add_common_arguments(parser, reference=None)
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: RESULTS_DIR/report)"
    )
    return parser.parse_args(argv)


def options_from(args: argparse.Namespace, **extra: object) -> Options:
    return Options(
        baseline=args.baseline,
        group_by=tuple(args.group_by) if args.group_by else None,
        margin=args.margin,
        alpha=args.alpha,
        reference=args.reference,
        permutations=args.permutations,
        figures=not args.no_figures,
        paper_dir=args.paper_dir,
        **extra,
    )


def totals_line(used: int, skipped: list[Skipped]) -> str:
    """`N runs used, M skipped (k damaged, j incomplete, ...)`."""
    kinds = Counter(skip.kind for skip in skipped)
    detail = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return f"{used} runs used, {len(skipped)} skipped" + (f" ({detail})" if detail else "")


def _print_skipped(skipped: list[Skipped], notes: list[str] = ()) -> None:
    for skip in skipped:
        print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def unsafe_out(out: Path) -> str | None:
    """Why the report must not write into `out`: it is, or holds, a symbolic link (or a
    FIFO, device or socket); None when it is safe (or does not exist yet)."""
    found = planted_entries(out)
    if not found:
        return None
    return (
        f"--out '{out}' is or holds a symbolic link or special file: {', '.join(found)}. The "
        f"report writes only inside its output folder and never through a link, which could "
        f"lead its files anywhere (someone else's results folder may have been prepared "
        f"so); nothing was written. Remove them, or choose another --out (a new or empty "
        f"folder)."
    )


def execute(
    prog: str, family: Family, args: argparse.Namespace, options: Options, out: Path
) -> tuple[Context, Outcome] | int:
    """Collect, pool and report; an exit status instead when there is nothing to report
    or `out` is unsafe to write into (`unsafe_out`)."""
    missing = [str(d) for d in args.results_dirs if not d.is_dir()]
    if missing:
        print(f"{prog}: error: no such directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    refused = unsafe_out(out)
    if refused:
        print(f"{prog}: error: {refused}", file=sys.stderr)
        return 2
    runs, skipped = collect(args.results_dirs)
    if not runs:
        _print_skipped(skipped)
        print(f"{prog}: error: no complete run found", file=sys.stderr)
        print(totals_line(0, skipped), file=sys.stderr)
        return 1
    try:
        published = load_published(options.paper_dir)
    except (OSError, DamagedFile) as err:
        print(f"{prog}: error: the published numbers cannot be read: {err}", file=sys.stderr)
        return 2
    ctx = Context(pool_runs(runs, skipped), options, published)
    try:
        outcome = run_family(family, ctx, out)
    except UnsafePath as err:  # a link planted while the report was written
        print(f"{prog}: error: {err.strerror}; the report stopped there.", file=sys.stderr)
        return 2
    _print_skipped(outcome.skipped, outcome.notes)
    return ctx, outcome


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or args.results_dirs[0] / "report"
    done = execute(PROG, GENERIC, args, options_from(args), out)
    if isinstance(done, int):
        return done
    ctx, outcome = done
    summary = tables.summary_table(ctx.trials)
    print(summary_markdown(summary) if len(summary) else "")
    print(f"records under {', '.join(map(str, args.results_dirs))}")
    print(f"report written to {out} (index.html, index.md, {len(outcome.files)} files)")
    print(totals_line(len(outcome.runs), outcome.skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
