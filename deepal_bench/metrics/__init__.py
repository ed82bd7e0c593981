"""Metrics computed from records: pure functions, each citing the paper that defines it."""

from deepal_bench.metrics.curves import aubc, f_acc

__all__ = ["aubc", "f_acc"]
