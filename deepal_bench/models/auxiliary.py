"""Auxiliary networks of the training-coupled strategies (LPL, WAAL, VAAL).

- `LossNet`: the loss-prediction module of Yoo & Kweon 2019 (Fig. 2): per feature level a
  global average pool, FC(128) and ReLU; the levels are concatenated and mapped to one scalar.
- `MLPDiscriminator`: the WAE-GAN adversary used as WAAL's critic (Shui et al. 2020,
  reference code `Discriminator`) and as VAAL's latent discriminator (Sinha et al. 2019):
  Linear(512)-ReLU-Linear(512)-ReLU-Linear(1)-Sigmoid, Kaiming-initialised.
- `ConvVAE` / `MLPVAE`: VAAL's β-VAE (Sinha et al. 2019, reference `VAE`: 4x4 stride-2
  convolutions with BatchNorm and ReLU, widths 128-256-512-1024, latent 32), sized from the
  dataset's shape; `build_vae` picks the convolutional one for C x H x W images and the MLP
  one for tabular rows.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def pool_tap(feature: torch.Tensor) -> torch.Tensor:
    """One vector per sample: global average pool of a feature map (B x C x H x W), mean over
    the tokens of a token map (B x T x D), a (B x D) activation unchanged."""
    feature = feature.float()
    if feature.dim() == 4:
        return feature.mean(dim=(2, 3))
    if feature.dim() == 3:
        return feature.mean(dim=1)
    return feature.flatten(1)


class LossNet(nn.Module):
    """Loss-prediction module (Yoo & Kweon 2019 Fig. 2) over `len(dims)` feature levels."""

    def __init__(self, dims: list[int], interm_dim: int = 128) -> None:
        super().__init__()
        self.fcs = nn.ModuleList(nn.Linear(d, interm_dim) for d in dims)
        self.linear = nn.Linear(interm_dim * len(dims), 1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        parts = [F.relu(fc(pool_tap(f))) for fc, f in zip(self.fcs, features, strict=True)]
        return self.linear(torch.cat(parts, dim=1)).flatten()


class MLPDiscriminator(nn.Module):
    """Linear(512)-ReLU-Linear(512)-ReLU-Linear(1)-Sigmoid; outputs one value per row."""

    def __init__(self, dim: int, hidden: int = 512) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
            nn.Sigmoid(),
        )
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.flatten(1)).flatten()


class _VAE(nn.Module):
    """Shared reparameterisation: forward returns (reconstruction, z, mu, logvar)."""

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        return self.decode(z), z, mu, logvar


class ConvVAE(_VAE):
    """VAAL's convolutional VAE for C x S x S images (any S >= 8).

    Encoder: `depth` 4x4 stride-2 convolutions (widths width * 2^i, capped at 1024), each with
    BatchNorm and ReLU, then linear maps to mu and logvar. Decoder: a linear map to a
    1024-wide s0 x s0 map, depth - 1 transposed convolutions doubling the size, a 1x1
    transposed convolution to C channels, and a crop to S (s0 * 2^(depth-1) >= S). For 32 px
    this is the reference architecture exactly (depth 4, 2x2 code map, 4x4 decoder start).
    """

    def __init__(self, channels: int, size: int, z_dim: int = 32, width: int = 128) -> None:
        super().__init__()
        if size < 8:
            raise ValueError(f"ConvVAE needs images of at least 8 px, got {size}")
        depth = min(max(math.ceil(math.log2(size)) - 1, 2), 5)
        widths = [min(width * 2**i, 1024) for i in range(depth)]
        layers, in_ch, s = [], channels, size
        for w in widths:
            layers += [nn.Conv2d(in_ch, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            in_ch, s = w, s // 2
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        self.fc_mu = nn.Linear(in_ch * s * s, z_dim)
        self.fc_logvar = nn.Linear(in_ch * s * s, z_dim)
        up = depth - 1
        self.size, self.s0, self.top = size, math.ceil(size / 2**up), widths[-1]
        self.fc_dec = nn.Linear(z_dim, self.top * self.s0 * self.s0)
        layers, in_ch = [], self.top
        for w in reversed(widths[:-1]):
            layers += [nn.ConvTranspose2d(in_ch, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w)]
            layers.append(nn.ReLU())
            in_ch = w
        layers.append(nn.ConvTranspose2d(in_ch, channels, 1))
        self.decoder = nn.Sequential(*layers)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc_dec(z).view(len(z), self.top, self.s0, self.s0)
        return self.decoder(h)[..., : self.size, : self.size]


class MLPVAE(_VAE):
    """VAE for tabular rows: D-hidden-hidden-(mu, logvar) and z-hidden-hidden-D, ReLU."""

    def __init__(self, dim: int, z_dim: int = 32, hidden: int = 256) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.fc_mu = nn.Linear(hidden, z_dim)
        self.fc_logvar = nn.Linear(hidden, z_dim)
        self.decoder = nn.Sequential(
            nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.out = nn.Linear(hidden, dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.decoder(z))


def build_vae(input_shape: tuple[int, ...], z_dim: int = 32, width: int = 128) -> _VAE:
    """ConvVAE for square C x S x S images, MLPVAE (hidden = 2 * width) for anything else."""
    if len(input_shape) == 3 and input_shape[1] == input_shape[2] and input_shape[1] >= 8:
        return ConvVAE(input_shape[0], input_shape[1], z_dim, width)
    return MLPVAE(math.prod(input_shape), z_dim, 2 * width)
