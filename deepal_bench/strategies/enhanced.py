"""Enhanced strategies that change what is trained: CEAL (pseudo-labels) and LPL (loss module).

CEAL (Wang et al. 2016, IEEE TCSVT, §III-C): a base strategy picks the queried batch; the
remaining unlabeled points whose predicted entropy is below δ_t join that round's training
with their predicted label, δ_t = max(0, δ0 - dr * t) at round t (CEAL eq. 4 with linear
decay), δ0 = 1e-5 (DeepAL+ survey App. D.2), dr = 0.033e-5 (DeepAL+ code).

LPL (Yoo & Kweon 2019, CVPR, "Learning Loss for Active Learning"): a loss-prediction module
(`LossNet`) on the backbone's feature taps is trained jointly with the model through the
margin ranking loss (eq. 2), weight λ = 1 and margin ξ = 1; from `detach_epoch` on the
module's gradient no longer reaches the backbone; after the model's epochs the module trains
`extra_epochs` more on the frozen backbone (DeepAL+ App. D.2: Adam lr 1e-2, 20 extra
epochs). The module is rebuilt every round. Query: highest predicted loss.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from deepal_bench import kernels
from deepal_bench.errors import ConfigError
from deepal_bench.models.auxiliary import LossNet, pool_tap
from deepal_bench.models.base import ALModel
from deepal_bench.seeding import derive_seed
from deepal_bench.selection import Selection
from deepal_bench.strategies.base import PROBS, QueryContext, QueryResult, ScoreStrategy, Strategy
from deepal_bench.strategies.joint import extension_seed, same_labeled
from deepal_bench.strategies.registry import build_strategy, register
from deepal_bench.training.estimators import TrainContext, TrainStep
from deepal_bench.training.extensions import TrainerExtension


class ChainExtension(TrainerExtension):
    """Several extensions as one: hooks in order, modules merged, losses summed."""

    def __init__(self, extensions: list[TrainerExtension]) -> None:
        self.extensions = extensions

    def setup(self, model: ALModel, context: TrainContext) -> None:
        for ext in self.extensions:
            ext.setup(model, context)

    def modules(self) -> dict[str, nn.Module]:
        return {
            f"{i}.{k}": m for i, ext in enumerate(self.extensions) for k, m in ext.modules().items()
        }

    def extra_data(self, context: TrainContext) -> tuple[torch.Tensor, torch.Tensor] | None:
        parts = [e for e in (ext.extra_data(context) for ext in self.extensions) if e is not None]
        if not parts:
            return None
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def loss(self, step: TrainStep) -> torch.Tensor | None:
        terms = [t for t in (ext.loss(step) for ext in self.extensions) if t is not None]
        return sum(terms[1:], terms[0]) if terms else None

    def on_epoch_end(self, epoch: int, context: TrainContext) -> None:
        for ext in self.extensions:
            ext.on_epoch_end(epoch, context)

    def teardown(self, model: ALModel) -> None:
        for ext in self.extensions:
            ext.teardown(model)


def chain(*extensions: TrainerExtension | None) -> TrainerExtension | None:
    present = [e for e in extensions if e is not None]
    return present[0] if len(present) == 1 else (ChainExtension(present) if present else None)


# ----------------------------------------------------------------------------- CEAL


def ceal_threshold(delta0: float, decay: float, t: int) -> float:
    """δ_t = max(0, δ0 - dr * t) (CEAL §III-C, linear decay per iteration t)."""
    return max(0.0, delta0 - decay * t)


@dataclass
class PseudoLabels:
    """Candidates left after a query: dataset indices, predicted labels and entropies."""

    indices: torch.Tensor
    labels: torch.Tensor
    entropy: torch.Tensor

    def below(self, delta: float, labeled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(indices, labels) with entropy < δ that are not in `labeled`."""
        keep = (self.entropy < delta) & ~torch.isin(self.indices, labeled.cpu())
        return self.indices[keep], self.labels[keep]


