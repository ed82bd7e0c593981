"""Data layer: in-memory tensor datasets, the pool's labeled mask, loaders and transforms."""

from deepal_bench.data.catalogue import DATASETS, load_dataset
from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool

__all__ = ["ALData", "DATASETS", "Pool", "load_dataset"]
