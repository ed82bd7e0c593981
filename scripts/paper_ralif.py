"""RALIF Table 2 (first/last-cycle accuracy, AUCA ratio, Average rows) and, for runs with
stored predictions, Table 7 (label-permutation p-values, worst trial) from records.

    python scripts/paper_ralif.py RESULTS_DIR... --out DIR [--reference ralif] [--permutations N]
"""

import argparse
import sys
from pathlib import Path

from deepal_bench.report.build import records_from_dirs
from deepal_bench.report.formats import markdown_table, write_table
from deepal_bench.report.layouts import ralif_table2
from deepal_bench.report.paper import (
    PAPER_DIR,
    compare,
    load_published,
    ours_long,
    versus_markdown,
)
from deepal_bench.report.permutation import permutation_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dirs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--baseline", default="random")
    parser.add_argument("--reference", default="ralif", help="strategy tested against the rest")
    parser.add_argument("--permutations", type=int, default=10_000)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--paper-dir", type=Path, default=PAPER_DIR)
    args = parser.parse_args(argv)
    records = records_from_dirs(args.results_dirs)
    if records.trials.empty:
        print("no complete run found", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    overall = records.overall(args.baseline)
    table2 = ralif_table2(overall)
    write_table(args.out, "ralif_table2", overall, table2)
    print(f"## RALIF Table 2 layout (AUCA ratio vs {args.baseline})\n")
    print(markdown_table(table2))
    perm = permutation_table(records.cells, args.reference, args.baseline, args.permutations)
    if len(perm):
        write_table(args.out, "ralif_table7", perm)
        print(
            f"## RALIF Table 7 layout ({args.reference} vs each strategy, largest p over trials)\n"
        )
        print(markdown_table(perm, digits=3))
        for column in ("first_p", "last_p", "auca_ratio_p"):
            significant = int((perm[column] < args.alpha).sum())
            print(f"{args.reference} significant on {column}: {significant}/{len(perm)}")
    else:
        print(f"(no permutation tests: needs '{args.reference}' and '{args.baseline}' runs "
              "recorded with store_predictions=true)\n")  # fmt: skip
    published = load_published(args.paper_dir)
    versus = compare(ours_long(overall), published[published["paper"] == "ralif"])
    write_table(args.out, "ralif_vs_paper", versus)
    print(versus_markdown(versus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
