"""DMLE loss on a hand-computed case: a linear softmax model, two cycles of one point each.

Model: logits z = W x + b (embedding = identity). Initial labeled point 0; cycle 1 selected
point 2, cycle 2 selected point 4. The dependency term and its gradient are computed by
hand (numpy, closed-form entropy derivative dH/dz_c = -p_c (ln p_c + H)) and compared with
the estimator's loss and autograd gradients.
"""

import numpy as np
import pytest
import torch
from torch import nn

from deepal_bench.data.dataset import ALData
from deepal_bench.errors import ConfigError
from deepal_bench.kernels.scores import bald
from deepal_bench.models.base import ALModel
from deepal_bench.selection import SELECTIONS, SelectionRecord, Softmax, SoftRank, TopK
from deepal_bench.strategies import build_strategy
from deepal_bench.strategies.baseline import RandomSampling
from deepal_bench.strategies.diversity import KCenter
from deepal_bench.strategies.uncertainty import BALD, Entropy
from deepal_bench.training.dmle import DMLE
from deepal_bench.training.estimators import TrainContext, TrainStep
from deepal_bench.training.inference import mc_dropout_mode

X = np.array([[0.5, -1.0], [1.0, 0.2], [-0.3, 0.8], [0.9, 0.9], [-1.2, -0.4]])
Y = np.array([0, 1, 2, 1, 0])
W = np.array([[0.4, -0.2], [-0.3, 0.5], [0.1, 0.3]])
B = np.array([0.05, -0.1, 0.2])
LABELED = [0, 2, 4]
SELECTED = [2, 4]  # cycle 1, cycle 2


class Linear(ALModel):
    def __init__(self, embed: nn.Module | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        self.body = embed or nn.Identity()
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2, 3)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor(W, dtype=torch.float32))
            self.head.bias.copy_(torch.tensor(B, dtype=torch.float32))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.body(x))


def _context(kind: str, strategy, beta: float = 1.0, one_round: bool = False) -> TrainContext:
    data = ALData(
        "toy",
        torch.tensor(X, dtype=torch.float32),
        torch.tensor(Y),
        torch.tensor(X, dtype=torch.float32),
        torch.tensor(Y),
        3,
    )
    records = [
        SelectionRecord(t + 1, torch.tensor([i]), kind, beta, strategy.name, torch.tensor([-1.0]))
        for t, i in enumerate(SELECTED)
    ]
    if one_round:  # one cycle drawing 2 then 4: the same pools {1,2,3,4} and {1,3,4}
        records = [SelectionRecord(1, torch.tensor(SELECTED), kind, beta, "x", torch.zeros(2))]
    score = strategy.differentiable_score()
    return TrainContext(data, torch.tensor(LABELED), 2, records, score=score)


def _step(model: ALModel, context: TrainContext) -> TrainStep:
    idx = torch.tensor(LABELED)
    x = context.data.x_train[idx]
    logits, emb = model.forward_with_embedding(x)
    return TrainStep(model, x, context.data.y_train[idx], idx, logits, emb, 1, context)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _entropy_and_grads(i: int):
    """H(x_i) and dH/dW, dH/db for the linear model."""
    p = _softmax(W @ X[i] + B)
    h = -(p * np.log(p)).sum()
    dz = -p * (np.log(p) + h)
    return h, np.outer(dz, X[i]), dz


def _ce_and_grads():
    loss, gw, gb = 0.0, np.zeros_like(W), np.zeros_like(B)
    for i in LABELED:
        p = _softmax(W @ X[i] + B)
        loss -= np.log(p[Y[i]]) / 3
        g = p.copy()
        g[Y[i]] -= 1
        gw += np.outer(g, X[i]) / 3
        gb += g / 3
    return loss, gw, gb


def _check(estimator, context, dep, dep_gw, dep_gb, lam=1.0, model=None):
    """loss = CE - lam * dep / N_L with N_L = 3; compare value and gradients."""
    model = model or Linear()
    loss = estimator.loss(_step(model, context))
    loss.backward()
    ce, gw, gb = _ce_and_grads()
    assert loss.item() == pytest.approx(ce - lam * dep / 3, rel=1e-5, abs=1e-6)
    assert np.allclose(model.head.weight.grad.numpy(), gw - lam * dep_gw / 3, atol=1e-5)
    assert np.allclose(model.head.bias.grad.numpy(), gb - lam * dep_gb / 3, atol=1e-5)


