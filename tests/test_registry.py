"""Plugins: a strategy, model or dataset from the user's own package, named by `_target_` in
their YAML, runs with no entry script (the README's example, run as a user would)."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from support import run_cli

from deepal_bench.data import DATASETS
from deepal_bench.models import MODELS
from deepal_bench.results import schema
from deepal_bench.strategies import STRATEGIES

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
TINY = ["trials=1", "budget.initial=10", "budget.batch=10", "budget.quota=20",
        "trainer.epochs=1", "progress=false", "device=cpu"]  # fmt: skip

MY_MODEL_AND_DATA = '''
import math

import torch
from sklearn.datasets import make_moons
from torch import nn

from deepal_bench.data import ALData
from deepal_bench.models import ALModel
from deepal_bench.strategies import ScoreStrategy

QUERIES = []


class Farthest(ScoreStrategy):
    """Scores by the embedding's norm (and counts its queries)."""

    needs = frozenset({"embeddings"})

    def scores(self, ctx):
        QUERIES.append(len(ctx.candidates))
        return ctx.embeddings().norm(dim=1)


class TinyNet(ALModel):
    def __init__(self, input_shape, num_classes, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), width),
                                  nn.ReLU(), nn.Dropout(0.2))
        self.head = nn.Linear(width, num_classes)

    def embed(self, x):
        return self.body(x)


def moons(n: int = 200, spread: float = 0.1, split_seed: int = 0) -> ALData:
    x, y = make_moons(n, noise=spread, random_state=split_seed)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    cut = 3 * n // 4
    return ALData("moons", x[:cut], y[:cut], x[cut:], y[cut:], num_classes=2)


def not_a_model(input_shape, num_classes):
    return None
