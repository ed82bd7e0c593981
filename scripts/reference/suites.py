"""The comparisons: one data file, one budget, one trainer, and for every strategy both
sides implement its name on each side and our overrides.

A suite's settings are stated once here and handed to both sides: to our CLI as Hydra
overrides (`ours_overrides`), to the authors' adapters as their own parameter dicts.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

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

    def ours_overrides(self, strategy: str, data_file: str, seeds: int) -> list[str]:
        """The Hydra overrides of our run of `strategy` on `data_file` over `seeds` trials."""
        b, t = self.budget, self.trainer
        stop = "null" if t.early_stop_train_acc is None else t.early_stop_train_acc
        return [
            "dataset=npz", f"dataset.path={data_file}", *self.dataset, *self.model,
            f"strategy={strategy}", *self.strategies[strategy][1],
            "selection=topk", "estimator=imle", "budget=digits",
            f"budget.initial={b.initial}", f"budget.batch={b.batch}",
            f"budget.quota={b.batch * b.rounds}", "budget.initial_mode=random",
            "budget.validation=0", f"trainer.optimizer={t.optimizer}", f"trainer.lr={t.lr}",
            f"trainer.epochs={t.epochs}", f"trainer.batch_size={t.batch_size}",
            f"trainer.early_stop_train_acc={stop}", "trainer.init=fresh",
            "trainer.schedule=none", "trainer.weight_decay=0.0",
            f"trials={seeds}", "seed=0", "threads=1", "progress=false", "deterministic=true",
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

SUITES = {s.name: s for s in (DEEPALPLUS_TABULAR_SUITE,)}