@pytest.mark.parametrize("beta", [1.0, 2.5])
def test_softmax_dependency_term_and_gradient_by_hand(beta):
    """eq. 14 without Z: dependency = β (H(x_2) + H(x_4))."""
    terms = [_entropy_and_grads(i) for i in SELECTED]
    dep = beta * sum(t[0] for t in terms)
    _check(
        DMLE(lam=0.7),
        _context("softmax", Entropy(), beta),
        dep,
        beta * sum(t[1] for t in terms),
        beta * sum(t[2] for t in terms),
        lam=0.7,
    )


def test_topk_uses_the_softmax_approximation_with_topk_beta():
    terms = [_entropy_and_grads(i) for i in SELECTED]
    beta = 3.0
    _check(
        DMLE(topk_beta=beta),
        _context("topk", Entropy(), float("inf")),
        beta * sum(t[0] for t in terms),
        beta * sum(t[1] for t in terms),
        beta * sum(t[2] for t in terms),
    )


def test_power_dependency_by_hand():
    """eq. 16 without Z: β ln H, gradient β/H dH."""
    terms = [_entropy_and_grads(i) for i in SELECTED]
    beta = 2.0
    _check(
        DMLE(),
        _context("power", Entropy(), beta),
        sum(beta * np.log(h) for h, _, _ in terms),
        sum(beta / h * gw for h, gw, _ in terms),
        sum(beta / h * gb for h, _, gb in terms),
    )


@pytest.mark.parametrize("normalizer", [False, True])
def test_softrank_dependency_by_hand(normalizer):
    """eq. 18: -β ln r̃, r̃ = 1 + Σ_{x' ∈ U_{τ−1}∖x} σ((H(x') − H(x))/T); with Z also
    − ln Σ_{r ≤ |U_{τ−1}|} r^−β (|U_0| = 4, |U_1| = 3; one draw per cycle), a constant."""
    temp, beta = 0.05, 1.5
    h_all = [_entropy_and_grads(i)[0] for i in range(5)]
    pools = {2: [1, 3, 4], 4: [1, 3]}  # U_0 ∖ {2} and U_1 ∖ {4} (U_1 = U_0 ∖ {2})
    dep, gw, gb = 0.0, np.zeros_like(W), np.zeros_like(B)
    for i in SELECTED:
        h, dh_w, dh_b = _entropy_and_grads(i)
        s = 1 / (1 + np.exp(-(np.array([h_all[n] for n in pools[i]]) - h) / temp))
        r = 1 + s.sum()
        dep += -beta * np.log(r)
        dr_dh = (s * (1 - s) * (-1 / temp)).sum()  # pool scores carry no gradient
        gw += -beta / r * dr_dh * dh_w
        gb += -beta / r * dr_dh * dh_b
    if normalizer:
        dep -= sum(np.log(sum(r**-beta for r in range(1, n + 1))) for n in (4, 3))
    estimator = DMLE(rank_temperature=temp, normalizer=normalizer)
    _check(estimator, _context("softrank", Entropy(), beta), dep, gw, gb)


@pytest.mark.parametrize("one_round", [False, True], ids=["two_cycles", "one_cycle_k2"])
def test_softmax_with_normaliser_by_hand(one_round):
    """eq. 14 with Z: β H(x) − ln Σ_{x' ∈ U_{τ−1}} exp(β H(x')), gradient through the pool."""
    beta = 1.0
    ent = [_entropy_and_grads(i) for i in range(5)]
    pools = {2: [1, 2, 3, 4], 4: [1, 3, 4]}
    dep, gw, gb = 0.0, np.zeros_like(W), np.zeros_like(B)
    for i in SELECTED:
        hs = np.array([ent[n][0] for n in pools[i]])
        soft = _softmax(beta * hs)
        dep += beta * ent[i][0] - np.log(np.exp(beta * hs).sum())
        pairs = list(zip(soft, pools[i], strict=True))
        gw += beta * ent[i][1] - sum(q * beta * ent[n][1] for q, n in pairs)
        gb += beta * ent[i][2] - sum(q * beta * ent[n][2] for q, n in pairs)
    context = _context("softmax", Entropy(), beta, one_round)
    _check(DMLE(normalizer=True), context, dep, gw, gb)