class CEALExtension(TrainerExtension):
    """Adds this round's high-confidence pseudo-labelled points to the training data."""

    def __init__(self, pseudo: PseudoLabels, delta0: float, decay: float) -> None:
        self.pseudo, self.delta0, self.decay = pseudo, delta0, decay
        self.used = torch.empty(0, dtype=torch.long)

    def extra_data(self, context: TrainContext) -> tuple[torch.Tensor, torch.Tensor] | None:
        delta = ceal_threshold(self.delta0, self.decay, context.round)
        idx, labels = self.pseudo.below(delta, context.labeled)
        self.used = idx
        if len(idx) == 0:
            return None
        data = context.data
        return data.x_train[idx.to(data.x_train.device)], labels.to(data.y_train.device)


@register("ceal")
class CEAL(Strategy):
    """Cost-effective active learning: base strategy + pseudo-labels below δ_t."""

    def __init__(
        self,
        base: str = "entropy",
        base_options: dict | None = None,
        delta0: float = 1e-5,
        decay: float = 0.033e-5,
    ) -> None:
        if base == "ceal":
            raise ConfigError("strategy.base cannot be 'ceal'; name another strategy.")
        if delta0 < 0 or decay < 0:
            raise ConfigError("strategy.delta0 and strategy.decay must be non-negative.")
        self.base = build_strategy({"name": base, **(base_options or {})})
        self.needs = self.base.needs | {PROBS}
        self.delta0, self.decay = delta0, decay
        self._pending: PseudoLabels | None = None

    def check(self, model: ALModel, selection: Selection) -> None:
        self.base.check(model, selection)

    def query(self, ctx: QueryContext, n: int, selection: Selection) -> QueryResult:
        result = self.base.query(ctx, n, selection)
        rest = ~torch.isin(ctx.candidates, result.indices.cpu())
        probs = ctx.probs()[rest.to(ctx.probs().device)]
        self._pending = PseudoLabels(
            ctx.candidates[rest], probs.argmax(1).cpu(), kernels.entropy(probs).cpu()
        )
        return result

    def trainer_extension(self) -> TrainerExtension | None:
        """CEAL's pseudo-labels from the query just made (used once), then the base's hooks."""
        pending, self._pending = self._pending, None
        own = CEALExtension(pending, self.delta0, self.decay) if pending is not None else None
        return chain(self.base.trainer_extension(), own)

    def state_dict(self) -> dict:
        return self.base.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.base.load_state_dict(state)


# ----------------------------------------------------------------------------- LPL


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
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
        dims = [pool_tap(out).shape[1] for out in recorder.outputs]
    finally:
        recorder.remove()
        model.train(was_training)
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
    was_training = model.training
    model.eval()
    try:
        for _ in range(epochs):
            order = torch.randperm(len(y), generator=gen).to(x.device)
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
        model.train(was_training)


class LPLExtension(TrainerExtension):
    """Joint training of the loss module; the module has its own Adam optimiser, stepped
    right before its next forward (equivalent to stepping right after the backward)."""

    def __init__(self, strategy: "LPL") -> None:
        self.s = strategy

    def setup(self, model: ALModel, context: TrainContext) -> None:
        data, labeled = context.data, context.labeled.to(context.data.x_train.device)
        self.model, self.context = model, context
        device = next(model.parameters()).device
        self.lossnet = build_lossnet(model, data.x_train[labeled[:2]].to(device), self.s.interm)
        self.opt = torch.optim.Adam(self.lossnet.parameters(), lr=self.s.module_lr)
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
        if step.epoch >= self.s.detach_epoch:
            features = [f.detach() for f in features]
        target = F.cross_entropy(step.logits, step.y, reduction="none")
        self.pending = True
        return self.s.weight * loss_prediction_loss(self.lossnet(features), target, self.s.margin)

    def on_epoch_end(self, epoch: int, context: TrainContext) -> None:
        self._step_module()

    def teardown(self, model: ALModel) -> None:
        self._step_module()
        self.recorder.remove()
        data, idx = self.context.data, self.context.labeled.to(self.context.data.x_train.device)
        gen = torch.Generator().manual_seed(extension_seed(self.context, "lpl"))
        device = next(model.parameters()).device
        fit_lossnet(
            model,
            self.lossnet,
            self.opt,
            data.x_train[idx].to(device),
            data.y_train[idx].to(device),
            self.s.extra_epochs,
            self.batch_size,
            self.s.margin,
            gen,
        )
        self.s.remember(self.context.labeled, self.lossnet)


