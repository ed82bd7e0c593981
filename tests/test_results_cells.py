"""Cell keys (results.cells): equal keys exactly for equal configs, options named only where
runs differ, dotted settings for matching."""

from deepal_bench.results.cells import (
    BudgetKey,
    cell_keys,
    common_settings,
    flat_settings,
    freeze,
    leaves,
)


def config(**changes) -> dict:
    cfg = {
        "dataset": {"name": "mnist", "redundancy": None},
        "model": {"name": "resnet18", "stem": "cifar", "pretrained": False},
        "strategy": {"name": "entropy"},
        "estimator": {"name": "imle"},
        "selection": {"name": "topk"},
        "budget": {"initial": 100, "batch": 10, "quota": 50},
        "trainer": {"epochs": 20, "lr": 0.001},
    }
    for key, value in changes.items():
        section, name = key.split("__", 1)
        cfg[section] = {**cfg[section], name: value}
    return cfg


def test_the_key_holds_the_main_settings_and_only_the_options_that_differ():
    keys = cell_keys([config(), config(trainer__lr=0.01), config(strategy__name="random")])
    first, faster, random = keys
    assert first.dataset.name == "mnist" and first.dataset.options == ()
    assert (first.model.name, first.model.stem, first.model.pretrained) == (
        "resnet18",
        "cifar",
        False,
    )
    assert first.budget == BudgetKey(100, 10, 50) and first.epochs == 20
    assert (first.estimator, first.selection) == ("imle", "topk")
    assert first.other == (("trainer.lr", 0.001),) and faster.other == (("trainer.lr", 0.01),)
    assert random.strategy.name == "random" and random.strategy.options == ()
    assert len(set(keys)) == 3


def test_equal_configs_share_a_key():
    first, second = cell_keys([config(), config()])
    assert first == second and hash(first) == hash(second)


def test_strategy_options_count_among_runs_of_the_same_strategy():
    """BALD's passes differ between its runs: named for BALD, never for entropy (which has
    no such option), and the budget stays a main setting."""
    bald = {"name": "bald", "mc_passes": 10}
    keys = cell_keys([config(), config() | {"strategy": bald},
                      config() | {"strategy": {**bald, "mc_passes": 20}}])  # fmt: skip
    entropy, ten, twenty = keys
    assert entropy.strategy.options == ()
    assert ten.strategy.options == (("strategy.mc_passes", 10),)
    assert twenty.strategy.options == (("strategy.mc_passes", 20),)
    assert ten.settings()["strategy.mc_passes"] == 10


def test_dataset_options_such_as_repeated_mnist_share():
    repeated = config() | {"dataset": {"name": "mnist", "redundancy": {"keep": 0.1, "std": 0.1}}}
    plain, ninety = cell_keys([config(), repeated])
    assert plain.dataset.options == (("dataset.redundancy", None),)
    assert dict(ninety.dataset.options) == {"dataset.redundancy.keep": 0.1,
                                            "dataset.redundancy.std": 0.1}  # fmt: skip
    assert ninety.setting()["dataset.redundancy.keep"] == 0.1 and plain != ninety


def test_a_run_without_acquisition_is_full_data():
    (full,) = cell_keys([config(budget__quota=0)])
    assert full.is_full_data and not cell_keys([config()])[0].is_full_data


def test_lists_and_mappings_are_frozen_and_flattened():
    assert freeze({"b": [1, 2], "a": {"c": None}}) == (("a", (("c", None),)), ("b", (1, 2)))
    assert leaves({"a": {"b": 1, "c": {}}, "d": None}) == {"a.b": 1, "a.c": (), "d": None}
    flat = flat_settings({"dataset": {"noise": {"kind": "gaussian"}}})
    assert flat == {
        "dataset": {"noise": {"kind": "gaussian"}},
        "dataset.noise": {"kind": "gaussian"},
        "dataset.noise.kind": "gaussian",
    }


def test_common_settings_are_those_every_cell_shares():
    shared = common_settings([{"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5}, {"a": 1, "b": 2}])
    assert shared == {"a": 1} and common_settings([]) == {}