def test_coreset_score_eq4_by_hand():
    """k-center: a = min_{c ∈ D_{τ−1}} ||A x − A c||, differentiable in the embedding A."""
    a_mat = np.array([[1.0, 0.5], [-0.2, 0.8]])
    embed = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        embed.weight.copy_(torch.tensor(a_mat, dtype=torch.float32))
    model = Linear(embed)
    centres = {2: [0], 4: [0, 2]}
    dep, ga = 0.0, np.zeros_like(a_mat)
    for i in SELECTED:
        dists = [np.linalg.norm(a_mat @ (X[i] - X[c])) for c in centres[i]]
        c = centres[i][int(np.argmin(dists))]
        d = X[i] - X[c]
        dep += min(dists)
        ga += np.outer(a_mat @ d, d) / min(dists)
    context = _context("softmax", KCenter())
    loss = DMLE().loss(_step(model, context))
    loss.backward()
    # the cross-entropy now runs through the embedding too: compare the dependency part only
    ce = torch.nn.functional.cross_entropy(
        model(context.data.x_train[LABELED]), context.data.y_train[LABELED]
    )
    assert loss.item() == pytest.approx(ce.item() - dep / 3, rel=1e-5)
    model.zero_grad()
    ce.backward()
    ce_grad = embed.weight.grad.clone()
    model.zero_grad()
    DMLE().loss(_step(model, context)).backward()
    assert np.allclose((embed.weight.grad - ce_grad).numpy(), -ga / 3, atol=1e-5)


def test_bald_recomputed_with_dropout_passes():
    """MC-dropout scores are re-sampled inside the step: β · BALD over `mc_passes` passes."""
    model = Linear(dropout=0.5)
    context = _context("softmax", BALD(mc_passes=4))
    estimator = DMLE()
    torch.manual_seed(7)
    dep = estimator.dependency(model, context, epoch=1)
    torch.manual_seed(7)
    x = context.data.x_train[SELECTED]
    with mc_dropout_mode(model):
        manual = bald(torch.stack([torch.softmax(model(x), 1) for _ in range(4)]))
    assert torch.allclose(dep, manual)
    dep.sum().backward()
    assert model.head.weight.grad.abs().sum() > 0


def test_no_selection_yet_is_plain_cross_entropy():
    context = _context("softmax", Entropy())
    context.selections = []
    model = Linear()
    step = _step(model, context)
    ce, _, _ = _ce_and_grads()
    assert DMLE().loss(step).item() == pytest.approx(ce, rel=1e-6)


def test_strategy_without_acquisition_is_rejected_at_start_up():
    with pytest.raises(ConfigError, match="differentiable"):
        DMLE().check(RandomSampling().differentiable_score(), TopK())
    DMLE().check(Entropy().differentiable_score(), Softmax())
    DMLE().check(KCenter().differentiable_score(), TopK())


def test_dmle_refuses_a_score_without_gradient_at_start_up():
    """DMLE + Freeman's variation ratio (argmax votes) would silently equal IMLE."""
    freeman = build_strategy({"name": "var_ratio", "variant": "freeman"})
    with pytest.raises(ConfigError, match="differentiable"):
        DMLE().check(freeman.differentiable_score(), TopK())
    DMLE().check(build_strategy({"name": "var_ratio"}).differentiable_score(), TopK())


@pytest.fixture
def renamed_selections():
    """A top-k and a soft-rank selection registered under other names."""
    saved = dict(SELECTIONS._items)
    SELECTIONS.register("greedy")(type("Greedy", (TopK,), {}))
    SELECTIONS.register("ranked")(type("Ranked", (SoftRank,), {}))
    yield
    SELECTIONS._items.clear()
    SELECTIONS._items.update(saved)


@pytest.mark.parametrize(
    ("kind", "same_as", "beta"), [("greedy", "topk", float("inf")), ("ranked", "softrank", 1.5)]
)
def test_a_selection_is_modelled_by_its_type_not_its_name(renamed_selections, kind, same_as, beta):
    """A deterministic selection is modelled as top-k is (softmax with `topk_beta`), a
    soft-rank subclass as soft-rank (eq. 18), whatever name they are registered under."""
    estimator = DMLE(topk_beta=3.0, rank_temperature=0.05)
    losses = [
        estimator.loss(_step(Linear(), _context(name, Entropy(), beta))).item()
        for name in (kind, same_as)
    ]
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)
