"""Every paper preset under conf/experiment/ composes into valid jobs (no training).

For each preset the sweep that `deepal-bench -m experiment=<preset>` runs is read from
`hydra.sweeper.params` exactly as Hydra's basic sweeper reads it; every value of every swept
key is composed at least once (with the first value of the other keys). Each composed job
must name registered components whose options their factories accept, and its budget must
fit the pool size that the dataset's descriptor gives (docs/datasets.md's size table). Paper
numbers that the presets fix are pinned against the papers' text.
"""

import itertools
import math
import subprocess
import sys
from functools import cache

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from deepal_bench.cli.run import CONF_DIR
from deepal_bench.data.sizes import dataset_sizes
from deepal_bench.run.budget import Budget
from deepal_bench.run.settings import validate_config
from deepal_bench.strategies import build_strategy

EXPERIMENTS = CONF_DIR / "experiment"
PRESETS = sorted(
    str(p.relative_to(EXPERIMENTS).with_suffix("")) for p in EXPERIMENTS.rglob("*.yaml")
)
PAPERS = ("deepal_plus", "ralif", "falcun", "dmle", "constrained")

# Sweep sizes (jobs) as docs/reproducing.md lists them.
JOBS = {
    "deepal_plus/mnist": 40,
    "deepal_plus/waterbirds": 40,
    "deepal_plus/ablation": 96,
    "deepal_plus/table4": 80,
    "deepal_plus/table5": 80,
    "deepal_plus/table6": 60,
    "deepal_plus/table7": 40,
    "falcun/grayscale": 64,
    "falcun/colour": 48,
    "falcun/tabular": 24,
    "falcun/redundancy": 24,
    "falcun/dueling": 104,
    "falcun/gamma": 24,
    "falcun/gamma_uncertainty": 20,
    "falcun/gamma_diversity": 20,
    "dmle/table2": 144,
    "dmle/table4": 144,
    "dmle/table5": 144,
    "ralif/table1": 3,
    "ralif/table2": 24,
    "ralif/table3": 5,
    "ralif/table4": 2,
    "ralif/cifar100": 5,
    "ralif/cifar100_ralif": 1,
    "constrained/table2": 54,
    "constrained/ideal": 6,
    "constrained/supervised": 2,
}
SETTING_JOBS = {"deepal_plus": 20, "falcun": 8, "dmle": 24, "ralif": 6, "constrained": 9}
# DeepAL+'s "Full" rows: each setting once on its whole pool (conf/experiment/deepal_plus/full/).
FULL = {
    "mnist": ("mnist", False), "mnist_pretrained": ("mnist", True),
    "fashionmnist": ("fashionmnist", False), "emnist": ("emnist", False),
    "svhn": ("svhn", False), "cifar10": ("cifar10", False),
    "cifar10_imb": ("cifar10_imb", False), "cifar100": ("cifar100", False),
    "tinyimagenet": ("tinyimagenet", False), "pneumoniamnist": ("pneumoniamnist", False),
    "breakhis": ("breakhis", False), "waterbirds": ("waterbirds", False),
    "waterbirds_pretrained": ("waterbirds", True),
}  # fmt: skip
JOBS.update({"deepal_plus/full": len(FULL), **{f"deepal_plus/full/{o}": 1 for o in FULL}})

DEEPAL_PLUS_19 = {
    "least_confidence", "least_confidence_dropout", "margin", "margin_dropout", "entropy",
    "entropy_dropout", "bald", "mean_std", "var_ratio", "ceal", "kmeans", "kmeans_faiss",
    "kcenter", "vaal", "badge", "adv_bim", "adv_deepfool", "lpl", "waal",
}  # fmt: skip


@cache
def _compose(overrides: tuple[str, ...], hydra: bool = False) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=hydra)


def sweep(preset: str) -> dict[str, list[str]]:
    """The swept keys and their values, parsed as Hydra's basic sweeper parses them."""
    params = _compose((f"experiment={preset}",), hydra=True).hydra.sweeper.params
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    return {
        o.get_key_element(): (
            list(o.sweep_string_iterator())
            if o.is_sweep_override()
            else [o.get_value_element_as_str()]
        )
        for o in parsed
    }


