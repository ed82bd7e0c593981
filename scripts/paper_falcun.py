"""FALCUN Fig. 4: the dueling matrix over every setting and acquisition round, from records.

    python scripts/paper_falcun.py RESULTS_DIR... --out DIR [--alpha 0.05]

Entry (i, j): % of (setting, round) paired t-tests over trials that i wins against j; the
last column is each strategy's overall win rate, the last row its loss rate. The paper
gives its matrix only as a figure, so there are no published numbers to put alongside.
"""

import argparse
import sys
from pathlib import Path

from deepal_bench.report import figures, tables
from deepal_bench.report.build import records_from_dirs
from deepal_bench.report.formats import markdown_table, write_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dirs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args(argv)
    records = records_from_dirs(args.results_dirs)
    if records.rounds.empty:
        print("no complete run found", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    result = tables.dueling(records.rounds, args.alpha)
    table = tables.dueling_table(result)
    write_table(args.out, "falcun_dueling_matrix", table)
    write_table(args.out, "falcun_dueling_comparisons", result.comparisons.reset_index())
    paths = figures.dueling_figure(result, args.out)
    print(f"## Dueling matrix (% wins of row vs column, paired t-test, alpha={args.alpha})\n")
    print(markdown_table(table, digits=1))
    print(
        f"{int(result.comparisons.to_numpy().sum() // 2)} pairwise comparisons; figure {paths[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
