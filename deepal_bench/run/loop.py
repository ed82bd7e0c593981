"""The experiment loop: trials x rounds of query -> label -> train -> evaluate -> record.

Round 0 trains on the initial labeled set; each later round queries `budget.batch_size(r)`
points with the model of the previous round. Every trial seeds from `seed + trial`; every
random choice takes a generator derived from (trial seed, round, purpose), so a run
resumed from its checkpoint ends with the same records as an uninterrupted one.

The loop reads the validated, typed settings (`run.settings.Settings`); the raw config is
only what `config.yaml` stores and what the run's identity hashes. Each launch that
computes a round adds its provenance session to the state (`run.provenance`).
"""

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd
import torch
from omegaconf import DictConfig
from tqdm import tqdm

from deepal_bench.data import ALData, Pool, load_dataset
from deepal_bench.data.pool import check_initial, initial_indices
from deepal_bench.errors import ConfigError
from deepal_bench.metrics.records import RoundOutcome, round_columns, trial_row
from deepal_bench.models import ALModel, build_model
from deepal_bench.results import schema
from deepal_bench.results.collect import Skipped, load_run
from deepal_bench.results.identity import identity_json
from deepal_bench.run.budget import Budget
from deepal_bench.run.placement import ALONE, Placement, configure_torch, resolve_device
from deepal_bench.run.provenance import session, utc_now
from deepal_bench.run.settings import Settings, validate_config
from deepal_bench.run.store import DamagedRun, RunState, RunStore
from deepal_bench.run.tracking import Tracker, open_tracker
from deepal_bench.seeding import derive_seed, generator
from deepal_bench.selection import Selection, SelectionRecord, build_selection
from deepal_bench.strategies import QueryContext, Strategy, build_strategy
from deepal_bench.training.estimators import Estimator, TrainContext, build_estimator
from deepal_bench.training.inference import predicted_labels
from deepal_bench.training.trainer import Trainer, TrainingDiverged, TrainResult

log = logging.getLogger(__name__)
T = TypeVar("T")