def jobs(preset: str) -> list[tuple[str, ...]]:
    """Override lists covering every swept value at least once, strategies aside (a preset
    that sweeps several strategies sets no strategy option, so each of them composes to its
    own conf/strategy YAML: see the strategy test)."""
    grid = sweep(preset)
    first = {key: values[0] for key, values in grid.items()}
    combos = {tuple(f"{k}={v}" for k, v in first.items())}
    for key, values in grid.items():
        for value in values[1:] if key != "strategy" else []:
            combos.add(tuple(f"{k}={value if k == key else v}" for k, v in first.items()))
    return [(f"experiment={preset}", *combo) for combo in sorted(combos)]


def job_count(preset: str) -> int:
    return math.prod(len(values) for values in sweep(preset).values())


def pool_size(dataset: dict, validation: int) -> int:
    """The training pool the dataset's descriptor gives, after subset and the validation
    carve-out."""
    return dataset_sizes(dataset, validation).train


def check_job(cfg: DictConfig) -> None:
    """A composed job passes the run's own schema check (registered components, every key
    with its type and range) and its budget fits the documented pool."""
    validate_config(cfg)
    build_strategy(cfg.strategy)
    _budget_fits(OmegaConf.to_container(cfg, resolve=True))


def _budget_fits(container: dict) -> None:
    budget = Budget(**container["budget"])
    pool = pool_size(container["dataset"], budget.validation)
    assert budget.initial + budget.quota <= pool, (
        f"budget {budget} does not fit the {container['dataset']['name']} pool of {pool}"
    )


def test_every_paper_has_presets_and_no_flat_paper_preset_is_left():
    assert {p.split("/")[0] for p in PRESETS if "/" in p} == set(PAPERS)
    assert [p for p in PRESETS if "/" not in p] == ["quick"]


@pytest.mark.parametrize("preset", PRESETS)
def test_every_job_of_the_preset_composes_into_registered_components(preset):
    for overrides in jobs(preset):
        check_job(_compose(overrides))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_swept_strategy_is_registered_and_takes_no_preset_option(preset):
    values = sweep(preset)["strategy"]
    if len(values) > 1:
        first = _compose(jobs(preset)[0]).strategy
        own = OmegaConf.load(CONF_DIR / "strategy" / f"{values[0]}.yaml")
        assert first == own, "a preset sweeping several strategies must not set strategy options"
    for value in values:
        build_strategy(OmegaConf.load(CONF_DIR / "strategy" / f"{value}.yaml"))


@pytest.mark.parametrize("preset", [p for p in PRESETS if "/" in p])
def test_sweep_size_is_the_documented_one(preset):
    paper = preset.split("/")[0]
    assert job_count(preset) == JOBS.get(preset, SETTING_JOBS[paper])


def test_job_count_is_the_product_of_the_swept_values():
    grid = sweep("dmle/table2")
    assert {k: len(v) for k, v in grid.items()} == {
        "strategy": 1,
        "budget": 3,
        "estimator": 2,
        "selection": 4,
        "+experiment/dmle@_global_": 6,
    }
    assert len(jobs("dmle/table2")) == 1 + 2 + 1 + 3 + 5  # each value once, not the product
    assert job_count("dmle/table2") == 3 * 2 * 4 * 6


def test_pool_size_follows_the_catalogue():
    assert pool_size({"name": "iris", "test_size": 30}, 10) == 110  # DMLE §5.1
    assert pool_size({"name": "digits", "test_size": 0.3}, 300) == 958
    assert pool_size({"name": "openml", "data_id": 6, "test_size": 0.2}, 0) == 16_000
    assert pool_size({"name": "mnist", "subset": 30_000}, 0) == 30_000
    assert pool_size({"name": "medmnist", "flag": "dermamnist", "val": "drop"}, 0) == 7_007


def test_a_budget_larger_than_the_pool_is_caught():
    container = OmegaConf.to_container(_compose(("experiment=dmle/iris", "budget.quota=110")))
    with pytest.raises(AssertionError, match="does not fit the iris pool of 110"):
        _budget_fits(container)
    _budget_fits(OmegaConf.to_container(_compose(("experiment=dmle/iris", "budget.quota=109"))))


