"""One home per default. The rule: a group's base YAML (conf/_trainer.yaml, _budget.yaml,
_dataset.yaml) states every field of its schema dataclass with the dataclass's default
(`???` for a field without one) and nothing else; a dataset's own YAML states every option
of its loader, with the loader's default where it has one (None = none of its own); every
choice states only what differs from what it inherits."""

import dataclasses
import inspect

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from deepal_bench.data.catalogue import COMMON_KEYS, DATASETS, PIPELINE_KEYS, Pipeline
from deepal_bench.data.sources import resolve_root
from deepal_bench.paths import CONF_DIR
from deepal_bench.run.budget import Budget
from deepal_bench.training.trainer import TrainerConfig

MISSING = "???"
GROUPS = ("trainer", "budget", "dataset")


def _raw(path) -> dict:
    return OmegaConf.to_container(OmegaConf.load(path), resolve=False)


def schema_defaults(schema: type) -> dict:
    """Field -> default of a dataclass (`???` for a field without one)."""
    return {
        f.name: MISSING if f.default is dataclasses.MISSING else f.default
        for f in dataclasses.fields(schema)
    }


def disagreements(values: dict, schema: type) -> list[str]:
    """Where a base YAML's values and its schema's defaults disagree (none = they agree)."""
    defaults = schema_defaults(schema)
    found = [f"{k}: not stated (default {v!r})" for k, v in defaults.items() if k not in values]
    found += [f"{k}: not a field of {schema.__name__}" for k in values if k not in defaults]
    found += [
        f"{k}: {values[k]!r} in the YAML, {v!r} in {schema.__name__}"
        for k, v in defaults.items()
        if k in values and values[k] != v
    ]
    return found


def test_disagreements_name_each_key_that_differs():
    @dataclasses.dataclass
    class Schema:
        a: int
        b: int = 2
        c: str = "x"

    assert disagreements({"a": MISSING, "b": 2, "c": "x"}, Schema) == []
    assert disagreements({"a": 1, "b": 3, "d": 0}, Schema) == [
        "c: not stated (default 'x')",
        "d: not a field of Schema",
        "a: 1 in the YAML, '???' in Schema",
        "b: 3 in the YAML, 2 in Schema",
    ]


@pytest.mark.parametrize(("base", "schema"), [("_trainer", TrainerConfig), ("_budget", Budget)])
def test_base_yaml_states_every_field_with_the_dataclass_default(base, schema):
    assert disagreements(_raw(CONF_DIR / f"{base}.yaml"), schema) == []


def test_dataset_base_states_every_pipeline_key_with_its_default(monkeypatch):
    """`root`: Pipeline's None is "the default data root" ($DEEPAL_DATA, else ./data), which
    the YAML spells as an interpolation; both name the same folder, set or unset."""
    values = _raw(CONF_DIR / "_dataset.yaml")
    root = values.pop("root")
    assert disagreements({**values, "root": None}, Pipeline) == []
    for env in ("/somewhere/data", None):
        if env is None:
            monkeypatch.delenv("DEEPAL_DATA", raising=False)
        else:
            monkeypatch.setenv("DEEPAL_DATA", env)
        resolved = OmegaConf.create({"root": root}).root
        assert resolve_root(resolved) == resolve_root(None)


def _loader_options(name: str) -> dict:
    """The options of dataset `name`'s loader (the pipeline's own keys aside) -> default."""
    parameters = inspect.signature(DATASETS.get(name)).parameters.values()
    return {
        p.name: p.default
        for p in parameters
        if p.name not in COMMON_KEYS and p.name not in PIPELINE_KEYS
    }


@pytest.mark.parametrize("name", DATASETS.names())
def test_a_datasets_own_yaml_states_every_loader_option_with_its_default(name):
    values = _raw(CONF_DIR / "dataset" / f"{name}.yaml")
    assert values["name"] == name
    for option, default in _loader_options(name).items():
        assert option in values, f"conf/dataset/{name}.yaml does not state {option}"
        if default is not None and default is not inspect.Parameter.empty:
            expected = list(default) if isinstance(default, tuple) else default
            assert values[option] == expected, f"{name}.{option}"


def _composed(name: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return OmegaConf.to_container(compose(config_name=name), resolve=False)


def restated(group: str, path) -> list[str]:
    """Keys of a choice (or a base) whose value equals the one it inherits: from a root-level
    base (`/_trainer@_here_`) or another choice of its group (`medmnist`)."""
    values = _raw(path)
    inherited: dict = {}
    for parent in values.pop("defaults", []):
        where = parent.split("@")[0]
        if where.startswith("/"):
            inherited |= _composed(where[1:])
        elif parent != "_self_":
            inherited |= _composed(f"{group}/{where}")[group]
    return sorted(k for k, v in values.items() if k in inherited and inherited[k] == v)


CHOICES = [
    (group, path)
    for group in GROUPS
    for path in [
        *sorted(CONF_DIR.glob(f"_{group}_*.yaml")),
        *sorted((CONF_DIR / group).glob("*.yaml")),
    ]
]


@pytest.mark.parametrize(("group", "path"), CHOICES, ids=[f"{g}/{p.stem}" for g, p in CHOICES])
def test_a_choice_states_only_what_differs_from_what_it_inherits(group, path):
    assert restated(group, path) == [], f"{path.name} restates inherited values"


@pytest.mark.parametrize("path", sorted((CONF_DIR / "budget").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_budget_inherits_the_base(path):
    assert _raw(path)["defaults"] == ["/_budget@_here_", "_self_"]


def test_restated_finds_a_value_equal_to_the_inherited_one(tmp_path):
    choice = tmp_path / "x.yaml"
    choice.write_text("defaults:\n  - /_budget@_here_\n  - _self_\n\ninitial: 5\nvalidation: 0\n")
    assert restated("budget", choice) == ["validation"]