def timed(device: torch.device, fn: Callable[[], T]) -> tuple[T, float]:
    """`fn()` and its wall time; CUDA work queued before and by it is waited for, so the
    time is the GPU's as well (the only places the loop synchronises)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    result = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return result, time.perf_counter() - start


@dataclass
class Experiment:
    """Everything a run needs, built and validated before the first round."""

    settings: Settings
    device: torch.device
    data: ALData
    budget: Budget
    strategy: Strategy
    selection: Selection
    estimator: Estimator
    trainer: Trainer

    @classmethod
    def from_config(cls, cfg: DictConfig, placement: Placement = ALONE) -> "Experiment":
        return cls.from_settings(validate_config(cfg), placement)

    @classmethod
    def from_settings(cls, settings: Settings, placement: Placement = ALONE) -> "Experiment":
        device = resolve_device(settings.run.device, placement)
        budget = settings.budget
        data = load_dataset(settings.dataset.config(), validation=budget.validation)
        budget.check_pool(len(data))
        check_initial(data.y_train, budget.initial, budget.initial_mode)
        exp = cls(
            settings=settings,
            device=device,
            data=data.to(device),
            budget=budget,
            strategy=build_strategy(settings.strategy.config()),
            selection=build_selection(settings.selection.config()),
            estimator=build_estimator(settings.estimator.config()),
            trainer=Trainer(settings.trainer, device),
        )
        exp.strategy.check(exp.new_model(seed=0), exp.selection)
        exp.estimator.check(exp.strategy.differentiable_score(), exp.selection)
        return exp

    def new_model(self, seed: int) -> ALModel:
        torch.manual_seed(seed)
        model = build_model(
            self.settings.model.config(), self.data.input_shape, self.data.num_classes
        )
        return model.to(self.device)


def run(
    cfg: DictConfig,
    output_dir: Path,
    placement: Placement = ALONE,
    on_checked: Callable[[], None] | None = None,
) -> RunState:
    """Run (or resume, repair, or skip if complete) the experiment described by `cfg`.

    Every check happens before anything is written; the run directory is owned through its
    lock for the whole call. `on_checked` is called once every check has passed and
    config.yaml is written, before the first round (the CLI writes Hydra's `.hydra/` then).
    """
    settings = validate_config(cfg)
    store = RunStore(output_dir, float(settings.run.lock_timeout))
    store.open()
    tracker = open_tracker(cfg, store.path)
    try:
        return _run_owned(cfg, settings, store, placement, tracker, on_checked)
    finally:
        tracker.close()
        store.close()


def _run_owned(
    cfg: DictConfig,
    settings: Settings,
    store: RunStore,
    placement: Placement,
    tracker: Tracker,
    on_checked: Callable[[], None] | None,
) -> RunState:
    """`run` once the directory is owned; `cfg` (raw) serves identity and config.yaml only."""
    started, trials = utc_now(), settings.run.trials
    try:
        state = store.load_state()
    except DamagedRun:
        if store.completed_trials() >= trials:
            return _complete_without_state(cfg, store)
        raise
    store.check_identity(cfg, state)
    if state is None and store.completed_trials() >= trials:
        return _complete_without_state(cfg, store)
    if state is not None:
        for name in store.repair(state):
            log.warning("%s disagreed with %s and was rewritten from it", name, schema.STATE_FILE)
        if state.finished_trials() >= trials and state.labeled is None:
            if store.completed_trials() < state.finished_trials():
                store.mark_complete(state, state.finished_trials())
            log.info("skipped: complete with %d trials in %s", state.finished_trials(), store.path)
            return state
    exp = Experiment.from_settings(settings, placement)
    configure_torch(settings.run, exp.device, placement)
    store.write_config(cfg)
    if on_checked is not None:
        on_checked()
    _log_start(settings, state, exp.device, store.path)
    state = state or RunState()
    state.identity = identity_json(cfg)
    state.launch_trials, state.query_rounds = trials, exp.budget.rounds
    if settings.run.store_predictions:
        store.write_test_labels(exp.data.y_test.cpu().numpy())
    launch = Launch(exp.device, started)
    for trial in range(state.trial, trials):
        if state.labeled is None:
            state.start_trial(trial)
        TrialRun(exp, state, store, trial, launch, tracker).run()
        tracker.trial_finished(state.summary[-1])
    store.mark_complete(state, state.finished_trials())
    aubcs = [row["aubc"] for row in state.summary]
    log.info("finished: %d trials, mean AUBC %.4f", len(aubcs), sum(aubcs) / len(aubcs))
    return state


def _log_start(s: Settings, state: RunState | None, device: torch.device, path: Path) -> None:
    trials = s.run.trials
    what = f"{s.strategy.name} on {s.dataset.name} ({s.model.name}, {device})"
    if state is None:
        log.info("started: %s, %d trials, records in %s", what, trials, path)
    else:
        log.info("resumed: %s at trial %d round %d of %d trials, records in %s", what,
                 state.trial, state.next_round, trials, path)  # fmt: skip


@dataclass
class Launch:
    """This process's launch: its provenance session is added to the state with the
    first round it computes (a launch that computes nothing leaves no session)."""

    device: torch.device
    started: str
    recorded: bool = False

    def record(self, state: RunState, trial: int, rnd: int) -> None:
        if not self.recorded:
            state.sessions.append(session(self.device, trial, rnd, self.started))
            self.recorded = True


def _complete_without_state(cfg: DictConfig, store: RunStore) -> RunState:
    """A run marked complete whose state is missing or damaged: fine if its records are
    complete and consistent (there is nothing left to compute), else a DamagedRun."""
    store.check_identity(cfg, None)
    loaded = load_run(store.path)
    if isinstance(loaded, Skipped):
        raise DamagedRun(
            f"output_dir '{store.path}' is marked complete but its {schema.STATE_FILE} is "
            f"missing or damaged and its records are not usable ({loaded.reason}); remove "
            f"the run directory to compute it again (same seeds, same records)."
        )
    log.warning("%s is missing or damaged; the complete records are kept", schema.STATE_FILE)
    return RunState(summary=loaded.summary.to_dict("records"))


class TrialRun:
    """One trial, resumed from `state` where it stopped: a loop over named round steps."""

    def __init__(
        self,
        exp: Experiment,
        state: RunState,
        store: RunStore,
        trial: int,
        launch: Launch,
        tracker: Tracker,
    ) -> None:
        self.exp, self.state, self.store, self.trial = exp, state, store, trial
        self.launch, self.tracker = launch, tracker
        self.seed = exp.settings.run.seed + trial
        self.rounds = exp.budget.rounds + 1
        self.pool = Pool(len(exp.data))
        self.model: ALModel | None = None
        if state.labeled is not None:
            self.pool.labeled = state.labeled.clone()
            self.model = exp.new_model(derive_seed(self.seed, state.next_round - 1, "init"))
            self.model.load_state_dict(state.model_state)
            exp.strategy.load_state_dict(state.strategy_state or {})

    def run(self) -> None:
        settings = self.exp.settings.run
        bar = tqdm(
            total=self.rounds,
            initial=self.state.next_round,
            desc=f"{self.exp.strategy.name} trial {self.trial + 1}/{settings.trials}",
            disable=not (settings.progress and sys.stderr.isatty()),
            leave=True,
            dynamic_ncols=True,
        )
        for rnd in range(self.state.next_round, self.rounds):
            new, query_seconds = self.query(rnd)
            self.pool.label(new)
            trained, train_seconds = self.train(rnd)
            (columns, pred), eval_seconds = timed(self.exp.device, self.evaluate)
            timings = dict(train_seconds=train_seconds, query_seconds=query_seconds,
                           eval_seconds=eval_seconds)  # fmt: skip
            self.record(rnd, new, pred, {**columns, **timings})
            self.checkpoint(rnd)
            self.tracker.round(self.state.rounds[-1])
            log.info(
                "trial %d/%d round %d/%d: n_labeled=%d accuracy=%.4f (%d epochs) train %.2fs "
                "query %.2fs eval %.2fs", self.trial + 1, settings.trials, rnd, self.rounds - 1,
                self.pool.n_labeled, columns["accuracy"], trained.epochs_run, train_seconds,
                query_seconds, eval_seconds,
            )  # fmt: skip
            bar.set_postfix(n_labeled=self.pool.n_labeled, acc=f"{columns['accuracy']:.4f}")
            bar.update(1)
        bar.close()

    def query(self, rnd: int) -> tuple[torch.Tensor, float]:
        """The points labeled this round (dataset indices) and the query time."""
        exp, n = self.exp, self.exp.budget.batch_size(rnd)
        if rnd == 0:
            new = initial_indices(
                exp.data.y_train, self.pool.unlabeled_indices(), exp.budget.initial,
                exp.budget.initial_mode, generator(self.seed, rnd, "initial"),
            )  # fmt: skip
            return new, 0.0
        trainer = exp.settings.trainer
        ctx = QueryContext(
            self.model, exp.data, self.pool, generator(self.seed, rnd, "query"),
            seed=derive_seed(self.seed, rnd, "mc"), batch_size=trainer.eval_batch_size,
            amp=trainer.amp,
        )  # fmt: skip
        result, seconds = timed(exp.device, lambda: exp.strategy.query(ctx, n, exp.selection))
        new = result.indices.cpu()
        if len(new) != n:
            raise RuntimeError(
                f"strategy '{exp.strategy.name}' returned {len(new)} points, asked for {n}"
            )
        self.state.selections.append(
            SelectionRecord(
                rnd,
                new,
                exp.selection.name,
                exp.selection.beta,
                exp.strategy.name,
                result.log_probs,
            )  # fmt: skip
        )
        return new, seconds

    def train(self, rnd: int) -> tuple[TrainResult, float]:
        """Train this round's model (fresh or warm) on the labeled set; what training did
        and its time."""
        exp = self.exp
        if self.model is None or exp.settings.trainer.init == "fresh":
            self.model = exp.new_model(derive_seed(self.seed, rnd, "init"))
        torch.manual_seed(derive_seed(self.seed, rnd, "train"))
        extension = exp.strategy.trainer_extension()
        context = TrainContext(
            exp.data, self.pool.labeled_indices(), rnd, self.state.selections,
            score=exp.strategy.differentiable_score(), unlabeled=self.pool.unlabeled_indices(),
            seed=derive_seed(self.seed, rnd, "extension"),
        )  # fmt: skip
        try:
            return timed(
                exp.device,
                lambda: exp.trainer.fit(
                    self.model,
                    context,
                    exp.estimator,
                    generator(self.seed, rnd, "train"),
                    [extension] if extension is not None else [],
                ),  # fmt: skip
            )
        except TrainingDiverged as err:
            trainer = exp.settings.trainer
            raise ConfigError(
                f"Training diverged in trial {self.trial}, round {rnd}: {err} (trainer.lr="
                f"{trainer.lr:g}, optimizer={trainer.optimizer}). Nothing was "
                f"recorded for this round. The same config diverges again (same seeds); lower "
                f"trainer.lr or change the optimizer, which makes a new run in its own "
                f"output_dir."
            ) from err

    def evaluate(self) -> tuple[dict[str, float], torch.Tensor]:
        """The round metrics' columns on the test set and the test predictions."""
        data, trainer = self.exp.data, self.exp.settings.trainer
        pred = predicted_labels(self.model, data.x_test, trainer.eval_batch_size, trainer.amp)
        outcome = RoundOutcome(pred, data.y_test, data.groups_test, data.group_names or (),
                               data.mismatch_groups)  # fmt: skip
        return round_columns(outcome), pred

    def record(self, rnd: int, new: torch.Tensor, pred: torch.Tensor, columns: dict) -> None:
        """Append this round's row, queried points (and predictions) to the state."""
        if self.exp.settings.run.store_predictions:
            self.store.write_predictions(self.trial, rnd, pred.cpu().numpy())
        self.state.rounds.append(
            {"trial": self.trial, "seed": self.seed, "round": rnd,
             "n_labeled": self.pool.n_labeled, **columns}
        )  # fmt: skip
        trial_col, round_col = torch.full_like(new, self.trial), torch.full_like(new, rnd)
        self.state.queries.append(torch.stack([trial_col, round_col, new], dim=1))

    def checkpoint(self, rnd: int) -> None:
        """Save the resumable state (and, after the last round, the trial's summary row)."""
        state, model = self.state, self.model
        state.next_round = rnd + 1
        state.labeled = self.pool.labeled.clone()
        state.model_state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        state.strategy_state = self.exp.strategy.state_dict()
        state.saved_at = utc_now()
        self.launch.record(state, self.trial, rnd)
        if rnd == self.rounds - 1:
            mine = pd.DataFrame([r for r in state.rounds if r["trial"] == self.trial])
            state.summary.append({"trial": self.trial, **trial_row(mine)})
            state.trial, state.next_round, state.labeled = self.trial + 1, 0, None
        self.store.save(state)
