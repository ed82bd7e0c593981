"""WAAL: Wasserstein adversarial active learning (Shui et al. 2020, AISTATS).

Training (reference code `WAAL.train`, DeepAL+ `Net_WAAL`): the model's feature extractor
(`embed`) and head minimise  CE(labeled) + alpha * W,  with the critic's Wasserstein
estimate  W = E_unlabeled[D(z)] - gamma_ratio * E_labeled[D(z)],  gamma_ratio = N_l / N_u;
the critic D (`MLPDiscriminator` on the embedding) maximises  alpha * W  under a gradient
penalty  gp = E[(||grad D(z~)|| - 1)^2]  on interpolates between unlabeled and labeled
features and both endpoints (Gulrajani et al. 2017 eq. 3). Each labeled step samples an
unlabeled batch of the same size (`strategies.joint` for the epoch size); the critic takes
one step per batch on detached features, then the model's step uses the updated critic.

Deviations, documented: the reference subtracts the penalty in the critic loss
(`-alpha*W - alpha*2*gp`, i.e. it rewards gradient norms far from 1); here it is added as
a penalty. The reference also adds `alpha*5*gp` to the model loss on detached features with
a frozen critic, a term without gradient, which is therefore omitted.

Query (reference `WAAL.query`, `selection = 10`): with p the softmax output on the
evaluation transform, uncertainty u = 0.5 ||log p||_2 + 0.5 ||log p||_1 (both smallest for
uniform p) and critic score D(z); the reference picks the smallest u - selection * D(z),
i.e. score = selection * D(z) - u, highest first.
"""

import torch
from torch.autograd import grad

from deepal_bench.errors import unknown_choice
from deepal_bench.models.auxiliary import MLPDiscriminator
from deepal_bench.models.base import ALModel
from deepal_bench.seeding import derive_seed
from deepal_bench.strategies.base import EMBEDDINGS, PROBS, QueryContext, ScoreStrategy
from deepal_bench.strategies.joint import (
    CyclingBatches,
    check_epoch_size,
    extension_seed,
    repeated_labeled,
    same_labeled,
    unlabeled_of,
)
from deepal_bench.strategies.registry import register
from deepal_bench.training.estimators import TrainContext, TrainStep
from deepal_bench.training.extensions import TrainerExtension

OPTIMIZERS = ("adam", "sgd")


def wasserstein(
    critic: MLPDiscriminator, z_labeled: torch.Tensor, z_unlabeled: torch.Tensor, gamma: float
) -> torch.Tensor:
    """W = E_u[D(z_u)] - gamma * E_l[D(z_l)] (reference: unbalanced Wasserstein loss)."""
    return critic(z_unlabeled).mean() - gamma * critic(z_labeled).mean()


