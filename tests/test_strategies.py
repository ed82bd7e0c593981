"""Strategy adapters: start-up checks, the pitfalls of an adapter, option validation."""

import pytest
import torch
from hydra import compose, initialize_config_dir
from strategy_fixtures import (
    N_CLASSES,
    STRATEGY_CONF,
    blobs,
    build,
    query_context,
    strategy_config,
    trained_setup,
)
from torch import nn

import deepal_bench.cli.run  # noqa: F401  (registers the config resolvers)
from deepal_bench import kernels
from deepal_bench.errors import ConfigError
from deepal_bench.models.base import ALModel
from deepal_bench.run.loop import Experiment
from deepal_bench.seeding import generator
from deepal_bench.selection import Selected, Selection, TopK
from deepal_bench.strategies import STRATEGIES, BatchStrategy, build_strategy
from deepal_bench.strategies.base import MC_DROPOUT
from deepal_bench.training.inference import mc_dropout_probs, predict

MC_STRATEGIES = [n for n in STRATEGIES.names() if MC_DROPOUT in STRATEGIES.get(n).needs]


def _compose(*overrides: str):
    with initialize_config_dir(str(STRATEGY_CONF.parent), version_base="1.3"):
        return compose("config", overrides=["device=cpu", "budget.quota=40", *overrides])


# --- configuration --------------------------------------------------------------------------


def test_every_registered_strategy_has_a_yaml_with_its_name():
    for name in STRATEGIES.names():
        path = STRATEGY_CONF / f"{name}.yaml"
        assert path.exists(), f"conf/strategy/{name}.yaml is missing"
        assert strategy_config(name)["name"] == name


def test_mc_strategies_cover_every_dropout_method_of_the_survey():
    assert {"bald", "mean_std", "batchbald", "entropy_dropout"} <= set(MC_STRATEGIES)
    assert {"margin_dropout", "least_confidence_dropout"} <= set(MC_STRATEGIES)
    # DeepAL+'s VarRatio is one pass (1 - max p); Freeman's MC ratio is the other variant.
    assert MC_DROPOUT not in build("var_ratio").needs
    assert MC_DROPOUT in build_strategy({"name": "var_ratio", "variant": "freeman"}).needs


@pytest.mark.parametrize("name", MC_STRATEGIES)
def test_mc_dropout_strategy_on_a_model_without_dropout_fails_at_start_up(name):
    cfg = _compose(f"strategy={name}", "dataset=iris", "model=mlp", "model.dropout=0")
    with pytest.raises(ConfigError, match="needs MC dropout"):
        Experiment.from_config(cfg)


def test_bald_on_a_model_with_dropout_starts():
    cfg = _compose("strategy=bald", "dataset=iris", "model=mlp")
    assert Experiment.from_config(cfg).strategy.name == "bald"


class _Sampling(Selection):
    name = "softmax"
    stochastic = True


@pytest.mark.parametrize(
    "name", [n for n in STRATEGIES.names() if issubclass(STRATEGIES.get(n), BatchStrategy)]
)
def test_batch_strategies_refuse_a_stochastic_selection(name):
    model, _, _ = trained_setup(build("random"))
    with pytest.raises(ConfigError, match="selection=topk"):
        build(name).check(model, _Sampling())


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"name": "falcun", "gamma": "hot"}, "strategy.gamma"),
        ({"name": "falcun", "gamma": -1}, "strategy.gamma"),
        ({"name": "falcun", "uncertainty": False, "diversity": False}, "uncertainty"),
        ({"name": "ralif", "variant": "median"}, "expectation, single, truncated"),
        ({"name": "ralif", "diversity": "dbscan"}, "kmeanspp, meanshift"),
        ({"name": "ralif", "candidate_fraction": 0}, "candidate_fraction"),
        ({"name": "kcenter", "pca_dim": 0}, "pca_dim"),
        ({"name": "dbal", "rho": 0}, "rho"),
        ({"name": "batchbald", "max_configs": 0}, "max_configs"),
        ({"name": "alfamix", "alpha_cap": 0}, "alpha_cap"),
        ({"name": "kmeans", "clusters": 3}, "unexpected option"),
    ],
)
def test_bad_strategy_options_are_config_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        build_strategy(options)


