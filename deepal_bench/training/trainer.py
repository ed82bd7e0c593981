"""The trainer: one round's training of the model on the labeled set.

Options (the `trainer` config group): optimiser Adam or SGD with lr, weight decay and
momentum; epochs and batch size; schedule none / cosine / step; early stop once the
training accuracy of an epoch reaches `early_stop_train_acc` (FALCUN §4 uses 0.99), checked
after the first `early_stop_after` epochs;
`init: fresh` re-initialises the model every round (DeepAL+), `init: warm` continues from
the previous round's weights; `select: best_val` keeps the weights with the best
validation accuracy (constrained-data study §3), `select: last` the final ones.

The step loop never makes the host wait for the GPU: the correct-prediction count and the
loss sum stay on the model's device and are read once per epoch (on a GPU every host read
waits for all queued work); the epoch's order, drawn on the host from the round's
generator, reaches the device in one non-blocking copy. `compile: true` runs the model's
forward through `torch.compile`, compiled once per trainer and reused by every round's
fresh model (its parameters are graph inputs, not constants).
"""

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

import torch

from deepal_bench.data.transfer import host_to_device
from deepal_bench.errors import ConfigError
from deepal_bench.models.base import ALModel
from deepal_bench.training.estimators import Estimator, TrainContext, TrainStep
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.inference import evaluate
from deepal_bench.training.optim import build_optimizer, build_schedule
from deepal_bench.typed import (
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Range,
    check_fields,
)


@dataclass
class TrainerConfig:
    """The `trainer` config group (conf/_trainer.yaml documents each key)."""

    optimizer: Literal["adam", "sgd"] = "adam"
    lr: PositiveFloat = 1e-3
    weight_decay: NonNegativeFloat = 0.0
    momentum: Annotated[float, Range(ge=0, lt=1)] = 0.9
    epochs: PositiveInt = 20
    batch_size: PositiveInt = 64
    schedule: Literal["none", "cosine", "step"] = "none"
    step_size: PositiveInt = 10
    gamma: PositiveFloat = 0.1
    early_stop_train_acc: Annotated[float, Range(gt=0, le=1)] | None = None
    early_stop_after: NonNegativeInt = 0
    init: Literal["fresh", "warm"] = "fresh"
    select: Literal["last", "best_val"] = "last"
    eval_batch_size: PositiveInt = 1024
    amp: bool = False
    channels_last: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        check_fields(self, "trainer")


def _stops_early(cfg: TrainerConfig, epoch: int, train_acc: float) -> bool:
    """Whether epoch `epoch` (from 1) ends training: its training accuracy reached
    `early_stop_train_acc`, checked only once more than `early_stop_after` epochs have run
    (FALCUN's code, sobermeier/falcun `Strategy.train`: `epoch > self.patience` with patience
    10 on 0-based epochs, i.e. `early_stop_after: 11`)."""
    threshold = cfg.early_stop_train_acc
    return threshold is not None and epoch > cfg.early_stop_after and train_acc >= threshold


class TrainingDiverged(Exception):
    """The loss or a parameter became NaN or infinite; the message says when."""


@dataclass
class TrainResult:
    """What one round's training did: epochs run (early stop), the last epoch's training
    accuracy, and the validation accuracy of the kept weights (`best_val`; else None)."""

    epochs_run: int
    train_accuracy: float
    val_accuracy: float | None


@dataclass
class TrainingSet:
    """The round's training pairs: the labeled points, then the extensions' extra pairs
    (pseudo-labels, adversarial examples), whose dataset index in `indices` is -1."""

    x: torch.Tensor
    y: torch.Tensor
    indices: torch.Tensor

    @classmethod
    def build(cls, context: TrainContext, extensions: list[TrainerExtension]) -> "TrainingSet":
        data = context.data
        idx = context.labeled.to(data.x_train.device)
        x, y, indices = data.x_train[idx], data.y_train[idx], context.labeled.cpu().clone()
        for ext in extensions:
            extra = ext.extra_data(context)
            if extra is not None:
                x = torch.cat([x, extra[0].to(x.device)])
                y = torch.cat([y, extra[1].to(y.device)])
                indices = torch.cat([indices, torch.full((len(extra[1]),), -1)])
        return cls(x, y, host_to_device(indices, x.device))


class BestWeights:
    """The weights of the epoch with the best validation accuracy (`select: best_val`)."""

    def __init__(self) -> None:
        self.accuracy, self.state = -1.0, None

    def update(self, model: ALModel, accuracy: float) -> None:
        if accuracy > self.accuracy:
            self.accuracy, self.state = accuracy, copy.deepcopy(model.state_dict())

    def restore(self, model: ALModel) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)


