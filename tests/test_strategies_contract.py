"""The contract every registered strategy inherits: the batch has the asked size,
distinct points, no labeled point, only dataset indices of candidates, and the same
generator gives the same batch. New strategies are covered the moment they register."""

import pytest
import torch
from strategy_fixtures import N_LABELED, build, query_context, trained_setup

from deepal_bench.selection import TopK
from deepal_bench.strategies import STRATEGIES

BATCH = 7


@pytest.fixture(scope="module", params=STRATEGIES.names())
def queried(request):
    name = request.param
    strategy = build(name)
    model, data, pool = trained_setup(strategy)
    strategy.check(model, TopK())
    first = strategy.query(query_context(model, data, pool), BATCH, TopK())
    again = strategy.query(query_context(model, data, pool), BATCH, TopK())
    return name, pool, first, again


def test_batch_has_the_asked_size_and_distinct_points(queried):
    name, _, result, _ = queried
    assert len(result.indices) == BATCH, name
    assert len(torch.unique(result.indices)) == BATCH, name
    assert len(result.log_probs) == BATCH, name


def test_batch_holds_no_labeled_point_and_only_candidates(queried):
    name, pool, result, _ = queried
    idx = result.indices.tolist()
    assert all(i >= N_LABELED for i in idx), name
    assert set(idx) <= set(pool.unlabeled_indices().tolist()), name
    assert not pool.labeled[result.indices].any(), name


def test_same_generator_gives_the_same_batch(queried):
    name, _, first, again = queried
    assert first.indices.tolist() == again.indices.tolist(), name