def test_ralif_checks_tau_and_hessian_size_against_the_model():
    model3 = ALModel()
    model3.head = nn.Linear(4, 3)
    with pytest.raises(ConfigError, match="excludes every class"):
        build_strategy({"name": "ralif"}).check(model3, TopK())
    build_strategy({"name": "ralif", "tau": 0.5}).check(model3, TopK())
    big = ALModel()
    big.head = nn.Linear(512, 100)
    with pytest.raises(ConfigError, match="max_hessian_dim"):
        build_strategy({"name": "ralif"}).check(big, TopK())


# --- pitfalls ---------------------------------------------------------------------------------


class _BatchNormNet(ALModel):
    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(16, N_CLASSES)

    def embed(self, x):
        return self.drop(self.body(x))


def test_mc_dropout_samples_only_dropout_and_keeps_batchnorm_statistics():
    torch.manual_seed(0)
    x = blobs().x_train
    no_dropout = _BatchNormNet(0.0)
    with pytest.raises(ConfigError, match="needs MC dropout"):
        build("bald").check(no_dropout, TopK())
    net = _BatchNormNet(0.5)
    net(torch.randn(32, 8))  # populate running statistics in train mode
    stats = net.body[1].running_mean.clone()
    mc = mc_dropout_probs(net, x, passes=5, seed=0)
    assert not torch.allclose(mc[0], mc[1])  # the passes really sample
    assert torch.equal(net.body[1].running_mean, stats)  # BatchNorm stayed in eval mode
    assert kernels.bald(mc).std() > 1e-3  # scores are not float noise


def test_scores_use_the_stored_tensors_and_the_full_class_count():
    strategy = build("entropy")
    model, data, pool = trained_setup(strategy)
    data.augment = lambda x, g: x + 100.0 * torch.randn(x.shape, generator=g)
    # candidates only of classes 0 and 1: probabilities still have all 6 columns
    pool.label(torch.nonzero(data.y_train >= 2).flatten()[pool.labeled[data.y_train >= 2] == 0])
    ctx = query_context(model, data, pool)
    assert set(data.y_train[ctx.candidates].tolist()) == {0, 1}
    expected, _ = predict(model, data.x_train[ctx.candidates])
    assert ctx.probs().shape[1] == N_CLASSES
    assert torch.equal(ctx.probs(), expected)
    assert torch.equal(strategy.scores(ctx), kernels.entropy(expected))


def test_kmeans_faiss_queries_pool_points_not_centroid_ids():
    strategy = build("kmeans_faiss")
    model, data, pool = trained_setup(strategy)
    ctx = query_context(model, data, pool)
    positions = strategy.select(ctx, 5)
    same_seed = query_context(model, data, pool).generator
    centroids = kernels.kmeans.kmeans_faiss(ctx.embeddings(), 5, same_seed)
    assert positions.tolist() == kernels.nearest_to_centroids(ctx.embeddings(), centroids).tolist()


# --- adapters ---------------------------------------------------------------------------------


def test_kcenter_pca_projects_pool_and_labeled_points_alike():
    strategy = build_strategy({"name": "kcenter", "pca_dim": 3})
    model, data, pool = trained_setup(strategy)
    ctx = query_context(model, data, pool)
    pool_emb, lab_emb = kernels.pca_project(ctx.embeddings(), 3, ctx.labeled_embeddings())
    expected = kernels.kcenter_greedy(pool_emb, lab_emb, 4)
    assert strategy.select(ctx, 4).tolist() == expected.tolist()


