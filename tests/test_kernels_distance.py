"""Distance kernels (k-center, k-means++, BADGE, D^2 seeding, chunked distances) on hand-made
cases and against naive float64 implementations written here."""

import pytest
import torch

from deepal_bench import kernels
from deepal_bench.kernels.distances import min_sq_dists, sq_dists
from deepal_bench.kernels.sampling import dsquared_seeding, sample_proportional


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def naive_sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.double()[:, None, :] - b.double()[None, :, :]).square().sum(-1)


def naive_kcenter(pool: torch.Tensor, labeled: torch.Tensor, n: int) -> list[int]:
    """Farthest-first traversal on the full float64 distance matrix."""
    if len(labeled):
        min_d = naive_sq_dists(pool, labeled).min(1).values
    else:
        min_d = (pool.double() - pool.double().mean(0)).square().sum(1)
    chosen: list[int] = []
    for _ in range(min(n, len(pool))):
        idx = int(torch.argmax(min_d))
        chosen.append(idx)
        min_d = torch.minimum(min_d, naive_sq_dists(pool, pool[idx : idx + 1])[:, 0])
        min_d[chosen] = -1.0
    return chosen


def inverse_cdf(weights: torch.Tensor, g: torch.Generator) -> int:
    """Index drawn with one float64 uniform of `g`, by a plain float64 cumulative sum."""
    cdf = torch.cumsum(weights.double(), 0)
    target = torch.rand(1, generator=g, dtype=torch.float64).item() * float(cdf[-1])
    return int(torch.searchsorted(cdf, torch.tensor([target]), right=True))


def naive_dsquared(
    d2_to: torch.Tensor, n: int, g: torch.Generator, first: int, initial: torch.Tensor
) -> list[int]:
    """k-means++ with a full float64 D^2 matrix `d2_to` (point x point)."""
    chosen = [first]
    min_d = torch.minimum(initial.double(), d2_to[first])
    for _ in range(n - 1):
        min_d[chosen] = 0.0
        chosen.append(inverse_cdf(min_d, g))
        min_d = torch.minimum(min_d, d2_to[chosen[-1]])
    return chosen


def clustered(points: int, dim: int, seed: int) -> torch.Tensor:
    g = gen(seed)
    centres = 10.0 * torch.randn(20, dim, generator=g)
    return centres[torch.randint(20, (points,), generator=g)] + torch.randn(
        points, dim, generator=g
    )


# --- chunked distances ---------------------------------------------------------------------


def test_min_sq_dists_chunks_agree_with_the_full_float64_matrix():
    a, b = torch.randn(50, 7, generator=gen(1)), torch.randn(30, 7, generator=gen(2))
    expected = naive_sq_dists(a, b).min(1).values.float()
    assert torch.allclose(min_sq_dists(a, b, chunk=8), expected, atol=1e-5)
    assert torch.allclose(min_sq_dists(a, b), sq_dists(a, b).min(1).values, atol=1e-5)
    assert torch.isinf(min_sq_dists(a, b[:0])).all()


# --- k-center ------------------------------------------------------------------------------


def test_kcenter_picks_farthest_point_then_the_next_farthest():
    pool = torch.tensor([[1.0], [2.0], [10.0], [4.0]])
    labeled = torch.tensor([[0.0]])
    # distances to {0}: 1, 2, 10, 4 -> pick 10; then to {0, 10}: 1, 2, -, 4 -> pick 4.
    assert kernels.kcenter_greedy(pool, labeled, 2).tolist() == [2, 3]
    assert kernels.kcenter_greedy(pool, labeled, 10).tolist() == [2, 3, 1, 0]


def test_kcenter_in_two_dimensions_by_hand():
    labeled = torch.tensor([[0.0, 0.0]])
    pool = torch.tensor([[1.0, 0.0], [10.0, 0.0], [0.0, 4.0], [9.0, 0.5]])
    # first: (10,0) at distance 10; then min distances: (1,0)->1, (0,4)->4, (9,.5)->~1.1
    assert kernels.kcenter_greedy(pool, labeled, 2).tolist() == [1, 2]


def test_kcenter_without_labeled_points_starts_farthest_from_the_mean():
    pool = torch.tensor([[0.0], [1.0], [2.0], [9.0]])
    assert kernels.kcenter_greedy(pool, torch.empty(0, 1), 1).tolist() == [3]


def test_kcenter_never_picks_a_near_duplicate_of_a_labeled_point():
    # Large norms: the expanded ||a||^2 - 2ab + ||b||^2 is slightly negative for the
    # duplicate; clamped at 0 it is never "far" (no NaN from sqrt of a negative).
    big = torch.full((1, 64), 1000.0) + torch.linspace(0, 1, 64)
    pool = torch.cat([big + 1e-4, big + 0.5, big + 0.25])
    chosen = kernels.kcenter_greedy(pool, big, 2)
    assert 0 not in chosen.tolist()
    assert chosen.tolist() == [1, 2]
    labeled = torch.tensor([[1e4, 1e4]])
    pool = torch.tensor([[1e4, 1e4 + 1e-3], [0.0, 0.0]])
    assert kernels.kcenter_greedy(pool, labeled, 1).tolist() == [1]


