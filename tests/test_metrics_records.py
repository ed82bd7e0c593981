"""The loop's optional records: stored test predictions and per-round group accuracy columns."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import open_dict

from deepal_bench.cli.run import CONF_DIR
from deepal_bench.metrics import group_metrics
from deepal_bench.results import schema
from deepal_bench.results.predictions import read_predictions
from deepal_bench.run import loop

TINY = [
    "dataset=iris",
    "trials=2",
    "budget.initial=10",
    "budget.batch=10",
    "budget.quota=15",
    "trainer.epochs=2",
    "progress=false",
]
NAMES = ["even_small", "even_large", "odd_small", "odd_large"]


def _config(output_dir: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*TINY, *overrides])
    with open_dict(cfg):
        cfg.output_dir = str(output_dir)
    return cfg


def _with_groups(load):
    """Wrap the dataset loader: four test groups (label parity x index half), two mismatched."""

    def wrapped(cfg, validation):
        data = load(cfg, validation)
        n = len(data.y_test)
        half = (np.arange(n) >= n // 2).astype(np.int64)
        groups = (data.y_test.cpu().numpy() % 2) * 2 + half
        return replace(
            data,
            groups_test=torch.as_tensor(groups),
            group_names=NAMES,
            mismatch_groups=("even_large", "odd_small"),
        )

    return wrapped


def test_stored_predictions_and_group_columns_agree_with_rounds(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "load_dataset", _with_groups(loop.load_dataset))
    cfg = _config(tmp_path / "run", "store_predictions=true")
    loop.run(cfg, cfg.output_dir)
    rounds = pd.read_csv(tmp_path / "run" / schema.ROUNDS_FILE)
    extra = ["worst_group_accuracy", "mismatch_accuracy", *[f"accuracy_{g}" for g in NAMES]]
    assert list(rounds.columns) == schema.ROUNDS_COLUMNS + extra
    labels, predictions = read_predictions(tmp_path / "run")
    assert sorted(predictions) == [(t, r) for t in range(2) for r in range(3)]
    groups = (labels % 2) * 2 + (np.arange(len(labels)) >= len(labels) // 2)
    for row in rounds.itertuples():
        pred = predictions[(row.trial, row.round)]
        assert row.accuracy == pytest.approx((pred == labels).mean())
        expected = group_metrics(pred, labels, groups, NAMES, ["even_large", "odd_small"])
        assert [getattr(row, c) for c in extra] == pytest.approx([expected[c] for c in extra])
        worst = min(expected[f"accuracy_{g}"] for g in NAMES)
        assert row.worst_group_accuracy == pytest.approx(worst)


def test_no_predictions_or_group_columns_by_default(tmp_path):
    cfg = _config(tmp_path / "run", "trials=1")
    loop.run(cfg, cfg.output_dir)
    rounds = pd.read_csv(tmp_path / "run" / schema.ROUNDS_FILE)
    assert list(rounds.columns) == schema.ROUNDS_COLUMNS
    assert read_predictions(tmp_path / "run") is None
    assert not (tmp_path / "run" / schema.PREDICTIONS_DIR).exists()