@register("lpl")
class LPL(ScoreStrategy):
    """Learning loss for active learning (Yoo & Kweon 2019): highest predicted loss first."""

    def __init__(
        self,
        margin: float = 1.0,
        weight: float = 1.0,
        detach_epoch: int = 20,
        extra_epochs: int = 20,
        module_lr: float = 1e-2,
        interm_dim: int = 128,
        fallback_batch_size: int = 64,
    ) -> None:
        if detach_epoch < 1 or extra_epochs < 0:
            raise ConfigError("strategy.detach_epoch must be >= 1 and extra_epochs >= 0.")
        self.margin, self.weight, self.detach_epoch = margin, weight, detach_epoch
        self.extra_epochs, self.module_lr, self.interm = extra_epochs, module_lr, interm_dim
        self.fallback_batch_size = fallback_batch_size
        self._state: dict = {}

    def check(self, model: ALModel, selection: Selection) -> None:
        super().check(model, selection)
        if not model.feature_taps():
            raise ConfigError(
                f"strategy 'lpl' needs a model that declares feature taps; "
                f"'{type(model).__name__}' declares none (lenet, mlp, resnet18, vit_small and "
                f"vit_b_16 do)."
            )

    def trainer_extension(self) -> TrainerExtension:
        return LPLExtension(self)

    def remember(self, labeled: torch.Tensor, lossnet: LossNet) -> None:
        dims = [fc.in_features for fc in lossnet.fcs]
        weights = {k: v.detach().cpu().clone() for k, v in lossnet.state_dict().items()}
        self._state = {"labeled": labeled.cpu().clone(), "dims": dims, "lossnet": weights}

    def state_dict(self) -> dict:
        return dict(self._state)

    def load_state_dict(self, state: dict) -> None:
        self._state = dict(state)

    def _lossnet(self, ctx: QueryContext) -> LossNet:
        """The module trained with the model, or (queried without its training round) one
        fitted to the frozen model on the labeled set for `extra_epochs` (at least 1)."""
        labeled = ctx.pool.labeled_indices()
        if same_labeled(self._state.get("labeled"), labeled):
            lossnet = LossNet(self._state["dims"], self.interm)
            lossnet.load_state_dict(self._state["lossnet"])
            return lossnet.to(ctx.device)
        x = ctx.data.x_train[labeled.to(ctx.data.x_train.device)].to(ctx.device)
        y = ctx.data.y_train[labeled.to(ctx.data.y_train.device)].to(ctx.device)
        devices = [ctx.device] if ctx.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(derive_seed(ctx.seed, "lpl-module"))
            lossnet = build_lossnet(ctx.model, x[:2], self.interm)
        opt = torch.optim.Adam(lossnet.parameters(), lr=self.module_lr)
        gen = torch.Generator().manual_seed(derive_seed(ctx.seed, "lpl-batches"))
        epochs = max(self.extra_epochs, 1)
        fit_lossnet(
            ctx.model, lossnet, opt, x, y, epochs, self.fallback_batch_size, self.margin, gen
        )
        return lossnet

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        lossnet = self._lossnet(ctx).eval()
        model = ctx.model
        recorder = TapRecorder(model)
        was_training = model.training
        model.eval()
        out = torch.empty(len(ctx.candidates), device=ctx.device)
        try:
            with torch.no_grad():
                for i in range(0, len(ctx.candidates), ctx.batch_size):
                    idx = ctx.candidates[i : i + ctx.batch_size].to(ctx.data.x_train.device)
                    model(ctx.data.x_train[idx].to(ctx.device))
                    out[i : i + ctx.batch_size] = lossnet(recorder.outputs)
        finally:
            recorder.remove()
            model.train(was_training)
        return out
