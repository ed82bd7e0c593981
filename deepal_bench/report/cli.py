"""`deepal-bench-report RESULTS_DIR... [--out DIR]`: tables recomputed from records."""

import argparse
import sys
from pathlib import Path

from deepal_bench.report.tables import summary_table, to_markdown
from deepal_bench.results.collect import collect
from deepal_bench.results.io import atomic_write_csv, atomic_write_text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="deepal-bench-report",
        description="Collect every run under RESULTS_DIR (any depth) and write the AUBC / F-acc "
        "table (mean ± std over trials) as Markdown and CSV.",
    )
    parser.add_argument("results_dirs", nargs="+", type=Path, metavar="RESULTS_DIR")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: RESULTS_DIR/report)"
    )
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
    for skip in skipped:
        print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
    if not runs:
        print("deepal-bench-report: error: no complete run found", file=sys.stderr)
        return 1
    out = args.out or args.results_dirs[0] / "report"
    out.mkdir(parents=True, exist_ok=True)
    table = summary_table(runs)
    markdown = to_markdown(table)
    atomic_write_text(out / "summary.md", markdown)
    atomic_write_csv(out / "summary.csv", table)
    print(markdown)
    print(f"{len(runs)} runs; records under {', '.join(map(str, args.results_dirs))}")
    print(f"tables written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
