"""The trainer: one round's training of the model on the labeled set.

Options (the `trainer` config group): optimiser Adam or SGD with lr, weight decay and
momentum; epochs and batch size; schedule none / cosine / step; early stop once the
training accuracy of an epoch reaches `early_stop_train_acc` (FALCUN §4 uses 0.99);
`init: fresh` re-initialises the model every round (DeepAL+), `init: warm` continues from
the previous round's weights; `select: best_val` keeps the weights with the best
validation accuracy (constrained-data study §3), `select: last` the final ones.
"""

import copy
from dataclasses import dataclass

import torch

from deepal_bench.errors import ConfigError, unknown_choice
from deepal_bench.models.base import ALModel
from deepal_bench.training.estimators import Estimator, TrainContext, TrainStep
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.inference import evaluate

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("none", "cosine", "step")
INITS = ("fresh", "warm")
SELECTS = ("last", "best_val")


@dataclass
class TrainerConfig:
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    epochs: int = 20
    batch_size: int = 64
    schedule: str = "none"
    step_size: int = 10
    gamma: float = 0.1
    early_stop_train_acc: float | None = None
    init: str = "fresh"
    select: str = "last"
    eval_batch_size: int = 1024
    amp: bool = False
    channels_last: bool = False

    def __post_init__(self) -> None:
        for key, value, choices in (
            ("trainer.optimizer", self.optimizer, OPTIMIZERS),
            ("trainer.schedule", self.schedule, SCHEDULES),
            ("trainer.init", self.init, INITS),
            ("trainer.select", self.select, SELECTS),
        ):
            if value not in choices:
                raise unknown_choice(key, value, choices)
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("trainer.epochs and trainer.batch_size must be positive.")


@dataclass
class TrainResult:
    epochs_run: int
    train_accuracy: float
    val_accuracy: float | None


def _optimizer(cfg: TrainerConfig, params: list[dict]) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay, momentum=cfg.momentum)


def _scheduler(cfg: TrainerConfig, opt: torch.optim.Optimizer):
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    if cfg.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma)
    return None


class Trainer:
    """Trains a model on the labeled set with an estimator and optional extensions."""

    def __init__(self, cfg: TrainerConfig, device: torch.device) -> None:
        self.cfg = cfg
        self.device = device

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
        idx = context.labeled.to(data.x_train.device)
        x, y = data.x_train[idx], data.y_train[idx]
        indices = context.labeled.clone()
        for ext in extensions:
            extra = ext.extra_data(context)
            if extra is not None:
                x = torch.cat([x, extra[0].to(x.device)])
                y = torch.cat([y, extra[1].to(y.device)])
                indices = torch.cat([indices, torch.full((len(extra[1]),), -1)])
        params = [{"params": [p for p in model.parameters() if p.requires_grad]}]
        for ext in extensions:
            for module in ext.modules().values():
                params.append({"params": list(module.parameters())})
        opt = _optimizer(cfg, params)
        sched = _scheduler(cfg, opt)
        if cfg.channels_last and self.device.type == "cuda" and x.dim() == 4:
            model.to(memory_format=torch.channels_last)
        best_state, best_val, val_acc = None, -1.0, None
        train_acc, epoch = 0.0, 0
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            correct = 0
            order = torch.randperm(len(y), generator=gen)
            for start in range(0, len(y), cfg.batch_size):
                b = order[start : start + cfg.batch_size]
                bd = b.to(x.device)
                xb = x[bd]
                if data.augment is not None:
                    xb = data.augment(xb, gen)
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.amp):
                    logits, emb = model.forward_with_embedding(xb)
                step = TrainStep(model, xb, y[bd], indices[b], logits.float(), emb, epoch, context)
                loss = estimator.loss(step)
                for ext in extensions:
                    extra_loss = ext.loss(step)
                    if extra_loss is not None:
                        loss = loss + extra_loss
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                correct += int((logits.argmax(1) == y[bd]).sum())
            if sched is not None:
                sched.step()
            for ext in extensions:
                ext.on_epoch_end(epoch, context)
            train_acc = correct / len(y)
            if cfg.select == "best_val":
                val_acc, _ = evaluate(model, data.x_val, data.y_val, cfg.eval_batch_size)
                if val_acc > best_val:
                    best_val, best_state = val_acc, copy.deepcopy(model.state_dict())
            if cfg.early_stop_train_acc is not None and train_acc >= cfg.early_stop_train_acc:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
            val_acc = best_val
        for ext in extensions:
            ext.teardown(model)
        model.eval()
        return TrainResult(epoch, train_acc, val_acc)
