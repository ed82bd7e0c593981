"""Bad data and dataset options: one paragraph naming what is wrong and what is allowed,
exit status 2, before any record is written; never a traceback, never a silent run."""

import io
import os
import signal
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from support import run_cli

from deepal_bench.data import inputs
from deepal_bench.data.catalogue import load_dataset
from deepal_bench.data.formats import read_npz
from deepal_bench.data.pool import initial_indices
from deepal_bench.errors import ConfigError
from deepal_bench.results import schema

BUDGET = ["trials=1", "budget.initial=10", "budget.batch=10", "budget.quota=10",
          "trainer.epochs=1", "progress=false"]  # fmt: skip
RECORDS = (schema.CONFIG_FILE, schema.ROUNDS_FILE, schema.STATE_FILE, schema.DONE_FILE)


def image_folder(base: Path, train: list[str], test: list[str] | None = None,
                 empty: tuple[str, ...] = (), per_class: int = 20) -> Path:  # fmt: skip
    """<base>/train/<class>/*.png (and test/ alike), 8x8 RGB images that differ by class."""
    for split, classes in (("train", train), ("test", test)):
        for k, cls in enumerate(classes or []):
            folder = base / split / cls
            folder.mkdir(parents=True)
            for i in range([per_class, 0][cls in empty]):
                pixels = np.full((8, 8, 3), 40 * k + i, dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return base


def npz_file(path: Path, **changes) -> Path:
    """A valid 3-class tabular .npz (60 train / 30 test rows) with `changes` applied."""
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.random((60, 4)).astype(np.float32),
        "y_train": np.arange(60) % 3,
        "x_test": rng.random((30, 4)).astype(np.float32),
        "y_test": np.arange(30) % 3,
    }
    np.savez(path, **{**arrays, **changes})
    return path


def refused(monkeypatch, capsys, tmp_path, *overrides: str) -> str:
    """Run `deepal-bench`; assert exit 2, one line on stderr, no traceback, no record; the
    message."""
    status = run_cli(monkeypatch, *BUDGET, f"results_root={tmp_path / 'runs'}", *overrides)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert not [p for p in (tmp_path / "runs").rglob("*") if p.name in RECORDS]
    return err


# --- tracebacks on the old code -------------------------------------------------------------


def test_an_image_size_beyond_memory_names_the_largest_that_fits(monkeypatch, capsys, tmp_path):
    err = refused(monkeypatch, capsys, tmp_path, "dataset.image_size=100000")
    assert "Invalid dataset.image_size=100000" in err and "must be at most" in err


def test_a_test_size_larger_than_the_data_says_the_range(monkeypatch, capsys, tmp_path):
    err = refused(monkeypatch, capsys, tmp_path, "dataset=wine", "dataset.test_size=100000")
    assert "Invalid dataset.test_size=100000" in err and "at most 177" in err


def test_zero_channels_lists_the_valid_ones(monkeypatch, capsys, tmp_path):
    path = image_folder(tmp_path / "images", ["a", "b"])
    err = refused(monkeypatch, capsys, tmp_path, "dataset=imagefolder", f"dataset.path={path}",
                  "dataset.channels=0")  # fmt: skip
    assert "Unknown dataset.channels '0'. Valid choices: 1, 3." in err


def test_a_corrupt_png_names_the_file(monkeypatch, capsys, tmp_path):
    path = image_folder(tmp_path / "images", ["a", "b"])
    (path / "train" / "a" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    err = refused(monkeypatch, capsys, tmp_path, "dataset=imagefolder", f"dataset.path={path}")
    assert "bad.png cannot be decoded" in err


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"x_train": np.array([[1], [2]], dtype=object)}, "x_train.npy holds dtype object"),
        ({"y_train": np.arange(60) % 3 - 1}, "y_train holds labels from -1 to 1; labels must"),
        ({"y_train": np.arange(50) % 3}, "x_train has 60 rows but y_train has 50 labels"),
        ({"x_test": np.zeros((30, 5), np.float32)}, "one input of x_test has shape (5,)"),
        ({"y_train": np.arange(60) % 3 + 0.5}, "y_train holds labels that are not whole"),
        ({"x_train": np.full((60, 4), np.nan)}, "x_train holds 240 NaN or infinite value(s)"),
        ({"x_train": np.array(["a"] * 60)}, "x_train has dtype <U1; features must be numbers"),
    ],
    ids=["object", "negative", "rows", "shape", "float-labels", "nan", "strings"],
)
def test_a_bad_npz_says_what_is_wrong(monkeypatch, capsys, tmp_path, changes, message):
    path = npz_file(tmp_path / "data.npz", **changes)
    err = refused(monkeypatch, capsys, tmp_path, "dataset=npz", f"dataset.path={path}")
    assert message in err


def test_an_npz_path_that_is_a_folder_is_refused(monkeypatch, capsys, tmp_path):
    err = refused(monkeypatch, capsys, tmp_path, "dataset=npz", f"dataset.path={tmp_path}")
    assert "is a folder; dataset.path must name an .npz file" in err


