"""Dataset sizes without loading: the descriptors agree with the loaders on real files
(bundled sets, tiny user files) and with the papers on hand-computed options; user files
that cannot be read are `Unknown` with the reason, never an error; docs/datasets.md's size
table is the one the descriptors give."""

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from crafted import bounded, npy_header
from PIL import Image

from deepal_bench.cli.data import dataset_choices, dataset_options
from deepal_bench.data import load_dataset
from deepal_bench.data.catalogue import DESCRIPTORS
from deepal_bench.data.descriptor import Sizes, Unknown
from deepal_bench.data.sizes import catalogue_rows, dataset_sizes, sizes_table
from deepal_bench.errors import ConfigError

DOC = Path(__file__).resolve().parent.parent / "docs" / "datasets.md"


def loaded_sizes(cfg: dict, validation: int = 0) -> Sizes:
    data = load_dataset(cfg, validation)
    val = 0 if data.y_val is None else len(data.y_val)
    return Sizes(data.input_shape, len(data), len(data.y_test), data.num_classes, val)


@pytest.mark.parametrize(
    ("cfg", "validation"),
    [
        ({"name": "iris"}, 0),
        ({"name": "breast_cancer", "test_size": 69}, 0),
        ({"name": "wine", "subset": 100, "test_subset": 20}, 10),
        ({"name": "digits", "image_size": 8, "test_size": 0.25, "subset": 900}, 300),
    ],
)
def test_bundled_sizes_are_the_loaded_ones(cfg, validation):
    assert dataset_sizes(cfg, validation) == loaded_sizes(cfg, validation)


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (6, 6), (10, 20, 30)).save(path)


@pytest.mark.parametrize("with_test", [True, False])
def test_imagefolder_sizes_are_counted_from_the_tree(tmp_path, with_test):
    for cls, n in (("a", 4), ("b", 6)):
        for i in range(n):
            _png(tmp_path / "train" / cls / f"{i}.png")
        _png(tmp_path / "val" / cls / "v.png")
        if with_test:
            _png(tmp_path / "test" / cls / "t.png")
    (tmp_path / "train" / "notes.txt").write_text("not an image")
    cfg = {"name": "imagefolder", "path": str(tmp_path), "image_size": 8, "test_size": 0.3}
    expected = Sizes((3, 8, 8), 10 if with_test else 7, 2 if with_test else 3, 2, val=2)
    assert dataset_sizes(cfg) == expected == loaded_sizes(cfg)


@pytest.mark.parametrize(
    "x",
    [
        np.zeros((7, 5, 6, 3), dtype=np.uint8),  # N x H x W x C
        np.zeros((7, 3, 5, 6), dtype=np.uint8),  # N x C x H x W
        np.zeros((7, 5, 6), dtype=np.uint8),  # N x H x W
        np.zeros((7, 4), dtype=np.float32),  # tabular
    ],
    ids=["nhwc", "nchw", "nhw", "tabular"],
)
def test_npz_sizes_are_read_from_the_array_headers(tmp_path, x):
    path = tmp_path / "d.npz"
    arrays = {"x_train": x, "y_train": np.arange(7) % 3, "x_test": x[:2], "y_test": [0, 4]}
    np.savez(path, **arrays, x_val=x[:3], y_val=np.array([1, 1, 6]))
    cfg = {"name": "npz", "path": str(path)}
    assert dataset_sizes(cfg) == loaded_sizes(cfg)
    assert dataset_sizes(cfg).classes == 7 and dataset_sizes(cfg).val == 3


