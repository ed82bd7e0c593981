"""Derived datasets have exactly the proportions asked for; augmentation is batched,
seeded and does what its parameters say."""

import math

import pytest
import torch

from deepal_bench.data import load_dataset
from deepal_bench.data.augment import ImageAugment, build_augment
from deepal_bench.data.derived import add_noise, imbalance_indices, random_subset, redundant
from deepal_bench.errors import ConfigError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_imbalance_keeps_floor_of_ratio_share():
    labels = torch.arange(60) % 3  # 20 per class
    keep = imbalance_indices(labels, [1, 2, 4], gen())
    assert torch.bincount(labels[keep]).tolist() == [5, 10, 20]
    assert len(torch.unique(keep)) == len(keep)
    labels = torch.arange(50_000) % 10  # CIFAR-10 shape: DeepAL+ CIFAR10-imb
    assert len(imbalance_indices(labels, list(range(1, 11)), gen())) == 27_500
    with pytest.raises(ConfigError, match="3 non-negative ratios"):
        imbalance_indices(torch.arange(6) % 3, [1, 2], gen())


def test_random_subset_size_and_seed():
    a, b = random_subset(100, 30, gen(1), "dataset.subset"), random_subset(100, 30, gen(1), "k")
    assert len(a) == 30 and len(torch.unique(a)) == 30 and torch.equal(a, b)
    with pytest.raises(ConfigError, match="dataset.subset=101"):
        random_subset(100, 101, gen(), "dataset.subset")


