"""The comparisons: one data file, one budget, one trainer, and for every strategy both
sides implement its name on each side and our overrides.

A suite's settings are stated once here and handed to both sides: to our CLI as Hydra
overrides (`ours_overrides`), to the authors' adapters as their own parameter dicts.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from torchvision import transforms

from scripts.reference import data


@dataclass(frozen=True)
class Budget:
    initial: int
    batch: int
    rounds: int

    @property
    def n_labeled(self) -> list[int]:
        return [self.initial + self.batch * r for r in range(self.rounds + 1)]


@dataclass(frozen=True)
class Trainer:
    optimizer: str
    lr: float
    epochs: int
    batch_size: int
    early_stop_train_acc: float | None = None
    early_stop_after: int = 0


@dataclass(frozen=True)
class Suite:
    """One comparison setting. `strategies` maps our strategy name to (their name, our
    extra overrides)."""

    name: str
    system: str
    make_data: Callable[[], dict[str, np.ndarray]]
    budget: Budget
    trainer: Trainer
    model: list[str]
    dataset: list[str]
    strategies: dict[str, tuple[str, list[str]]]
    extra: dict = field(default_factory=dict)
    ours_extra: list[str] = field(default_factory=list)
    fixed_strategy: str | None = None

    def ours_overrides(self, strategy: str, data_file: str, seeds: int) -> list[str]:
        """The Hydra overrides of our run of `strategy` on `data_file` over `seeds` trials."""
        b, t = self.budget, self.trainer
        stop = "null" if t.early_stop_train_acc is None else t.early_stop_train_acc
        return [
            "dataset=npz", f"dataset.path={data_file}", *self.dataset, *self.model,
            f"strategy={self.fixed_strategy or strategy}", "selection=topk", "estimator=imle",
            "budget=digits",
            f"budget.initial={b.initial}", f"budget.batch={b.batch}",
            f"budget.quota={b.batch * b.rounds}", "budget.initial_mode=random",
            "budget.validation=0", f"trainer.optimizer={t.optimizer}", f"trainer.lr={t.lr}",
            f"trainer.epochs={t.epochs}", f"trainer.batch_size={t.batch_size}",
            f"trainer.early_stop_train_acc={stop}",
            f"trainer.early_stop_after={t.early_stop_after}", "trainer.init=fresh",
            "trainer.schedule=none", "trainer.weight_decay=0.0",
            f"trials={seeds}", "seed=0", "threads=1", "progress=false", "deterministic=true",
            *self.ours_extra, *self.strategies[strategy][1],
        ]  # fmt: skip


# DeepAL+ strategy names (SineZHAN/deepALplus utils.py get_strategy) by our name.
DEEPALPLUS_TABULAR = {
    "random": ("RandomSampling", []),
    "least_confidence": ("LeastConfidence", []),
    "margin": ("MarginSampling", []),
    "entropy": ("EntropySampling", []),
    "least_confidence_dropout": ("LeastConfidenceDropout", []),
    "margin_dropout": ("MarginSamplingDropout", []),
    "entropy_dropout": ("EntropySamplingDropout", []),
    "bald": ("BALDDropout", []),
    "mean_std": ("MeanSTD", []),
    "var_ratio": ("VarRatio", []),
    "kmeans": ("KMeansSampling", []),
    "kmeans_faiss": ("KMeansSamplingGPU", []),
    "coreset": ("KCenterGreedy", []),
    "kcenter": ("KCenterGreedyPCA", ["strategy.pca_dim=50"]),  # their code: PCA to 50
    "badge": ("BadgeSampling", []),
    "adv_bim": ("AdversarialBIM", []),
    "adv_deepfool": ("AdversarialDeepFool", []),
    # their code's default delta (arguments.py --delta 5e-5); our preset follows App. D.2
    "ceal": ("CEALSampling+EntropySampling", ["strategy.delta0=5.0e-5"]),
}

# DeepAL+'s tabular path (openml_Net: one hidden layer of 256, no dropout, MC passes in
# train mode; parameters.py 'openml': Adam lr 0.01, 5 epochs, batch 128) on digits.
DEEPALPLUS_TABULAR_SUITE = Suite(
    name="deepalplus-tabular",
    system="deepalplus",
    make_data=data.digits_tabular,
    budget=Budget(initial=100, batch=50, rounds=10),
    trainer=Trainer("adam", 0.01, 5, 128),
    model=["model=mlp", "model.hidden=256", "model.layers=1", "model.dropout=0.0",
           "model.mc_sampling=train_mode"],
    dataset=["dataset.normalize=none", "dataset.augment=null"],
    strategies=DEEPALPLUS_TABULAR,
)  # fmt: skip


def crop_flip_transforms(size: int, pad: int):
    """Their CIFAR-10 pair (parameters.py: RandomCrop(32, padding=4), RandomHorizontalFlip,
    ToTensor, Normalize for training; ToTensor, Normalize otherwise) at `size` px."""

    def build(mean: list[float], std: list[float]):
        norm = [transforms.ToTensor(), transforms.Normalize(mean, std)]
        train = [transforms.RandomCrop(size=size, padding=pad), transforms.RandomHorizontalFlip()]
        return transforms.Compose(train + norm), transforms.Compose(norm)

    return build


def image_nets(mods, name: str, task: dict, device):
    """Their ResNet18 classes for 3-channel images (waterbirds_Net: torchvision's ResNet18
    with its 7x7 stem and max-pool, no dropout; the LPL and WAAL variants of it). Their
    LossNet pools each tap globally, so it is built with the tap sizes of a 16 px input."""
    if name == "LossPredictionLoss":
        lpl = mods.nets_lossprediction
        loss_net = lpl.LossNet(feature_sizes=[8, 4, 2, 1], num_channels=[64, 128, 256, 512],
                               interm_dim=128)  # fmt: skip
        return lpl.Net_LPL(lpl.waterbirds_Net_LPL, task, device, loss_net)
    if name == "WAAL":
        w = mods.nets_waal
        return w.Net_WAAL(w.waterbirds_Net_WAAL, task, device, w.waterbirds_Net_WAAL, w.CLF_WAAL,
                          w.Discriminator, mods.handlers.CIFAR10_Handler_joint)  # fmt: skip
    return mods.nets.Net(mods.nets.waterbirds_Net, task, device)


DEEPALPLUS_IMAGE = {
    "random": ("RandomSampling", []),
    "entropy": ("EntropySampling", []),
    "entropy_dropout": ("EntropySamplingDropout", []),
    "bald": ("BALDDropout", []),
    "mean_std": ("MeanSTD", []),
    "var_ratio": ("VarRatio", []),
    "ceal": ("CEALSampling+EntropySampling", ["strategy.delta0=5.0e-5"]),
    "lpl": ("LossPredictionLoss", []),
    "waal": ("WAAL", []),
}

# DeepAL+'s image path at reduced size: their CIFAR-10 augmentation (random crop + flip)
# and BatchNorm ResNet18 on 16 px digits (400-image pool); ours with the model settings of
# conf/_deepal_plus.yaml (no dropout, MC passes in train mode, query inputs through the
# training augmentation as their get_unlabeled_data does).
DEEPALPLUS_IMAGE_SUITE = Suite(
    name="deepalplus-image",
    system="deepalplus",
    make_data=partial(data.digits_images, size=16, channels=3, pool=400),
    budget=Budget(initial=40, batch=20, rounds=6),
    trainer=Trainer("adam", 0.001, 5, 16),
    model=["model=resnet18", "model.stem=imagenet", "model.dropout=0.0",
           "model.mc_sampling=train_mode", "+model.query_transform=train"],
    dataset=["dataset.normalize=dataset", "dataset.augment={crop_pad:2,hflip:0.5}"],
    strategies=DEEPALPLUS_IMAGE,
    extra={"their_params": "CIFAR10", "transforms": crop_flip_transforms(16, 2),
           "build_net": image_nets},
)  # fmt: skip

# FALCUN's strategy names (sobermeier/falcun query_strategies, config/strat/*.json).
FALCUN_TABULAR = {
    "falcun": ("Falcun", []),
    "random": ("RandomSampling", []),
    "entropy": ("EntropySampling", []),
    "cdal": ("CdalCS", []),
    "clue": ("CLUE", []),
    "alfamix": ("AlphaMixSampling", []),
    # ALFA-Mix as the FALCUN presets run it (conf/strategy/alfamix_falcun.yaml: the
    # authors' alpha_mix.py, random alpha, cap 0.03125); their side is the same run as alfamix
    "alfamix_falcun": ("AlphaMixSampling", []),
    "badge": ("BadgeSampling", []),
    "coreset": ("KCenterGreedy2", []),
}

# FALCUN's tabular path (config/backbone/linear.json: one hidden layer of 1024, no dropout,
# Adam lr 1e-4, up to 200 epochs, stop at 99% training accuracy; config/ds/openml.json:
# batch 64; config/al: a new network every round) on digits, 100 + 10 x 50.
FALCUN_TABULAR_SUITE = Suite(
    name="falcun-tabular",
    system="falcun",
    make_data=data.digits_tabular,
    budget=Budget(initial=100, batch=50, rounds=10),
    trainer=Trainer("adam", 0.0001, 200, 64, early_stop_train_acc=0.99, early_stop_after=11),
    model=["model=mlp", "model.hidden=1024", "model.layers=1", "model.dropout=0.0"],
    dataset=["dataset.normalize=none", "dataset.augment=null"],
    strategies=FALCUN_TABULAR,
)  # fmt: skip

# DMLE (neu-spiral/DMLEforAL main.py, model.py) on Iris: the MLP of one hidden layer of 64,
# entropy, stochastic softmax selection with beta = 1, 1 initial point + 20 cycles of 5,
# 10 full-batch epochs per cycle on the labeled set, one model for all cycles. The keys are
# the estimators; their code's learning rate is 1e-4 (main.py Adam(learning_rate=0.0001)),
# our preset's the paper's 1e-3 (conf/trainer/dmle.yaml): `imle-lr1e-4`, `dmle-lr1e-4` run
# ours at their code's value.
DMLE_STRATEGIES = {
    "imle": ("imle", ["estimator=imle"]),
    "dmle": ("dmle", ["estimator=dmle"]),
    "imle-lr1e-4": ("imle", ["estimator=imle", "trainer.lr=0.0001"]),
    "dmle-lr1e-4": ("dmle", ["estimator=dmle", "trainer.lr=0.0001"]),
}


def dmle_suite(name: str, make_data) -> Suite:
    return Suite(
        name=name,
        system="dmle",
        make_data=make_data,
        budget=Budget(initial=1, batch=5, rounds=20),
        trainer=Trainer("adam", 0.001, 10, 128),
        model=["model=mlp", "model.hidden=64", "model.layers=1", "model.dropout=0.0"],
        dataset=["dataset.normalize=dataset", "dataset.augment=null"],
        strategies=DMLE_STRATEGIES,
        ours_extra=["selection=softmax", "selection.beta=1.0", "trainer.init=warm"],
        fixed_strategy="entropy",
    )


DMLE_IRIS_SUITE = dmle_suite("dmle-iris", data.iris)
DMLE_IRIS_THEIR_SPLIT_SUITE = dmle_suite("dmle-iris-their-split", data.iris_their_split)

SUITES = {
    s.name: s
    for s in (DEEPALPLUS_TABULAR_SUITE, DEEPALPLUS_IMAGE_SUITE, FALCUN_TABULAR_SUITE,
              DMLE_IRIS_SUITE, DMLE_IRIS_THEIR_SPLIT_SUITE)
}  # fmt: skip
