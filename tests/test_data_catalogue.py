"""Every catalogue entry loads from tiny files written in its real on-disk format, through
`load_dataset` (the path a user's run takes). Pixel values and labels are checked exactly
(normalize=none), normalisation and the missing-file error separately."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from scipy.io import savemat
from support import pattern, write_cifar, write_idx, write_mnist

from deepal_bench.data import load_dataset
from deepal_bench.data.catalogue import DATASETS, DESCRIPTORS, register_dataset
from deepal_bench.errors import ConfigError
from deepal_bench.metrics.groups import group_metrics
from deepal_bench.paths import CONF_DIR

RAW = {"normalize": "none", "augment": None}


def png(path: Path, value: int, size: int = 8, mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (size, size, 3) if mode == "RGB" else (size, size)
    Image.fromarray(np.full(shape, value, dtype=np.uint8), mode).save(path)


def pixels(x: torch.Tensor) -> np.ndarray:
    return torch.round(x * 255).to(torch.uint8).numpy()


def test_mnist_idx_plain_and_gzip(tmp_path):
    x_train, y_train, x_test, y_test = write_mnist(tmp_path)
    data = load_dataset({"name": "mnist", "root": str(tmp_path), **RAW})
    assert data.x_train.shape == (40, 1, 28, 28) and data.num_classes == 10
    np.testing.assert_array_equal(pixels(data.x_train[:, 0]), x_train)
    np.testing.assert_array_equal(pixels(data.x_test[:, 0]), x_test)
    assert data.y_train.tolist() == y_train.tolist() and data.y_test.tolist() == y_test.tolist()
    assert data.augment is None


def test_fashionmnist_reads_its_own_folder(tmp_path):
    write_mnist(tmp_path, "FashionMNIST", n_train=30)
    data = load_dataset({"name": "fashionmnist", "root": str(tmp_path), **RAW})
    assert len(data) == 30 and data.name == "fashionmnist"


def test_emnist_letters_transposed_and_shifted(tmp_path):
    raw = tmp_path / "EMNIST" / "raw"
    x = pattern(6, 28, 28)
    for part in ("train", "test"):
        write_idx(raw / f"emnist-letters-{part}-images-idx3-ubyte", x)
        write_idx(raw / f"emnist-letters-{part}-labels-idx1-ubyte", np.array([1, 2, 3, 24, 25, 26]))
    data = load_dataset({"name": "emnist", "split": "letters", "root": str(tmp_path), **RAW})
    assert data.num_classes == 26 and data.y_train.tolist() == [0, 1, 2, 23, 24, 25]
    np.testing.assert_array_equal(pixels(data.x_train[:, 0]), x.transpose(0, 2, 1))
    with pytest.raises(ConfigError, match="dataset.split"):
        load_dataset({"name": "emnist", "split": "nope", "root": str(tmp_path)})


def test_cifar10_pickle_batches_and_default_augmentation(tmp_path):
    x, y = write_cifar(tmp_path)
    data = load_dataset({"name": "cifar10", "root": str(tmp_path), "normalize": "none"})
    assert data.x_train.shape == (len(x), 3, 32, 32)
    np.testing.assert_array_equal(pixels(data.x_train).reshape(len(x), -1), x)
    assert data.y_train.tolist() == y.tolist() and data.y_test.tolist() == list(range(10))
    assert data.meta["augment"] == {"crop_pad": 4, "hflip": 0.5}
    assert data.augment is not None and data.augment.crop_pad == 4


def test_cifar10_imb_keeps_one_to_ten(tmp_path):
    write_cifar(tmp_path, per_class=10)  # 100 training images, 10 per class
    data = load_dataset({"name": "cifar10_imb", "root": str(tmp_path), **RAW})
    assert torch.bincount(data.y_train).tolist() == list(range(1, 11))
    assert len(data.y_test) == 10


def test_cifar100_fine_and_coarse(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for part, n in (("train", 8), ("test", 4)):
        batch = {b"data": pattern(n, 3072), b"fine_labels": [i * 11 for i in range(n)],
                 b"coarse_labels": [i for i in range(n)]}  # fmt: skip
        (folder / part).write_bytes(pickle.dumps(batch))
    fine = load_dataset({"name": "cifar100", "root": str(tmp_path), **RAW})
    coarse = load_dataset({"name": "cifar100", "root": str(tmp_path), "labels": "coarse", **RAW})
    assert fine.num_classes == 100 and fine.y_train.tolist() == [0, 11, 22, 33, 44, 55, 66, 77]
    assert coarse.num_classes == 20 and coarse.y_test.tolist() == [0, 1, 2, 3]


def test_svhn_mat_maps_label_ten_to_zero(tmp_path):
    x = pattern(5, 32, 32, 3)
    for part in ("train", "test"):
        savemat(
            tmp_path / f"{part}_32x32.mat",
            {"X": x.transpose(1, 2, 3, 0), "y": np.array([[10], [1], [2], [10], [9]])},
        )
    data = load_dataset({"name": "svhn", "root": str(tmp_path), **RAW})
    assert data.y_train.tolist() == [0, 1, 2, 0, 9]
    np.testing.assert_array_equal(pixels(data.x_train), x.transpose(0, 3, 1, 2))


def write_medmnist(root: Path, flag: str, channels: int, size: int = 28) -> dict:
    shape = (size, size) if channels == 1 else (size, size, 3)
    arrays = {}
    for part, n in (("train", 12), ("val", 4), ("test", 6)):
        arrays[f"{part}_images"] = pattern(n, *shape)
        arrays[f"{part}_labels"] = (np.arange(n) % 2).reshape(n, 1)
    (root / "medmnist").mkdir(parents=True, exist_ok=True)
    name = f"{flag}.npz" if size == 28 else f"{flag}_{size}.npz"
    np.savez(root / "medmnist" / name, **arrays)
    return arrays


def test_medmnist_npz_val_modes_and_size(tmp_path):
    arrays = write_medmnist(tmp_path, "pneumoniamnist", 1)
    base = {"name": "medmnist", "flag": "pneumoniamnist", "root": str(tmp_path), **RAW}
    pool = load_dataset({**base, "val": "pool"})
    assert len(pool) == 16 and pool.x_val is None and pool.num_classes == 2
    np.testing.assert_array_equal(pixels(pool.x_train[12:, 0]), arrays["val_images"])
    held = load_dataset({**base, "val": "validation"})
    assert len(held) == 12 and len(held.y_val) == 4
    assert len(load_dataset({**base, "val": "drop"})) == 12
    write_medmnist(tmp_path, "bloodmnist", 3, size=64)
    blood = load_dataset({**base, "flag": "bloodmnist", "size": 64, "val": "drop"})
    assert blood.x_train.shape == (12, 3, 64, 64) and blood.num_classes == 8


def test_bloodmnist_yaml_settings_resize_nearest(tmp_path):
    write_medmnist(tmp_path, "bloodmnist", 3)
    data = load_dataset(
        {"name": "medmnist", "flag": "bloodmnist", "val": "drop", "image_size": 32,
         "resize_mode": "nearest", "root": str(tmp_path), **RAW}
    )  # fmt: skip
    assert data.x_train.shape == (12, 3, 32, 32)
    # nearest-neighbour upsampling only repeats source pixels
    assert set(pixels(data.x_train[0]).ravel()) <= set(pattern(12, 28, 28, 3)[0].ravel())


def test_openml_csv_arff_and_parquet_error(tmp_path):
    folder = tmp_path / "openml"
    folder.mkdir()
    rows = ["a,b,colour,class"] + [
        f"{i},{2 * i},{'red' if i % 2 else 'blue'},{i % 3}" for i in range(30)
    ]
    (folder / "6.csv").write_text("\n".join(rows) + "\n")
    data = load_dataset({"name": "openml", "data_id": 6, "root": str(tmp_path), "test_size": 0.2})
    assert data.x_train.shape == (24, 3) and len(data.y_test) == 6 and data.num_classes == 3
    assert torch.allclose(data.x_train.mean(0), torch.zeros(3), atol=1e-5)
    arff = tmp_path / "t.arff"
    arff.write_text(
        "@RELATION t\n@ATTRIBUTE x NUMERIC\n@ATTRIBUTE y {no,yes}\n@DATA\n"
        + "".join(f"{i},{'yes' if i >= 5 else 'no'}\n" for i in range(10))
    )
    tab = load_dataset({"name": "openml", "path": str(arff), "target": "y", "test_size": 2, **RAW})
    assert tab.num_classes == 2 and tab.meta["classes"] == ["no", "yes"]
    assert sorted(tab.x_train[:, 0].tolist() + tab.x_test[:, 0].tolist()) == list(range(10))
    assert all((x >= 5) == bool(y) for x, y in zip(tab.x_train[:, 0], tab.y_train, strict=True))
    with pytest.raises(ConfigError, match="not a column"):
        load_dataset({"name": "openml", "path": str(arff), "target": "nope"})
    (tmp_path / "t.txt").write_text("x\n")
    with pytest.raises(ConfigError, match="unsupported format"):
        load_dataset({"name": "openml", "path": str(tmp_path / "t.txt")})


def test_imagefolder_tree_with_and_without_test(tmp_path):
    for split, n in (("train", 3), ("test", 2)):
        for c, cls in enumerate(("cat", "dog")):
            for i in range(n):
                png(tmp_path / "imgs" / split / cls / f"{i}.png", 10 * c + i)
    data = load_dataset(
        {"name": "imagefolder", "path": str(tmp_path / "imgs"), "image_size": 8, **RAW}
    )
    assert data.meta["classes"] == ["cat", "dog"] and data.y_train.tolist() == [0, 0, 0, 1, 1, 1]
    assert pixels(data.x_train)[:, :, 0, 0].tolist() == [[v] * 3 for v in (0, 1, 2, 10, 11, 12)]
    assert len(data.y_test) == 4
    for i in range(10):
        png(tmp_path / "only" / "train" / ("a" if i < 5 else "b") / f"{i}.jpg", 100)
    split = load_dataset(
        {"name": "imagefolder", "path": str(tmp_path / "only"), "test_size": 0.2, **RAW}
    )
    assert torch.bincount(split.y_test).tolist() == [1, 1] and len(split) == 8


def test_tinyimagenet_layout(tmp_path):
    base = tmp_path / "tiny-imagenet-200"
    wnids = ["n01", "n02"]
    (base / "val" / "images").mkdir(parents=True)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    for c, w in enumerate(wnids):
        for i in range(3):
            png(base / "train" / w / "images" / f"{w}_{i}.JPEG", 50 * c + i, size=64)
    lines = []
    for i in range(4):
        png(base / "val" / "images" / f"val_{i}.JPEG", 200 + i, size=64)
        lines.append(f"val_{i}.JPEG\t{wnids[i % 2]}\t0\t0\t10\t10")
    (base / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    data = load_dataset({"name": "tinyimagenet", "root": str(tmp_path), "normalize": "none"})
    assert data.x_train.shape == (6, 3, 64, 64) and data.num_classes == 2
    assert data.y_train.tolist() == [0, 0, 0, 1, 1, 1] and data.y_test.tolist() == [0, 1, 0, 1]
    assert pixels(data.x_test)[:, 0, 5, 5].tolist() == [200, 201, 202, 203]
    assert data.meta["augment"] == {"rotate": 20.0, "hflip": 0.5}


def test_breakhis_tree_split_and_magnification(tmp_path):
    base = tmp_path / "BreaKHis_v1" / "histology_slides" / "breast"
    for cls, n in (("benign", 4), ("malignant", 6)):
        for mag in ("40X", "100X"):
            for i in range(n):
                png(base / cls / "SOB" / "t" / "p1" / mag / f"{mag}_{i}.png", i)
    data = load_dataset({"name": "breakhis", "root": str(tmp_path), "image_size": 8, **RAW})
    assert len(data) + len(data.y_test) == 20 and len(data.y_test) == 6  # 30% of 20
    assert torch.bincount(data.y_test).tolist() == [2, 4]
    mag = load_dataset(
        {"name": "breakhis", "root": str(tmp_path), "image_size": 8, "magnification": 40, **RAW}
    )
    assert len(mag) + len(mag.y_test) == 10


def test_waterbirds_metadata_groups(tmp_path):
    base = tmp_path / "waterbirds_v1.0"
    rows = ["img_id,img_filename,y,split,place,place_filename"]
    spec = [(0, 0, 0), (1, 0, 1), (1, 0, 1), (0, 1, 0), (0, 2, 0), (0, 2, 1), (1, 2, 0), (1, 2, 1)]
    for i, (y, split, place) in enumerate(spec):
        png(base / "001.Bird" / f"{i}.jpg", 30 * i)
        rows.append(f"{i},001.Bird/{i}.jpg,{y},{split},{place},x")
    (base / "metadata.csv").write_text("\n".join(rows) + "\n")
    data = load_dataset({"name": "waterbirds", "root": str(tmp_path), "image_size": 8, **RAW})
    assert data.y_train.tolist() == [0, 1, 1] and data.y_test.tolist() == [0, 0, 1, 1]
    assert data.groups_test.tolist() == [0, 1, 2, 3]
    assert data.group_names == [
        "landbird_land",
        "landbird_water",
        "waterbird_land",
        "waterbird_water",
    ]
    assert data.x_val is None
    # predictions right on groups 0 and 3, wrong on the mismatch groups 1 and 2
    columns = group_metrics(
        [0, 1, 0, 1],
        data.y_test.tolist(),
        data.groups_test.tolist(),
        data.group_names,
        data.mismatch_groups,
    )
    assert columns["mismatch_accuracy"] == 0.0 and columns["worst_group_accuracy"] == 0.0
    val = load_dataset(
        {"name": "waterbirds", "root": str(tmp_path), "image_size": 8, "val": "validation", **RAW}
    )
    assert val.y_val.tolist() == [0]
    assert (
        len(
            load_dataset(
                {"name": "waterbirds", "root": str(tmp_path), "image_size": 8, "val": "pool", **RAW}
            )
        )
        == 4
    )


def test_inaturalist_supercategories_and_cap(tmp_path):
    base = tmp_path / "inaturalist"
    cats = [{"id": 1, "name": "a", "supercategory": "Aves"},
            {"id": 2, "name": "b", "supercategory": "Aves"},
            {"id": 3, "name": "c", "supercategory": "Fungi"}]  # fmt: skip
    for part, n in (("train2018.json", 6), ("val2018.json", 3)):
        images = [{"id": i, "file_name": f"img/{part}_{i}.jpg"} for i in range(n)]
        for i in range(n):
            png(base / "img" / f"{part}_{i}.jpg", i)
        notes = [{"image_id": i, "category_id": 1 + i % 3} for i in range(n)]
        (base / part).write_text(
            json.dumps({"images": images, "annotations": notes, "categories": cats})
        )
    data = load_dataset({"name": "inaturalist", "root": str(tmp_path), "image_size": 8, **RAW})
    assert data.num_classes == 2 and data.meta["classes"] == ["Aves", "Fungi"]
    assert torch.bincount(data.y_train).tolist() == [4, 2]
    capped = load_dataset(
        {"name": "inaturalist", "root": str(tmp_path), "image_size": 8, "max_per_class": 1, **RAW}
    )
    assert torch.bincount(capped.y_train).tolist() == [1, 1]
    species = load_dataset(
        {"name": "inaturalist", "root": str(tmp_path), "image_size": 8, "level": "name", **RAW}
    )
    assert species.num_classes == 3


def test_npz_layouts_and_groups(tmp_path):
    x = pattern(6, 8, 8, 3)
    arrays = {"x_train": x, "y_train": np.array([0, 1, 2, 0, 1, 2]), "x_test": x[:2]}
    arrays |= {"y_test": np.array([1, 4]), "groups_test": np.array([0, 1])}
    np.savez(tmp_path / "d.npz", group_names=np.array(["g0", "g1"]), **arrays)
    data = load_dataset({"name": "npz", "path": str(tmp_path / "d.npz"), **RAW})
    assert data.x_train.shape == (6, 3, 8, 8) and data.num_classes == 5
    np.testing.assert_array_equal(pixels(data.x_train), x.transpose(0, 3, 1, 2))
    assert data.groups_test.tolist() == [0, 1] and data.group_names == ["g0", "g1"]
    np.savez(tmp_path / "t.npz", x_train=np.arange(12.0).reshape(6, 2), y_train=np.arange(6) % 2,
             x_test=np.ones((2, 2)), y_test=np.array([0, 1]))  # fmt: skip
    tab = load_dataset({"name": "npz", "path": str(tmp_path / "t.npz")})
    assert tab.input_shape == (2,) and torch.allclose(
        tab.x_train.mean(0), torch.zeros(2), atol=1e-6
    )


def test_normalisation_uses_clean_training_statistics(tmp_path):
    write_mnist(tmp_path)
    data = load_dataset({"name": "mnist", "root": str(tmp_path)})
    assert abs(float(data.x_train.mean())) < 1e-5 and abs(float(data.x_train.std()) - 1) < 1e-4
    raw = load_dataset({"name": "mnist", "root": str(tmp_path), **RAW})
    mean, std = float(raw.x_train.mean()), float(raw.x_train.std())
    assert data.mean == pytest.approx([mean]) and data.std == pytest.approx([std])
    assert torch.allclose(data.x_test, (raw.x_test - mean) / std, atol=1e-5)
    with pytest.raises(ConfigError, match="imagenet needs 3-channel"):
        load_dataset({"name": "mnist", "root": str(tmp_path), "normalize": "imagenet"})


@pytest.mark.parametrize(
    ("name", "extra", "expected"),
    [
        ("mnist", {}, "MNIST/raw/train-images-idx3-ubyte"),
        ("emnist", {"split": "balanced"}, "emnist-balanced-train-images-idx3-ubyte"),
        ("cifar10", {}, "cifar-10-batches-py/data_batch_1"),
        ("svhn", {}, "train_32x32.mat"),
        ("medmnist", {"flag": "dermamnist", "size": 64}, "medmnist/dermamnist_64.npz"),
        ("waterbirds", {}, "waterbirds_v1.0/metadata.csv"),
        ("breakhis", {}, "BreaKHis_v1/histology_slides/breast/benign"),
        ("openml", {"data_id": 156}, "openml/156.csv"),
    ],
)
def test_missing_files_error_names_dataset_path_files_and_how(tmp_path, name, expected, extra):
    with pytest.raises(ConfigError) as err:
        load_dataset({"name": name, "root": str(tmp_path / "empty"), "download": False, **extra})
    message = str(err.value)
    assert f"dataset '{name}'" in message and str(tmp_path / "empty") in message
    assert expected in message and "DEEPAL_DATA" in message and "\n" not in message


def test_unknown_option_and_root_from_environment(tmp_path, monkeypatch):
    write_mnist(tmp_path)
    with pytest.raises(ConfigError, match="unknown option"):
        load_dataset({"name": "mnist", "root": str(tmp_path), "colour": 1})
    monkeypatch.setenv("DEEPAL_DATA", str(tmp_path))
    assert len(load_dataset({"name": "mnist", "root": None})) == 40


def test_every_registered_dataset_has_a_descriptor_and_a_yaml():
    assert set(DESCRIPTORS) == set(DATASETS.names())
    for name in DATASETS.names():
        yaml = CONF_DIR / "dataset" / f"{name}.yaml"
        assert yaml.is_file(), f"dataset '{name}' has no conf/dataset/{name}.yaml"
        assert OmegaConf.load(yaml).name == name


def test_a_dataset_is_registered_with_its_descriptor_or_not_at_all():
    with pytest.raises(TypeError, match="needs a Descriptor"):
        register_dataset("sizeless", lambda: None, None)
    assert "sizeless" not in DATASETS and "sizeless" not in DESCRIPTORS
