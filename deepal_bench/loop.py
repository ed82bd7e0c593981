"""The experiment loop: trials x rounds of query -> label -> train -> evaluate.

Round 0 trains on the initial labeled set; each later round queries `budget.batch_size(r)`
points with the model of the previous round. Every trial seeds from `seed + trial`; every
random choice takes a generator derived from (trial seed, round, purpose), so a run
resumed from its checkpoint ends with the same records as an uninterrupted one.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from deepal_bench.budget import Budget
from deepal_bench.data import ALData, Pool, load_dataset
from deepal_bench.data.pool import initial_indices
from deepal_bench.errors import ConfigError, unknown_choice
from deepal_bench.metrics import aubc, f_acc, group_metrics
from deepal_bench.models import ALModel, build_model
from deepal_bench.results.predictions import write_predictions, write_test_labels
from deepal_bench.seeding import derive_seed, generator
from deepal_bench.selection import Selection, build_selection
from deepal_bench.store import RunState, RunStore
from deepal_bench.strategies import QueryContext, Strategy, build_strategy
from deepal_bench.training.estimators import (
    Estimator,
    SelectionRecord,
    TrainContext,
    build_estimator,
)
from deepal_bench.training.inference import evaluate
from deepal_bench.training.trainer import Trainer, TrainerConfig

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA when present; `cuda` without CUDA is a ConfigError."""
    if name not in DEVICES:
        raise unknown_choice("device", name, DEVICES)
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device=cuda was asked for but CUDA is not available; use device=auto or cpu."
        )
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def configure_torch(cfg: DictConfig, device: torch.device) -> None:
    """Thread count and deterministic algorithms (same seed => same records on CPU)."""
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    if cfg.get("deterministic", True):
        torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Experiment:
    """Everything a run needs, built and validated before the first round."""

    cfg: DictConfig
    device: torch.device
    data: ALData
    budget: Budget
    strategy: Strategy
    selection: Selection
    estimator: Estimator
    trainer: Trainer

    @classmethod
    def from_config(cls, cfg: DictConfig) -> "Experiment":
        device = resolve_device(cfg.device)
        budget = Budget(**OmegaConf.to_container(cfg.budget, resolve=True))
        data = load_dataset(cfg.dataset, validation=budget.validation)
        budget.check_pool(len(data))
        trainer_cfg = TrainerConfig(**OmegaConf.to_container(cfg.trainer, resolve=True))
        exp = cls(
            cfg=cfg,
            device=device,
            data=data.to(device),
            budget=budget,
            strategy=build_strategy(cfg.strategy),
            selection=build_selection(cfg.selection),
            estimator=build_estimator(cfg.estimator),
            trainer=Trainer(trainer_cfg, device),
        )
        exp.strategy.check(exp.new_model(seed=0), exp.selection)
        exp.estimator.check(exp.strategy, exp.selection)
        return exp

    def new_model(self, seed: int) -> ALModel:
        torch.manual_seed(seed)
        return build_model(self.cfg.model, self.data.input_shape, self.data.num_classes).to(
            self.device
        )


def run(cfg: DictConfig, output_dir: Path) -> RunState:
    """Run (or resume, or skip if complete) the experiment described by `cfg`."""
    store = RunStore(output_dir)
    store.prepare(cfg)
    trials = int(cfg.trials)
    state = store.load_state()
    if store.completed_trials() >= trials:
        return state
    exp = Experiment.from_config(cfg)
    configure_torch(cfg, exp.device)
    if cfg.get("store_predictions", False):
        write_test_labels(store.path, exp.data.y_test.cpu().numpy())
    for trial in range(state.trial, trials):
        if state.labeled is None:
            state.start_trial(trial)
        _run_trial(exp, state, store, trial)
    store.mark_complete(state, trials)
    return state


