"""Dependency-aware MLE (Kalkanlı et al., DMLE paper eq. 11, 13-18, App. A).

The objective adds to the cross-entropy the log-probability of every past selection under
the *current* parameters:  Σ_{(x,y)∈D} ln P(y|x;θ) + Σ_τ Σ_{x∈S_τ} ln P(x | D_{τ−1}; θ).
Per selection kind the per-point term is (without the normaliser Z, App. A / Fig. 5):

- softmax (eq. 14):  β·a(x, D_{τ−1}, θ)
- power (eq. 16):    β·ln a(x, D_{τ−1}, θ)
- softrank (eq. 18): −β·ln r̃(x, θ), r̃ a smooth descending rank of a(x) among the pool
  U_{τ−1} it was drawn from: r̃ = 1 + Σ_{x'∈U_{τ−1}∖{x}} σ((a(x') − a(x)) / T). The pool's
  scores are refreshed (without gradient) once per epoch, the selected point's score is
  differentiable at every step.
- topk (any deterministic selection, `Selection.stochastic` false): approximated by the
  softmax form with coldness `topk_beta` (§4, App. I).

The acquisition a is the run's strategy score recomputed on the stored inputs with the
current model at every step: the strategy's `differentiable_score()` on the eval-mode
softmax (entropy, margin, least confidence), on `mc_passes` dropout-sampled passes (BALD,
variation ratio), or for k-center the CoreSet score of eq. 4, the distance of φ(x, θ) to
the nearest labeled point of D_{τ−1} in the current embedding.

Scale: the loss is eq. 11 divided by N_L, i.e. mean cross-entropy of the batch minus
`lam` · (Σ over all selected points of the per-point term) / N_L, so the dependency term is
on the scale of one average per-point log-probability (|β·a| ≤ β·ln C for entropy).
`normalizer: true` subtracts ln Z_{τ,i} (App. A), a log-sum-exp over the pool that was
available at each draw, recomputed with gradient over the whole pool (chunked) each step.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepal_bench.errors import ConfigError
from deepal_bench.kernels.distances import min_sq_dists
from deepal_bench.kernels.gumbel import soft_ranks, suffix_log_normalisers
from deepal_bench.kernels.numeric import EPS
from deepal_bench.models.base import ALModel
from deepal_bench.selection import SELECTIONS, Softmax, SoftRank, StochasticSelection
from deepal_bench.training.acquisition import DifferentiableScore, ScoreInput
from deepal_bench.training.estimators import ESTIMATORS, Estimator, TrainContext, TrainStep
from deepal_bench.training.inference import eval_mode, mc_dropout_mode
from deepal_bench.typed import PositiveFloat, PositiveInt

_NEVER = torch.iinfo(torch.long).max


class Acquisition:
    """a(x, D, θ) of a strategy as a differentiable function of the current model."""

    def __init__(self, score: DifferentiableScore | None) -> None:
        if score is None:
            raise ConfigError(
                "estimator dmle needs the strategy's acquisition score as a differentiable "
                "function of the model, but this strategy has none; use a score-based "
                "strategy (entropy, margin, least_confidence, bald, var_ratio) or kcenter."
            )
        self.score = score
        self.coreset = score.source is ScoreInput.CORESET

    def scores(self, model: ALModel, x: torch.Tensor) -> torch.Tensor:
        """Uncertainty scores of x under the current parameters (differentiable)."""
        if self.score.source is ScoreInput.MC_PROBS:
            with mc_dropout_mode(model):
                passes = [torch.softmax(model(x).float(), 1) for _ in range(self.score.mc_passes)]
                probs = torch.stack(passes)
        else:
            with eval_mode(model):
                probs = torch.softmax(model(x).float(), 1)
        return self.score.function(probs)

    def embed(self, model: ALModel, x: torch.Tensor) -> torch.Tensor:
        """Eval-mode penultimate embedding φ(x, θ) (for the CoreSet score, eq. 4)."""
        with eval_mode(model):
            return model.embed(x).float()


def selection_for(kind: str, beta: float, topk_beta: float) -> StochasticSelection:
    """The selection distribution of a record: its own, or for a deterministic selection
    (top-k) the softmax form with coldness `topk_beta` (DMLE §4, App. I)."""
    if kind not in SELECTIONS:
        raise ConfigError(f"estimator dmle cannot model selection kind '{kind}'.")
    if not SELECTIONS.get(kind).stochastic:
        return Softmax(topk_beta)
    selection = SELECTIONS.build({"name": kind, "beta": beta})
    if not isinstance(selection, StochasticSelection):
        raise ConfigError(f"estimator dmle cannot model selection kind '{kind}'.")
    return selection


def coreset_scores(phi: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """CoreSet acquisition (DMLE eq. 4): min_{c ∈ C} ||φ(x) − φ(c)||₂ (chunked, differentiable)."""
    return torch.sqrt(min_sq_dists(phi, centres).clamp_min(EPS))


def groups_of(kinds: list[str], betas: list[float]) -> Iterator[tuple[str, float, torch.Tensor]]:
    """(kind, beta, positions) for each distinct (kind, beta) among the selected points."""
    keys = list(zip(kinds, betas, strict=True))
    for kind, beta in dict.fromkeys(keys):
        rows = [i for i, key in enumerate(keys) if key == (kind, beta)]
        yield kind, beta, torch.tensor(rows, dtype=torch.long)


@dataclass
class History:
    """The selection records flattened in draw order, plus per-pool-point draw keys."""

    indices: torch.Tensor  # dataset index of each selected point, rounds ascending
    rounds: torch.Tensor  # τ of each selected point
    kinds: list[str]  # selection kind of each selected point
    beta: torch.Tensor  # coldness of each selected point
    round_of: torch.Tensor  # per training point: 0 initial, τ selected, _NEVER unlabeled
    keys: torch.Tensor  # per training point: draw order key (−1 initial, inf unlabeled)
    available: torch.Tensor  # |U_{τ−1}| for each selected point

    @classmethod
    def from_context(cls, context: TrainContext) -> "History":
        records = [r for r in context.selections if len(r.indices)]
        n = len(context.data)
        device = context.data.x_train.device
        round_of = torch.full((n,), _NEVER, dtype=torch.long)
        round_of[context.labeled.cpu()] = 0
        keys = torch.full((n,), float("inf"), dtype=torch.float64)
        keys[context.labeled.cpu()] = -1.0
        width = max((len(r.indices) for r in records), default=1) + 1
        indices, rounds, kinds, beta = [], [], [], []
        for r in records:
            idx = r.indices.cpu().long()
            round_of[idx] = r.round
            keys[idx] = r.round * width + torch.arange(len(idx), dtype=torch.float64)
            indices.append(idx)
            rounds.append(torch.full((len(idx),), r.round))
            kinds += [r.kind] * len(idx)
            beta.append(torch.full((len(idx),), float(r.beta)))
        for kind in set(kinds):
            if kind not in SELECTIONS:
                raise ConfigError(f"estimator dmle cannot model selection kind '{kind}'.")
        rounds_t = torch.cat(rounds) if rounds else torch.zeros(0, dtype=torch.long)
        available = n - torch.searchsorted(torch.sort(round_of).values, rounds_t)
        return cls(
            indices=(torch.cat(indices) if indices else rounds_t).to(device),
            rounds=rounds_t.to(device),
            kinds=kinds,
            beta=(torch.cat(beta) if beta else torch.zeros(0)).to(device),
            round_of=round_of.to(device),
            keys=keys.to(device),
            available=available.to(device),
        )


@ESTIMATORS.register("dmle")
class DMLE(Estimator):
    """Cross-entropy minus `lam` · the dependency term of eq. 11 (per N_L, see module doc)."""

    extra_forward_passes = True

    def __init__(
        self,
        lam: float = 1.0,
        topk_beta: PositiveFloat = 1.0,
        normalizer: bool = False,
        rank_temperature: PositiveFloat = 0.01,
        pool_batch_size: PositiveInt = 1024,
    ) -> None:
        self.lam = float(lam)
        self.topk_beta = float(topk_beta)
        self.normalizer = bool(normalizer)
        self.rank_temperature = float(rank_temperature)
        self.pool_batch_size = int(pool_batch_size)
        self._history_key: tuple | None = None
        self._history: History | None = None
        self._reference_key: tuple | None = None
        self._reference: dict[int, torch.Tensor] = {}

    def check(self, score: DifferentiableScore | None, selection: object) -> None:
        """The strategy must have a differentiable acquisition (raises ConfigError)."""
        Acquisition(score)

    def loss(self, step: TrainStep) -> torch.Tensor:
        ce = F.cross_entropy(step.logits, step.y)
        if self.lam == 0 or not any(len(r.indices) for r in step.context.selections):
            return ce
        dependency = self.dependency(step.model, step.context, step.epoch)
        return ce - self.lam * dependency.sum() / len(step.context.labeled)

    # -- the dependency term -------------------------------------------------------------

    def history(self, context: TrainContext) -> History:
        key = (id(context), context.round, len(context.selections))
        if key != self._history_key:
            self._history, self._history_key = History.from_context(context), key
        return self._history

    def dependency(self, model: ALModel, context: TrainContext, epoch: int) -> torch.Tensor:
        """Per selected point (draw order), ln P(x | D_{τ−1}; θ) as modelled (see module doc)."""
        acq = Acquisition(context.score)
        hist = self.history(context)
        x = context.data.x_train
        if acq.coreset:
            labeled = context.labeled.to(x.device)
            phi = acq.embed(model, x[labeled])
            row = torch.full((len(x),), -1, dtype=torch.long, device=x.device)
            row[labeled] = torch.arange(len(labeled), device=x.device)
            groups = []
            for tau in torch.unique(hist.rounds).tolist():
                sel = torch.nonzero(hist.rounds == tau).flatten()
                centres = torch.nonzero(hist.round_of < tau).flatten()
                a = coreset_scores(phi[row[hist.indices[sel]]], phi[row[centres]])
                groups.append((sel, a, tau))
        else:
            groups = [(torch.arange(len(hist.indices)), acq.scores(model, x[hist.indices]), None)]
        out = []
        for sel, a, tau in groups:
            out.append(self._log_probs(model, context, acq, hist, sel, a, tau, epoch))
        return torch.cat(out)

    def _log_probs(self, model, context, acq, hist, sel, a, tau, epoch) -> torch.Tensor:
        """ln P(x | D_{τ−1}; θ) of the selected points `sel` with scores `a`, each by the
        log-weights of its own selection distribution (minus ln Z with `normalizer`)."""
        kinds = [hist.kinds[i] for i in sel.tolist()]
        w = torch.zeros_like(a)
        for kind, beta, rows in groups_of(kinds, hist.beta[sel].tolist()):
            rows = rows.to(a.device)
            selection = selection_for(kind, beta, self.topk_beta)
            if isinstance(selection, SoftRank):
                w[rows] = self._rank_log_probs(model, context, acq, hist, sel, a, tau, epoch,
                                               selection)[rows]  # fmt: skip
                continue
            w[rows] = selection.log_weights(a[rows])
            if self.normalizer:
                pool_w = selection.log_weights(self._pool_scores(model, context, acq, hist, tau))
                log_z = suffix_log_normalisers(pool_w, hist.keys)[hist.indices[sel]]
                w[rows] = w[rows] - log_z[rows].to(w.dtype)
        return w

    def _rank_log_probs(self, model, context, acq, hist, sel, a, tau, epoch, selection):
        """Soft-rank log-weights −β·ln r̃ (eq. 18) of all of `sel`, minus ln Z if asked."""
        reference = self._pool_reference(model, context, acq, hist, tau, epoch)
        soft = self._soft_ranks(a, reference, hist, sel)
        w = selection.rank_log_weights(soft)
        if self.normalizer:
            w = w - self._rank_log_z(soft, hist.beta[sel].to(a.dtype), hist, sel)
        return w

    def _soft_ranks(self, a, reference, hist, sel) -> torch.Tensor:
        idx, rounds = hist.indices[sel], hist.rounds[sel]
        positions = torch.arange(len(reference), device=reference.device)

        def include(rows: slice) -> torch.Tensor:
            avail = hist.round_of[None, :] >= rounds[rows, None]
            return avail & (positions[None, :] != idx[rows, None])

        return soft_ranks(a, reference.to(a.dtype), include, self.rank_temperature)

    def _rank_log_z(self, soft, beta, hist, sel) -> torch.Tensor:
        """ln Z_{τ,i} for soft-rank (eq. 18): Σ_{r ≤ |U_{τ−1}|} r^−β minus the earlier draws."""
        rounds, avail = hist.rounds[sel], hist.available[sel]
        weights = soft.pow(-beta)
        drawn = torch.zeros_like(weights)
        for tau in torch.unique(rounds).tolist():
            m = torch.nonzero(rounds == tau).flatten()
            drawn[m] = torch.cumsum(weights[m], 0) - weights[m]
        total = torch.stack(
            [
                torch.arange(1, int(n) + 1, dtype=soft.dtype, device=soft.device).pow(-b).sum()
                for n, b in zip(avail.tolist(), beta.tolist(), strict=True)
            ]
        )
        return torch.log(total - drawn)

    def _pool_reference(self, model, context, acq, hist, tau, epoch) -> torch.Tensor:
        """Pool scores under the current parameters, without gradient, once per epoch."""
        key = (id(context), context.round, epoch)
        if key != self._reference_key:
            self._reference_key, self._reference = key, {}
        slot = -1 if tau is None else tau
        if slot not in self._reference:
            with torch.no_grad():
                self._reference[slot] = self._pool_scores(model, context, acq, hist, tau)
        return self._reference[slot]

    def _pool_scores(self, model, context, acq, hist, tau) -> torch.Tensor:
        """a(x, D_{τ−1}, θ) for every training point, chunked (differentiable)."""
        x = context.data.x_train
        chunks = [x[i : i + self.pool_batch_size] for i in range(0, len(x), self.pool_batch_size)]
        if not acq.coreset:
            return torch.cat([acq.scores(model, c) for c in chunks])
        phi = torch.cat([acq.embed(model, c) for c in chunks])
        centres = torch.nonzero(hist.round_of < tau).flatten()
        return coreset_scores(phi, phi[centres])


__all__ = ["DMLE", "Acquisition", "History"]
