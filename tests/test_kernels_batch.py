"""Hand-checked cases for the batch selection kernels (k-means, FALCUN, cluster-margin,
ALFA-Mix, ...); scores are in tests/test_kernels_scores.py, k-center, k-means++ and BADGE in
tests/test_kernels_distance.py, BatchBALD in tests/test_kernels_batchbald.py."""

import pytest
import torch

from deepal_bench import kernels
from deepal_bench.kernels.kmeans import kmeans_select, nearest_to_centroids


def gen(seed: int = 0) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(seed)
    return g


# --- k-means (k-center, k-means++, BADGE: tests/test_kernels_distance.py) -------------------


def _two_symmetric_clusters() -> tuple[torch.Tensor, int, int]:
    offsets = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [0.0, 0.0]])
    a, b = offsets, offsets + 100.0
    # interleave so that centroid ids (0, 1) are not the centres' positions (8, 9).
    pts = torch.cat([a[:4], b[:4], b[4:], a[4:]])
    return pts, 9, 8


def test_nearest_to_centroids_returns_pool_positions_not_centroid_ids():
    pool = torch.tensor([[0.0], [10.0], [20.0], [30.0]])
    assert nearest_to_centroids(pool, torch.tensor([[29.0], [1.0]])).tolist() == [3, 0]
    # two centroids nearest to the same point: the second takes the next nearest.
    assert nearest_to_centroids(pool, torch.tensor([[0.0], [1.0]])).tolist() == [0, 1]


@pytest.mark.parametrize("backend", ["sklearn", "faiss"])
def test_kmeans_select_returns_the_pool_point_nearest_each_centroid(backend):
    pts, centre_a, centre_b = _two_symmetric_clusters()
    chosen = kmeans_select(pts, 2, gen(), backend=backend)
    assert sorted(chosen.tolist()) == sorted([centre_a, centre_b])


def test_weighted_kmeans_moves_the_centroid_to_the_heavy_point():
    pts = torch.tensor([[0.0], [1.0], [2.0], [100.0]])
    w = torch.tensor([1.0, 1.0, 50.0, 1.0])
    chosen = kmeans_select(pts, 2, gen(), weights=w)
    assert sorted(chosen.tolist()) == [2, 3]


# --- FALCUN -------------------------------------------------------------------------------

FALCUN_TOY = torch.tensor([[0.5, 0.5, 0.0], [0.48, 0.5, 0.02], [0.1, 0.3, 0.6], [0.2, 0.1, 0.7]])


def test_falcun_diversity_update_on_a_three_class_toy():
    # u = [1, .98, .7, .5]. First pick: r = u + minmax(u) = [2, 1.94, 1.1, .5] -> 0.
    # d' = min(u, L1 to p_0) = [0, .04, .7, .5] -> d = [0, .057, 1, .714];
    # r = [-, 1.037, 1.7, 1.214] -> point 2, although point 1 is more uncertain.
    assert kernels.falcun(FALCUN_TOY, 2, "det", gen()).tolist() == [0, 2]
    assert kernels.falcun(FALCUN_TOY, 2, "det", gen(), diversity=False).tolist() == [0, 1]
    # diversity only: d = [1, .96, .4, 0] then [-, .057, 1, .714] -> [0, 2, 3, 1]
    assert kernels.falcun(FALCUN_TOY, 4, "det", gen(), uncertainty=False).tolist() == [0, 2, 3, 1]


def test_falcun_normalises_diversity_over_the_remaining_candidates():
    """The authors fit the min-max scaler on dists[candidate_mask] (sobermeier/falcun
    falcun.py get_indices), not on the pool with the chosen points' d' = 0."""
    probs = torch.tensor([[0.5, 0.5, 0.0], [0.4, 0.3, 0.3], [0.1, 0.3, 0.6], [0.2, 0.1, 0.7]])
    # u = [1, .9, .7, .5]; first pick 0 (r = u + minmax(u) = [2, 1.7, 1.1, .5]).
    # d' = min(u, L1 to p_0) = [0, .6, .7, .5]; over the remaining lo = .5, hi = .7:
    # d = [-, .5, 1, 0], r = [-, 1.4, 1.7, .5] -> point 2 (over the pool, lo = 0:
    # d = [0, .857, 1, .714], r = [-, 1.757, 1.7, 1.214] -> point 1).
    assert kernels.falcun(probs, 2, "det", gen()).tolist() == [0, 2]


def test_falcun_diversity_only_samples_proportional_to_the_raw_distance():
    """Table 3's d-only rows: p ∝ d'^gamma (custom_dist "distance"), so the least uncertain
    of two points keeps weight u = .5 against 1 (min-max normalised it would have 0)."""
    probs = torch.tensor([[0.5, 0.5], [0.75, 0.25]])  # u = d' = [1, .5]
    firsts = [int(kernels.falcun(probs, 1, 1.0, gen(s), uncertainty=False)) for s in range(300)]
    assert 70 < firsts.count(1) < 130  # expected 100 (weight .5 / 1.5)


