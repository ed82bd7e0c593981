"""The CUDA path: data and model on the device, same record format (skipped without CUDA)."""

from pathlib import Path

import pandas as pd
import pytest
import torch

from deepal_bench.models import build_model
from deepal_bench.results import schema
from deepal_bench.run import loop
from deepal_bench.training.inference import mc_dropout_probs

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("strategy", ["bald", "badge", "kcenter"])
def test_run_on_cuda_writes_the_same_records(tiny_cfg, strategy):
    cfg = tiny_cfg(f"strategy={strategy}", "device=cuda", "dataset=digits")
    loop.run(cfg, cfg.output_dir)
    rounds = pd.read_csv(Path(cfg.output_dir) / schema.ROUNDS_FILE)
    assert rounds.n_labeled.tolist() == [10, 20, 30]
    assert rounds.accuracy.between(0, 1).all()


def test_mc_dropout_on_cuda_samples_and_is_seeded():
    model = build_model({"name": "lenet"}, (1, 28, 28), 10).cuda().eval()
    x = torch.randn(64, 1, 28, 28, device="cuda")
    mc = mc_dropout_probs(model, x, passes=4, seed=3)
    assert mc.device.type == "cuda" and not torch.allclose(mc[0], mc[1])
    assert torch.equal(mc, mc_dropout_probs(model, x, passes=4, seed=3))
