"""`deepal-bench-paper FAMILY RESULTS_DIR... [--out DIR] [options]`.

Collects every complete run under the given directories and writes the tables of one
paper in the paper's layout (Markdown, CSV, LaTeX), ours next to every published cell with
the same settings (and the near cells that differ, with the settings that do), figures, an
index.md and an index.html (everything in one page); prints the Markdown. A table the
records cannot give is named in one line with what is missing; the others are written.
Shares its code with `deepal-bench-report`.
"""

import argparse
import sys
from pathlib import Path

from deepal_bench.cli.report import add_common_arguments, execute, options_from
from deepal_bench.report.families import PAPERS

PROG = "deepal-bench-paper"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="One paper's tables in the paper's layout from run records, with ours "
        "vs every published cell with the same settings. Families: deepal_plus (Tables 1, "
        "4-9, Fig. 2/6, §3.3), ralif (Tables 1-7), falcun (Tables 2-3, Fig. 2/3/4/5), dmle "
        "(Tables 2-5, Fig. 3), constrained (Table 2, Fig. 3-6).",
    )
    parser.add_argument(
        "family",
        choices=sorted(PAPERS),
        metavar="FAMILY",
        help=f"one of {', '.join(sorted(PAPERS))}",
    )
    add_common_arguments(parser, reference="ralif")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: RESULTS_DIR/paper_FAMILY)"
    )
    parser.add_argument(
        "--n-labeled",
        type=int,
        default=100,
        help="dmle: labeled-set size N_L the accuracies are read at",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or args.results_dirs[0] / f"paper_{args.family}"
    options = options_from(args, n_labeled=args.n_labeled)
    done = execute(PROG, PAPERS[args.family], args, options, out)
    if isinstance(done, int):
        return done
    _, outcome = done
    print(outcome.markdown)
    for line in outcome.not_built:
        print(f"- {line}")
    print(f"written to {out} (index.html, index.md, {len(outcome.files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