class Trainer:
    """Trains a model on the labeled set with an estimator and optional extensions."""

    def __init__(self, cfg: TrainerConfig, device: torch.device) -> None:
        self.cfg = cfg
        self.device = device
        self.forward: Callable[[ALModel, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] = (
            torch.compile(forward_with_embedding) if cfg.compile else forward_with_embedding
        )

    def fit(
        self,
        model: ALModel,
        context: TrainContext,
        estimator: Estimator,
        gen: torch.Generator,
        extensions: list[TrainerExtension] = (),
    ) -> TrainResult:
        """Train `model` in place on `context.labeled`; randomness comes from `gen`."""
        cfg, data = self.cfg, context.data
        if cfg.select == "best_val" and data.x_val is None:
            raise ConfigError(
                "trainer.select=best_val needs a validation set: set budget.validation > 0 "
                "or use a dataset that ships one."
            )
        for ext in extensions:
            ext.setup(model, context)
        train = TrainingSet.build(context, extensions)
        opt = build_optimizer(
            cfg.optimizer, self._param_groups(model, extensions), cfg.lr,
            cfg.weight_decay, cfg.momentum,
        )  # fmt: skip
        schedule = build_schedule(cfg.schedule, opt, cfg.epochs, cfg.step_size, cfg.gamma)
        if cfg.channels_last and self.device.type == "cuda" and train.x.dim() == 4:
            model.to(memory_format=torch.channels_last)
        best = BestWeights() if cfg.select == "best_val" else None
        epochs = _Epochs(self, model, train, context, estimator, extensions, opt)
        train_acc, epoch = 0.0, 0
        for epoch in range(1, cfg.epochs + 1):
            train_acc = epochs.run(epoch, gen)
            if schedule is not None:
                schedule.step()
            for ext in extensions:
                ext.on_epoch_end(epoch, context)
            if best is not None:
                accuracy, _ = evaluate(model, data.x_val, data.y_val, cfg.eval_batch_size, cfg.amp)
                best.update(model, accuracy)
            if _stops_early(cfg, epoch, train_acc):
                break
        if best is not None:
            best.restore(model)
        if not bool(torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all()):
            raise diverged(cfg, train, context, "a model parameter became NaN or infinite")
        for ext in extensions:
            ext.teardown(model)
        model.eval()
        return TrainResult(epoch, train_acc, best.accuracy if best is not None else None)

    @staticmethod
    def _param_groups(model: ALModel, extensions: list[TrainerExtension]) -> list[dict]:
        """The model's trainable parameters, then one group per extension module."""
        groups = [{"params": [p for p in model.parameters() if p.requires_grad]}]
        for ext in extensions:
            groups += [{"params": list(m.parameters())} for m in ext.modules().values()]
        return groups


def diverged(cfg: TrainerConfig, train: TrainingSet, context: TrainContext, what: str) -> Exception:
    """Why training stopped: training inputs that are not finite are a ConfigError about the
    data (no learning rate fixes them); else divergence, naming the weight decay when set."""
    if not bool(torch.isfinite(train.x).all()):
        return ConfigError(
            f"Training stopped in round {context.round}: {what} because the training inputs "
            f"hold NaN or infinite values; the dataset's features (or a strategy's extra "
            f"training data) must be finite numbers."
        )
    decay = f" with trainer.weight_decay={cfg.weight_decay:g}" if cfg.weight_decay else ""
    return TrainingDiverged(what + decay)


@dataclass
class _Epochs:
    """Epochs over the training set, each in a random order drawn from the round's generator."""

    trainer: Trainer
    model: ALModel
    train: TrainingSet
    context: TrainContext
    estimator: Estimator
    extensions: list[TrainerExtension]
    opt: torch.optim.Optimizer

    def run(self, epoch: int, gen: torch.Generator) -> float:
        """Train one epoch; returns its training accuracy. The correct count and the loss
        sum stay on the device and are read once, at the end of the epoch."""
        cfg, train, augment = self.trainer.cfg, self.train, self.context.data.augment
        self.model.train()
        correct = torch.zeros((), dtype=torch.long, device=train.y.device)
        loss_sum = torch.zeros((), device=train.y.device)
        order = host_to_device(torch.randperm(len(train.y), generator=gen), train.x.device)
        for start in range(0, len(train.y), cfg.batch_size):
            b = order[start : start + cfg.batch_size]
            xb, yb = train.x[b], train.y[b]
            if augment is not None:
                xb = augment(xb, gen)
            logits, loss = self._step(xb, yb, train.indices[b], epoch)
            correct += (logits.argmax(1) == yb).sum()
            loss_sum += loss
        correct_count, loss_total = int(correct), float(loss_sum)
        if not math.isfinite(loss_total):
            what = f"the training loss became {loss_total} in epoch {epoch}"
            raise diverged(cfg, train, self.context, what)
        return correct_count / len(train.y)

    def _step(
        self, xb: torch.Tensor, yb: torch.Tensor, indices: torch.Tensor, epoch: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, estimator loss plus the extensions' terms, backward, optimiser step;
        returns the detached logits and loss."""
        device = self.trainer.device
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.trainer.cfg.amp):
            logits, emb = self.trainer.forward(self.model, xb)
        step = TrainStep(self.model, xb, yb, indices, logits.float(), emb, epoch, self.context)
        loss = self.estimator.loss(step)
        for ext in self.extensions:
            extra_loss = ext.loss(step)
            if extra_loss is not None:
                loss = loss + extra_loss
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return logits.detach(), loss.detach()


def forward_with_embedding(model: ALModel, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and embeddings of `x` (the function `compile: true` compiles: the model is an
    argument, so one compiled graph serves every round's fresh model)."""
    return model.forward_with_embedding(x)
