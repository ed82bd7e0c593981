"""ResNet-50 for the DMLE CIFAR-10 setting: shapes, frozen backbone, offline weights error."""

import pytest
import torch

from deepal_bench.errors import ConfigError
from deepal_bench.models import build_model


def test_resnet50_shapes_and_frozen_backbone():
    model = build_model({"name": "resnet50", "freeze": True}, (3, 32, 32), 10)
    logits, emb = model.forward_with_embedding(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 10) and emb.shape == (2, 2048)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["head.weight", "head.bias"]
    model.train()
    assert model.training and not model.backbone.training


def test_resnet50_missing_weights_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    with pytest.raises(ConfigError, match="resnet50-"):
        build_model({"name": "resnet50", "pretrained": True}, (3, 32, 32), 10)


def test_resnet50_needs_images():
    with pytest.raises(ConfigError, match="image inputs"):
        build_model({"name": "resnet50"}, (4,), 3)
