"""Uncertainty scores: pure functions of probabilities, higher = more informative.

Single-pass scores take probs (N x C); MC-dropout scores take mc_probs (passes x N x C).
All are differentiable in their inputs (the DMLE estimator recomputes them under the
current parameters). DeepAL+ survey §2.1.1; Gal et al. 2017 for BALD and variation ratio.
"""

import torch

_EPS = 1e-12


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Shannon entropy H(p) = -sum_c p_c log p_c (Shannon 1948)."""
    return -(probs * torch.log(probs.clamp_min(_EPS))).sum(-1)


def margin(probs: torch.Tensor) -> torch.Tensor:
    """Negative margin between the two most probable classes: -(p_1 - p_2) (Scheffer 2001)."""
    top2 = probs.topk(2, dim=-1).values
    return -(top2[..., 0] - top2[..., 1])


def least_confidence(probs: torch.Tensor) -> torch.Tensor:
    """One minus the largest probability: 1 - max_c p_c (Lewis & Gale 1994)."""
    return 1.0 - probs.max(-1).values


def bald(mc_probs: torch.Tensor) -> torch.Tensor:
    """Mutual information I[y; w] = H(mean_t p_t) - mean_t H(p_t) (Houlsby 2011, Gal 2017)."""
    return entropy(mc_probs.mean(0)) - entropy(mc_probs).mean(0)


def var_ratio(mc_probs: torch.Tensor) -> torch.Tensor:
    """Freeman's variation ratio over MC-dropout predictions: 1 - (mode count / passes).

    Gal et al. 2017 eq. 2: the share of passes whose predicted label differs from the modal
    label. Ties between modal labels do not matter (the mode count is the same). It takes
    only passes + 1 distinct values. DeepAL+'s "VarRatio" is a different score, 1 - max p
    of one eval-mode pass (= `least_confidence`; strategy var_ratio, variant one_pass).
    """
    passes, _, n_classes = mc_probs.shape
    votes = torch.nn.functional.one_hot(mc_probs.argmax(-1), n_classes).sum(0)
    return 1.0 - votes.max(-1).values.to(mc_probs.dtype) / passes


def mean_std(mc_probs: torch.Tensor) -> torch.Tensor:
    """Mean over classes of the standard deviation of p_c across MC passes (Kampffmeyer 2016)."""
    return mc_probs.std(0, unbiased=False).mean(-1)


def entropy_dropout(mc_probs: torch.Tensor) -> torch.Tensor:
    """Entropy of the MC-averaged prediction."""
    return entropy(mc_probs.mean(0))


def margin_dropout(mc_probs: torch.Tensor) -> torch.Tensor:
    """Margin of the MC-averaged prediction."""
    return margin(mc_probs.mean(0))


def least_confidence_dropout(mc_probs: torch.Tensor) -> torch.Tensor:
    """Least confidence of the MC-averaged prediction."""
    return least_confidence(mc_probs.mean(0))