def test_falcun_draws_uniformly_once_every_remaining_candidate_has_zero_diversity():
    """Two duplicated pairs: after one point of each pair is taken, d' = 0 on both remaining
    points and the authors draw uniformly (sum(dists[candidate_mask]) == 0), although their
    uncertainties .8 and .2 would give odds of 4^10 to one under r^gamma."""
    probs = torch.tensor([[0.6, 0.4], [0.6, 0.4], [0.9, 0.1], [0.9, 0.1]])
    thirds = [kernels.falcun(probs, 3, 10.0, gen(s)).tolist() for s in range(200)]
    mixed = [t[2] for t in thirds if {t[0] // 2, t[1] // 2} == {0, 1}]
    assert len(mixed) > 150
    assert 0.3 < sum(i // 2 == 1 for i in mixed) / len(mixed) < 0.7


def test_falcun_sampling_is_seeded_distinct_and_gamma_zero_is_uniform():
    torch.manual_seed(0)
    probs = torch.softmax(torch.randn(200, 5), 1)
    a = kernels.falcun(probs, 50, 10.0, gen(1))
    assert a.tolist() == kernels.falcun(probs, 50, 10.0, gen(1)).tolist()
    assert len(set(a.tolist())) == 50
    firsts = torch.tensor([int(kernels.falcun(probs[:4], 1, 0.0, gen(s))) for s in range(400)])
    assert torch.bincount(firsts, minlength=4).min() > 60  # ~100 each when uniform
    assert sorted(kernels.falcun(probs[:10], 10, 0.0, gen(2)).tolist()) == list(range(10))


def test_falcun_large_gamma_concentrates_on_the_most_relevant_point():
    probs = torch.tensor([[0.5, 0.5], [0.99, 0.01]])
    # r = [2, .02 + 0]: r^10 ratio ~ 1e20 -> always the first point.
    assert all(int(kernels.falcun(probs, 1, 10.0, gen(s))) == 0 for s in range(50))


# --- Cluster-Margin, ALFA-Mix, PCA, mean shift ----------------------------------------------


def test_cluster_margin_round_robins_over_clusters_smallest_first():
    emb = torch.tensor([[0.0], [0.1], [0.2], [10.0], [10.1], [50.0], [99.0]])
    margins = torch.tensor([0.1, 0.2, 0.3, 0.1, 0.2, 0.05, 0.9])
    # k_m = 6 lowest margins -> points 0..5; 3 clusters {0,1,2}, {3,4}, {5}.
    chosen = kernels.cluster_margin(emb, margins, 3, gen(), candidates_factor=2.0)
    assert chosen[0].item() == 5
    assert chosen[1].item() in (3, 4)
    assert chosen[2].item() in (0, 1, 2)
    assert 6 not in chosen.tolist()


def test_alfamix_flags_points_whose_prediction_flips_towards_an_anchor():
    w, b = torch.tensor([[1.0], [-1.0]]), torch.zeros(2)
    emb = torch.tensor([[0.05], [5.0], [-3.0]])
    probs = torch.softmax(emb @ w.T + b, 1)
    labeled = torch.tensor([[1.0], [-1.0]])
    y = torch.tensor([0, 1])
    # D = 1: the closed form moves x by eps ||z* - x|| along the loss gradient. At the first
    # bound eps = .2, x = .05 towards -1 reaches -.16: flips, and one candidate > n = 0 ends
    # the growth; x = 5 (needs eps > .83) and -3 (eps > .75) are not reached.
    flips = kernels.alfamix_candidates(emb, probs, labeled, y, w, b, n=0, alpha_cap=0.2)
    assert flips.tolist() == [True, False, False]
    assert kernels.alfamix_candidates(emb, probs, labeled, y, w, b, n=2).tolist() == [True] * 3


def test_pca_project_is_deterministic_and_keeps_distances_within_the_span():
    torch.manual_seed(0)
    x = torch.randn(100, 3) @ torch.randn(3, 10)  # rank 3 in 10 dims
    (a,) = kernels.pca_project(x, 3)
    (b,) = kernels.pca_project(x, 3)
    assert a.shape == (100, 3) and torch.equal(a, b)
    assert torch.allclose(torch.pdist(a.double()), torch.pdist(x.double()), atol=1e-4)


def test_meanshift_select_allocates_by_cluster_size():
    torch.manual_seed(0)
    emb = torch.cat([torch.randn(30, 2) * 0.1, torch.randn(10, 2) * 0.1 + 20])
    chosen = kernels.meanshift_select(emb, 4).tolist()
    assert len(set(chosen)) == 4
    assert sum(i < 30 for i in chosen) == 3


def test_batch_kernels_never_build_an_n_by_n_matrix():
    # 100k points: an N x N float32 matrix would need 40 GB; these calls stay O(N).
    n = 100_000
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(n, 4, generator=g)
    probs = torch.softmax(torch.randn(n, 3, generator=g), 1)
    assert len(set(kernels.kcenter_greedy(emb, emb[:10] + 0.5, 3).tolist())) == 3
    assert len(set(kernels.kmeanspp(emb, 3, gen()).tolist())) == 3
    assert len(set(kernels.badge(probs, emb, 3, gen()).tolist())) == 3
    assert len(set(kernels.falcun(probs, 3, 10.0, gen()).tolist())) == 3
    assert len(set(kernels.kcenter_greedy(probs, probs[:10], 3).tolist())) == 3
