"""The GPU path of training and pool inference: no host read per step, bf16
autocast for inference when `trainer.amp` is on (float32 outputs), `trainer.compile`
compiled once and reused by every round's fresh model. The CUDA tests count the
synchronising operations with torch's sync debug mode (skipped without CUDA)."""

import functools
import sys
import warnings
from pathlib import Path

import pytest
import torch

import deepal_bench
from deepal_bench.data.augment import ImageAugment
from deepal_bench.data.dataset import ALData
from deepal_bench.data.transfer import host_to_device
from deepal_bench.models import build_model
from deepal_bench.training.estimators import IMLE, TrainContext
from deepal_bench.training.inference import (
    evaluate,
    gathered_batches,
    mc_dropout_probs,
    predict,
)
from deepal_bench.training.trainer import Trainer, TrainerConfig

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _data(device: str = "cpu", augment: ImageAugment | None = None) -> ALData:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (96,), generator=g)
    return ALData("synthetic", x, y, x[:32], y[:32], 10, augment=augment).to(torch.device(device))


def _lenet(device: str = "cpu", seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model({"name": "lenet"}, (1, 28, 28), 10).to(device)


def _fit(trainer: Trainer, data: ALData, seed: int = 0) -> torch.nn.Module:
    model = _lenet(str(trainer.device), seed)
    _train(trainer, data, model)
    return model


def _train(trainer: Trainer, data: ALData, model: torch.nn.Module) -> None:
    context = TrainContext(data, torch.arange(64), round=0)
    trainer.fit(model, context, IMLE(), torch.Generator().manual_seed(1))


def test_inference_with_amp_runs_in_bf16_and_returns_float32():
    model, x = _lenet().eval(), torch.randn(20, 1, 28, 28)
    full, full_emb = predict(model, x, batch_size=8)
    half, half_emb = predict(model, x, batch_size=8, amp=True)
    assert half.dtype == half_emb.dtype == torch.float32
    assert not torch.equal(half, full)  # the forward ran in bf16 ...
    assert torch.allclose(half, full, atol=0.05)  # ... and agrees to bf16 precision
    assert torch.allclose(half_emb, full_emb, atol=0.05, rtol=0.05)
    mc = mc_dropout_probs(model, x, passes=2, seed=0, batch_size=8, amp=True)
    assert mc.dtype == torch.float32
    assert not torch.equal(mc, mc_dropout_probs(model, x, passes=2, seed=0, batch_size=8))
    y = full.argmax(1)
    assert evaluate(model, x, y, amp=False)[0] == 1.0
    assert evaluate(model, x, y, amp=True)[0] >= 0.9


def test_gathered_batches_gather_the_candidates_in_order():
    x, idx = torch.arange(10.0).view(10, 1), torch.tensor([7, 1, 4, 9, 0])
    out = list(gathered_batches(x, idx, 2, torch.device("cpu")))
    assert [rows for rows, _ in out] == [slice(0, 2), slice(2, 4), slice(4, 6)]
    assert torch.cat([b for _, b in out]).flatten().tolist() == [7.0, 1.0, 4.0, 9.0, 0.0]


def test_compile_compiles_once_and_trains_as_the_eager_forward(monkeypatch):
    """torch.compile with the `eager` backend: real graph capture, no code generation."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))
    torch._dynamo.reset()
    data = _data()
    compiled = Trainer(TrainerConfig(epochs=2, batch_size=16, compile=True), torch.device("cpu"))
    eager = Trainer(TrainerConfig(epochs=2, batch_size=16), torch.device("cpu"))
    first = _fit(compiled, data, seed=0)
    captured = counters["stats"]["unique_graphs"]
    second = _fit(compiled, data, seed=1)  # a fresh model, as every round with init: fresh
    assert captured >= 1
    assert counters["stats"]["unique_graphs"] == captured  # no recompilation
    for model, seed in ((first, 0), (second, 1)):
        reference = _fit(eager, data, seed)
        for p, q in zip(model.parameters(), reference.parameters(), strict=True):
            assert torch.allclose(p, q, atol=1e-6)
    torch._dynamo.reset()


def _synchronisations(fn) -> int:
    """How many synchronising CUDA operations `fn()` made."""
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchronizing" in str(w.message) for w in caught)


@CUDA
@pytest.mark.cuda
def test_training_reads_the_device_once_per_epoch_not_per_step():
    """Old code: `order[...].to(cuda)` and the augmentation's random draws copied from
    pageable memory in every step, each copy waiting for all queued kernels."""
    data = _data("cuda", ImageAugment(crop_pad=2, hflip=0.5, rotate=10.0, jitter=(0.2,) * 3))
    counts = {}
    for batch_size in (4, 32):  # 16 and 2 steps per epoch
        trainer = Trainer(TrainerConfig(epochs=3, batch_size=batch_size), torch.device("cuda"))
        _fit(trainer, data)  # warm-up: lazy CUDA initialisation, pinned-memory pool
        model = _lenet("cuda")
        counts[batch_size] = _synchronisations(lambda t=trainer, m=model: _train(t, data, m))
    assert counts[4] == counts[32]
    # per epoch the correct count and the loss sum; per round a few set-up copies and
    # the finite-parameter check
    assert counts[4] <= 2 * 3 + 4


@CUDA
@pytest.mark.cuda
def test_pool_inference_does_not_wait_per_batch():
    model = _lenet("cuda").eval()
    x = torch.randn(512, 1, 28, 28, device="cuda")
    idx = torch.randperm(512)

    def gather(batch_size: int) -> None:
        for _, xb in gathered_batches(x, idx, batch_size, torch.device("cuda")):
            model(xb)

    gather(16)
    assert _synchronisations(lambda: gather(16)) == _synchronisations(lambda: gather(256)) == 0
    probs, emb = predict(model, x, batch_size=64, amp=True)
    assert probs.dtype == emb.dtype == torch.float32
    assert host_to_device(idx, "cuda").device.type == "cuda"


def _host_reads(fn, monkeypatch) -> int:
    """How many times the harness's own code (not torch's: Adam reads its CPU step counter)
    reads a tensor's value back to Python while `fn` runs (`item`, `int`, `float`, `bool`,
    `tolist`, `__index__`): on a GPU each such read waits for every queued kernel."""
    count = 0
    package = str(Path(deepal_bench.__file__).parent)
    for name in ("item", "__int__", "__float__", "__bool__", "tolist", "__index__"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            nonlocal count
            count += sys._getframe(1).f_code.co_filename.startswith(package)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    fn()
    monkeypatch.undo()
    return count


def test_training_reads_values_back_once_per_epoch_not_per_step(monkeypatch):
    """The CPU proxy of the CUDA test above. Old code: `correct += int(...)` in every step."""
    data = _data()
    counts = {}
    for batch_size in (4, 32):  # 16 and 2 steps per epoch
        trainer = Trainer(TrainerConfig(epochs=3, batch_size=batch_size), torch.device("cpu"))
        model = _lenet()
        counts[batch_size] = _host_reads(lambda t=trainer, m=model: _train(t, data, m), monkeypatch)
    assert counts[4] == counts[32] <= 2 * 3 + 1  # per epoch the count and the loss sum
