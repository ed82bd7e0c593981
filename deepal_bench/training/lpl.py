"""LPL's loss-prediction module (Yoo & Kweon 2019, CVPR, "Learning Loss for Active Learning").

A `LossNet` on the backbone's feature taps is trained jointly with the model through the
margin ranking loss (eq. 2), weight λ and margin ξ; from `detach_epoch` on the module's
gradient no longer reaches the backbone; after the model's epochs the module trains
`extra_epochs` more on the frozen backbone. The module is rebuilt every round.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepal_bench.data.transfer import host_to_device
from deepal_bench.models.auxiliary import LossNet, pool_tap
from deepal_bench.models.base import ALModel
from deepal_bench.training.estimators import TrainContext, TrainStep
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.inference import eval_mode
from deepal_bench.training.joint import extension_seed


@dataclass(frozen=True)
class LPLConfig:
    """LPL's settings; the `lpl` strategy documents their defaults and sources."""

    margin: float
    weight: float
    detach_epoch: int
    extra_epochs: int
    module_lr: float
    interm_dim: int


def loss_prediction_loss(
    predicted: torch.Tensor, target: torch.Tensor, margin: float = 1.0
) -> torch.Tensor:
    """Yoo & Kweon 2019 eq. 2: mean over pairs (i, j) of max(0, -sign(l_i - l_j) *
    (l̂_i - l̂_j) + ξ), sign = +1 if l_i > l_j else -1. A batch of B pairs item i with item
    B-1-i (reference pairing); with B odd the middle item is left out; no pair -> 0."""
    half = len(predicted) // 2
    if half == 0:
        return predicted.sum() * 0.0
    d_pred = predicted[:half] - predicted.flip(0)[:half]
    d_target = (target[:half] - target.flip(0)[:half]).detach()
    sign = torch.where(d_target > 0, 1.0, -1.0)
    return torch.clamp(margin - sign * d_pred, min=0).mean()


class TapRecorder:
    """Forward hooks that keep the latest outputs of a model's `feature_taps()`."""

    def __init__(self, model: ALModel) -> None:
        self.outputs: list[torch.Tensor | None] = []
        self.handles = []
        for i, module in enumerate(model.feature_taps()):
            self.outputs.append(None)
            self.handles.append(module.register_forward_hook(self._hook(i)))

    def _hook(self, i: int):
        def hook(module, inputs, output):
            self.outputs[i] = output

        return hook

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def build_lossnet(model: ALModel, x: torch.Tensor, interm_dim: int) -> LossNet:
    """A LossNet sized from one eval-mode forward pass of `x` (a couple of inputs)."""
    recorder = TapRecorder(model)
    try:
        with eval_mode(model), torch.no_grad():
            model(x)
        dims = [pool_tap(out).shape[1] for out in recorder.outputs]
    finally:
        recorder.remove()
    return LossNet(dims, interm_dim).to(x.device)


def fit_lossnet(
    model: ALModel,
    lossnet: LossNet,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    batch_size: int,
    margin: float,
    gen: torch.Generator,
) -> None:
    """Train `lossnet` alone on the frozen model (eval mode): the ranking loss between its
    predictions and the model's per-sample cross-entropy."""
    recorder = TapRecorder(model)
    try:
        with eval_mode(model):
            for _ in range(epochs):
                order = host_to_device(torch.randperm(len(y), generator=gen), x.device)
                for start in range(0, len(y), batch_size):
                    b = order[start : start + batch_size]
                    with torch.no_grad():
                        target = F.cross_entropy(model(x[b]).float(), y[b], reduction="none")
                    loss = loss_prediction_loss(lossnet(recorder.outputs), target, margin)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
    finally:
        recorder.remove()


def predicted_losses(model: ALModel, lossnet: LossNet, batches) -> torch.Tensor:
    """The module's predicted loss for every (rows, x) batch of `batches`, eval mode."""
    recorder = TapRecorder(model)
    outputs = []
    try:
        with eval_mode(model), torch.no_grad():
            for _, x in batches:
                model(x)
                outputs.append(lossnet(recorder.outputs))
    finally:
        recorder.remove()
    return torch.cat(outputs)


class LPLExtension(TrainerExtension):
    """Joint training of the loss module; the module has its own Adam optimiser, stepped
    right before its next forward (equivalent to stepping right after the backward).
    `on_trained(labeled, lossnet)` receives the module after its extra epochs."""

    def __init__(self, cfg: LPLConfig, on_trained: Callable[[torch.Tensor, LossNet], None]):
        self.cfg, self.on_trained = cfg, on_trained

    def setup(self, model: ALModel, context: TrainContext) -> None:
        data, labeled = context.data, context.labeled.to(context.data.x_train.device)
        self.model, self.context = model, context
        device = next(model.parameters()).device
        self.lossnet = build_lossnet(
            model, data.x_train[labeled[:2]].to(device), self.cfg.interm_dim
        )
        self.opt = torch.optim.Adam(self.lossnet.parameters(), lr=self.cfg.module_lr)
        self.recorder = TapRecorder(model)
        self.pending, self.batch_size = False, 1

    def _step_module(self) -> None:
        if self.pending:
            self.opt.step()
            self.opt.zero_grad(set_to_none=True)
            self.pending = False

    def loss(self, step: TrainStep) -> torch.Tensor:
        self._step_module()
        self.batch_size = max(self.batch_size, len(step.y))
        features = list(self.recorder.outputs)
        if step.epoch >= self.cfg.detach_epoch:
            features = [f.detach() for f in features]
        target = F.cross_entropy(step.logits, step.y, reduction="none")
        self.pending = True
        predicted = self.lossnet(features)
        return self.cfg.weight * loss_prediction_loss(predicted, target, self.cfg.margin)

    def on_epoch_end(self, epoch: int, context: TrainContext) -> None:
        self._step_module()

    def teardown(self, model: ALModel) -> None:
        self._step_module()
        self.recorder.remove()
        data, idx = self.context.data, self.context.labeled.to(self.context.data.x_train.device)
        gen = torch.Generator().manual_seed(extension_seed(self.context, "lpl"))
        device = next(model.parameters()).device
        fit_lossnet(
            model, self.lossnet, self.opt, data.x_train[idx].to(device),
            data.y_train[idx].to(device), self.cfg.extra_epochs, self.batch_size,
            self.cfg.margin, gen,
        )  # fmt: skip
        self.on_trained(self.context.labeled, self.lossnet)
