"""FALCUN Tables 2-3 and Figs. 2-5 (dueling matrix) from records (`deepal-bench-paper falcun`).

    python scripts/paper_falcun.py RESULTS_DIR... [--out DIR] [options]

A thin wrapper over the installed command; options: `deepal-bench-paper --help`.
"""

import sys

from deepal_bench.cli.paper import main as paper_main


def main(argv: list[str] | None = None) -> int:
    return paper_main(["falcun", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
