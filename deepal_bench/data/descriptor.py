"""What a dataset is without loading it: one input's shape, the number of classes and the
split sizes, per loader option. Each loader module defines its dataset's `Descriptor`
beside the loader; `data.catalogue.register_dataset` registers the two together, and
`data.sizes.dataset_sizes` applies the pipeline steps that change sizes. `deepal-bench-plan`
costs a sweep from it, docs/datasets.md's size table is checked against it, and the tests
read it.

A size that cannot be known without the dataset's files is an explicit `Unknown` with the
reason, never a guess; the user formats read only their files' headers (bounded reads).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """One input's shape, the training pool, test and validation set sizes (`val`: a
    validation set the loader ships, 0 for none) and the number of classes; `approximate`
    when a size is estimated (e.g. class imbalance on a pool whose class counts are not
    known)."""

    input_shape: tuple[int, ...]
    train: int
    test: int
    classes: int
    val: int = 0
    approximate: bool = False


@dataclass(frozen=True)
class Unknown:
    """Sizes that are not known without reading the dataset in full; `reason` says why."""

    reason: str


@dataclass(frozen=True)
class Descriptor:
    """A dataset's sizes as a function of its loader's options (defaults filled in from the
    loader's signature). `variants` are the options the size table of docs/datasets.md
    lists beside the YAML's own; `from_files` says, for a user format, what its sizes are
    read from (the size table shows it instead of sizes). `variant_name` names the dataset
    as papers do for these options where the catalogue name does not (MedMNIST by its flag,
    OpenML by its id)."""

    sizes: Callable[[dict], Sizes | Unknown]
    variants: tuple[dict, ...] = ()
    from_files: str | None = None
    variant_name: Callable[[dict], str] | None = None


def held_out(total: int, test_size: float | int) -> tuple[int, int]:
    """(train, test) sizes of `data.splits.stratified_split` (exact: round(f * n) held out)."""
    n_test = round(test_size * total) if isinstance(test_size, float) else int(test_size)
    return total - n_test, n_test


def square(channels: int, size: int) -> tuple[int, int, int]:
    """The shape of a `channels` x `size` x `size` image."""
    return (channels, int(size), int(size))


def fixed(shape: tuple[int, ...], train: int, test: int, classes: int) -> Descriptor:
    """A dataset whose sizes no option changes."""
    sizes = Sizes(shape, train, test, classes)
    return Descriptor(lambda options: sizes)
