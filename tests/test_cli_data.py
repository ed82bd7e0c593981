"""`deepal-bench-data` and one end-to-end run of `deepal-bench` on a fabricated MNIST root."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from support import write_mnist

from deepal_bench.cli import run as cli
from deepal_bench.cli.data import dataset_choices, dataset_options, main

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = {
    "mnist", "fashionmnist", "emnist", "svhn", "cifar10", "cifar100", "cifar10_imb",
    "tinyimagenet", "medmnist", "pneumoniamnist", "bloodmnist", "dermamnist", "openml",
    "breakhis", "waterbirds", "inaturalist", "imagefolder", "npz", "digits", "iris", "wine",
    "breast_cancer",
}  # fmt: skip


def test_every_fixed_name_has_a_yaml():
    assert set(dataset_choices()) == CATALOGUE


@pytest.mark.parametrize("choice", ["pneumoniamnist", "emnist", "digits"])
def test_dataset_options_match_hydra_composition(choice):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"dataset={choice}", "dataset.subset=7"])
    expected = OmegaConf.to_container(cfg.dataset, resolve=True)
    assert dataset_options(choice, None, ["subset=7"]) == expected


def test_list_shows_present_missing_and_bundled(tmp_path, capsys):
    write_mnist(tmp_path)
    assert main(["list", "--root", str(tmp_path)]) == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["mnist"] == "present" and rows["cifar10"] == "missing"
    assert rows["digits"] == "bundled" and rows["pneumoniamnist"] == "missing"
    assert set(rows) == CATALOGUE


def test_check_loads_and_download_reports_manual_sources(tmp_path, capsys):
    write_mnist(tmp_path)
    assert main(["check", "mnist", "--root", str(tmp_path), "subset=25"]) == 0
    assert (
        "mnist: train (25, 1, 28, 28), test (20, 1, 28, 28), 10 classes" in capsys.readouterr().out
    )
    assert main(["download", "mnist", "breakhis", "--root", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "mnist: present under" in captured.out
    assert "dataset 'breakhis': files not found" in captured.err and "by hand" in captured.err
    assert main(["check", "nope", "--root", str(tmp_path)]) == 2
    assert "Unknown dataset 'nope'" in capsys.readouterr().err


def _cli(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "deepal_bench", f"results_root={tmp_path / 'runs'}",
         "progress=false", "trials=1", *overrides],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_end_to_end_run_on_fabricated_mnist_root(tmp_path):
    write_mnist(tmp_path / "data", n_train=60)
    done = _cli(
        tmp_path, "dataset=mnist", f"dataset.root={tmp_path / 'data'}", "model=lenet",
        "budget.initial=10", "budget.batch=10", "budget.quota=20", "trainer.epochs=1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rounds = pd.read_csv(next((tmp_path / "runs").rglob("rounds.csv")))
    assert rounds["n_labeled"].tolist() == [10, 20, 30]
    queries = pd.read_csv(next((tmp_path / "runs").rglob("queries.csv")))
    assert len(queries) == 30 and queries["pool_index"].between(0, 59).all()
    assert queries["pool_index"].is_unique


def test_missing_dataset_is_one_clear_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    argv = ["deepal-bench", "dataset=cifar10", f"dataset.root={tmp_path / 'nothing'}",
            f"results_root={tmp_path / 'runs'}", "progress=false"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stop:
        cli.main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1
    assert "dataset 'cifar10': files not found" in err and "cifar-10-batches-py/data_batch_1" in err


@pytest.mark.parametrize("name", sorted(CATALOGUE - {"digits", "iris", "wine", "breast_cancer"}))
def test_each_yaml_composes_and_fails_cleanly_without_files(tmp_path, name, capsys):
    assert main(["check", name, "--root", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "files not found" in err or "needs dataset" in err


def test_data_root_is_not_part_of_the_run_identity(monkeypatch):
    from deepal_bench.results.identity import config_hash

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["dataset=mnist"])
        other = compose("config", overrides=["dataset=mnist", "dataset.root=/elsewhere"])
        subset = compose("config", overrides=["dataset=mnist", "dataset.subset=100"])
    assert config_hash(cfg) == config_hash(other) != config_hash(subset)
    monkeypatch.setenv("DEEPAL_DATA", "/cluster/data")
    assert config_hash(cfg) == config_hash(other)
