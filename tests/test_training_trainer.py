"""Trainer options and extension points."""

import pytest
import torch
import torch.nn.functional as F

from deepal_bench.data import load_dataset
from deepal_bench.errors import ConfigError
from deepal_bench.models import build_model
from deepal_bench.training.estimators import IMLE, TrainContext
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.trainer import Trainer, TrainerConfig, TrainingDiverged

CPU = torch.device("cpu")


def _setup(**trainer):
    data = load_dataset({"name": "iris"}, validation=15)
    torch.manual_seed(0)
    model = build_model({"name": "mlp", "hidden": 32}, data.input_shape, data.num_classes)
    context = TrainContext(data, torch.arange(60), round=0)
    return Trainer(TrainerConfig(**trainer), CPU), model, context


def test_early_stop_at_train_accuracy_threshold():
    trainer, model, context = _setup(epochs=500, early_stop_train_acc=0.9, lr=0.01)
    result = trainer.fit(model, context, IMLE(), torch.Generator().manual_seed(0))
    assert result.train_accuracy >= 0.9 and result.epochs_run < 500


def test_early_stop_is_checked_only_after_early_stop_after_epochs():
    first = _setup(epochs=500, early_stop_train_acc=0.9, lr=0.01)
    stopped = first[0].fit(*first[1:], IMLE(), torch.Generator().manual_seed(0)).epochs_run
    after = stopped + 3
    trainer, model, context = _setup(
        epochs=500, early_stop_train_acc=0.9, lr=0.01, early_stop_after=after
    )
    result = trainer.fit(model, context, IMLE(), torch.Generator().manual_seed(0))
    assert after < result.epochs_run < 500 and result.train_accuracy >= 0.9


def test_best_val_keeps_the_best_validation_weights():
    trainer, model, context = _setup(epochs=30, select="best_val", lr=0.05)
    result = trainer.fit(model, context, IMLE(), torch.Generator().manual_seed(0))
    pred = model(context.data.x_val).argmax(1)
    assert (pred == context.data.y_val).float().mean().item() == result.val_accuracy


class Recorder(TrainerExtension):
    """Adds one extra labelled point and an L2 term on a module of its own."""

    def __init__(self):
        self.extra = torch.nn.Linear(1, 1)
        self.seen_indices = set()
        self.epochs = []

    def modules(self):
        return {"extra": self.extra}

    def extra_data(self, context):
        return context.data.x_train[:1] * 0, torch.tensor([2])

    def loss(self, step):
        self.seen_indices.update(step.indices.tolist())
        return (self.extra.weight - 3.0).pow(2).sum()

    def on_epoch_end(self, epoch, context):
        self.epochs.append(epoch)


def test_extension_points_add_data_loss_and_modules():
    trainer, model, context = _setup(epochs=40, lr=0.1)
    ext = Recorder()
    trainer.fit(model, context, IMLE(), torch.Generator().manual_seed(0), [ext])
    assert -1 in ext.seen_indices and set(range(60)) <= ext.seen_indices
    assert abs(ext.extra.weight.item() - 3.0) < 0.5  # the extra module was optimised
    assert ext.epochs == list(range(1, 41))


def test_same_generator_same_weights_and_sgd_cosine_runs():
    w = []
    for _ in range(2):
        trainer, model, context = _setup(epochs=3, optimizer="sgd", schedule="cosine", lr=0.1)
        torch.manual_seed(5)
        trainer.fit(model, context, IMLE(), torch.Generator().manual_seed(1))
        w.append(model.head.weight.detach().clone())
    assert torch.equal(w[0], w[1])
    loss = F.cross_entropy(model(context.data.x_train[:60]), context.data.y_train[:60])
    assert loss.item() < 1.1  # below chance-level log(3) after three SGD epochs


def test_divergence_stops_the_run_before_the_round_is_recorded(tiny_cfg):
    """trainer.lr=1e6 gave chance accuracy, exit 0, a normal record."""
    from pathlib import Path

    import pytest

    from deepal_bench.errors import ConfigError
    from deepal_bench.results import schema
    from deepal_bench.run import loop

    cfg = tiny_cfg("dataset=digits", "trainer.lr=1e6", "trainer.epochs=50", name="diverged")
    with pytest.raises(ConfigError, match=r"diverged in trial 0, round 0: .*lower trainer.lr"):
        loop.run(cfg, cfg.output_dir)
    assert not (Path(cfg.output_dir) / schema.ROUNDS_FILE).exists()


def test_nan_inputs_are_blamed_on_the_data_not_on_the_learning_rate():
    """NaN features used to end as "diverged ... lower trainer.lr"."""
    trainer, model, context = _setup(epochs=2, lr=0.01)
    context.data.x_train[5, 0] = float("nan")  # a labeled point (the labeled set is 0..59)
    with pytest.raises(ConfigError, match=r"round 0: .* training inputs hold NaN or infinite"):
        trainer.fit(model, context, IMLE(), torch.Generator().manual_seed(0))


def test_divergence_names_the_weight_decay_when_set():
    trainer, model, context = _setup(epochs=3, lr=1e38, optimizer="sgd", momentum=0.0,
                                     weight_decay=0.5)  # fmt: skip
    with pytest.raises(TrainingDiverged, match=r"became nan .* with trainer.weight_decay=0.5"):
        trainer.fit(model, context, IMLE(), torch.Generator().manual_seed(0))
