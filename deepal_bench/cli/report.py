"""`deepal-bench-report RESULTS_DIR... [--out DIR] [--baseline random] [--group-by KEY...]`.

Collects every run under the given directories, prints the AUBC / F-acc table (mean ± std
over trials per strategy) and writes every table and figure of the report into `--out`.
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

from deepal_bench.report.build import ReportOptions, build_report
from deepal_bench.report.paper import PAPER_DIR
from deepal_bench.results.collect import Skipped, collect


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="deepal-bench-report",
        description="Collect every run under RESULTS_DIR (any depth) and write the report: "
        "AUBC / F-acc / time ratio, first/last cycle and AUCA ratio, win-tie-loss, dueling "
        "matrix and significance tables (Markdown, CSV, LaTeX), curves and plots (PNG, PDF), "
        "and index.md. Incomplete or damaged runs are listed and skipped.",
    )
    parser.add_argument("results_dirs", nargs="+", type=Path, metavar="RESULTS_DIR")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: RESULTS_DIR/report)"
    )
    parser.add_argument(
        "--baseline", default="random", help="strategy for ratios and tests (default: random)"
    )
    parser.add_argument(
        "--group-by",
        nargs="+",
        default=None,
        metavar="KEY",
        help="dotted config keys that define a setting (default: dataset.name model.name "
        "budget.initial budget.quota budget.batch estimator.name selection.name)",
    )
    parser.add_argument("--margin", type=float, default=0.005, help="win-tie-loss margin")
    parser.add_argument("--alpha", type=float, default=0.05, help="dueling-matrix test level")
    parser.add_argument(
        "--permutations",
        type=int,
        default=10_000,
        help="label permutations per test when runs stored predictions (RALIF: 10,000)",
    )
    parser.add_argument(
        "--reference",
        default=None,
        help="strategy the permutation tests compare every other one with (default: baseline)",
    )
    parser.add_argument(
        "--no-figures", action="store_true", help="write the tables and index.md only"
    )
    parser.add_argument("--paper-dir", type=Path, default=PAPER_DIR, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [str(d) for d in args.results_dirs if not d.is_dir()]
    if missing:
        print(
            f"deepal-bench-report: error: no such directory: {', '.join(missing)}", file=sys.stderr
        )
        return 2
    runs, skipped = collect(args.results_dirs)
    if not runs:
        for skip in skipped:
            print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
        print("deepal-bench-report: error: no complete run found", file=sys.stderr)
        print(totals_line(0, skipped), file=sys.stderr)
        return 1
    out = args.out or args.results_dirs[0] / "report"
    options = ReportOptions(
        baseline=args.baseline,
        group_by=tuple(args.group_by) if args.group_by else None,
        margin=args.margin,
        alpha=args.alpha,
        permutations=args.permutations,
        reference=args.reference,
        paper_dir=args.paper_dir,
        figures=not args.no_figures,
    )
    report = build_report(runs, skipped, out, options)
    for skip in report.skipped:
        print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(report.summary_markdown)
    print(f"records under {', '.join(map(str, args.results_dirs))}")
    print(f"report written to {out} (index.md, {len(report.files)} files)")
    print(totals_line(len(runs) - report.duplicates, report.skipped))
    return 0


def totals_line(used: int, skipped: list[Skipped]) -> str:
    """`N runs used, M skipped (k damaged, j incomplete, ...)`."""
    kinds = Counter(skip.kind for skip in skipped)
    detail = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return f"{used} runs used, {len(skipped)} skipped" + (f" ({detail})" if detail else "")


if __name__ == "__main__":
    sys.exit(main())
