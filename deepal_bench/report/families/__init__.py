"""The report families: the generic report and one per paper, each in its own layout.

`deepal-bench-report` runs `generic`; `deepal-bench-paper FAMILY` runs one of `PAPERS`.
Each module defines a `family.Family` (its builders, its rows for the paper comparison).
"""

from deepal_bench.report.families import constrained, deepal_plus, dmle, falcun, generic, ralif

GENERIC = generic.FAMILY
PAPERS = {
    module.FAMILY.name: module.FAMILY for module in (deepal_plus, ralif, falcun, dmle, constrained)
}
