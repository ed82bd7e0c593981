"""Derived seeds: every random choice of a trial takes a generator derived from `seed + trial`.

Seeds are derived per (trial seed, round, purpose) so that a run resumed at round r draws
exactly what an uninterrupted run would have drawn.
"""

import zlib

import numpy as np
import torch


def derive_seed(seed: int, *keys: int | str) -> int:
    """A 63-bit seed derived deterministically from `seed` and the given keys."""
    words = [int(seed) & 0xFFFFFFFF]
    for key in keys:
        words.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key) & 0xFFFFFFFF)
    return (
        int(np.random.SeedSequence(words).generate_state(2, dtype=np.uint32).view(np.uint64)[0])
        >> 1
    )


def generator(seed: int, *keys: int | str, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch.Generator seeded with `derive_seed(seed, *keys)`."""
    gen = torch.Generator(device=device)
    gen.manual_seed(derive_seed(seed, *keys))
    return gen


def seed_everything(seed: int) -> None:
    """Seed torch's global RNG (model initialisation, dropout) on every device."""
    torch.manual_seed(seed)
