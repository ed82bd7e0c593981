"""Data layer: in-memory tensor datasets, the pool's labeled mask, loaders with their
descriptors, and transforms."""

from deepal_bench.data.catalogue import DATASETS, DESCRIPTORS, load_dataset, register_dataset
from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.data.sizes import dataset_sizes

__all__ = [
    "ALData",
    "DATASETS",
    "DESCRIPTORS",
    "Pool",
    "dataset_sizes",
    "load_dataset",
    "register_dataset",
]
