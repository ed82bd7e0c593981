"""Bundled datasets, stratified splits, the pool and the initial labeled set."""

import pytest
import torch

from deepal_bench.data import Pool, load_dataset
from deepal_bench.data.pool import initial_indices
from deepal_bench.data.splits import stratified_split


def test_digits_is_real_and_resized_to_28px():
    data = load_dataset({"name": "digits"})
    assert data.input_shape == (1, 28, 28) and data.num_classes == 10
    assert len(data) + len(data.y_test) == 1797
    assert len(data.y_test) == round(0.3 * 1797)
    assert abs(float(data.x_train.mean())) < 1e-4  # normalised with training statistics


def test_stratified_split_keeps_class_shares_and_exact_size():
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    keep, held = stratified_split(labels, 0.2, torch.Generator().manual_seed(0))
    assert len(held) == 20 and len(keep) == 80
    assert torch.bincount(labels[held]).tolist() == [10, 6, 4]
    assert not set(keep.tolist()) & set(held.tolist())


def test_validation_is_carved_from_the_pool_stratified():
    data = load_dataset({"name": "wine"}, validation=30)
    full = load_dataset({"name": "wine"})
    assert len(data.y_val) == 30 and len(data) == len(full) - 30
    # training classes 41/50/34 of 125: shares 9.84, 12.0, 8.16 -> 10, 12, 8
    assert torch.bincount(data.y_val).tolist() == [10, 12, 8]


def test_balanced_initial_set_is_as_even_as_possible():
    labels = torch.tensor([0] * 10 + [1] * 10 + [2] * 2)
    idx = initial_indices(
        labels, torch.arange(22), 11, "balanced", torch.Generator().manual_seed(0)
    )
    counts = torch.bincount(labels[idx], minlength=3).tolist()
    assert sum(counts) == 11 and counts[2] == 2 and sorted(counts[:2]) == [4, 5]
    assert len(set(idx.tolist())) == 11


def test_pool_refuses_relabeling_and_tracks_unlabeled():
    pool = Pool(5)
    pool.label(torch.tensor([1, 3]))
    assert pool.unlabeled_indices().tolist() == [0, 2, 4] and pool.n_labeled == 2
    with pytest.raises(ValueError):
        pool.label(torch.tensor([3]))
    with pytest.raises(ValueError):
        pool.label(torch.tensor([0, 0]))
