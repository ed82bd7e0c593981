"""Pool inference: one forward pass for probabilities and embeddings, and MC sampling.

Everything here runs under `torch.inference_mode()` in large batches on the stored
(evaluation-transformed) tensors: predictions in eval mode, MC passes in the sampling mode
the model declares (`mc_dropout_mode`). A `transform` (the query context passes the
training augmentation under `model.query_transform: train`) is applied to every batch of
every pass, so each pass sees its own draw. With `amp` (the trainer's `amp` key) the
forward passes run under bf16 autocast; the returned probabilities and embeddings are
float32 either way.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from deepal_bench.data.transfer import host_to_device
from deepal_bench.models.base import ALModel
from deepal_bench.seeding import seeded_global_rng

# A batch-wise input transform (a seeded augmentation draw per call), or None for none.
Transform = Callable[[torch.Tensor], torch.Tensor] | None


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """The model in eval mode for the block; its previous mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


@contextmanager
def mc_dropout_mode(model: nn.Module) -> Iterator[None]:
    """The sampling mode of MC passes, per `model.mc_sampling`.

    `dropout` (default): eval mode except for dropout modules, which sample; BatchNorm uses
    its running statistics. `train_mode` (DeepAL+'s `predict_prob_dropout_split`): the whole
    model in train mode, so BatchNorm normalises with batch statistics; it stops tracking
    running statistics meanwhile, so sampling never changes them (DeepAL+'s passes do
    update them; its next round retrains from scratch).
    """
    was_training = model.training
    untracked = []
    if getattr(model, "mc_sampling", "dropout") == "train_mode":
        untracked = [
            m
            for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
        ]
        for module in untracked:
            module.track_running_stats = False
        model.train()
    else:
        model.eval()
        for module in model.modules():
            if isinstance(module, nn.modules.dropout._DropoutNd):
                module.train()
    try:
        yield
    finally:
        for module in untracked:
            module.track_running_stats = True
        model.train(was_training)


def autocast(device: torch.device, amp: bool) -> torch.autocast:
    """bf16 autocast on `device` when `amp` (the trainer's mixed precision), else a no-op."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)


def _batches(
    x: torch.Tensor, batch_size: int, device: torch.device, transform: Transform = None
) -> Iterator[torch.Tensor]:
    """Consecutive `batch_size` rows of x on `device`, through `transform` when given."""
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size].to(device, non_blocking=True)
        yield xb if transform is None else transform(xb)


def gathered_batches(
    x: torch.Tensor, indices: torch.Tensor, batch_size: int, device: torch.device
) -> Iterator[tuple[slice, torch.Tensor]]:
    """(rows, x[indices[rows]] on `device`) for consecutive `batch_size` rows of `indices`.

    The chunked loop over candidates: each batch is gathered from the resident tensor `x`
    and moved to the model's device, and `rows` says where its outputs go. The indices
    reach `x`'s device once, before the first batch.
    """
    resident = host_to_device(indices, x.device)
    for start in range(0, len(indices), batch_size):
        rows = slice(start, start + batch_size)
        yield rows, x[resident[rows]].to(device, non_blocking=True)


@torch.inference_mode()
def predict(
    model: ALModel,
    x: torch.Tensor,
    batch_size: int = 1024,
    device: torch.device | None = None,
    amp: bool = False,
    transform: Transform = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities (N x C, float32) and penultimate embeddings (N x D, float32),
    of the inputs through `transform` when given."""
    device = device or next(model.parameters()).device
    probs, embs = [], []
    with eval_mode(model), autocast(device, amp):
        for xb in _batches(x, batch_size, device, transform):
            logits, emb = model.forward_with_embedding(xb)
            probs.append(torch.softmax(logits.float(), dim=1))
            embs.append(emb.float())
    return torch.cat(probs), torch.cat(embs)


@torch.inference_mode()
def mc_dropout_probs(
    model: ALModel,
    x: torch.Tensor,
    passes: int,
    seed: int,
    batch_size: int = 1024,
    amp: bool = False,
    transform: Transform = None,
) -> torch.Tensor:
    """MC-dropout probabilities, passes x N x C (Gal et al. 2017), sampled per
    `model.mc_sampling` (`mc_dropout_mode`).

    The random masks come from torch's global RNG, forked and seeded with `seed` so the
    samples are reproducible. `dropout`: the model's deterministic trunk (`ALModel.mc_trunk`)
    runs once per batch, the passes re-sample only `mc_tail`. `train_mode`: as DeepAL+'s
    `predict_prob_dropout_split` (deepALplus nets.py), every pass is a full forward over the
    inputs in order, in batches of `batch_size` (BatchNorm's batch statistics depend on
    them; DeepAL+ uses its test loader, 1000 images, 128 for PneumoniaMNIST, Waterbirds and
    BreakHis: set trainer.eval_batch_size to match). With a `transform` every pass is a
    full forward too, of its own transformed inputs (DeepAL+'s loader applies
    `transform_train` anew in each of the passes).
    """
    if not isinstance(model, ALModel) or not model.can_mc_sample():
        raise ValueError(
            "MC dropout needs a model with dropout layers (p > 0), or BatchNorm with "
            "model.mc_sampling=train_mode"
        )
    device = next(model.parameters()).device
    out = torch.empty(passes, len(x), model.head.out_features, device=device)
    with seeded_global_rng(seed, device), mc_dropout_mode(model), autocast(device, amp):
        if model.mc_sampling == "train_mode" or transform is not None:
            for p in range(passes):
                start = 0
                for xb in _batches(x, batch_size, device, transform):
                    logits = model(xb)
                    out[p, start : start + len(xb)] = torch.softmax(logits.float(), dim=1)
                    start += len(xb)
            return out
        start = 0
        for xb in _batches(x, batch_size, device):
            h = model.mc_trunk(xb)
            for p in range(passes):
                logits = model.mc_tail(h)
                out[p, start : start + len(xb)] = torch.softmax(logits.float(), dim=1)
            start += len(xb)
    return out


@torch.inference_mode()
def predicted_labels(
    model: ALModel, x: torch.Tensor, batch_size: int = 1024, amp: bool = False
) -> torch.Tensor:
    """The predicted label of every row of x (argmax of the eval-mode softmax)."""
    probs, _ = predict(model, x, batch_size, amp=amp)
    return probs.argmax(1)


@torch.inference_mode()
def evaluate(
    model: ALModel, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024, amp: bool = False
) -> tuple[float, torch.Tensor]:
    """Accuracy on (x, y) and the predicted labels."""
    pred = predicted_labels(model, x, batch_size, amp)
    return float((pred == y.to(pred.device)).float().mean()), pred
