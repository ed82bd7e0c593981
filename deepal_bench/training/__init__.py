"""Training: the trainer, its extension points, estimators and pool inference."""

# Estimators beyond IMLE register themselves in ESTIMATORS on import.
from deepal_bench.training import dmle, lure  # noqa: E402, F401
