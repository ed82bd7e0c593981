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


def test_a_run_that_adds_seeds_keeps_the_earlier_seeds(tmp_path):
    import pandas as pd

    from scripts.reference.curves import earlier_seeds, with_earlier
    from scripts.reference.falcun import Recorder

    old = pd.DataFrame({"seed": [0, 0, 1, 1, 2], "round": [0, 1, 0, 1, 0],
                        "n_labeled": [10, 20, 10, 20, 10],
                        "accuracy": [0.1, 0.2, 0.3, 0.4, 0.9]})  # fmt: skip
    path = write_curves(tmp_path / "theirs" / "falcun.csv", old)
    assert earlier_seeds(tmp_path / "missing.csv", 2).empty and earlier_seeds(path, 0).empty
    earlier = earlier_seeds(path, 2)  # seed 2 of the stopped run is run again
    assert earlier["seed"].tolist() == [0, 0, 1, 1]
    recorder = Recorder(path, earlier)
    recorder.log_results({"acc_2": 0.5, "tr_loss_2": 1.0}, 10)
    recorder.log_results({"acc_2": 0.6}, 20)
    assert read_curves(path).to_dict("list") == {
        "seed": [0, 0, 1, 1, 2, 2], "round": [0, 1, 0, 1, 0, 1],
        "n_labeled": [10, 20, 10, 20, 10, 20], "accuracy": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    }  # fmt: skip
    new = pd.DataFrame({"seed": [3], "round": [0], "n_labeled": [10], "accuracy": [0.7]})
    assert with_earlier(earlier_seeds(path, 3), new)["seed"].tolist() == [0, 0, 1, 1, 2, 2, 3]