def test_deepal_plus_sweeps_the_19_methods_and_random_on_resnet18_without_dropout():
    for preset in PRESETS:
        if not preset.startswith("deepal_plus/") or preset == "deepal_plus/ablation":
            continue
        if preset.startswith("deepal_plus/full"):
            assert sweep(preset)["strategy"] == ["random"]
            continue
        assert set(sweep(preset)["strategy"]) == DEEPAL_PLUS_19 | {"random"}, preset
        cfg = _compose((f"experiment={preset}",))
        assert cfg.trials == 3
        model = cfg.model
        assert (model.name, model.dropout, model.mc_sampling, model.query_transform) == (
            "resnet18",
            0.0,
            "train_mode",
            "train",  # authors' code data.py get_unlabeled_data: transform_train
        )


def test_only_the_deepal_plus_presets_query_through_the_training_augmentation():
    for preset in PRESETS:
        cfg = _compose((f"experiment={preset}",))
        expected = "train" if preset.startswith("deepal_plus/") else None
        assert cfg.model.get("query_transform") == expected, preset


@pytest.mark.parametrize(
    ("preset", "stem", "optimizer", "lr", "epochs", "batch"),
    [  # DeepAL+ App. D.2 / Table 3 (authors' code for batch sizes and the contradictions)
        ("mnist", "imagenet", "adam", 1e-3, 20, 128),
        ("fashionmnist", "imagenet", "adam", 1e-3, 20, 128),
        ("emnist", "imagenet", "adam", 1e-3, 20, 128),
        ("svhn", "imagenet", "adam", 1e-3, 20, 128),
        ("cifar10", "cifar_maxpool", "adam", 1e-3, 30, 128),
        ("cifar10_imb", "cifar_maxpool", "adam", 1e-3, 30, 128),
        ("cifar100", "cifar_maxpool", "adam", 1e-3, 40, 128),
        ("tinyimagenet", "cifar_maxpool", "adam", 1e-3, 40, 128),
        ("pneumoniamnist", "cifar_maxpool", "sgd", 1e-2, 10, 32),
        ("breakhis", "cifar_maxpool", "sgd", 1e-2, 10, 32),
        ("waterbirds", "imagenet", "sgd", 5e-4, 30, 32),
    ],
)
def test_deepal_plus_trainer_and_stem_per_dataset(preset, stem, optimizer, lr, epochs, batch):
    cfg = _compose((f"experiment=deepal_plus/{preset}",))
    t = cfg.trainer
    assert cfg.model.stem == stem
    assert (t.optimizer, t.lr, t.epochs, t.batch_size) == (optimizer, lr, epochs, batch)
    assert (t.init, t.schedule, t.early_stop_train_acc) == ("fresh", "none", None)
    expected_momentum = {"waterbirds": 0.9}.get(preset, 0.0 if optimizer == "sgd" else t.momentum)
    assert t.momentum == expected_momentum
    assert t.weight_decay == (1e-5 if preset == "waterbirds" else 0.0)


def test_deepal_plus_greyscale_presets_put_the_authors_1x1_adapter_before_the_stem():
    """deepALplus utils.py get_net: MNIST_Net (1x1 conv 1 -> 3, then the whole ResNet18) for
    MNIST, MNIST_pretrain, FashionMNIST and EMNIST; the other datasets have no adapter."""
    for pretrained in ("false", "true"):
        cfg = _compose(("experiment=deepal_plus/mnist", f"model.pretrained={pretrained}"))
        assert (cfg.model.adapter, cfg.model.stem) == (True, "imagenet")
    for preset in ("fashionmnist", "emnist"):
        assert _compose((f"experiment=deepal_plus/{preset}",)).model.adapter is True
    for preset in ("svhn", "cifar10", "waterbirds", "pneumoniamnist"):
        assert "adapter" not in _compose((f"experiment=deepal_plus/{preset}",)).model


@pytest.mark.parametrize("option", sorted(FULL))
def test_deepal_plus_full_rows_train_the_setting_once_on_its_whole_pool(option):
    """A Full job is its setting's job (data, model, trainer, trials) with budget.initial =
    the whole training pool, budget.quota = 0 and strategy random: one round, no query."""
    setting, pretrained = FULL[option]
    swept = [_compose(o) for o in jobs("deepal_plus/full") if o[-1].endswith(f"_global_={option}")]
    alone = _compose((f"experiment=deepal_plus/full/{option}", f"model.pretrained={pretrained}"))
    reference = _compose(
        (f"experiment=deepal_plus/{setting}", "strategy=random", f"model.pretrained={pretrained}")
    )
    for cfg in [*swept, alone]:
        full = OmegaConf.to_container(cfg, resolve=True)
        assert (full["budget"]["quota"], full["strategy"]["name"]) == (0, "random")
        assert full["budget"]["initial"] == pool_size(full["dataset"], 0)
        for key in ("dataset", "model", "trainer", "trials", "estimator", "selection"):
            assert full[key] == OmegaConf.to_container(reference, resolve=True)[key], key
    assert len(swept) == 1


