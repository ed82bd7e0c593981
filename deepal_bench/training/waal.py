"""WAAL's critic (Shui et al. 2020, AISTATS; reference `WAAL.train`, DeepAL+ `Net_WAAL`).

The model's feature extractor (`embed`) and head minimise  CE(labeled) + alpha * W,  with the
critic's Wasserstein estimate  W = E_unlabeled[D(z)] - gamma_ratio * E_labeled[D(z)],
gamma_ratio = N_l / N_u; the critic D (`MLPDiscriminator` on the embedding) maximises
alpha * W  under a gradient penalty  gp = E[(||grad D(z~)|| - 1)^2]  on interpolates between
unlabeled and labeled features and both endpoints (Gulrajani et al. 2017 eq. 3). Each
labeled step samples an unlabeled batch of the same size (`training.joint` for the epoch
size); the critic takes one step per batch on detached features, then the model's step
uses the updated critic.

Deviations, documented: the reference subtracts the penalty in the critic loss
(`-alpha*W - alpha*2*gp`, i.e. it rewards gradient norms far from 1); here it is added as
a penalty. The reference also adds `alpha*5*gp` to the model loss on detached features with
a frozen critic, a term without gradient, which is therefore omitted.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.autograd import grad

from deepal_bench.data.transfer import host_to_device
from deepal_bench.models.auxiliary import MLPDiscriminator
from deepal_bench.models.base import ALModel
from deepal_bench.seeding import derive_seed, seeded_global_rng
from deepal_bench.training.estimators import TrainContext, TrainStep
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.joint import (
    CyclingBatches,
    extension_seed,
    repeated_labeled,
    unlabeled_of,
)
from deepal_bench.training.optim import build_optimizer


@dataclass(frozen=True)
class CriticConfig:
    """The critic's objective and optimiser; the `waal` strategy documents the defaults."""

    alpha: float
    gp_weight: float
    optimizer: str
    lr: float
    momentum: float

    def optimizer_for(self, critic: MLPDiscriminator) -> torch.optim.Optimizer:
        return build_optimizer(self.optimizer, critic.parameters(), self.lr, momentum=self.momentum)


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
    cfg: CriticConfig,
    generator: torch.Generator,
) -> None:
    """One critic update: minimise -alpha * W + alpha * gp_weight * gp on fixed features."""
    z_l, z_u = z_labeled.detach(), z_unlabeled.detach()
    gp = gradient_penalty(critic, z_u, z_l, generator)
    loss = -cfg.alpha * wasserstein(critic, z_l, z_u, gamma) + cfg.alpha * cfg.gp_weight * gp
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def fit_critic(
    z_l: torch.Tensor,
    z_u: torch.Tensor,
    cfg: CriticConfig,
    steps: int,
    batch_size: int,
    seed: int,
) -> MLPDiscriminator:
    """A fresh critic fitted to fixed labeled / unlabeled features for `steps` steps
    (for a query made without WAAL's training round)."""
    device = z_l.device
    with seeded_global_rng(derive_seed(seed, "waal-critic"), device):
        critic = MLPDiscriminator(z_l.shape[1]).to(device)
    opt = cfg.optimizer_for(critic)
    gamma = len(z_l) / max(len(z_u), 1)
    gen = torch.Generator().manual_seed(derive_seed(seed, "waal-batches"))
    gp_gen = torch.Generator(device=device).manual_seed(derive_seed(seed, "gp"))
    lab = CyclingBatches(torch.arange(len(z_l)), gen)
    unl = CyclingBatches(torch.arange(len(z_u)), gen)
    for _ in range(steps if len(z_l) and len(z_u) else 0):
        b = lab.next(batch_size)
        u = unl.next(len(b))
        b, u = host_to_device(b, device), host_to_device(u, device)
        critic_step(critic, opt, z_l[b], z_u[u], gamma, cfg, gp_gen)
    return critic


class WAALExtension(TrainerExtension):
    """Adds alpha * W to the model's loss and trains the critic alongside (min-max);
    `on_trained(labeled, critic)` receives the critic after training."""

    def __init__(
        self,
        cfg: CriticConfig,
        epoch_size: str,
        on_trained: Callable[[torch.Tensor, MLPDiscriminator], None],
    ) -> None:
        self.cfg, self.epoch_size, self.on_trained = cfg, epoch_size, on_trained

    def setup(self, model: ALModel, context: TrainContext) -> None:
        device = next(model.parameters()).device
        self.model, self.data, self.labeled = model, context.data, context.labeled.cpu()
        self.critic = MLPDiscriminator(model.embedding_dim).to(device)
        self.opt = self.cfg.optimizer_for(self.critic)
        unlabeled = unlabeled_of(context)
        self.gamma = len(self.labeled) / max(len(unlabeled), 1)
        seed = extension_seed(context, "waal")
        self.batches = CyclingBatches(unlabeled, torch.Generator().manual_seed(seed))
        self.gen = torch.Generator().manual_seed(derive_seed(seed, "augment"))
        self.gp_gen = torch.Generator(device=device).manual_seed(derive_seed(seed, "gp"))

    def extra_data(self, context: TrainContext) -> tuple[torch.Tensor, torch.Tensor] | None:
        return repeated_labeled(context) if self.epoch_size == "pool" else None

    def loss(self, step: TrainStep) -> torch.Tensor | None:
        idx = self.batches.next(len(step.y))
        if len(idx) == 0:
            return None
        x_u = self.data.x_train[host_to_device(idx, self.data.x_train.device)]
        if self.data.augment is not None:
            x_u = self.data.augment(x_u, self.gen)
        z_u, z_l = self.model.embed(x_u).float(), step.embedding.float()
        self.critic.requires_grad_(True)
        critic_step(self.critic, self.opt, z_l, z_u, self.gamma, self.cfg, self.gp_gen)
        self.critic.requires_grad_(False)
        return self.cfg.alpha * wasserstein(self.critic, z_l, z_u, self.gamma)

    def teardown(self, model: ALModel) -> None:
        self.critic.requires_grad_(True)
        self.on_trained(self.labeled, self.critic)
