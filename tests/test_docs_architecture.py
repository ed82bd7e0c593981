"""docs/architecture.md's worked example (a new score strategy) works as written."""

import re
from pathlib import Path

import pytest
import torch
import yaml

from deepal_bench.data.pool import Pool
from deepal_bench.seeding import generator
from deepal_bench.selection import TopK
from deepal_bench.strategies import STRATEGIES, QueryContext, build_strategy, uncertainty

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def registry_snapshot():
    saved = dict(STRATEGIES._items)
    yield
    STRATEGIES._items.clear()
    STRATEGIES._items.update(saved)


def test_worked_example_is_one_class_one_yaml_one_test(registry_snapshot):
    namespace = dict(vars(uncertainty))
    strategy_code, test_code = _blocks("python")
    exec(strategy_code, namespace)
    namespace["pytest"] = pytest
    exec(test_code, namespace)
    namespace["test_ratio_prefers_the_closest_call"]()
    (config,) = _blocks("yaml")
    strategy = build_strategy(yaml.safe_load(config))
    probs = torch.tensor([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4]])
    model = torch.nn.Linear(2, 2)
    ctx = QueryContext(model, None, Pool(3), generator(0, 1, "query"), seed=0)
    ctx._cache["probs"] = probs
    assert strategy.query(ctx, 2, TopK()).indices.tolist() == [1, 2]
    assert strategy.differentiable_score().function(probs).tolist() == pytest.approx(
        [1 / 9, 1.0, 2 / 3]
    )
