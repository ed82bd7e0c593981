"""`deepal-bench-paper FAMILY RESULTS_DIR... [--out DIR] [options]`.

Collects every complete run under the given directories and writes the tables of one
paper in the paper's layout (Markdown, CSV, LaTeX), "ours vs paper" for every published
cell the records reproduce, figures and an index.md; prints the Markdown. A table the
records cannot give is named in one line with what is missing; the others are written.
"""

import argparse
import sys
from pathlib import Path

from deepal_bench.report.build import records_from_dirs
from deepal_bench.report.paper import PAPER_DIR, load_published
from deepal_bench.report.papers import FAMILIES, run_family
from deepal_bench.report.papers.common import Context, Options


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="deepal-bench-paper",
        description="One paper's tables in the paper's layout from run records, with ours "
        "vs paper for every published cell. Families: deepal_plus (Tables 1, 4-9, Fig. 2/6), "
        "ralif (Tables 1-7), falcun (Tables 2-3, Fig. 2/3/4/5), dmle (Tables 2-5, Fig. 3), "
        "constrained (Table 2, Fig. 3-6).",
    )
    parser.add_argument(
        "family",
        choices=sorted(FAMILIES),
        metavar="FAMILY",
        help=f"one of {', '.join(sorted(FAMILIES))}",
    )
    parser.add_argument("results_dirs", nargs="+", type=Path, metavar="RESULTS_DIR")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: RESULTS_DIR/paper_FAMILY)"
    )
    parser.add_argument("--baseline", default="random", help="strategy for ratios and tests")
    parser.add_argument(
        "--group-by",
        nargs="+",
        default=None,
        metavar="KEY",
        help="dotted config keys that define a setting (default: dataset, model, budget, "
        "estimator, selection)",
    )
    parser.add_argument(
        "--margin", type=float, default=0.005, help="deepal_plus: win-tie-loss margin (Table 9)"
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="falcun: dueling-matrix test level; ralif, dmle: significance level",
    )
    parser.add_argument(
        "--reference",
        default="ralif",
        help="ralif: strategy the permutation tests compare (Table 7)",
    )
    parser.add_argument(
        "--permutations",
        type=int,
        default=10_000,
        help="ralif: label permutations per test (paper: 10,000)",
    )
    parser.add_argument(
        "--n-labeled",
        type=int,
        default=100,
        help="dmle: labeled-set size N_L the accuracies are read at",
    )
    parser.add_argument("--no-figures", action="store_true", help="write the tables only")
    parser.add_argument("--paper-dir", type=Path, default=PAPER_DIR, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    prog = "deepal-bench-paper"
    missing = [str(d) for d in args.results_dirs if not d.is_dir()]
    if missing:
        print(f"{prog}: error: no such directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    group_by = tuple(args.group_by) if args.group_by else None
    records = records_from_dirs(args.results_dirs, group_by)
    if records.trials.empty and not records.full_cells:
        print(f"{prog}: error: no complete run found", file=sys.stderr)
        return 1
    options = Options(
        baseline=args.baseline,
        margin=args.margin,
        alpha=args.alpha,
        reference=args.reference,
        permutations=args.permutations,
        n_labeled=args.n_labeled,
        figures=not args.no_figures,
        paper_dir=args.paper_dir,
    )
    context = Context(records, options, load_published(args.paper_dir))
    out = args.out or args.results_dirs[0] / f"paper_{args.family}"
    outcome = run_family(args.family, context, out)
    print(outcome.markdown)
    for line in outcome.skipped:
        print(f"- {line}")
    print(f"written to {out} (index.md, {len(outcome.files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
