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
    chunk: int = 16384,
) -> torch.Tensor:
    """Boolean mask over the unlabeled points.

    Anchors z*_y are the mean labeled embeddings per class present. With pseudo-label
    y^ = argmax p and g = dCE(head(z), y^)/dz = W^T (p - e_y^), the closed-form mixing ratio
    is alpha = eps ||z* - z|| g / (||g|| (z* - z)) (eq. 5), clipped to [0, eps]; the mix is
    z~ = alpha * z* + (1 - alpha) * z (eq. 3). A point is a candidate when head(z~) != y^
    for some anchor. Rows are processed in chunks (memory chunk x D per temporary).
    """
    emb, probs = emb.float(), probs.float()
    w, b = head_weight.float(), head_bias.float()
    pseudo = probs.argmax(1)
    grad = (probs - torch.nn.functional.one_hot(pseudo, probs.shape[1]).float()) @ w
    grad_norm = grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
    labeled_emb = labeled_emb.float().to(emb.device)
    labeled_y = labeled_y.to(emb.device)
    classes = torch.unique(labeled_y)
    anchors = torch.stack([labeled_emb[labeled_y == c].mean(0) for c in classes])
    flips = torch.zeros(len(emb), dtype=torch.bool, device=emb.device)
    for start in range(0, len(emb), chunk):
        z, g = emb[start : start + chunk], grad[start : start + chunk]
        gn, y = grad_norm[start : start + chunk], pseudo[start : start + chunk]
        for anchor in anchors:
            diff = anchor - z
            alpha = alpha_cap * diff.norm(dim=1, keepdim=True) * g / (gn * diff)
            alpha = torch.nan_to_num(alpha, nan=0.0, posinf=alpha_cap, neginf=0.0)
            mixed = z + alpha.clamp_(0.0, alpha_cap) * diff  # = alpha z* + (1 - alpha) z
            flips[start : start + chunk] |= (mixed @ w.T + b).argmax(1) != y
    return flips
