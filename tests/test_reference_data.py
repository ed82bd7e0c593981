"""scripts/reference data-export shims: the file both sides read round-trips into our
loader and into the authors' input format with the same values (no authors' code needed)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepal_bench.data.catalogue import load_dataset  # noqa: E402
from scripts.reference import data  # noqa: E402
from scripts.reference.curves import read_curves, write_curves  # noqa: E402


def test_tabular_export_round_trips_into_our_loader(tmp_path):
    arrays = data.digits_tabular()
    path = data.write(arrays, tmp_path / "digits.npz")
    ours = load_dataset({"name": "npz", "path": str(path), "normalize": "none", "augment": None})
    theirs = data.load_arrays(path)
    assert ours.x_train.shape == (1258, 64) and ours.x_test.shape == (539, 64)
    assert torch.equal(ours.x_train, torch.from_numpy(theirs["x_train"]))
    assert torch.equal(ours.y_test, torch.from_numpy(theirs["y_test"]))
    # standardised with the training statistics (unbiased std), constant pixels left at 0
    assert np.abs(theirs["x_train"].mean(0)).max() < 1e-5
    varying = theirs["x_train"].std(0) > 0
    np.testing.assert_allclose(theirs["x_train"][:, varying].std(0, ddof=1), 1.0, rtol=1e-4)


def test_image_export_reaches_both_sides_with_the_same_pixels(tmp_path):
    arrays = data.digits_images(size=16, channels=3)
    path = data.write(arrays, tmp_path / "images.npz")
    theirs = data.load_arrays(path)
    assert theirs["x_train"].dtype == np.uint8 and theirs["x_train"].shape[1:] == (16, 16, 3)
    ours = load_dataset({"name": "npz", "path": str(path), "normalize": "none", "augment": None})
    # the authors' CIFAR10_Handler: Image.fromarray(x), then ToTensor
    first = transforms.ToTensor()(Image.fromarray(theirs["x_train"][0]))
    assert torch.allclose(ours.x_train[0], first)
    normalised = load_dataset({"name": "npz", "path": str(path), "augment": None})
    mean, std = data.channel_stats(theirs["x_train"])
    assert normalised.mean == pytest.approx(mean) and normalised.std == pytest.approx(std)


def test_iris_export_keeps_the_raw_features(tmp_path):
    arrays = data.iris()
    assert arrays["x_train"].shape == (120, 4) and arrays["x_test"].shape == (30, 4)
    assert np.bincount(arrays["y_test"]).tolist() == [10, 10, 10]
    back = data.load_arrays(data.write(arrays, tmp_path / "iris.npz"))
    assert all(np.array_equal(arrays[k], back[k]) for k in data.ARRAYS)


def test_curves_round_trip(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"seed": [0, 0], "round": [0, 1], "n_labeled": [10, 20],
                          "accuracy": [0.5, 0.75], "extra": [1, 2]})  # fmt: skip
    back = read_curves(write_curves(tmp_path / "s" / "random.csv", frame))
    assert back.to_dict("list") == frame.drop(columns="extra").to_dict("list")


def test_collect_turns_our_records_into_curves(tmp_path):
    import pandas as pd

    from scripts.reference.ours import collect
    from scripts.reference.suites import SUITES

    suite = SUITES["deepalplus-tabular"]
    run = tmp_path / suite.name / "ours_runs" / "entropy"
    run.mkdir(parents=True)
    rounds = pd.DataFrame({"trial": [0, 0, 1], "seed": [5, 5, 6], "round": [0, 1, 0],
                           "n_labeled": [100, 150, 100], "accuracy": [0.5, 0.6, 0.55],
                           "train_seconds": [1.0, 1.0, 1.0]})  # fmt: skip
    rounds.to_csv(run / "rounds.csv", index=False)
    (path,) = collect(tmp_path, suite)
    assert path == tmp_path / suite.name / "ours" / "entropy.csv"
    assert read_curves(path).to_dict("list") == {
        "seed": [0, 0, 1], "round": [0, 1, 0], "n_labeled": [100, 150, 100],
        "accuracy": [0.5, 0.6, 0.55],
    }  # fmt: skip
