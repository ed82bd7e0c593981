"""VAAL: selection direction, VAE shapes for every dataset shape, deterministic training."""

import pytest
import torch
from torch import nn

from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.models.auxiliary import MLPVAE, ConvVAE, build_vae
from deepal_bench.selection import TopK
from deepal_bench.strategies import QueryContext, build_strategy
from deepal_bench.strategies.vaal import VAAL
from deepal_bench.training.estimators import TrainContext
from deepal_bench.training.vaal import train_vaal


class Identity(nn.Module):
    def encode(self, x):
        return x, x


class FirstColumn(nn.Module):
    """A discriminator with known outputs: P(labeled) = the first latent coordinate."""

    def forward(self, mu):
        return mu[:, 0]


def test_selects_points_the_discriminator_rates_least_likely_labeled():
    p_labeled = torch.tensor([0.9, 0.2, 0.7, 0.05, 0.5, 0.3])
    x = torch.stack([p_labeled, torch.zeros(6)], 1)
    data = ALData("toy", x, torch.zeros(6, dtype=torch.long), x, torch.zeros(6), 2)
    pool = Pool(6)
    pool.label(torch.tensor([0]))
    strategy = build_strategy({"name": "vaal"})
    strategy.remember(pool.labeled_indices(), seed=0, nets=(Identity(), FirstColumn()))
    model = nn.Linear(2, 2)  # only its device is used
    ctx = QueryContext(model, data, pool, torch.Generator(), seed=0)
    assert torch.allclose(strategy.scores(ctx), 1 - p_labeled[1:])
    assert strategy.query(ctx, 2, TopK()).indices.tolist() == [3, 1]


@pytest.mark.parametrize(
    ("shape", "width"),
    [((1, 28, 28), 8), ((3, 32, 32), 8), ((1, 32, 32), 8), ((3, 64, 64), 4), ((3, 224, 224), 2)],
)
def test_conv_vae_reconstructs_every_image_shape(shape, width):
    vae = build_vae(shape, 32, width)
    assert isinstance(vae, ConvVAE)
    recon, z, mu, logvar = vae(torch.randn(2, *shape))
    assert recon.shape == (2, *shape) and mu.shape == logvar.shape == z.shape == (2, 32)


def test_reference_architecture_at_32px():
    vae = ConvVAE(3, 32)
    widths = [m.out_channels for m in vae.encoder if isinstance(m, nn.Conv2d)]
    assert widths == [128, 256, 512, 1024] and vae.fc_mu.in_features == 1024 * 2 * 2
    assert vae.s0 == 4


def test_tabular_vae():
    vae = build_vae((13,), 32, 8)
    assert isinstance(vae, MLPVAE)
    assert vae(torch.randn(5, 13))[0].shape == (5, 13)


def _toy():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(30, 1, 28, 28, generator=gen)
    y = torch.randint(0, 3, (30,), generator=gen)
    return ALData("toy", x, y, x, y, num_classes=3)


def test_training_is_deterministic_and_happens_in_the_trainer_hooks():
    data = _toy()
    cfg = VAAL(width=4, epochs=2, batch_size=8).cfg
    labeled, unlabeled = torch.arange(10), torch.arange(10, 30)
    a = train_vaal(data, labeled, unlabeled, cfg, 5, torch.device("cpu"))
    b = train_vaal(data, labeled, unlabeled, cfg, 5, torch.device("cpu"))
    for net_a, net_b in zip(a, b, strict=True):
        for pa, pb in zip(net_a.parameters(), net_b.parameters(), strict=True):
            assert torch.equal(pa, pb)
    strategy = build_strategy({"name": "vaal", "width": 4, "epochs": 2, "batch_size": 8})
    ext = strategy.trainer_extension()
    context = TrainContext(data, labeled, 1, unlabeled=unlabeled, seed=3)
    ext.setup(nn.Linear(1, 1), context)
    ext.teardown(nn.Linear(1, 1))
    state = strategy.state_dict()
    assert torch.equal(state["labeled"], labeled) and isinstance(state["seed"], int)