@pytest.mark.parametrize("speculate", [1, 4, 32])
@pytest.mark.parametrize(
    ("pool", "n_labeled", "n"),
    [
        (torch.randn(400, 16, generator=gen(3)), 20, 60),
        (torch.randn(300, 5, generator=gen(5)), 0, 300),  # no labeled, the whole pool
    ],
)
def test_kcenter_equals_naive_farthest_first_for_any_speculation_width(
    pool, n_labeled, n, speculate
):
    labeled = pool[:n_labeled] + 0.3
    expected = naive_kcenter(pool, labeled, n)
    assert kernels.kcenter_greedy(pool, labeled, n, speculate=speculate).tolist() == expected


@pytest.mark.parametrize("speculate", [1, 4, 32])
def test_kcenter_on_clusters_picks_the_farthest_point_up_to_float32_rounding(speculate):
    # Clusters far from the origin: speculative passes often stop early, and float32
    # distances (norms ~1,600) tie points the float64 reference separates by ~1e-4.
    pool = clustered(400, 16, seed=4)
    labeled = pool[:20] + 0.3
    picks = kernels.kcenter_greedy(pool, labeled, 60, speculate=speculate).tolist()
    assert len(set(picks)) == 60
    for t, pick in enumerate(picks):
        min_d = naive_sq_dists(pool, torch.cat([labeled, pool[picks[:t]]])).min(1).values
        assert float(min_d[pick]) >= float(min_d.max()) - 1e-3


# --- D^2 seeding, k-means++ ----------------------------------------------------------------


def test_sample_proportional_follows_the_inverse_cdf_and_excludes_on_all_zero():
    w = torch.rand(3000, generator=gen(1))
    for seed in range(5):
        assert sample_proportional(w, gen(seed)) == inverse_cdf(w, gen(seed))
    draws = {sample_proportional(torch.zeros(4), gen(s), torch.tensor([0, 2])) for s in range(30)}
    assert draws == {1, 3}


def test_dsquared_seeding_on_a_line_by_hand():
    x = torch.tensor([0.0, 1.0, 3.0, 10.0])

    def dist_to(c: int, out: torch.Tensor) -> torch.Tensor:
        return torch.sub(x, x[c], out=out).square_()

    # first = 0: D^2 = [0, 1, 9, 100], CDF [0, 1, 10, 110]. Then, by the second pick:
    # 1 -> D^2 [0, 0, 4, 81]; 2 -> [0, 1, 0, 49]; 3 -> [0, 1, 9, 0].
    then = {1: [0.0, 0, 4, 85], 2: [0.0, 1, 1, 50], 3: [0.0, 1, 10, 10]}
    for seed in range(8):
        g = gen(seed)
        u1, u2 = (torch.rand(1, generator=g, dtype=torch.float64).item() for _ in range(2))
        second = int(torch.searchsorted(torch.tensor([0.0, 1, 10, 110]), u1 * 110, right=True))
        cdf = torch.tensor(then[second])
        third = int(torch.searchsorted(cdf, u2 * float(cdf[-1]), right=True))
        initial = torch.full((4,), float("inf"))
        chosen = dsquared_seeding(dist_to, initial, 3, gen(seed), first=0)
        assert chosen.tolist() == [0, second, third]


def test_kmeanspp_equals_naive_dsquared_sampling():
    for seed, emb in enumerate([torch.randn(500, 8, generator=gen(6)), clustered(300, 4, 7)]):
        d2 = naive_sq_dists(emb, emb)
        g = gen(seed)
        first = int(torch.randint(len(emb), (1,), generator=g))
        expected = naive_dsquared(d2, 40, g, first, torch.full((len(emb),), float("inf")))
        assert kernels.kmeanspp(emb, 40, gen(seed)).tolist() == expected


def test_kmeanspp_returns_distinct_positions_and_is_seeded():
    emb = torch.cat([torch.zeros(5, 2), torch.ones(5, 2) * 100])
    a = kernels.kmeanspp(emb, 6, gen(3))
    assert a.tolist() == kernels.kmeanspp(emb, 6, gen(3)).tolist()
    assert len(set(a.tolist())) == 6
    # D^2 sampling: after the first center, the other cluster is hit with certainty
    assert (int(a[1]) >= 5) != (int(a[0]) >= 5)


def test_kmeanspp_on_identical_points_falls_back_to_distinct_uniform_draws():
    chosen = kernels.kmeanspp(torch.ones(20, 3), 5, gen())
    assert len(set(chosen.tolist())) == 5


def test_kmeanspp_first_fixes_the_first_centre():
    emb = torch.randn(50, 3, generator=gen(8))
    assert all(int(kernels.kmeanspp(emb, 4, gen(s), first=17)[0]) == 17 for s in range(5))