'''
MY_CONF = {
    "strategy/farthest.yaml": "name: farthest\n_target_: my_plugins.Farthest\n",
    "model/tiny.yaml": "name: tiny\n_target_: my_plugins.TinyNet\nwidth: 8\n",
    "dataset/moons.yaml": "defaults:\n  - /_dataset@_here_\n  - _self_\nname: moons\n"
    "_target_: my_plugins.moons\nspread: 0.2\n",
}


def readme_block(after: str, language: str) -> str:
    """The README's code block that follows the line ending with `after`."""
    pattern = rf"{re.escape(after)}\n\n```{language}\n(.*?)```"
    return re.search(pattern, README.read_text(), re.S)[1]


@pytest.fixture
def registries():
    """The registries as they were before the test (adopted plugins are forgotten)."""
    saved = [(r, dict(r._items)) for r in (STRATEGIES, MODELS, DATASETS)]
    yield
    for registry, items in saved:
        registry._items.clear()
        registry._items.update(items)


@pytest.fixture
def my_package(tmp_path, monkeypatch, registries):
    """The user's own package and config folder, outside the repository, importable."""
    (tmp_path / "my_plugins.py").write_text(textwrap.dedent(MY_MODEL_AND_DATA))
    for name, text in MY_CONF.items():
        (tmp_path / "my_conf" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "my_conf" / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def done_configs(root: Path) -> list[dict]:
    return [
        yaml.safe_load((p.parent / schema.CONFIG_FILE).read_text())
        for p in root.rglob(schema.DONE_FILE)
    ]


@pytest.mark.slow
def test_the_readme_plugin_runs_with_no_entry_script(tmp_path):
    """A user's own strategy needed an entry script importing their module before
    `cli.main()`; now their YAML names it and `python -m deepal_bench` runs it."""
    (tmp_path / "my_al").mkdir()
    (tmp_path / "my_al" / "__init__.py").write_text("")
    (tmp_path / "my_al" / "ratio.py").write_text(readme_block("`my_al/ratio.py`:", "python"))
    (tmp_path / "my_conf" / "strategy").mkdir(parents=True)
    yaml_text = readme_block("and `my_conf/strategy/ratio.yaml`:", "yaml")
    (tmp_path / "my_conf" / "strategy" / "ratio.yaml").write_text(yaml_text)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    command = [sys.executable, "-m", "deepal_bench", "--config-dir", str(tmp_path / "my_conf"),
               "strategy=ratio", "dataset=digits", *TINY,
               f"results_root={tmp_path / 'runs'}"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (config,) = done_configs(tmp_path / "runs")
    assert config["strategy"] == {"name": "ratio", "_target_": "my_al.ratio.RatioSampling",
                                  "power": 2.0}  # fmt: skip
    assert "ratio: 1 trials, mean AUBC" in done.stdout


def test_my_strategy_model_and_dataset_run_from_my_yaml(my_package, monkeypatch):
    from my_plugins import QUERIES

    overrides = ["strategy=farthest", "model=tiny", "dataset=moons", *TINY,
                 f"results_root={my_package / 'runs'}"]  # fmt: skip
    assert run_cli(monkeypatch, "--config-dir", str(my_package / "my_conf"), *overrides) == 0
    assert QUERIES == [140, 130]  # 150 training points: the pool after 10, then 20 labels
    (config,) = done_configs(my_package / "runs")
    assert config["model"] == {"name": "tiny", "_target_": "my_plugins.TinyNet", "width": 8}
    assert config["dataset"]["spread"] == 0.2


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("name: tiny\n_target_: my_plugins.nowhere\n",
         "Invalid model._target_='my_plugins.nowhere': it cannot be imported"),
        ("name: tiny\n_target_: not_installed.Net\n",
         "Invalid model._target_='not_installed.Net': it cannot be imported "
         "(ModuleNotFoundError(\"No module named 'not_installed'\")); put the package"),
        ("name: tiny\n_target_: my_plugins.moons\n",
         "Invalid model._target_='my_plugins.moons': it must be a subclass of "
         "deepal_bench.models.base.ALModel or a function annotated to return one."),
        ("name: tiny\n_target_: my_plugins.not_a_model\n", "it must be a subclass of"),
        ("name: mlp\n_target_: my_plugins.TinyNet\n",
         "Invalid model.name='mlp' for model._target_='my_plugins.TinyNet': that name is taken "
         "by deepal_bench.models._mlp; give your model another name."),
        ("name: tiny\n_target_: my_plugins.TinyNet\nwidth: wide\n",
         "Invalid model.width='wide': it must be an integer."),
        ("name: tiny\n_target_: my_plugins.TinyNet\ndepth: 3\n",
         "model 'tiny' got an unexpected option"),
        ("name: tiny\n_target_: 3\n", "Invalid model._target_=3: it must be a string."),
    ],
)  # fmt: skip
def test_a_bad_target_is_one_paragraph_before_anything_is_written(
    my_package, monkeypatch, capsys, yaml_text, message
):
    (my_package / "my_conf" / "model" / "tiny.yaml").write_text(yaml_text)
    overrides = ["model=tiny", "dataset=wine", *TINY, f"results_root={my_package / 'runs'}"]
    assert run_cli(monkeypatch, "--config-dir", str(my_package / "my_conf"), *overrides) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    records = {schema.CONFIG_FILE, schema.ROUNDS_FILE, schema.STATE_FILE, schema.DONE_FILE}
    written = [p for p in (my_package / "runs").rglob("*") if ".hydra" not in p.parts]
    assert not [p for p in written if p.name in records]


def test_one_class_has_one_name(my_package, monkeypatch, capsys):
    """Two YAMLs giving one class two names would record one strategy under two labels."""
    conf = my_package / "my_conf" / "strategy"
    (conf / "far2.yaml").write_text("name: far2\n_target_: my_plugins.Farthest\n")
    common = ["--config-dir", str(my_package / "my_conf"), "dataset=wine", *TINY,
              f"results_root={my_package / 'runs'}"]  # fmt: skip
    assert run_cli(monkeypatch, *common, "strategy=farthest") == 0
    assert run_cli(monkeypatch, *common, "strategy=far2") == 2
    assert "it is registered as 'farthest'; use that name" in capsys.readouterr().err
