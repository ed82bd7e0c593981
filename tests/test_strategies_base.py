"""The query context's query transform (`model.query_transform`): DeepAL+ scores its pool
through `transform_train` (deepALplus data.py get_unlabeled_data), so on augmented data its
MC passes and single-pass scores differ from the un-augmented ones."""

import torch

from deepal_bench.data.augment import ImageAugment
from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.models import build_model
from deepal_bench.seeding import generator
from deepal_bench.strategies import QueryContext, build_strategy
from deepal_bench.training.inference import predict


def _augmented_images() -> ALData:
    """24 random 3x8x8 images (4 classes) with CIFAR's crop (pad 2 here) and flip."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(24, 3, 8, 8, generator=g), torch.arange(24) % 4
    augment = ImageAugment(crop_pad=2, hflip=0.5, mean=(0.5,) * 3, std=(0.25,) * 3)
    return ALData("images", x, y, x[:4], y[:4], 4, augment=augment)


def _deepal_plus_resnet(query_transform: str):
    """DeepAL+'s learner: ResNet18 without dropout, MC passes in train mode."""
    torch.manual_seed(0)
    options = {"name": "resnet18", "dropout": 0.0, "mc_sampling": "train_mode"}
    return build_model({**options, "query_transform": query_transform}, (3, 8, 8), 4).eval()


def _context(query_transform: str, seed: int = 5) -> QueryContext:
    pool = Pool(24)
    pool.label(torch.arange(4))
    model = _deepal_plus_resnet(query_transform)
    return QueryContext(model, _augmented_images(), pool, generator(seed, 1, "query"), seed=seed)


def _scores(name: str, ctx: QueryContext) -> torch.Tensor:
    return build_strategy({"name": name}).scores(ctx)


def test_without_the_query_transform_mean_std_and_bald_collapse_to_zero():
    ctx = _context("none")
    assert torch.equal(_scores("mean_std", ctx), torch.zeros(20))  # ten identical passes
    assert _scores("bald", ctx).abs().max() < 1e-5  # round-off only


def test_with_the_query_transform_mc_passes_differ_through_the_augmentation():
    ctx = _context("train")
    mean_std, bald = _scores("mean_std", ctx), _scores("bald", ctx)
    assert (mean_std > 1e-3).all()
    assert bald.max() > 1e-3 and (bald > 1e-5).sum() >= 15
    mc = ctx.mc_probs(10)
    assert all(not torch.allclose(mc[0], mc[p]) for p in range(1, 10))  # a draw per pass


def test_single_pass_scores_see_an_augmented_draw_of_every_candidate():
    ctx = _context("train")
    plain, _ = predict(ctx.model, ctx.data.x_train[ctx.candidates])
    assert not torch.allclose(ctx.probs(), plain, atol=1e-4)
    assert ctx.labeled_probs().shape == (4, 4)


def test_query_transform_draws_are_seeded_and_independent_of_the_order_of_requests():
    first, second = _context("train"), _context("train")
    first.mc_probs(10)  # a different order of requests draws the same inputs per output
    assert torch.equal(first.probs(), second.probs())
    assert torch.equal(first.mc_probs(10), second.mc_probs(10))
    assert not torch.equal(_context("train", seed=6).probs(), first.probs())


def test_query_transform_is_a_no_op_without_augmentation():
    ctx = _context("train")
    ctx.data.augment = None
    plain, _ = predict(ctx.model, ctx.data.x_train[ctx.candidates])
    assert torch.equal(ctx.probs(), plain)