def test_kmeanspp_with_labeled_points_draws_by_distance_to_labeled_and_chosen():
    pool = torch.tensor([[1.0], [2.0], [3.0]])
    labeled = torch.tensor([[0.0]])
    # No `first`: D^2 to the labeled point is [1, 4, 9] -> CDF [1, 5, 14].
    for seed in range(6):
        u = torch.rand(1, generator=gen(seed), dtype=torch.float64).item()
        expected = int(torch.searchsorted(torch.tensor([1.0, 5, 14]), u * 14, right=True))
        assert int(kernels.kmeanspp(pool, 1, gen(seed), labeled=labeled)[0]) == expected
    # first = 2 (x = 10): D^2 = min(to labeled 0, to 10) = [1, 4, 0] -> CDF [1, 5, 5].
    pool = torch.tensor([[1.0], [2.0], [10.0]])
    for seed in range(6):
        u = torch.rand(1, generator=gen(seed), dtype=torch.float64).item()
        expected = 0 if u * 5 < 1 else 1
        picks = kernels.kmeanspp(pool, 2, gen(seed), first=2, labeled=labeled).tolist()
        assert picks == [2, expected]


def test_kmeanspp_never_draws_duplicates_of_labeled_points():
    labeled = torch.randn(4, 6, generator=gen(9))
    far = torch.randn(3, 6, generator=gen(10)) + 50.0
    pool = torch.cat([labeled, far])
    for seed in range(5):
        picks = kernels.kmeanspp(pool, 3, gen(seed), labeled=labeled).tolist()
        assert sorted(picks) == [4, 5, 6]


def test_kmeanspp_with_labeled_equals_naive_dsquared_from_the_labeled_minimum():
    emb = torch.randn(300, 6, generator=gen(11))
    labeled = torch.randn(25, 6, generator=gen(12))
    initial = naive_sq_dists(emb, labeled).min(1).values
    g = gen(13)
    first = inverse_cdf(initial, g)
    expected = naive_dsquared(naive_sq_dists(emb, emb), 30, g, first, initial)
    assert kernels.kmeanspp(emb, 30, gen(13), labeled=labeled).tolist() == expected


# --- BADGE ---------------------------------------------------------------------------------


def explicit_gradients(probs: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
    onehot = torch.nn.functional.one_hot(probs.argmax(1), probs.shape[1]).double()
    return ((probs.double() - onehot)[:, :, None] * emb.double()[:, None, :]).flatten(1)


def test_badge_starts_at_the_largest_gradient_and_samples_by_factorised_distance():
    probs = torch.tensor([[0.6, 0.4], [0.6, 0.4], [0.9, 0.1]])
    emb = torch.tensor([[2.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    # gradient embeddings (p - onehot) ⊗ h: g_0 = g_1 = [-.8, 0, .8, 0] (largest norm, the
    # first centre), g_2 = [-.1, 0, .1, 0] is the only point at positive D^2 from it.
    for seed in range(5):
        assert kernels.badge(probs, emb, 2, gen(seed)).tolist() == [0, 2]


def test_badge_equals_naive_dsquared_on_explicit_gradient_embeddings():
    probs = torch.softmax(torch.randn(200, 4, generator=gen(14)), 1)
    emb = torch.randn(200, 6, generator=gen(15))
    g = explicit_gradients(probs, emb)
    first = int(g.norm(dim=1).argmax())
    expected = naive_dsquared(
        naive_sq_dists(g, g), 25, gen(16), first, torch.full((200,), float("inf"))
    )
    assert kernels.badge(probs, emb, 25, gen(16)).tolist() == expected


def test_badge_all_zero_gradients_does_not_hang_and_returns_distinct_points():
    probs = torch.nn.functional.one_hot(torch.arange(10) % 3, 3).float()
    chosen = kernels.badge(probs, torch.randn(10, 4, generator=gen()), 6, gen())
    assert len(set(chosen.tolist())) == 6
    uniform = kernels.badge(torch.full((6, 3), 1 / 3), torch.ones(6, 2), 4, gen())
    assert len(set(uniform.tolist())) == 4


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_distance_kernels_equal_cpu_picks():
    pool = torch.randn(3000, 64, generator=gen(17))
    labeled = torch.randn(100, 64, generator=gen(18))
    probs = torch.softmax(torch.randn(3000, 10, generator=gen(19)), 1)
    kc = kernels.kcenter_greedy(pool.cuda(), labeled.cuda(), 100)
    assert kc.device.type == "cuda"
    assert kc.cpu().tolist() == naive_kcenter(pool, labeled, 100)
    for cpu, cuda in [
        (kernels.kmeanspp(pool, 50, gen(1)), kernels.kmeanspp(pool.cuda(), 50, gen(1))),
        (
            kernels.badge(probs, pool, 50, gen(2)),
            kernels.badge(probs.cuda(), pool.cuda(), 50, gen(2)),
        ),
    ]:
        assert cuda.device.type == "cuda"
        assert len(set(cuda.cpu().tolist())) == 50
        assert cuda.cpu()[:5].tolist() == cpu[:5].tolist()