def test_deepal_plus_pretraining_sweep_and_ablation_grid():
    for preset in ("deepal_plus/mnist", "deepal_plus/waterbirds", "deepal_plus/table4"):
        assert sweep(preset)["model.pretrained"] == ["False", "True"]
    grid = sweep("deepal_plus/ablation")
    assert grid["budget.batch"] == ["1000", "2000", "4000", "10000"]  # Fig. 6 columns
    assert grid["trainer.epochs"] == ["5", "10", "15", "20", "25", "30"]  # Fig. 6 rows


def test_constrained_trainer_is_plain_sgd_with_best_validation_weights():
    t = _compose(("trainer=constrained",)).trainer
    assert (t.optimizer, t.lr, t.weight_decay, t.momentum) == ("sgd", 1e-3, 1e-4, 0.0)
    assert (t.epochs, t.batch_size, t.select, t.init) == (100, 64, "best_val", "fresh")


def test_constrained_settings_sweep_noise_and_the_three_strategies():
    cfg = _compose(("experiment=constrained/mnist_resnet18",))
    assert (cfg.model.stem, cfg.model.dropout, cfg.trials) == ("imagenet", 0.5, 3)
    budget = cfg.budget
    assert (budget.initial, budget.batch, budget.quota, budget.validation) == (100, 10, 1000, 300)
    grid = sweep("constrained/mnist_lenet")
    assert grid["strategy"] == ["random", "entropy", "bald"]
    noisy = [
        _compose(("experiment=constrained/mnist_lenet", f"dataset.noise={v}")).dataset.noise
        for v in grid["dataset.noise"]
    ]
    assert noisy[0] is None
    assert (noisy[1].kind, noisy[1].fraction, noisy[1].std) == ("gaussian", 0.1, 1.0)
    assert (noisy[2].kind, noisy[2].fraction, noisy[2].amount) == ("salt_pepper", 0.1, 0.1)
    ideal = _compose(("experiment=constrained/ideal", *jobs("constrained/ideal")[0][1:])).budget
    assert (ideal.initial, ideal.batch, ideal.quota, ideal.validation) == (1000, 1000, 10000, 5000)


@pytest.mark.parametrize(
    ("preset", "trainer", "epochs", "early_stop", "init", "lr"),
    [  # FALCUN §4 per data type (+ authors' code for the tabular epochs)
        ("mnist", "falcun_gray", 20, None, "fresh", 1e-3),
        ("bloodmnist_resnet18", "falcun_colour", 100, 0.99, "warm", 1e-3),
        ("svhn_lenet", "falcun_colour", 100, 0.99, "warm", 1e-3),
        ("openml_156", "falcun_tabular", 200, 0.99, "fresh", 1e-4),
    ],
)
def test_falcun_trainer_per_data_type(preset, trainer, epochs, early_stop, init, lr):
    cfg = _compose((f"experiment=falcun/{preset}",), hydra=True)
    t = cfg.trainer
    assert cfg.hydra.runtime.choices.trainer == trainer
    assert (t.epochs, t.early_stop_train_acc, t.init, t.lr, t.optimizer) == (
        epochs,
        early_stop,
        init,
        lr,
        "adam",
    )
    assert (t.weight_decay, t.schedule, cfg.trials) == (0.0, "none", 5)
    assert t.early_stop_after == 11  # authors' code: checked once the 0-based epoch > 10


