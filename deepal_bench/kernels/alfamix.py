"""ALFA-Mix candidates (Parvaneh et al. 2022, eqs. 3-5): interpolate each unlabeled
embedding towards the labeled class anchors; a point whose prediction flips is a candidate.

Follows the authors' code (AminParvaneh/alpha_mix_active_learning,
query_strategies/alpha_mix_sampling.py, `query` and `find_candidate_set`): the bound eps on
alpha grows in steps of `alpha_cap` (eps = step, 2 step, ... while eps < 1) until more than
`n` points are candidates; the anchor of class c is the mean labeled embedding of c (of all
labeled points when c has none).

`closed_form` (the paper's efficient variant, README: `--alpha_closed_form_approx
--alpha_cap 0.2`): with pseudo-label y^ = argmax p and g = dCE(head(z), y^)/dz, alpha =
eps' ||z* - z|| g / (||g|| (z* - z + 1e-8)) with eps' = eps / sqrt(D), not clamped (eq. 5);
a zero gradient (saturated prediction) gives alpha = 0 where the reference divides by 0.
`random` (the code's default without `--alpha_closed_form_approx` / `--alpha_opt`, the
ALFA-Mix baseline of FALCUN, sobermeier/falcun query_strategies/alpha_mix.py, step 0.03125):
alpha ~ N(eps/2, (eps/2)^2) per coordinate, clamped to [1e-8, eps]. The mix is
z~ = alpha * z* + (1 - alpha) * z (eq. 3), per coordinate.
"""

import math
from typing import Literal, get_args

import torch

AlphaMode = Literal["closed_form", "random"]
ALPHA_MODES = get_args(AlphaMode)


def class_anchors(
    labeled_emb: torch.Tensor, labeled_y: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Mean labeled embedding per class (C x D); the mean of all labeled points for a class
    without labeled points."""
    overall = labeled_emb.mean(0)
    return torch.stack(
        [
            labeled_emb[labeled_y == c].mean(0) if (labeled_y == c).any() else overall
            for c in range(num_classes)
        ]
    )


def eps_schedule(step: float) -> list[float]:
    """eps = step, 2 step, ... accumulated while eps < 1 (the reference's float loop)."""
    caps, eps = [], 0.0
    while eps < 1.0:
        eps += step
        caps.append(eps)
    return caps


def _flips_at(
    emb: torch.Tensor,
    grad: torch.Tensor,
    pseudo: torch.Tensor,
    anchors: torch.Tensor,
    head: tuple[torch.Tensor, torch.Tensor],
    eps: float,
    mode: str,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Rows of `emb` whose head prediction changes when mixed with some anchor at bound eps."""
    w, b = head
    flips = torch.zeros(len(emb), dtype=torch.bool, device=emb.device)
    if mode == "closed_form":
        scale = (eps / math.sqrt(emb.shape[1])) / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
    for anchor in anchors:
        diff = anchor - emb
        if mode == "closed_form":
            alpha = scale * diff.norm(dim=1, keepdim=True) * grad / (diff + 1e-8)
        else:
            noise = torch.randn(emb.shape, generator=generator).to(emb.device)
            alpha = (eps / 2 + eps / 2 * noise).clamp_(1e-8, eps)
        flips |= ((emb + alpha * diff) @ w.T + b).argmax(1) != pseudo
    return flips


def alfamix_candidates(
    emb: torch.Tensor,
    probs: torch.Tensor,
    labeled_emb: torch.Tensor,
    labeled_y: torch.Tensor,
    head_weight: torch.Tensor,
    head_bias: torch.Tensor,
    n: int,
    alpha_cap: float = 0.2,
    mode: str = "closed_form",
    generator: torch.Generator | None = None,
    chunk: int = 16384,
) -> torch.Tensor:
    """Boolean mask over the unlabeled points: flipped at some eps of the schedule, stopping
    at the first eps where more than `n` points have flipped. Rows are processed in chunks
    (memory chunk x D per temporary); `random` draws from `generator`."""
    if mode not in ALPHA_MODES:
        raise ValueError(f"unknown ALFA-Mix alpha mode '{mode}', choose from {ALPHA_MODES}")
    emb, probs = emb.float(), probs.float()
    head = (head_weight.float().to(emb.device), head_bias.float().to(emb.device))
    pseudo = probs.argmax(1)
    grad = (probs - torch.nn.functional.one_hot(pseudo, probs.shape[1]).float()) @ head[0]
    anchors = class_anchors(
        labeled_emb.float().to(emb.device), labeled_y.to(emb.device), probs.shape[1]
    )
    candidates = torch.zeros(len(emb), dtype=torch.bool, device=emb.device)
    for eps in eps_schedule(alpha_cap):
        for start in range(0, len(emb), chunk):
            rows = slice(start, start + chunk)
            candidates[rows] |= _flips_at(
                emb[rows], grad[rows], pseudo[rows], anchors, head, eps, mode, generator
            )
        if int(candidates.sum()) > n:
            break
    return candidates
