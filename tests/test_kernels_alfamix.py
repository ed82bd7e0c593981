"""ALFA-Mix candidates as the authors' code computes them: eps grown in steps until more
than n points flip, closed-form alpha scaled by 1/sqrt(D) and not clamped, or random alpha."""

import pytest
import torch

from deepal_bench.kernels.alfamix import alfamix_candidates, class_anchors, eps_schedule

# Two classes on the first of D = 4 coordinates: logits (z_1, -z_1); anchors +-e_1.
W = torch.tensor([[1.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]])
B = torch.zeros(2)
LABELED = torch.tensor([[1.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]])
LABELS = torch.tensor([0, 1])


def _points(*first: float) -> tuple[torch.Tensor, torch.Tensor]:
    emb = torch.zeros(len(first), 4)
    emb[:, 0] = torch.tensor(first)
    return emb, torch.softmax(emb @ W.T + B, 1)


def test_eps_grows_in_steps_below_one():
    assert eps_schedule(0.25) == [0.25, 0.5, 0.75, 1.0]
    assert len(eps_schedule(0.03125)) == 32
    assert eps_schedule(0.2)[-1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, [True, False, False, False, False]),
        (1, [True, True, False, False, False]),
        (2, [True, True, True, False, False]),
        (10, [True, True, True, True, False]),
    ],
)
def test_closed_form_grows_eps_until_more_than_n_flip(n, expected):
    # For z = (z_1, 0, 0, 0), 0 < z_1 < 1, mixed towards the class-1 anchor -e_1, eq. 5 gives
    # alpha_1 = (eps / sqrt(4)) ||z* - z|| g_1 / (||g|| (z*_1 - z_1)) = eps / 2, so z_1 flips
    # once eps > 2 z_1 / (1 + z_1): 0.05 -> 0.095 (eps 0.2), 0.15 -> 0.26 (0.4),
    # 0.6 -> 0.75 (0.8), 0.9 -> 0.947 (1.0); 3.0 never (the class-0 anchor cannot flip it).
    emb, probs = _points(0.05, 0.15, 0.6, 0.9, 3.0)
    got = alfamix_candidates(emb, probs, LABELED, LABELS, W, B, n=n, alpha_cap=0.2)
    assert got.tolist() == expected


def test_closed_form_alpha_is_not_clamped_to_the_bound():
    # One labeled point, 5 e_1 of class 0 (class 1 has none: its anchor is the labeled mean,
    # the same point). For z_1 = 0.9, g_1 < 0 and z*_1 - z_1 = 4.1 > 0, so alpha_1 = -eps/2:
    # the mix z_1 - (eps/2) 4.1 flips once eps > 0.44 (at 0.6). Clamping alpha to [0, eps]
    # would leave z unmixed and never flip it.
    emb, probs = _points(0.9)
    anchor = torch.tensor([[5.0, 0.0, 0.0, 0.0]])
    got = alfamix_candidates(emb, probs, anchor, LABELS[:1], W, B, n=10, alpha_cap=0.2)
    assert got.tolist() == [True]
    early = alfamix_candidates(emb, probs, anchor, LABELS[:1], W, B, n=10, alpha_cap=0.4)
    assert early.tolist() == [True]  # eps = 0.4 misses, 0.8 flips: the growth goes on


def test_random_alpha_stays_within_the_bound_and_is_seeded():
    # z_1 = 1e-10 flips for any alpha >= 1e-8; z_1 = 0.9 needs alpha > 0.47, impossible with
    # alpha <= eps = 0.03125, the first bound (one candidate > n = 0 stops the growth).
    emb, probs = _points(1e-10, 0.9)
    args = (emb, probs, LABELED, LABELS, W, B)
    got = alfamix_candidates(
        *args, n=0, alpha_cap=0.03125, mode="random", generator=torch.Generator().manual_seed(0)
    )
    assert got.tolist() == [True, False]
    emb, probs = _points(*torch.linspace(0.01, 0.05, 40).tolist())
    draws = [
        alfamix_candidates(
            emb,
            probs,
            LABELED,
            LABELS,
            W,
            B,
            n=100,
            alpha_cap=0.5,
            mode="random",
            generator=torch.Generator().manual_seed(3),
        )  # fmt: skip
        for _ in range(2)
    ]
    assert torch.equal(draws[0], draws[1])


def test_class_anchors_fall_back_to_the_labeled_mean():
    emb = torch.tensor([[0.0, 2.0], [2.0, 0.0], [4.0, 4.0]])
    anchors = class_anchors(emb, torch.tensor([0, 0, 2]), 3)
    assert anchors.tolist() == [[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("mode", ["closed_form", "random"])
def test_candidates_on_cuda_equal_those_on_cpu(mode):
    emb, probs = _points(*torch.linspace(-0.9, 0.9, 50).tolist())
    args = (LABELED, LABELS, W, B)

    def run(device: str) -> torch.Tensor:
        moved = [t.to(device) for t in (emb, probs, *args)]
        gen = torch.Generator().manual_seed(1)
        return alfamix_candidates(*moved, n=20, alpha_cap=0.2, mode=mode, generator=gen)

    assert run("cuda").cpu().tolist() == run("cpu").tolist()