def test_a_fifo_among_the_images_is_refused_without_waiting(tmp_path):
    """Opening a FIFO named like an image blocked for ever."""
    path = image_folder(tmp_path / "images", ["a", "b"], per_class=2)
    os.mkfifo(path / "train" / "a" / "fifo.png")

    def hung(*_):
        raise TimeoutError("reading the image folder blocked")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        with pytest.raises(ConfigError, match=r"fifo.png cannot be decoded .*is a FIFO"):
            load_dataset({"name": "imagefolder", "path": str(path), "image_size": 8})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- silently accepted on the old code ------------------------------------------------------


def test_a_one_class_image_folder_is_refused(monkeypatch, capsys, tmp_path):
    """With one class every prediction is right: the old code recorded AUBC 1.0."""
    path = image_folder(tmp_path / "images", ["only"], per_class=40)
    err = refused(monkeypatch, capsys, tmp_path, "dataset=imagefolder", f"dataset.path={path}")
    assert "holds 1 class(es)" in err and "at least 2 classes" in err


def test_a_class_folder_without_images_is_refused(monkeypatch, capsys, tmp_path):
    path = image_folder(tmp_path / "images", ["a", "b", "c"], empty=("c",))
    err = refused(monkeypatch, capsys, tmp_path, "dataset=imagefolder", f"dataset.path={path}")
    assert f"class folder {path / 'train' / 'c'} holds no images" in err


def test_a_test_folder_missing_a_class_is_refused(monkeypatch, capsys, tmp_path):
    path = image_folder(tmp_path / "images", ["a", "b", "c"], test=["a", "b"])
    err = refused(monkeypatch, capsys, tmp_path, "dataset=imagefolder", f"dataset.path={path}")
    assert "must hold the class folders of train/ (a, b, c); it lacks [c]" in err


def test_a_balanced_initial_set_smaller_than_the_classes_is_refused(monkeypatch, capsys, tmp_path):
    """5 points cannot hold one of each of digits' 10 classes; the old code drew 5 classes.
    The check runs with the other checks that need the data, before anything is written."""
    runs = tmp_path / "runs"
    overrides = ["budget.initial=5", "budget.initial_mode=balanced", f"results_root={runs}"]
    assert run_cli(monkeypatch, *BUDGET, *overrides) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    assert "budget.initial=5 with budget.initial_mode=balanced" in err and "at least 10" in err
    assert not [p for p in runs.rglob("*") if p.is_file() and p.name != schema.LOCK_FILE]


def test_a_balanced_initial_set_takes_one_of_each_class_first():
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    drawn = initial_indices(labels, torch.arange(6), 3, "balanced", torch.Generator())
    assert sorted(labels[drawn].tolist()) == [0, 1, 2]
    with pytest.raises(ConfigError, match="budget.initial must be at least 3"):
        initial_indices(labels, torch.arange(6), 2, "balanced", torch.Generator())


# --- the checks on hand-made data -----------------------------------------------------------


def test_a_valid_image_folder_and_npz_still_load(tmp_path):
    folder = image_folder(tmp_path / "images", ["a", "b"], test=["a", "b"], per_class=3)
    data = load_dataset({"name": "imagefolder", "path": str(folder), "image_size": 8})
    assert data.y_train.tolist() == [0] * 3 + [1] * 3 and len(data.y_test) == 6
    whole = npz_file(tmp_path / "data.npz", y_train=(np.arange(60) % 3).astype(np.float64))
    data = load_dataset({"name": "npz", "path": str(whole)})
    assert data.num_classes == 3 and data.y_train.dtype == torch.long


def test_image_memory_is_judged_against_what_is_available(monkeypatch):
    monkeypatch.setattr(inputs, "available_memory", lambda: 8 * 4 * 100 * 10 * 10)
    inputs.check_image_memory("dataset.image_size", 10, 100, 4)  # 4 * 100 * 4 * 10 * 10 bytes
    with pytest.raises(ConfigError, match=r"dataset.image_size=15: .* must be at most 10 here"):
        inputs.check_image_memory("dataset.image_size", 15, 100, 4)


def test_available_memory_is_positive_and_below_the_machine():
    total = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    assert 0 < inputs.available_memory() <= total


def test_an_npz_whose_header_claims_more_than_memory_allocates_nothing(tmp_path):
    """np.load would allocate what the header claims (10^13 int32 values: 40 TB)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<i4", "fortran_order": False, "shape": (10**13,)}
    )
    with zipfile.ZipFile(tmp_path / "data.npz", "w") as archive:
        archive.writestr("x_train.npy", header.getvalue())
    with pytest.raises(ConfigError, match=r"take 40,000.0 GB, more than 50% of the"):
        read_npz(tmp_path / "data.npz", "npz")


def test_an_npy_or_a_fifo_given_as_npz_is_refused_without_reading_it(tmp_path):
    np.save(tmp_path / "data.npy", np.arange(3))
    with pytest.raises(ConfigError, match="not a zip archive"):
        read_npz(tmp_path / "data.npy", "npz")
    os.mkfifo(tmp_path / "fifo.npz")
    with pytest.raises(ConfigError, match="is a FIFO, not a regular file"):
        read_npz(tmp_path / "fifo.npz", "npz")
