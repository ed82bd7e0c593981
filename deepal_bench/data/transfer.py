"""Host-to-device copies that never make the host wait for the GPU.

A plain `.to(cuda)` of a CPU tensor copies from pageable memory and synchronises the
stream, i.e. waits for every queued kernel; in a step loop that serialises the host and the
GPU. Random draws made on the host (the round's generator is a CPU generator, so CPU and
GPU runs draw the same numbers) reach the GPU through pinned memory instead.
"""

import torch


def host_to_device(t: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """`t` on `device`. A CPU tensor bound for a CUDA device goes through pinned memory
    with a non-blocking copy (the caching host allocator keeps the pinned block until the
    copy is done); anything else is a plain `.to(device)`."""
    device = torch.device(device)
    if device.type == "cuda" and t.device.type == "cpu":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)
