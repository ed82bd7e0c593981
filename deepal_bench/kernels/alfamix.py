"""ALFA-Mix candidates (Parvaneh et al. 2022, eqs. 3-5): interpolate each unlabeled
embedding towards the labeled class anchors; a point whose prediction flips is a candidate."""

import torch


def alfamix_candidates(
    emb: torch.Tensor,
    probs: torch.Tensor,
    labeled_emb: torch.Tensor,
    labeled_y: torch.Tensor,
    head_weight: torch.Tensor,
    head_bias: torch.Tensor,
    alpha_cap: float = 0.2,
) -> torch.Tensor:
    """Boolean mask over the unlabeled points.

    Anchors z*_y are the mean labeled embeddings per class present. With pseudo-label
    y^ = argmax p and g = dCE(head(z), y^)/dz = W^T (p - e_y^), the closed-form mixing ratio
    is alpha = eps ||z* - z|| g / (||g|| (z* - z)) (eq. 5), clipped to [0, eps]; the mix is
    z~ = alpha * z* + (1 - alpha) * z (eq. 3). A point is a candidate when head(z~) != y^
    for some anchor.
    """
    emb, probs = emb.float(), probs.float()
    w, b = head_weight.float(), head_bias.float()
    pseudo = probs.argmax(1)
    grad = (probs - torch.nn.functional.one_hot(pseudo, probs.shape[1]).float()) @ w
    grad_norm = grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
    labeled_emb = labeled_emb.float().to(emb.device)
    labeled_y = labeled_y.to(emb.device)
    flips = torch.zeros(len(emb), dtype=torch.bool, device=emb.device)
    for cls in torch.unique(labeled_y):
        anchor = labeled_emb[labeled_y == cls].mean(0)
        diff = anchor - emb
        alpha = alpha_cap * diff.norm(dim=1, keepdim=True) * grad / (grad_norm * diff)
        alpha = torch.nan_to_num(alpha, nan=0.0, posinf=alpha_cap, neginf=0.0)
        alpha = alpha.clamp(0.0, alpha_cap)
        mixed = alpha * anchor + (1.0 - alpha) * emb
        flips |= (mixed @ w.T + b).argmax(1) != pseudo
    return flips