def test_falcun_models_and_gamma_ablation():
    mlp = _compose(("experiment=falcun/openml_6",)).model
    assert (mlp.name, mlp.layers, mlp.hidden, mlp.dropout) == ("mlp", 1, 1024, 0.0)
    resnet = _compose(("experiment=falcun/dermamnist_resnet18",)).model
    assert (resnet.pretrained, resnet.stem) == (True, "imagenet")
    assert sweep("falcun/gamma")["strategy.gamma"] == ["0", "1", "5", "10", "20", "det"]
    only_u = _compose(("experiment=falcun/gamma_uncertainty",)).strategy
    only_d = _compose(("experiment=falcun/gamma_diversity",)).strategy
    assert (only_u.uncertainty, only_u.diversity) == (True, False)
    assert (only_d.uncertainty, only_d.diversity) == (False, True)


def test_falcun_runs_alfamix_as_the_authors_code_does():
    """sobermeier/falcun alpha_mix.py: random alpha (no closed form, no optimisation), eps
    growing in steps of 0.03125; the other ALFA-Mix settings are the strategy's."""
    for preset in PRESETS:
        if not preset.startswith("falcun/") or "alfamix_falcun" not in sweep(preset)["strategy"]:
            continue
        overrides = (f"experiment={preset}", "strategy=alfamix_falcun")
        alfamix = _compose(overrides).strategy
        assert (alfamix.name, alfamix.alpha_mode, alfamix.alpha_cap) == (
            "alfamix",
            "random",
            0.03125,
        )
        assert alfamix.n_init == 10
    assert "alfamix" not in sweep("falcun/mnist")["strategy"]
    assert "alfamix_falcun" in sweep("falcun/dueling")["strategy"]


def test_dmle_presets_follow_the_authors_models_and_trainer():
    mnist = _compose(("experiment=dmle/mnist",))
    assert (mnist.model.pool, mnist.model.dropout, mnist.trials) == ("avg", 0.0, 8)
    t = mnist.trainer
    assert (t.optimizer, t.lr, t.epochs, t.batch_size, t.init) == ("adam", 1e-3, 10, 128, "warm")
    iris = _compose(("experiment=dmle/iris",)).model
    assert (iris.name, iris.layers, iris.hidden, iris.dropout) == ("mlp", 1, 64, 0.0)
    bald = sweep("dmle/table4")
    assert (bald["strategy"], bald["strategy.mc_passes"]) == (["bald"], ["100"])


@pytest.mark.parametrize(
    ("preset", "pool", "test", "validation"),
    [  # DMLE §5.1: pool and test sizes; validation "of similar size to the test sets"
        ("iris", 110, 30, 10),
        ("mnist", 30_000, 384, 400),  # authors' code data.py: 4% of the test split
        ("fashionmnist", 30_000, 384, 400),
        ("svhn", 14_651, 510, 520),  # authors' code data.py: 2% of the test split
        ("emnist", 4_440, 336, 336),
        ("cifar10", 3_000, 386, 386),
    ],
)
def test_dmle_presets_hold_out_separate_validation_sets(preset, pool, test, validation):
    cfg = OmegaConf.to_container(_compose((f"experiment=dmle/{preset}",)), resolve=True)
    assert cfg["budget"]["validation"] == validation
    assert pool_size(cfg["dataset"], validation) == pool
    assert (cfg["dataset"].get("test_subset") or cfg["dataset"]["test_size"]) == test
    assert cfg["trainer"]["select"] == "last"  # held out: the reported runs never use it


def test_ralif_schedules_per_model():
    scratch = _compose(("experiment=ralif/cifar10_scratch",)).trainer
    assert (scratch.lr, scratch.schedule, scratch.step_size, scratch.gamma) == (
        0.1,
        "step",
        160,
        0.1,
    )
    pretrained = _compose(("experiment=ralif/cifar10",))
    t = pretrained.trainer
    assert (t.lr, t.schedule, t.epochs, t.momentum, t.weight_decay) == (
        0.01,
        "cosine",
        200,
        0.9,
        1e-4,
    )
    assert (pretrained.dataset.image_size, pretrained.model.pretrained) == (224, True)


def test_bases_do_not_show_up_as_choices_in_help():
    help_text = subprocess.run(
        [sys.executable, "-m", "deepal_bench", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=CONF_DIR.parent,
    ).stdout
    groups = [line for line in help_text.splitlines() if line.startswith(("experiment", "trainer"))]
    choices = list(
        itertools.chain.from_iterable(line.split(":", 1)[1].split(",") for line in groups)
    )
    assert choices and not [c for c in choices if c.strip().startswith("_")]
