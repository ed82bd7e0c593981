"""DeepAL+ Table 1 (AUBC / F-acc per dataset, Full row) and Table 9 (win-tie-loss) from records.

    python scripts/paper_deepal_plus.py RESULTS_DIR... --out DIR [--group standard|medical]

Writes deepal_plus_table1.{md,csv,tex}, deepal_plus_table9.{md,csv,tex} and, for every cell
we reproduced, deepal_plus_vs_paper.{md,csv,tex} (published numbers: results/paper/).
"""

import argparse
import sys
from pathlib import Path

from deepal_bench.report.build import records_from_dirs
from deepal_bench.report.formats import markdown_table, write_table
from deepal_bench.report.layouts import deepal_plus_table1, deepal_plus_table9, published_table9
from deepal_bench.report.paper import (
    PAPER_DIR,
    compare,
    load_published,
    ours_long,
    versus_markdown,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dirs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--baseline", default="random")
    parser.add_argument("--margin", type=float, default=0.005)
    parser.add_argument("--group", default="standard", help="Table 9 group to compare with")
    parser.add_argument("--paper-dir", type=Path, default=PAPER_DIR)
    args = parser.parse_args(argv)
    records = records_from_dirs(args.results_dirs)
    if records.trials.empty:
        print("no complete run found", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    overall = records.overall(args.baseline)
    table1 = deepal_plus_table1(overall, records.full)
    table9 = deepal_plus_table9(overall, published_table9(args.paper_dir, args.group), args.margin)
    published = load_published(args.paper_dir)
    versus = compare(
        ours_long(overall, records.full), published[published["paper"] == "deepal_plus"]
    )
    write_table(args.out, "deepal_plus_table1", table1)
    write_table(args.out, "deepal_plus_table9", table9)
    write_table(args.out, "deepal_plus_vs_paper", versus)
    print("## DeepAL+ Table 1 layout (AUBC, F-acc; means over trials)\n")
    print(markdown_table(table1))
    print(f"## DeepAL+ Table 9 layout (win-tie-loss, margin {args.margin})\n")
    print(markdown_table(table9))
    print(versus_markdown(versus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
