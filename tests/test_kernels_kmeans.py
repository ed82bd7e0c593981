"""k-means back ends: DeepAL+'s settings by default, unknown back ends refused."""

import faiss
import pytest
import sklearn.cluster
import torch

from deepal_bench.errors import ConfigError
from deepal_bench.kernels.kmeans import kmeans_select
from deepal_bench.strategies import build_strategy


def _blobs() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.cat([torch.randn(30, 2, generator=g) + c for c in (0.0, 10.0, 20.0)])


def test_unknown_backend_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match="faiss, sklearn"):
        kmeans_select(_blobs(), 3, torch.Generator().manual_seed(0), backend="sklaern")


def test_sklearn_defaults_are_ten_runs_of_at_most_300_iterations(monkeypatch):
    seen = {}

    class Recording(sklearn.cluster.KMeans):
        def fit(self, x, y=None, sample_weight=None):
            seen.update(n_init=self.n_init, max_iter=self.max_iter)
            return super().fit(x, y, sample_weight)

    monkeypatch.setattr(sklearn.cluster, "KMeans", Recording)
    chosen = kmeans_select(_blobs(), 3, torch.Generator().manual_seed(0))
    assert seen == {"n_init": 10, "max_iter": 300}
    assert sorted(int(i) // 30 for i in chosen) == [0, 1, 2]


def test_faiss_defaults_are_ten_runs_of_300_iterations(monkeypatch):
    seen = {}

    class Recording(faiss.Kmeans):
        def __init__(self, d, k, **kwargs):
            seen.update(niter=kwargs.get("niter"), nredo=kwargs.get("nredo"))
            super().__init__(d, k, **kwargs)

    monkeypatch.setattr(faiss, "Kmeans", Recording)
    chosen = kmeans_select(_blobs(), 3, torch.Generator().manual_seed(0), backend="faiss")
    assert seen == {"niter": 300, "nredo": 10}
    assert sorted(int(i) // 30 for i in chosen) == [0, 1, 2]


def test_more_sklearn_runs_never_end_with_a_worse_clustering():
    x = _blobs()
    gen = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    inertia = {}
    for runs in (1, 10):
        km = sklearn.cluster.KMeans(n_clusters=6, n_init=runs, random_state=7).fit(x.numpy())
        inertia[runs] = km.inertia_
    assert inertia[10] <= inertia[1]
    assert len(set(kmeans_select(x, 6, gen(), n_init=10).tolist())) == 6


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"name": "kmeans"}, {"n_init": 10, "max_iter": 300}),
        ({"name": "kmeans_faiss"}, {"niter": 300, "nredo": 10}),
        ({"name": "clue"}, {"n_init": 10}),
        ({"name": "dbal"}, {"n_init": 10}),
        ({"name": "alfamix"}, {"n_init": 10}),
    ],
)
def test_strategies_default_to_the_reference_settings(options, expected):
    strategy = build_strategy(options)
    assert {key: getattr(strategy, key) for key in expected} == expected


@pytest.mark.parametrize(
    "options",
    [
        {"name": "kmeans", "n_init": 0},
        {"name": "kmeans_faiss", "nredo": 0},
        {"name": "clue", "n_init": 0},
    ],
)
def test_non_positive_run_counts_are_config_errors(options):
    with pytest.raises(ConfigError, match=r"an integer >= 1"):
        build_strategy(options)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("backend", ["sklearn", "faiss"])
def test_kmeans_select_takes_cuda_embeddings(backend):
    chosen = kmeans_select(_blobs().cuda(), 3, torch.Generator().manual_seed(0), backend=backend)
    assert chosen.device.type == "cuda"
    assert sorted(int(i) // 30 for i in chosen.cpu()) == [0, 1, 2]


def _naive_lloyd(x, centroids, niter):
    """Textbook Lloyd iterations (an empty cluster keeps its centroid)."""
    for _ in range(niter):
        d = ((x[:, None, :] - centroids[None, :, :]) ** 2).sum(-1)
        labels = d.argmin(1)
        for k in range(len(centroids)):
            members = x[labels == k]
            if len(members):
                centroids[k] = members.mean(0)
    return centroids


def test_torch_lloyd_is_lloyd_from_random_points_and_keeps_the_best_run():
    """The CUDA path of kmeans_faiss (faiss's algorithm in torch), checked on the CPU."""
    from deepal_bench.kernels.kmeans import lloyd

    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    x = torch.cat([torch.randn(40, 2, generator=g) * 0.3 + c for c in centres])
    one = lloyd(x, 3, torch.Generator().manual_seed(1), niter=15, nredo=1)
    start = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(1))[:3]]
    assert torch.allclose(one, _naive_lloyd(x, start.clone(), 15), atol=1e-5)
    best = lloyd(x, 3, torch.Generator().manual_seed(1), niter=15, nredo=5)
    found = sorted(best.round().tolist())
    assert found == [[0.0, 0.0], [0.0, 8.0], [8.0, 0.0]]
