"""VAAL: variational adversarial active learning (Sinha et al. 2019, ICCV).

A β-VAE (latent 32) and a discriminator on its latent means are trained adversarially on
the labeled and unlabeled pool (reference `Solver.train`): per step, `vae_steps` VAE
updates on  L_vae(labeled) + L_vae(unlabeled) + adv_param * [BCE(D(mu_l), 1) + BCE(D(mu_u), 1)]
(the VAE tries to make every point look labeled), with L_vae = MSE(recon, x) + beta * KL
(KL summed, as in the reference), then `adv_steps` discriminator updates on
BCE(D(mu_l), 1) + BCE(D(mu_u), 0). Query: the unlabeled points the discriminator rates
least likely to be labeled (reference sampler: top-k of -D(mu)); score = 1 - D(mu).

Defaults follow the DeepAL+ survey (App. D.2: 30 epochs, Adam lr 1e-3) and the reference
(2 VAE steps and 1 discriminator step per batch, beta = 1, adv_param = 1, batch 64).
The VAE and discriminator are trained in the trainer's `teardown` hook, so their time
lands in `train_seconds`, on the round's labeled/unlabeled split, exactly what the next
query scores. Training is a pure function of (data, labeled set, seed): a resumed run
re-trains them with the saved seed and queries exactly as the uninterrupted run.
`epoch_size: labeled` (default) makes an epoch ceil(N_l / batch) steps; `pool` the
reference's ceil(N / batch) steps over the whole training set.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepal_bench.data.dataset import ALData
from deepal_bench.models.auxiliary import MLPDiscriminator, build_vae
from deepal_bench.models.base import ALModel
from deepal_bench.seeding import derive_seed
from deepal_bench.strategies.base import QueryContext, ScoreStrategy
from deepal_bench.strategies.joint import (
    CyclingBatches,
    check_epoch_size,
    extension_seed,
    same_labeled,
    unlabeled_of,
)
from deepal_bench.strategies.registry import register
from deepal_bench.training.estimators import TrainContext
from deepal_bench.training.extensions import TrainerExtension


@dataclass
class VAALConfig:
    z_dim: int = 32
    width: int = 128
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    beta: float = 1.0
    adv_param: float = 1.0
    vae_steps: int = 2
    adv_steps: int = 1
    epoch_size: str = "labeled"


def vae_loss(x, recon, mu, logvar, beta: float) -> torch.Tensor:
    """MSE(recon, x) + beta * KL(q(z|x) || N(0, I)), KL summed over batch and latent."""
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return F.mse_loss(recon, x) + beta * kld


def train_vaal(
    data: ALData,
    labeled: torch.Tensor,
    unlabeled: torch.Tensor,
    cfg: VAALConfig,
    seed: int,
    device: torch.device,
) -> tuple[torch.nn.Module, MLPDiscriminator]:
    """Train a fresh VAE and discriminator; deterministic given the arguments."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        vae = build_vae(data.input_shape, cfg.z_dim, cfg.width).to(device)
        disc = MLPDiscriminator(cfg.z_dim).to(device)
    opt_vae = torch.optim.Adam(vae.parameters(), lr=cfg.lr)
    opt_disc = torch.optim.Adam(disc.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(derive_seed(seed, "batches"))
    noise = torch.Generator(device=device).manual_seed(derive_seed(seed, "noise"))
    lab, unl = CyclingBatches(labeled, gen), CyclingBatches(unlabeled, gen)
    size = len(labeled) if cfg.epoch_size == "labeled" else len(labeled) + len(unlabeled)
    steps = cfg.epochs * math.ceil(size / cfg.batch_size) if len(unlabeled) else 0
    x_all = data.x_train
    vae.train()
    disc.train()
    for _ in range(steps):
        b = lab.next(min(cfg.batch_size, len(labeled)))
        x_l = x_all[b.to(x_all.device)].to(device)
        x_u = x_all[unl.next(len(b)).to(x_all.device)].to(device)
        if data.augment is not None:
            x_l, x_u = data.augment(x_l, gen), data.augment(x_u, gen)
        ones_l = torch.ones(len(x_l), device=device)
        ones_u = torch.ones(len(x_u), device=device)
        for _ in range(cfg.vae_steps):
            recon_l, _, mu_l, logvar_l = vae(x_l, noise)
            recon_u, _, mu_u, logvar_u = vae(x_u, noise)
            adv = F.binary_cross_entropy(disc(mu_l), ones_l) + F.binary_cross_entropy(
                disc(mu_u), ones_u
            )
            loss = (
                vae_loss(x_l, recon_l, mu_l, logvar_l, cfg.beta)
                + vae_loss(x_u, recon_u, mu_u, logvar_u, cfg.beta)
                + cfg.adv_param * adv
            )
            opt_vae.zero_grad(set_to_none=True)
            loss.backward()
            opt_vae.step()
        for _ in range(cfg.adv_steps):
            with torch.no_grad():
                _, _, mu_l, _ = vae(x_l, noise)
                _, _, mu_u, _ = vae(x_u, noise)
            loss = F.binary_cross_entropy(disc(mu_l), ones_l) + F.binary_cross_entropy(
                disc(mu_u), torch.zeros_like(ones_u)
            )
            opt_disc.zero_grad(set_to_none=True)
            loss.backward()
            opt_disc.step()
    return vae.eval(), disc.eval()


def vaal_scores(p_labeled: torch.Tensor) -> torch.Tensor:
    """1 - D(mu): higher = less likely labeled = queried first (Sinha et al. 2019 §3.3)."""
    return 1.0 - p_labeled


class VAALExtension(TrainerExtension):
    """Trains the VAE and discriminator after the model, inside `Trainer.fit`."""

    def __init__(self, strategy: "VAAL") -> None:
        self.s = strategy

    def setup(self, model: ALModel, context: TrainContext) -> None:
        self.context = context
        self.device = next(model.parameters()).device

    def teardown(self, model: ALModel) -> None:
        context = self.context
        seed = extension_seed(context, "vaal")
        labeled = context.labeled.cpu()
        nets = train_vaal(
            context.data, labeled, unlabeled_of(context), self.s.cfg, seed, self.device
        )
        self.s.remember(labeled, seed, nets)


@register("vaal")
class VAAL(ScoreStrategy):
    """Variational adversarial active learning (Sinha et al. 2019)."""

    def __init__(self, **options) -> None:
        self.cfg = VAALConfig(**options)
        check_epoch_size(self.cfg.epoch_size, "vaal")
        self._state: dict = {}
        self._nets: tuple | None = None

    def trainer_extension(self) -> TrainerExtension:
        return VAALExtension(self)

    def remember(self, labeled: torch.Tensor, seed: int, nets: tuple) -> None:
        self._state, self._nets = {"labeled": labeled.clone(), "seed": seed}, nets

    def state_dict(self) -> dict:
        return dict(self._state)

    def load_state_dict(self, state: dict) -> None:
        self._state, self._nets = dict(state), None

    def _networks(self, ctx: QueryContext) -> tuple:
        """The networks trained with the model; re-trained (same seed) after a resume, or
        with a seed from the query when queried without a training round."""
        labeled = ctx.pool.labeled_indices()
        if not same_labeled(self._state.get("labeled"), labeled):
            self._state, self._nets = {"labeled": labeled, "seed": derive_seed(ctx.seed)}, None
        if self._nets is None:
            self._nets = train_vaal(
                ctx.data, labeled, ctx.candidates, self.cfg, self._state["seed"], ctx.device
            )
        return self._nets

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        vae, disc = self._networks(ctx)
        out = torch.empty(len(ctx.candidates), device=ctx.device)
        with torch.no_grad():
            for i in range(0, len(ctx.candidates), ctx.batch_size):
                idx = ctx.candidates[i : i + ctx.batch_size].to(ctx.data.x_train.device)
                mu, _ = vae.encode(ctx.data.x_train[idx].to(ctx.device))
                out[i : i + ctx.batch_size] = disc(mu)
        return vaal_scores(out)
