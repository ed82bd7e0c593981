"""DeepAL+ Tables 1, 4-9 and the Fig. 2/6 ablation from records (`deepal-bench-paper deepal_plus`).

    python scripts/paper_deepal_plus.py RESULTS_DIR... [--out DIR] [options]

A thin wrapper over the installed command; options: `deepal-bench-paper --help`.
"""

import sys

from deepal_bench.cli.paper import main as paper_main


def main(argv: list[str] | None = None) -> int:
    return paper_main(["deepal_plus", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
