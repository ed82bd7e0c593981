"""The README's worked example: a user's own config folder adds a strategy choice."""

import re
import sys
from pathlib import Path

import yaml

from deepal_bench.cli import run as cli

README = Path(__file__).resolve().parent.parent / "README.md"


def test_a_config_dir_adds_a_strategy_without_forking(tmp_path, monkeypatch):
    text = README.read_text()
    example = re.search(r"my_conf/strategy/bald20.yaml`:\n\n```yaml\n(.*?)```", text, re.S)[1]
    folder = tmp_path / "my_conf" / "strategy"
    folder.mkdir(parents=True)
    (folder / "bald20.yaml").write_text(example)
    argv = ["deepal-bench", "--config-dir", str(tmp_path / "my_conf"), "-m",
            "strategy=bald20,entropy", "dataset=wine", "trials=1", "budget.initial=10",
            "budget.batch=10", "budget.quota=10", "trainer.epochs=1", "progress=false",
            f"results_root={tmp_path / 'runs'}"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    cli.main()
    (config,) = [p for p in (tmp_path / "runs").rglob("bald20/**/config.yaml")
                 if ".hydra" not in p.parts]  # fmt: skip
    strategy = yaml.safe_load(config.read_text())["strategy"]
    assert strategy == {"name": "bald", "mc_passes": 20}