@pytest.mark.parametrize(("keep", "n_unique"), [(0.2, 20), (0.1, 10), (0.05, 5)])
def test_redundancy_repeated_mnist_proportions(keep, n_unique):
    x = torch.arange(100, dtype=torch.float32).view(100, 1, 1, 1).expand(100, 1, 4, 4).clone()
    source, out = redundant(x, keep, 0.1, gen())
    assert out.shape == x.shape and len(source) == 100
    assert len(torch.unique(source)) == n_unique
    counts = torch.bincount(source, minlength=100)
    assert sorted(counts[counts > 0].tolist()) == [100 // n_unique] * n_unique
    assert torch.equal(out[:n_unique], x[source[:n_unique]])  # the unique originals, unchanged
    noise = out[n_unique:] - x[source[n_unique:]]
    assert (noise != 0).all() and abs(float(noise.std()) - 0.1) < 0.01


def test_redundancy_uneven_copies_differ_by_at_most_one():
    source, _ = redundant(torch.zeros(50, 3), 0.06, 0.1, gen())  # 3 unique for 50 slots
    counts = torch.bincount(source)
    assert sorted(counts[counts > 0].tolist()) == [16, 17, 17]


def test_gaussian_noise_hits_exactly_the_fraction():
    x = torch.full((200, 1, 5, 5), 0.5)
    chosen, out = add_noise(x, "gaussian", 0.1, gen())
    changed = (out != x).flatten(1).any(1)
    assert len(chosen) == 20 and changed.sum() == 20 and changed[chosen].all()
    assert abs(float((out[chosen] - 0.5).std()) - 1.0) < 0.1  # unit standard deviation


def test_salt_pepper_sets_exact_pixel_share_on_all_channels():
    x = torch.full((40, 3, 10, 10), 0.5)
    chosen, out = add_noise(x, "salt_pepper", 0.25, gen(), amount=0.07)
    assert len(chosen) == 10
    hit = (out != 0.5).any(1)  # N x H x W
    assert hit.flatten(1).sum(1)[chosen].tolist() == [7] * 10 and hit.sum() == 70
    values = out.permute(0, 2, 3, 1)[hit]  # hit pixels x channels
    assert ((values == 0) | (values == 1)).all() and (values == values[:, :1]).all()
    with pytest.raises(ConfigError, match="dataset.noise.kind"):
        add_noise(x, "speckle", 0.1, gen())


def test_pipeline_composes_subset_redundancy_noise_and_test_subset():
    data = load_dataset(
        {
            "name": "digits",
            "subset": 1000,
            "redundancy": {"keep": 0.1, "std": 0.1},
            "noise": {"kind": "gaussian", "fraction": 0.1},
            "test_subset": 100,
            "split_seed": 3,
        },
        validation=50,
    )
    assert len(data) == 950 and len(data.y_val) == 50 and len(data.y_test) == 100
    noisy, origin = data.meta["noisy_train"], data.meta["train_origin"]
    assert len(noisy) == len(origin) == 950 and 85 <= int(noisy.sum()) <= 100  # 100 before val
    pool = load_dataset({"name": "digits", "subset": 1000, "redundancy": 0.1, "split_seed": 3})
    assert len(torch.unique(pool.meta["train_origin"])) == 100  # 10% unique images
    again = load_dataset(
        {"name": "digits", "subset": 1000, "redundancy": 0.1, "noise": "gaussian",
         "test_subset": 100, "split_seed": 3},
        validation=50,
    )  # fmt: skip
    assert torch.equal(again.x_train, data.x_train)


def test_pipeline_imbalance_and_noise_on_test_split():
    data = load_dataset(
        {"name": "iris", "imbalance": [1, 0.5, 0.2], "noise": {"splits": ["test"], "fraction": 0.5}}
    )
    assert torch.bincount(data.y_train).tolist() == [35, 17, 7]
    assert int(data.meta["noisy_test"].sum()) == round(0.5 * len(data.y_test))
    with pytest.raises(ConfigError, match="dataset.noise.splits"):
        load_dataset({"name": "iris", "noise": {"splits": ["pool"]}})
    with pytest.raises(ConfigError, match="Valid keys: kind, fraction, std, amount, splits"):
        load_dataset({"name": "iris", "noise": {"prob": 0.1}})


def test_crop_is_a_shifted_window_of_the_padded_image():
    x = torch.arange(2 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6).repeat(8, 1, 1, 1)
    aug = ImageAugment(crop_pad=2, mean=(1.0,), std=(1.0,))  # black = (0 - 1) / 1
    out = aug(x, gen())
    padded = torch.nn.functional.pad(x + 1, (2, 2, 2, 2)) - 1  # pad with black
    for i in range(len(x)):
        windows = [padded[i, :, dy : dy + 6, dx : dx + 6] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)
    assert not all(torch.equal(out[i], x[i]) for i in range(len(x)))


def test_flip_probability_and_identity_affine():
    x = torch.randn(16, 3, 4, 4, generator=gen(5))
    assert torch.equal(ImageAugment(hflip=1.0)(x, gen()), x.flip(-1))
    assert torch.equal(ImageAugment(hflip=0.0)(x, gen()), x)
    half = ImageAugment(hflip=0.5)(x, gen(2))
    flipped = [torch.equal(half[i], x[i].flip(-1)) for i in range(16)]
    assert 0 < sum(flipped) < 16
    same = ImageAugment(rotate=1e-9)(x, gen())
    assert torch.allclose(same, x, atol=1e-5)


def test_rotation_keeps_centre_and_fills_corners_with_black():
    x = torch.full((32, 1, 9, 9), 2.0)
    out = ImageAugment(rotate=90.0, mean=(0.5,))(x, gen())
    assert torch.allclose(out[:, :, 4, 4], torch.full((32, 1), 2.0), atol=1e-5)
    corner = out[:, 0, 0, 0]
    assert (corner <= 2.0 + 1e-5).all() and (corner >= -0.5 - 1e-5).all()
    big_turn = (corner < 1.0).sum()  # angles near +-45 degrees uncover the corner
    assert big_turn > 0
    assert torch.equal(out, ImageAugment(rotate=90.0, mean=(0.5,))(x, gen()))


def test_build_augment_pads_with_black_and_rejects_unknown_keys():
    aug = build_augment({"crop_pad": 4}, [0.5], [0.5])
    out = aug(torch.zeros(16, 1, 4, 4), gen())  # 0 = raw 0.5; black = (0 - 0.5) / 0.5 = -1
    assert set(out.unique().tolist()) == {-1.0, 0.0}
    assert build_augment(None, [0.0], [1.0]) is None
    assert build_augment({"jitter": 0.4}, [0.0], [1.0]).jitter == (0.4, 0.4, 0.4)
    with pytest.raises(ConfigError, match="Valid keys: crop_pad, hflip, rotate, translate"):
        build_augment({"blur": 1}, [0.0], [1.0])
    with pytest.raises(ConfigError, match="resized_crop needs 2 numbers"):
        build_augment({"resized_crop": [0.1, 0.5, 1.0]}, [0.0], [1.0])


def test_resized_crop_stays_inside_the_image():
    flat = torch.full((16, 3, 8, 8), 0.3)
    out = ImageAugment(resized_crop=(0.08, 1.0))(flat, gen())
    assert torch.allclose(out, flat, atol=1e-5)  # windows never leave the image: no black
    ramp = torch.linspace(0, 1, 8).view(1, 1, 1, 8).expand(16, 3, 8, 8)
    zoomed = ImageAugment(resized_crop=(0.08, 0.2))(ramp, gen())
    span = zoomed[:, 0, 4, -1] - zoomed[:, 0, 4, 0]
    assert (span.abs() < 0.75).all()  # a window of at most ~45% width spans less of the ramp


def test_colour_jitter_factors_per_image():
    grey = torch.full((64, 3, 4, 4), 0.5)
    out = ImageAugment(jitter=(0.4, 0.4, 0.4))(grey, gen())
    level = out[:, :, 0, 0]
    assert torch.allclose(out, level[:, :, None, None].expand_as(out))  # still flat
    assert torch.allclose(level, level[:, :1].expand_as(level))  # still grey
    assert level.min() >= 0.5 * 0.6 - 1e-6 and level.max() <= 0.5 * 1.4 + 1e-6
    colour = torch.rand(8, 3, 4, 4, generator=gen(1)) * 0.4 + 0.3
    sat = ImageAugment(jitter=(0.0, 0.0, 1.0))(colour, gen())
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    g = (colour * weights).sum(1, keepdim=True)
    ratio = (sat - g) / (colour - g)  # one saturation factor per image, in [0, 2]
    per_image = ratio.flatten(1)
    assert torch.allclose(per_image, per_image[:, :1].expand_as(per_image), atol=1e-3)
    assert (per_image >= -1e-4).all() and (per_image <= 2 + 1e-4).all()


def test_tabular_rejects_augment_and_salt_pepper():
    with pytest.raises(ConfigError, match="image datasets only"):
        load_dataset({"name": "wine", "augment": {"hflip": 0.5}})
    with pytest.raises(ConfigError, match="salt_pepper needs image"):
        load_dataset({"name": "wine", "noise": {"kind": "salt_pepper"}})
    assert math.isclose(len(load_dataset({"name": "wine", "subset": 10})), 10)
