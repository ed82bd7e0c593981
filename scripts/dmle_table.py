"""DMLE Tables 2-5 (DMLE vs IMLE, Wilcoxon, §5.2) and Fig. 3 curves from records
(`deepal-bench-paper dmle`).

    python scripts/dmle_table.py results/runs/dmle_iris --n-labeled 100 --out docs/dmle_iris

A thin wrapper over the installed command; options: `deepal-bench-paper --help`.
"""

import sys

from deepal_bench.cli.paper import main as paper_main


def main(argv: list[str] | None = None) -> int:
    return paper_main(["dmle", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
