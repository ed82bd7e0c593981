"""VAAL's auxiliary models (Sinha et al. 2019, ICCV): a β-VAE and a latent discriminator,
trained adversarially on the labeled and unlabeled pool (reference `Solver.train`).

Per step, `vae_steps` VAE updates on
L_vae(labeled) + L_vae(unlabeled) + adv_param * [BCE(D(mu_l), 1) + BCE(D(mu_u), 1)]
(the VAE tries to make every point look labeled), with L_vae = MSE(recon, x) + beta * KL
(KL summed, as in the reference), then `adv_steps` discriminator updates on
BCE(D(mu_l), 1) + BCE(D(mu_u), 0). Training is a pure function of (data, labeled set,
seed), so a resumed run re-trains the same networks from the saved seed.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepal_bench.data.dataset import ALData
from deepal_bench.data.transfer import host_to_device
from deepal_bench.models.auxiliary import MLPDiscriminator, build_vae
from deepal_bench.models.base import ALModel
from deepal_bench.seeding import derive_seed, seeded_global_rng
from deepal_bench.training.estimators import TrainContext
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.joint import CyclingBatches, extension_seed, unlabeled_of


@dataclass(frozen=True)
class VAALConfig:
    """VAAL's settings; the `vaal` strategy documents their defaults and sources."""

    z_dim: int
    width: int
    epochs: int
    batch_size: int
    lr: float
    beta: float
    adv_param: float
    vae_steps: int
    adv_steps: int
    epoch_size: str


def vae_loss(x, recon, mu, logvar, beta: float) -> torch.Tensor:
    """MSE(recon, x) + beta * KL(q(z|x) || N(0, I)), KL summed over batch and latent."""
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return F.mse_loss(recon, x) + beta * kld


def _bce_ones(disc: MLPDiscriminator, *latents: torch.Tensor) -> torch.Tensor:
    """Sum over `latents` of BCE(D(mu), 1): "looks labeled"."""
    return sum(F.binary_cross_entropy(disc(mu), torch.ones(len(mu), device=mu.device))
               for mu in latents)  # fmt: skip


def _vae_step(vae, disc, opt, x_l, x_u, cfg: VAALConfig, noise: torch.Generator) -> None:
    recon_l, _, mu_l, logvar_l = vae(x_l, noise)
    recon_u, _, mu_u, logvar_u = vae(x_u, noise)
    loss = (
        vae_loss(x_l, recon_l, mu_l, logvar_l, cfg.beta)
        + vae_loss(x_u, recon_u, mu_u, logvar_u, cfg.beta)
        + cfg.adv_param * _bce_ones(disc, mu_l, mu_u)
    )
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def _discriminator_step(vae, disc, opt, x_l, x_u, noise: torch.Generator) -> None:
    with torch.no_grad():
        _, _, mu_l, _ = vae(x_l, noise)
        _, _, mu_u, _ = vae(x_u, noise)
    zeros_u = torch.zeros(len(mu_u), device=mu_u.device)
    loss = _bce_ones(disc, mu_l) + F.binary_cross_entropy(disc(mu_u), zeros_u)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def train_vaal(
    data: ALData,
    labeled: torch.Tensor,
    unlabeled: torch.Tensor,
    cfg: VAALConfig,
    seed: int,
    device: torch.device,
) -> tuple[torch.nn.Module, MLPDiscriminator]:
    """Train a fresh VAE and discriminator; deterministic given the arguments.

    `epoch_size: labeled` makes an epoch ceil(N_l / batch) steps; `pool` the reference's
    ceil(N / batch) steps over the whole training set.
    """
    with seeded_global_rng(seed, device):
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
        x_l = x_all[host_to_device(b, x_all.device)].to(device)
        x_u = x_all[host_to_device(unl.next(len(b)), x_all.device)].to(device)
        if data.augment is not None:
            x_l, x_u = data.augment(x_l, gen), data.augment(x_u, gen)
        for _ in range(cfg.vae_steps):
            _vae_step(vae, disc, opt_vae, x_l, x_u, cfg, noise)
        for _ in range(cfg.adv_steps):
            _discriminator_step(vae, disc, opt_disc, x_l, x_u, noise)
    return vae.eval(), disc.eval()


class VAALExtension(TrainerExtension):
    """Trains the VAE and discriminator after the model, inside `Trainer.fit`, so their
    time lands in `train_seconds`; `on_trained(labeled, seed, networks)` receives them."""

    def __init__(self, cfg: VAALConfig, on_trained: Callable[[torch.Tensor, int, tuple], None]):
        self.cfg, self.on_trained = cfg, on_trained

    def setup(self, model: ALModel, context: TrainContext) -> None:
        self.context = context
        self.device = next(model.parameters()).device

    def teardown(self, model: ALModel) -> None:
        context = self.context
        seed = extension_seed(context, "vaal")
        labeled = context.labeled.cpu()
        nets = train_vaal(context.data, labeled, unlabeled_of(context), self.cfg, seed, self.device)
        self.on_trained(labeled, seed, nets)
