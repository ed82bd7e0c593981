"""ResNet-50 for the DMLE CIFAR-10 setting: shapes, frozen backbone, offline weights error;
ResNet18's 1x1 input adapter (DeepAL+'s MNIST_Net)."""

import pytest
import torch
import torchvision

from deepal_bench.errors import ConfigError
from deepal_bench.models import build_model
from deepal_bench.models.resnet import ResNet18


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


def test_resnet18_adapter_keeps_the_three_channel_stem_behind_a_1x1_convolution():
    """DeepAL+'s MNIST_Net (deepALplus nets.py): Conv2d(1, 3, kernel_size=1) with bias, then
    the whole ResNet18 with its 7x7 3-channel stem and max-pool."""
    model = build_model({"name": "resnet18", "stem": "imagenet", "adapter": True}, (1, 28, 28), 10)
    adapter, stem = model.backbone.conv1
    assert (adapter.in_channels, adapter.out_channels, adapter.kernel_size) == (1, 3, (1, 1))
    assert adapter.bias is not None
    assert (stem.in_channels, stem.kernel_size, stem.stride) == (3, (7, 7), (2, 2))
    assert isinstance(model.backbone.maxpool, torch.nn.MaxPool2d)
    logits, emb = model.forward_with_embedding(torch.randn(2, 1, 28, 28))
    assert logits.shape == (2, 10) and emb.shape == (2, 512)
    plain = build_model({"name": "resnet18", "stem": "imagenet"}, (1, 28, 28), 10)
    assert plain.backbone.conv1.in_channels == 1  # without it the stem takes 1 channel


def test_resnet18_adapter_keeps_the_pretrained_stem_weights(tmp_path, monkeypatch):
    """With pre-training the 7x7 stem holds the ImageNet weights (a stand-in file here),
    which replacing the first convolution for 1-channel input would discard."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    torch.manual_seed(0)
    weights = torchvision.models.resnet18(weights=None).state_dict()
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(weights, checkpoints / "resnet18-f37072fd.pth")
    options = {"name": "resnet18", "stem": "imagenet", "pretrained": True}
    model = build_model({**options, "adapter": True}, (1, 28, 28), 10)
    assert torch.equal(model.backbone.conv1[1].weight, weights["conv1.weight"])
    assert torch.equal(model.backbone.layer4[1].conv2.weight, weights["layer4.1.conv2.weight"])
    replaced = build_model(options, (1, 28, 28), 10)
    assert replaced.backbone.conv1.weight.shape == (64, 1, 7, 7)


@pytest.mark.parametrize(("stem", "pooled"), [("cifar", False), ("cifar_maxpool", True)])
def test_the_3x3_stems_differ_only_in_the_max_pool(stem, pooled):
    """DeepAL+'s CIFAR10_Net keeps torchvision's max-pool after its 3x3 convolution
    (`cifar_maxpool`); pytorch-cifar's ResNet18 has none (`cifar`)."""
    model = ResNet18(3, 10, stem=stem, dropout=0.0)
    conv = model.backbone.conv1
    assert (conv.kernel_size, conv.stride) == ((3, 3), (1, 1))
    assert isinstance(model.backbone.maxpool, torch.nn.MaxPool2d) == pooled
    assert model.embed(torch.zeros(2, 3, 32, 32)).shape == (2, 512)
    assert model.architecture == "resnet18/cifar"