def _run_trial(exp: Experiment, state: RunState, store: RunStore, trial: int) -> None:
    cfg, budget, data = exp.cfg, exp.budget, exp.data
    trial_seed = int(cfg.seed) + trial
    pool = Pool(len(data))
    model = None
    if state.labeled is not None:
        pool.labeled = state.labeled.clone()
        model = exp.new_model(derive_seed(trial_seed, state.next_round - 1, "init"))
        model.load_state_dict(state.model_state)
        exp.strategy.load_state_dict(state.strategy_state or {})
    total_rounds = budget.rounds + 1
    bar = tqdm(
        total=total_rounds,
        initial=state.next_round,
        desc=f"{cfg.strategy.name} trial {trial + 1}/{cfg.trials}",
        disable=not cfg.get("progress", True),
        leave=True,
        dynamic_ncols=True,
    )
    for rnd in range(state.next_round, total_rounds):
        query_seconds = 0.0
        if rnd == 0:
            new = initial_indices(
                data.y_train,
                pool.unlabeled_indices(),
                budget.initial,
                budget.initial_mode,
                generator(trial_seed, rnd, "initial"),
            )
        else:
            _sync(exp.device)
            start = time.perf_counter()
            ctx = QueryContext(
                model,
                data,
                pool,
                generator(trial_seed, rnd, "query"),
                seed=derive_seed(trial_seed, rnd, "mc"),
                batch_size=exp.trainer.cfg.eval_batch_size,
            )
            result = exp.strategy.query(ctx, budget.batch_size(rnd), exp.selection)
            _sync(exp.device)
            query_seconds = time.perf_counter() - start
            new = result.indices.cpu()
            if len(new) != budget.batch_size(rnd):
                raise RuntimeError(
                    f"strategy '{exp.strategy.name}' returned {len(new)} points, "
                    f"asked for {budget.batch_size(rnd)}"
                )
            state.selections.append(
                SelectionRecord(
                    rnd,
                    new,
                    exp.selection.kind,
                    exp.selection.beta,
                    exp.strategy.name,
                    result.log_probs,
                )
            )
        pool.label(new)
        if model is None or exp.trainer.cfg.init == "fresh":
            model = exp.new_model(derive_seed(trial_seed, rnd, "init"))
        torch.manual_seed(derive_seed(trial_seed, rnd, "train"))
        extension = exp.strategy.trainer_extension()
        context = TrainContext(
            data,
            pool.labeled_indices(),
            rnd,
            state.selections,
            unlabeled=pool.unlabeled_indices(),
            seed=derive_seed(trial_seed, rnd, "extension"),
            strategy=exp.strategy,
        )
        _sync(exp.device)
        start = time.perf_counter()
        exp.trainer.fit(
            model,
            context,
            exp.estimator,
            generator(trial_seed, rnd, "train"),
            [extension] if extension is not None else [],
        )
        _sync(exp.device)
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        accuracy, pred = evaluate(model, data.x_test, data.y_test, exp.trainer.cfg.eval_batch_size)
        _sync(exp.device)
        eval_seconds = time.perf_counter() - start
        if cfg.get("store_predictions", False):
            write_predictions(store.path, trial, rnd, pred.cpu().numpy())
        state.rounds.append(
            {
                "trial": trial,
                "seed": trial_seed,
                "round": rnd,
                "n_labeled": pool.n_labeled,
                "accuracy": accuracy,
                "train_seconds": train_seconds,
                "query_seconds": query_seconds,
                "eval_seconds": eval_seconds,
                **_group_columns(data, pred),
            }
        )
        state.queries.append(
            torch.stack([torch.full_like(new, trial), torch.full_like(new, rnd), new], dim=1)
        )
        state.next_round = rnd + 1
        state.labeled = pool.labeled.clone()
        state.model_state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        state.strategy_state = exp.strategy.state_dict()
        if rnd == total_rounds - 1:
            state.summary.append(_summary_row(state.rounds, trial))
            state.trial, state.next_round, state.labeled = trial + 1, 0, None
        store.save(state)
        bar.set_postfix(n_labeled=pool.n_labeled, acc=f"{accuracy:.4f}")
        bar.update(1)
    bar.close()


def _group_columns(data: ALData, pred: torch.Tensor) -> dict:
    """Worst-group / mismatch / per-group accuracy when the dataset defines test groups."""
    if data.groups_test is None:
        return {}
    return group_metrics(
        pred.cpu().numpy(),
        data.y_test.cpu().numpy(),
        data.groups_test.cpu().numpy(),
        data.group_names or [str(g) for g in range(int(data.groups_test.max()) + 1)],
        data.meta.get("mismatch_groups", ()),
    )


def _summary_row(rows: list[dict], trial: int) -> dict:
    mine = [r for r in rows if r["trial"] == trial]
    n_labeled = [r["n_labeled"] for r in mine]
    acc = [r["accuracy"] for r in mine]
    total = sum(r["train_seconds"] + r["query_seconds"] + r["eval_seconds"] for r in mine)
    return {
        "trial": trial,
        "aubc": aubc(n_labeled, acc),
        "f_acc": f_acc(acc),
        "total_seconds": total,
    }