def gradient_penalty(
    critic: MLPDiscriminator, h_s: torch.Tensor, h_t: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """Mean (||grad D||_2 - 1)^2 over interpolates h_s + a (h_t - h_s) and both endpoints."""
    a = torch.rand(len(h_s), 1, generator=generator, device=h_s.device)
    points = torch.cat([h_s + a * (h_t - h_s), h_s, h_t]).requires_grad_(True)
    out = critic(points)
    (g,) = grad(out, points, grad_outputs=torch.ones_like(out), create_graph=True)
    return ((g.norm(2, dim=1) - 1) ** 2).mean()


def critic_step(
    critic: MLPDiscriminator,
    opt: torch.optim.Optimizer,
    z_labeled: torch.Tensor,
    z_unlabeled: torch.Tensor,
    gamma: float,
    alpha: float,
    gp_weight: float,
    generator: torch.Generator,
) -> None:
    """One critic update: minimise -alpha * W + alpha * gp_weight * gp on fixed features."""
    z_l, z_u = z_labeled.detach(), z_unlabeled.detach()
    gp = gradient_penalty(critic, z_u, z_l, generator)
    loss = -alpha * wasserstein(critic, z_l, z_u, gamma) + alpha * gp_weight * gp
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def waal_scores(probs: torch.Tensor, critic_out: torch.Tensor, selection: float) -> torch.Tensor:
    """selection * D(z) - (0.5 ||log p||_2 + 0.5 ||log p||_1); higher = queried first."""
    log_p = probs.clamp_min(torch.finfo(probs.dtype).tiny).log()
    uncertainty = 0.5 * log_p.norm(dim=1) + 0.5 * (-log_p).sum(dim=1)
    return selection * critic_out - uncertainty


class WAALExtension(TrainerExtension):
    """Adds alpha * W to the model's loss and trains the critic alongside (min-max)."""

    def __init__(self, strategy: "WAAL") -> None:
        self.s = strategy

    def setup(self, model: ALModel, context: TrainContext) -> None:
        device = next(model.parameters()).device
        self.model, self.data, self.labeled = model, context.data, context.labeled.cpu()
        self.critic = MLPDiscriminator(model.embedding_dim).to(device)
        self.opt = self.s.critic_optimizer(self.critic)
        unlabeled = unlabeled_of(context)
        self.gamma = len(self.labeled) / max(len(unlabeled), 1)
        seed = extension_seed(context, "waal")
        self.batches = CyclingBatches(unlabeled, torch.Generator().manual_seed(seed))
        self.gen = torch.Generator().manual_seed(derive_seed(seed, "augment"))
        self.gp_gen = torch.Generator(device=device).manual_seed(derive_seed(seed, "gp"))

    def extra_data(self, context: TrainContext) -> tuple[torch.Tensor, torch.Tensor] | None:
        return repeated_labeled(context) if self.s.epoch_size == "pool" else None

    def loss(self, step: TrainStep) -> torch.Tensor | None:
        idx = self.batches.next(len(step.y))
        if len(idx) == 0:
            return None
        x_u = self.data.x_train[idx.to(self.data.x_train.device)]
        if self.data.augment is not None:
            x_u = self.data.augment(x_u, self.gen)
        z_u, z_l = self.model.embed(x_u).float(), step.embedding.float()
        self.critic.requires_grad_(True)
        critic_step(
            self.critic,
            self.opt,
            z_l,
            z_u,
            self.gamma,
            self.s.alpha,
            self.s.gp_weight,
            self.gp_gen,
        )
        self.critic.requires_grad_(False)
        return self.s.alpha * wasserstein(self.critic, z_l, z_u, self.gamma)

    def teardown(self, model: ALModel) -> None:
        self.critic.requires_grad_(True)
        self.s.remember(self.labeled, self.critic)


@register("waal")
class WAAL(ScoreStrategy):
    """Wasserstein adversarial active learning (Shui et al. 2020)."""

    needs = frozenset({PROBS, EMBEDDINGS})

    def __init__(
        self,
        alpha: float = 2e-3,
        gp_weight: float = 2.0,
        selection: float = 10.0,
        critic_optimizer: str = "adam",
        critic_lr: float = 1e-3,
        critic_momentum: float = 0.5,
        epoch_size: str = "labeled",
        fallback_steps: int = 100,
        fallback_batch_size: int = 64,
    ) -> None:
        if critic_optimizer not in OPTIMIZERS:
            raise unknown_choice("strategy.critic_optimizer", critic_optimizer, OPTIMIZERS)
        self.alpha, self.gp_weight, self.selection = alpha, gp_weight, selection
        self.optimizer, self.lr, self.momentum = critic_optimizer, critic_lr, critic_momentum
        self.epoch_size = check_epoch_size(epoch_size, "waal")
        self.fallback_steps, self.fallback_batch_size = fallback_steps, fallback_batch_size
        self._state: dict = {}

    def critic_optimizer(self, critic: MLPDiscriminator) -> torch.optim.Optimizer:
        if self.optimizer == "adam":
            return torch.optim.Adam(critic.parameters(), lr=self.lr)
        return torch.optim.SGD(critic.parameters(), lr=self.lr, momentum=self.momentum)

    def trainer_extension(self) -> TrainerExtension:
        return WAALExtension(self)

    def remember(self, labeled: torch.Tensor, critic: MLPDiscriminator) -> None:
        critic_state = {k: v.detach().cpu().clone() for k, v in critic.state_dict().items()}
        self._state = {"labeled": labeled.cpu().clone(), "critic": critic_state}

    def state_dict(self) -> dict:
        return dict(self._state)

    def load_state_dict(self, state: dict) -> None:
        self._state = dict(state)

    def _critic(self, ctx: QueryContext) -> MLPDiscriminator:
        """The critic trained with the model, or (when the strategy is queried without its
        training round, e.g. directly through the API) one fitted to the frozen features."""
        critic = MLPDiscriminator(ctx.model.embedding_dim)
        if same_labeled(self._state.get("labeled"), ctx.pool.labeled_indices()):
            critic.load_state_dict(self._state["critic"])
            return critic.to(ctx.device)
        return self._fit_critic(ctx)

    def _fit_critic(self, ctx: QueryContext) -> MLPDiscriminator:
        devices = [ctx.device] if ctx.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(derive_seed(ctx.seed, "waal-critic"))
            critic = MLPDiscriminator(ctx.model.embedding_dim).to(ctx.device)
        opt = self.critic_optimizer(critic)
        z_l, z_u = ctx.labeled_embeddings().clone(), ctx.embeddings().clone()
        gamma = len(z_l) / max(len(z_u), 1)
        gen = torch.Generator().manual_seed(derive_seed(ctx.seed, "waal-batches"))
        gp_gen = torch.Generator(device=ctx.device).manual_seed(derive_seed(ctx.seed, "gp"))
        lab = CyclingBatches(torch.arange(len(z_l)), gen)
        unl = CyclingBatches(torch.arange(len(z_u)), gen)
        for _ in range(self.fallback_steps if len(z_l) and len(z_u) else 0):
            b = lab.next(self.fallback_batch_size)
            u = unl.next(len(b))
            critic_step(
                critic,
                opt,
                z_l[b.to(z_l.device)],
                z_u[u.to(z_u.device)],
                gamma,
                self.alpha,
                self.gp_weight,
                gp_gen,
            )
        return critic

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        critic = self._critic(ctx).eval()
        emb = ctx.embeddings()
        with torch.no_grad():
            out = emb.new_empty(len(emb))
            for i in range(0, len(emb), ctx.batch_size):
                out[i : i + ctx.batch_size] = critic(emb[i : i + ctx.batch_size])
        return waal_scores(ctx.probs(), out, self.selection)
