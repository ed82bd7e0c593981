"""Models: `forward -> logits`, `embed -> penultimate features`, dropout for MC sampling.

`build_model(cfg, input_shape, num_classes)` builds `model.name` with the remaining keys
of the `model` config group; `auto` picks LeNet for 28/32 px images, MLP for tabular data
and ResNet18 (CIFAR stem) for other images.
"""

from collections.abc import Callable

from omegaconf import DictConfig, OmegaConf

from deepal_bench.errors import ConfigError
from deepal_bench.models.base import ALModel, McSampling, QueryTransform
from deepal_bench.models.lenet import LeNet
from deepal_bench.models.mlp import MLP
from deepal_bench.models.resnet import ResNet18, ResNet50
from deepal_bench.models.vit import SmallViT, ViTB16
from deepal_bench.registry import Registry
from deepal_bench.typed import check_value

MODELS: Registry[Callable[..., ALModel]] = Registry("model.name")


@MODELS.register("lenet")
def _lenet(
    input_shape: tuple[int, ...], num_classes: int, dropout: float = 0.5, pool: str = "max"
) -> ALModel:
    _require_image(input_shape, "lenet")
    return LeNet(input_shape[0], input_shape[1], num_classes, dropout, pool)


@MODELS.register("mlp")
def _mlp(
    input_shape: tuple[int, ...],
    num_classes: int,
    hidden: int = 256,
    dropout: float = 0.5,
    layers: int = 2,
) -> ALModel:
    return MLP(input_shape, num_classes, hidden, dropout, layers)


@MODELS.register("resnet18")
def _resnet18(
    input_shape: tuple[int, ...],
    num_classes: int,
    stem: str = "cifar",
    dropout: float = 0.3,
    pretrained: bool = False,
    adapter: bool = False,
) -> ALModel:
    _require_image(input_shape, "resnet18")
    return ResNet18(input_shape[0], num_classes, stem, dropout, pretrained, adapter)


@MODELS.register("resnet50")
def _resnet50(
    input_shape: tuple[int, ...],
    num_classes: int,
    dropout: float = 0.0,
    pretrained: bool = False,
    freeze: bool = False,
) -> ALModel:
    _require_image(input_shape, "resnet50")
    return ResNet50(input_shape[0], num_classes, dropout, pretrained, freeze)


@MODELS.register("vit_small")
def _vit_small(input_shape: tuple[int, ...], num_classes: int, **kwargs) -> ALModel:
    _require_image(input_shape, "vit_small")
    return SmallViT(input_shape[0], input_shape[1], num_classes, **kwargs)


@MODELS.register("vit_b_16")
def _vit_b_16(
    input_shape: tuple[int, ...], num_classes: int, dropout: float = 0.1, pretrained: bool = False
) -> ALModel:
    if tuple(input_shape) != (3, 224, 224):
        raise ConfigError(
            f"model vit_b_16 needs 3x224x224 inputs, the dataset gives {input_shape}."
        )
    return ViTB16(num_classes, dropout, pretrained)


@MODELS.register("auto")
def _auto(
    input_shape: tuple[int, ...],
    num_classes: int,
    dropout: float = 0.5,
    hidden: int = 256,
    layers: int = 2,
    pool: str = "max",
) -> ALModel:
    if len(input_shape) != 3:
        return MLP(input_shape, num_classes, hidden, dropout, layers)
    if input_shape[1] in (28, 32) and input_shape[0] in (1, 3):
        return LeNet(input_shape[0], input_shape[1], num_classes, dropout, pool)
    return ResNet18(input_shape[0], num_classes, "cifar", dropout)


def _require_image(input_shape: tuple[int, ...], name: str) -> None:
    if len(input_shape) != 3:
        raise ConfigError(
            f"model '{name}' needs image inputs (C x H x W); the dataset gives shape "
            f"{tuple(input_shape)}. Use model=mlp or model=auto for tabular data."
        )


def _options(cfg: DictConfig | dict) -> tuple[dict, dict]:
    """The factory's options and the checked query keys every model has: `mc_sampling`
    and `query_transform` (optional; default `none`)."""
    options = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    options = dict(options)
    query = {
        "mc_sampling": options.pop("mc_sampling", "dropout"),
        "query_transform": options.pop("query_transform", "none"),
    }
    check_value("model.mc_sampling", query["mc_sampling"], McSampling)
    check_value("model.query_transform", query["query_transform"], QueryTransform)
    return options, query


def check_model(cfg: DictConfig | dict) -> None:
    """The `model` group's keys and value types (nothing is built)."""
    MODELS.check(_options(cfg)[0])


def build_model(cfg: DictConfig | dict, input_shape: tuple[int, ...], num_classes: int) -> ALModel:
    """Build the model named by `cfg.name` for inputs of `input_shape` and `num_classes`.

    `mc_sampling` (every model; default `dropout`) says how MC passes sample, and
    `query_transform` (default `none`) what the query inputs go through; both are set on the
    built model (`ALModel.mc_sampling`, `ALModel.query_transform`, see `models.base`).
    """
    options, query = _options(cfg)
    model = MODELS.build(options, tuple(input_shape), num_classes)
    model.mc_sampling, model.query_transform = query["mc_sampling"], query["query_transform"]
    return model


__all__ = ["ALModel", "MODELS", "build_model", "check_model"]
