"""Models: the forward/embed contract, MC dropout that really samples, BatchNorm untouched."""

import pytest
import torch

from deepal_bench.models import build_model
from deepal_bench.training.inference import mc_dropout_probs, predict

CASES = [
    ({"name": "lenet"}, (1, 28, 28)),
    ({"name": "lenet"}, (3, 32, 32)),
    ({"name": "mlp", "hidden": 16}, (13,)),
    ({"name": "resnet18", "stem": "cifar"}, (3, 8, 8)),
    ({"name": "resnet18", "stem": "imagenet"}, (1, 28, 28)),
    ({"name": "vit_small", "dim": 32, "depth": 1, "heads": 2, "mlp_dim": 32}, (3, 16, 16)),
    ({"name": "auto"}, (1, 28, 28)),
    ({"name": "auto"}, (4,)),
]


@pytest.mark.parametrize(("cfg", "shape"), CASES)
def test_forward_embed_and_mc_split_agree(cfg, shape):
    torch.manual_seed(0)
    model = build_model(cfg, shape, 5).eval()
    x = torch.randn(3, *shape)
    logits, emb = model.forward_with_embedding(x)
    assert logits.shape == (3, 5) and emb.shape == (3, model.embedding_dim)
    assert torch.allclose(model(x), logits, atol=1e-5)
    assert torch.allclose(model.mc_tail(model.mc_trunk(x)), logits, atol=1e-5)
    assert model.has_dropout()


def test_mc_dropout_passes_differ_and_batchnorm_stats_do_not_change():
    torch.manual_seed(0)
    model = build_model({"name": "resnet18", "stem": "cifar"}, (3, 8, 8), 4)
    model.train()
    model(torch.randn(8, 3, 8, 8))  # give BatchNorm non-trivial running statistics
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(6, 3, 8, 8)
    mc = mc_dropout_probs(model, x, passes=5, seed=1)
    assert mc.shape == (5, 6, 4)
    assert not torch.allclose(mc[0], mc[1])
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not model.training
    assert torch.equal(mc, mc_dropout_probs(model, x, passes=5, seed=1))


def test_mc_dropout_refuses_a_model_without_dropout():
    model = build_model({"name": "mlp", "dropout": 0.0}, (4,), 3)
    assert not model.has_dropout()
    with pytest.raises(ValueError, match="dropout"):
        mc_dropout_probs(model, torch.randn(2, 4), passes=2, seed=0)


def test_probabilities_have_all_dataset_classes_whatever_the_subset_holds():
    model = build_model({"name": "mlp"}, (4,), 7)
    probs, _ = predict(model, torch.randn(3, 4))
    assert probs.shape == (3, 7)
    assert torch.allclose(probs.sum(1), torch.ones(3))


def test_missing_pretrained_weights_name_the_expected_file(tmp_path, monkeypatch):
    from deepal_bench.errors import ConfigError

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match=r"hub/checkpoints/resnet18-.*\.pth"):
        build_model({"name": "resnet18", "pretrained": True}, (3, 32, 32), 10)
