"""DMLE vs IMLE table (DMLE paper Table 2 + Wilcoxon, §5.2) and Fig. 3 curves from records.

python scripts/dmle_table.py results/runs/dmle_iris --n-labeled 100 --out docs/dmle_iris
"""

import sys

from deepal_bench.report.dmle import main

if __name__ == "__main__":
    sys.exit(main())