def test_ralif_selects_inside_the_lowest_loss_candidate_pool():
    strategy = build_strategy({"name": "ralif", "reference_size": None, "tau": 0.1})
    model, data, pool = trained_setup(strategy)
    ctx = query_context(model, data, pool)
    scores = kernels.ralif_scores(
        ctx.probs(), ctx.embeddings(), ctx.probs(), ctx.embeddings(),
        ctx.labeled_probs(), ctx.labeled_embeddings(), variant="truncated", tau=0.1,
    )  # fmt: skip
    assert len(scores.unique()) == len(scores)  # no ties: the pool is the k lowest
    k = -(-len(scores) // 10)
    allowed = set(torch.sort(scores, stable=True).indices[:k].tolist())
    chosen = strategy.select(ctx, 5).tolist()
    assert len(set(chosen)) == 5 and set(chosen) <= allowed


def test_ralif_breaks_ties_in_its_candidate_pool_by_the_seeded_permutation(monkeypatch):
    """Flat scores (a model that has learnt nothing): the candidate pool is a seeded random
    sample of the pool, not its first positions (torch.sort's stable order)."""
    strategy = build_strategy({"name": "ralif", "candidate_fraction": 0.1})
    model, data, pool = trained_setup(strategy)
    flat = lambda probs, *args, **kwargs: torch.zeros(len(probs))  # noqa: E731
    monkeypatch.setattr(kernels, "ralif_scores", flat)
    ctx = query_context(model, data, pool)
    size = len(ctx.candidates)  # 78: a pool of 8 candidates, all of them chosen
    chosen = strategy.select(ctx, 8)
    assert sorted(chosen.tolist()) != list(range(8))
    assert chosen.max() > size // 2
    assert torch.equal(chosen, strategy.select(query_context(model, data, pool), 8))
    assert not torch.equal(chosen, strategy.select(query_context(model, data, pool, seed=1), 8))


def test_shuffled_argsort_orders_scores_and_shuffles_only_ties():
    scores = torch.tensor([2.0, 1.0, float("nan"), 1.0, 0.0, 1.0])
    orders = {
        tuple(kernels.shuffled_argsort(scores, generator(s, "t")).tolist()) for s in range(20)
    }
    assert all(o[0] == 4 and set(o[1:4]) == {1, 3, 5} and o[4:] == (0, 2) for o in orders)
    assert len(orders) > 1
    down = kernels.shuffled_argsort(scores[[0, 1, 4]], generator(0, "t"), descending=True)
    assert down.tolist() == [0, 1, 2]


@pytest.mark.parametrize("diversity", ["kmeanspp", "meanshift"])
def test_ralif_diversity_options_return_distinct_points(diversity):
    strategy = build_strategy({"name": "ralif", "diversity": diversity, "variant": "single"})
    model, data, pool = trained_setup(strategy)
    chosen = strategy.select(query_context(model, data, pool), 6)
    assert len(set(chosen.tolist())) == 6


def test_dbal_selects_among_the_top_rho_b_by_margin():
    strategy = build_strategy({"name": "dbal", "rho": 2})
    model, data, pool = trained_setup(strategy)
    ctx = query_context(model, data, pool)
    top = set(torch.sort(kernels.margin(ctx.probs()), descending=True, stable=True).indices[:8])
    chosen = strategy.select(ctx, 4).tolist()
    assert set(chosen) <= {int(i) for i in top}


def test_falcun_adapter_calls_its_kernel():
    model, data, pool = trained_setup(build("falcun"))
    ctx = query_context(model, data, pool)
    det = build_strategy({"name": "falcun", "gamma": "det"})
    assert det.select(ctx, 5).tolist() == kernels.falcun(ctx.probs(), 5, "det", None).tolist()


class _Fixed(Selection):
    kind = "topk"

    def select(self, scores, n, generator):
        return Selected(torch.arange(n), torch.zeros(n))


def test_score_strategies_map_selection_positions_to_dataset_indices():
    model, data, pool = trained_setup(build("margin"))
    ctx = query_context(model, data, pool)
    result = build("margin").query(ctx, 3, _Fixed())
    assert result.indices.tolist() == ctx.candidates[:3].tolist()


class _NoLinearHead(ALModel):
    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Sequential(nn.Linear(4, 3))


@pytest.mark.parametrize("name", ["ralif", "alfamix"])
def test_head_strategies_need_a_linear_head(name):
    with pytest.raises(ConfigError, match="linear head"):
        build_strategy({"name": name, "tau": 0.5} if name == "ralif" else {"name": name}).check(
            _NoLinearHead(), TopK()
        )
