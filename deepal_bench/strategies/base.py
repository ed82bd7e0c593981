"""Strategy contract and the query context that serves model outputs to strategies.

A strategy is a thin adapter: it declares what it needs from the model (`needs`), asks the
`QueryContext` for it (one cached forward pass gives probabilities and embeddings), calls a
pure kernel, and returns pool positions. Score-based strategies (`ScoreStrategy`) return
one score per candidate and leave batch selection to the `selection` group; batch-aware
strategies (`BatchStrategy`) select directly.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.errors import ConfigError
from deepal_bench.models.base import ALModel
from deepal_bench.seeding import generator as seeded_generator
from deepal_bench.selection import Selected, Selection
from deepal_bench.training.acquisition import DifferentiableScore
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.inference import Transform, gathered_batches, mc_dropout_probs, predict

PROBS, EMBEDDINGS, MC_DROPOUT = "probs", "embeddings", "mc_dropout"
# Needs beyond the candidates' outputs: the labeled set's outputs and labels, and the
# linear head's weights (closed-form last-layer gradients, influence functions).
LABELED, HEAD = "labeled", "head"


class QueryContext:
    """Model outputs over the candidates (unlabeled pool points), computed once and cached.

    `candidates` are dataset indices; every tensor returned is aligned with them.
    Probabilities always have `data.num_classes` columns; `amp` runs inference under bf16
    autocast (the trainer's `amp`), with float32 outputs. Inference uses the stored
    (evaluation-transformed) tensors unless `model.query_transform` is `train`: then every
    query input goes through the dataset's training augmentation (`data.augment`), as
    DeepAL+ scores its pool through `transform_train` (deepALplus data.py,
    get_unlabeled_data / get_train_data). Each output (`_transform`'s purpose) draws from
    its own generator derived from `seed`, so the outputs do not depend on the order in which
    a strategy asks for them, and a resumed run draws what the uninterrupted one did.
    """

    def __init__(
        self,
        model: ALModel,
        data: ALData,
        pool: Pool,
        generator: torch.Generator,
        seed: int,
        batch_size: int = 1024,
        amp: bool = False,
    ) -> None:
        self.model = model
        self.data = data
        self.pool = pool
        self.generator = generator
        self.seed = seed
        self.batch_size = batch_size
        self.amp = amp
        self.candidates = pool.unlabeled_indices()
        self._cache: dict[str, torch.Tensor] = {}

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _inputs(self, indices: torch.Tensor) -> torch.Tensor:
        return self.data.x_train[indices.to(self.data.x_train.device)]

    def _transform(self, purpose: str) -> Transform:
        """The query inputs' augmentation for one output (`purpose`), drawn from its own
        seeded generator; None with `model.query_transform: none` or data without
        augmentation."""
        if getattr(self.model, "query_transform", "none") != "train":
            return None
        augment = self.data.augment
        if augment is None:
            return None
        gen = seeded_generator(self.seed, "query_transform", purpose)
        return lambda x: augment(x, gen)

    def input_batches(
        self, indices: torch.Tensor, purpose: str
    ) -> Iterator[tuple[slice, torch.Tensor]]:
        """(rows, query inputs of `indices[rows]` on the model's device) in `batch_size`
        chunks, through the query transform (`_transform(purpose)`), for strategies that
        run their own networks on the inputs (LPL, VAAL, adversarial)."""
        transform = self._transform(purpose)
        for rows, x in gathered_batches(self.data.x_train, indices, self.batch_size, self.device):
            yield rows, (x if transform is None else transform(x))

    def _forward(self) -> None:
        probs, emb = predict(
            self.model, self._inputs(self.candidates), self.batch_size, amp=self.amp,
            transform=self._transform("candidates"),
        )  # fmt: skip
        self._cache[PROBS], self._cache[EMBEDDINGS] = probs, emb

    def probs(self) -> torch.Tensor:
        """Softmax probabilities of the candidates, N x C."""
        if PROBS not in self._cache:
            self._forward()
        return self._cache[PROBS]

    def embeddings(self) -> torch.Tensor:
        """Penultimate embeddings of the candidates, N x D."""
        if EMBEDDINGS not in self._cache:
            self._forward()
        return self._cache[EMBEDDINGS]

    def _labeled_forward(self) -> None:
        labeled = self._inputs(self.pool.labeled_indices())
        probs, emb = predict(
            self.model, labeled, self.batch_size, amp=self.amp, transform=self._transform("labeled")
        )
        self._cache["labeled_probs"], self._cache["labeled_embeddings"] = probs, emb

    def labeled_embeddings(self) -> torch.Tensor:
        """Penultimate embeddings of the labeled points, M x D."""
        if "labeled_embeddings" not in self._cache:
            self._labeled_forward()
        return self._cache["labeled_embeddings"]

    def labeled_probs(self) -> torch.Tensor:
        """Softmax probabilities of the labeled points, M x C (same pass as their embeddings)."""
        if "labeled_probs" not in self._cache:
            self._labeled_forward()
        return self._cache["labeled_probs"]

    def labeled_labels(self) -> torch.Tensor:
        """True labels of the labeled points (aligned with `labeled_embeddings`)."""
        idx = self.pool.labeled_indices()
        return self.data.y_train[idx.to(self.data.y_train.device)]

    def head(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The linear head's weight (C x D) and bias (C), detached."""
        head = self.model.head
        bias = head.bias if head.bias is not None else torch.zeros(head.out_features)
        return head.weight.detach(), bias.detach().to(head.weight.device)

    def mc_probs(self, passes: int) -> torch.Tensor:
        """MC-dropout probabilities of the candidates, passes x N x C (seeded; with the
        query transform each pass draws its own augmentation)."""
        key = f"mc{passes}"
        if key not in self._cache:
            self._cache[key] = mc_dropout_probs(
                self.model, self._inputs(self.candidates), passes, self.seed, self.batch_size,
                self.amp, self._transform(key),
            )  # fmt: skip
        return self._cache[key]


@dataclass
class QueryResult:
    """Dataset indices to label, with what DMLE-style estimators need to re-evaluate them."""

    indices: torch.Tensor
    log_probs: torch.Tensor


class Strategy:
    """Base class. Subclasses set `needs` and implement `query` (via the two subclasses);
    `name` is set by the registry."""

    name = "base"
    needs: frozenset[str] = frozenset()

    def check(self, model: ALModel, selection: Selection) -> None:
        """Fail at start-up when the model or selection cannot serve this strategy."""
        if MC_DROPOUT in self.needs and not model.can_mc_sample():
            raise ConfigError(
                f"strategy '{self.name}' needs MC dropout but model "
                f"'{type(model).__name__}' has no dropout layer with p > 0 and, with "
                f"model.mc_sampling={model.mc_sampling}, no BatchNorm run in train mode, so "
                f"every pass would equal the eval-mode prediction; set model.dropout to a "
                f"positive value, or model.mc_sampling=train_mode on a model with BatchNorm."
            )
        if HEAD in self.needs and not isinstance(getattr(model, "head", None), torch.nn.Linear):
            raise ConfigError(
                f"strategy '{self.name}' needs the model's linear head (closed-form "
                f"last-layer gradients) but model '{type(model).__name__}' has no "
                f"`head: nn.Linear`."
            )

    def query(self, ctx: QueryContext, n: int, selection: Selection) -> QueryResult:
        raise NotImplementedError

    def trainer_extension(self) -> TrainerExtension | None:
        """Hooks into training for strategies that change what is trained (default: none)."""
        return None

    def differentiable_score(self) -> DifferentiableScore | None:
        """The acquisition as a differentiable function of the model's outputs, for the
        DMLE estimator (default: none; score strategies built on a kernel provide it)."""
        return None

    def state_dict(self) -> dict:
        """State trained alongside the model that the next query needs (LPL's loss module,
        WAAL's critic); saved with the model so that a resumed run queries as the
        uninterrupted one would. Default: none."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict` returned (called when a run resumes)."""


class ScoreStrategy(Strategy):
    """Scores every candidate (higher = more informative); the selection picks the batch."""

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        raise NotImplementedError

    def query(self, ctx: QueryContext, n: int, selection: Selection) -> QueryResult:
        chosen: Selected = selection.select(self.scores(ctx), n, ctx.generator)
        return QueryResult(ctx.candidates[chosen.positions.cpu()], chosen.log_probs.cpu())


class BatchStrategy(Strategy):
    """Selects a whole batch at once; only the deterministic `topk` selection applies."""

    def check(self, model: ALModel, selection: Selection) -> None:
        super().check(model, selection)
        if selection.stochastic:
            raise ConfigError(
                f"strategy '{self.name}' selects its batch directly and cannot use "
                f"selection '{selection.name}'; use selection=topk or a score-based strategy."
            )

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        """Positions into `ctx.candidates`."""
        raise NotImplementedError

    def query(self, ctx: QueryContext, n: int, selection: Selection) -> QueryResult:
        positions = self.select(ctx, n).cpu()
        return QueryResult(ctx.candidates[positions], torch.full((len(positions),), float("nan")))
