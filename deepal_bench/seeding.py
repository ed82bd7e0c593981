"""Derived seeds: every random choice of a trial takes a generator derived from `seed + trial`.

Seeds are derived per (trial seed, round, purpose) so that a run resumed at round r draws
exactly what an uninterrupted run would have drawn.
"""

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def seeded_global_rng(seed: int, device: torch.device) -> Iterator[None]:
    """torch's global RNG seeded with `seed` for the block, restored afterwards.

    For draws that only the global RNG can make (module initialisation, dropout masks):
    they become reproducible without disturbing the caller's random stream. The CUDA RNG
    of `device` is forked too when it is a CUDA device.
    """
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