def test_unreadable_user_files_are_unknown_with_the_reason(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    lacking = tmp_path / "lacking.npz"
    np.savez(lacking, x_train=np.zeros((3, 2)), y_train=np.zeros(3))
    pickled = tmp_path / "pickled.npz"
    objects = np.array([object()] * 3, dtype=object)
    np.savez(pickled, x_train=np.zeros((3, 2)), y_train=objects, x_test=np.zeros((1, 2)),
             y_test=objects[:1])  # fmt: skip
    for path, words in (
        (garbage, "cannot be read"),
        (lacking, "cannot be read"),
        (pickled, "cannot be read"),
        (tmp_path / "absent.npz", "no file"),
    ):
        sizes = dataset_sizes({"name": "npz", "path": str(path)})
        assert isinstance(sizes, Unknown) and words in sizes.reason and str(path) in sizes.reason
    folder = dataset_sizes({"name": "imagefolder", "path": str(tmp_path / "none")})
    assert folder == Unknown(f"no folder {tmp_path / 'none' / 'train'}")
    table = dataset_sizes({"name": "openml", "path": str(tmp_path / "t.csv")})
    assert isinstance(table, Unknown) and "t.csv" in table.reason


def test_options_change_the_sizes_as_the_loaders_do():
    medmnist = {"name": "medmnist", "flag": "pneumoniamnist"}
    assert dataset_sizes({**medmnist, "val": "pool"}) == Sizes((1, 28, 28), 5_232, 624, 2)
    assert dataset_sizes({**medmnist, "val": "validation", "size": 64}) == (
        Sizes((1, 64, 64), 4_708, 624, 2, val=524)
    )
    blood = dataset_sizes({"name": "medmnist", "flag": "bloodmnist", "val": "drop"})
    assert blood == Sizes((3, 28, 28), 11_959, 3_421, 8)
    assert dataset_sizes({"name": "cifar10_imb"}).train == 27_500  # DeepAL+ §3.1
    assert dataset_sizes({"name": "cifar10_imb", "ratios": [1, 4]}).train == 1_250 + 5_000
    assert dataset_sizes({"name": "cifar100", "labels": "coarse"}).classes == 20
    assert dataset_sizes({"name": "emnist", "split": "balanced"}) == (
        Sizes((1, 28, 28), 112_800, 18_800, 47)  # FALCUN Table 4: 131,600 in all
    )
    breakhis = dataset_sizes({"name": "breakhis"})
    assert (breakhis.train, breakhis.test) == (5_536, 2_373)  # DeepAL+ Table 3
    assert dataset_sizes({"name": "breakhis", "magnification": 100}).train == 2_081 - 624
    waterbirds = dataset_sizes({"name": "waterbirds", "val": "pool", "image_size": 32})
    assert waterbirds == Sizes((3, 32, 32), 4_795 + 1_199, 5_794, 2)


def test_pipeline_steps_and_the_validation_carve_out():
    imbalanced = dataset_sizes({"name": "cifar10", "imbalance": [1, 2]})
    assert imbalanced.train == 12_500 + 25_000 and imbalanced.approximate
    cut = dataset_sizes({"name": "mnist", "subset": 30_000, "test_subset": 5_000}, 300)
    assert cut == Sizes((1, 28, 28), 29_700, 5_000, 10, val=300)
    shipped = dataset_sizes({"name": "waterbirds", "val": "validation"}, 100)
    assert (shipped.train, shipped.val) == (4_795, 1_199)  # the shipped set takes precedence
    with pytest.raises(ConfigError, match="budget.validation=2000 is not smaller"):
        dataset_sizes({"name": "digits"}, 2_000)
    with pytest.raises(ConfigError, match="dataset.split"):
        dataset_sizes({"name": "emnist", "split": "nosuch"})


def test_the_paper_presets_datasets_compose_to_the_papers_sizes():
    """The `dataset=` choices that state little beyond their base are pinned here."""
    pneumonia = dataset_sizes(dataset_options("pneumoniamnist", None, []))
    assert (pneumonia.train, pneumonia.test) == (5_232, 624)  # DeepAL+ Table 3
    derma = dataset_sizes(dataset_options("dermamnist", None, []))
    assert derma == Sizes((3, 32, 32), 7_007, 2_005, 7)  # FALCUN Table 4, App. B.1


def _catalogue_rows() -> list[tuple[str, dict]]:
    return catalogue_rows({c: dataset_options(c, None, []) for c in dataset_choices()})


def test_every_choice_and_listed_variant_has_its_sizes():
    """No `dataset=` choice and no variant a descriptor lists is unknown without its files
    (only the user formats read theirs)."""
    for label, options in _catalogue_rows():
        if DESCRIPTORS[options["name"]].from_files is None:
            assert isinstance(dataset_sizes(options), Sizes), label


def test_docs_size_table_is_the_descriptors():
    expected = sizes_table(_catalogue_rows())
    found = re.search(r"<!-- sizes: .*? -->\n(.*?)\n<!-- /sizes -->", DOC.read_text(), re.S)
    assert found is not None, "docs/datasets.md lacks the <!-- sizes --> block"
    assert found.group(1) == expected, f"docs/datasets.md's size table should be:\n{expected}"


def test_a_label_header_claiming_1e13_rows_is_unknown_without_allocating(tmp_path):
    """The size reader loaded the labels in full: a header claiming 10^13 rows allocated
    before anything was read."""
    path = tmp_path / "claims.npz"
    np.savez(path, x_train=np.zeros((3, 2)), y_train=np.zeros(3, int), x_test=np.zeros((1, 2)),
             y_test=np.zeros(1, int))  # fmt: skip
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("y_val.npy", npy_header((10**13,), "<i8") + bytes(64))
        archive.writestr("x_val.npy", npy_header((1, 2), "<f8") + bytes(16))
    answer = bounded(lambda: dataset_sizes({"name": "npz", "path": str(path)}))
    assert answer.startswith("ok: Unknown(") and "claims shape (10000000000000,)" in answer
