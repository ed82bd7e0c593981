"""Live tracking: a run's rounds and trials mirrored to TensorBoard, MLflow or W&B.

The `logger` config group picks the backend: `none` (the default), `tensorboard`, `mlflow`
or `wandb`, each installed by the optional extra of its name
(`pip install 'deepal-bench[mlflow]'`). A tracker is a view of the run, never part of it:
the records stay the source of truth, the logger is not part of the run's identity, and a
backend never stops, delays or changes the run.

Every trial of a run is one tracker run, named `<run directory below results_root>/trial<t>`,
with step = round: per round the row that rounds.csv gets (n_labeled, the metric columns,
train/query/eval seconds), per trial its summary.csv metrics (AUBC, F-acc, total seconds),
and the run's identity (the flattened config) plus the trial and its seed as parameters.
The runs of one sweep share the MLflow experiment, the W&B group or the TensorBoard folder
(by default named after results_root, Hydra's sweep directory), so a multirun is one
comparable set. A resumed trial continues its tracker run.

Failures: a logger whose package is missing is refused at start-up by `check_logger`, one
paragraph naming the extra, before anything is written (it was asked for explicitly).
Anything that goes wrong later (no network, a server gone, a broken install, an exception
inside the backend) is one warning in the run's log; tracking stops and the run goes on.
The backend runs on a worker thread, so a slow or hanging tracker never delays a round;
`Tracker.close` waits at most `CLOSE_TIMEOUT` seconds for it at the end.
"""

import hashlib
import importlib.util
import json
import logging
import os
import queue
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from omegaconf import DictConfig, OmegaConf

from deepal_bench.errors import ConfigError
from deepal_bench.metrics.records import summary_metric_names
from deepal_bench.registry import Registry
from deepal_bench.results.identity import identity

__all__ = ["TRACKERS", "Backend", "RunInfo", "Tracker", "check_logger", "open_tracker"]

log = logging.getLogger(__name__)
CLOSE_TIMEOUT = 60.0  # seconds the end of a run waits at most for the backend to finish
ROW_KEYS = ("trial", "seed", "round")  # the keys of a rounds.csv row that are not metrics
TRACKERS: Registry[type] = Registry("logger.name")


@dataclass(frozen=True)
class RunInfo:
    """The run a backend mirrors: its name, its directory and its identity."""

    name: str  # the run directory below results_root
    output_dir: Path
    params: dict[str, Any]  # the run's identity (`results.identity.identity`), nested

    def trial_name(self, trial: int) -> str:
        return f"{self.name}/trial{trial}"

    def trial_key(self, trial: int) -> str:
        """A stable id of one trial of this run directory (a resumed trial continues the
        tracker run it started)."""
        return hashlib.sha256(f"{self.output_dir.resolve()}:{trial}".encode()).hexdigest()[:16]

    def trial_params(self, trial: int, seed: int) -> dict[str, Any]:
        """The nested identity plus the trial and its seed (`seed + trial`)."""
        return {**self.params, "trial": trial, "trial_seed": seed}

    def flat_params(self, trial: int, seed: int) -> dict[str, bool | int | float | str]:
        """`trial_params` as dotted keys with scalar values (null and lists as JSON)."""
        return {key: _scalar(value) for key, value in _flatten(self.trial_params(trial, seed))}


def _flatten(tree: dict, prefix: str = "") -> list[tuple[str, Any]]:
    items = []
    for key, value in tree.items():
        if isinstance(value, dict):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items


def _scalar(value: Any) -> bool | int | float | str:
    return value if isinstance(value, bool | int | float | str) else json.dumps(value)


def run_name(output_dir: Path, results_root: str) -> str:
    """The run directory below results_root (as its sweep names it), else its own name."""
    path = Path(output_dir).resolve()
    try:
        name = path.relative_to(Path(results_root).resolve()).as_posix()
    except ValueError:
        return path.name
    return path.name if name == "." else name


class Backend(ABC):
    """One tracking service. Calls come from one worker thread, in the loop's order: per
    trial `start_trial`, `log_round` for each round computed, `log_trial` when the trial
    is complete, `end_trial` (also for a trial the run stopped in)."""

    package: ClassVar[str]  # the module it imports
    extra: ClassVar[str]  # the extra that installs it: pip install 'deepal-bench[<extra>]'

    def __init__(self, run: RunInfo) -> None:
        self.run = run

    @abstractmethod
    def start_trial(self, trial: int, seed: int) -> None:
        """Open (or continue) the tracker run of `trial`, with the parameters."""

    @abstractmethod
    def log_round(self, step: int, metrics: dict[str, float]) -> None:
        """One round's metrics and timings at step = round."""

    @abstractmethod
    def log_trial(self, step: int, metrics: dict[str, float]) -> None:
        """The complete trial's summary metrics (step = its last round)."""

    @abstractmethod
    def end_trial(self, finished: bool) -> None:
        """Close the trial's tracker run (`finished`: all its rounds are done)."""


@TRACKERS.register("none")
class NoTracking:
    """The default: nothing is tracked (the records are written as always)."""


class _Session:
    """The worker thread's side: a tracker run per trial, opened as its rows arrive."""

    def __init__(self, backend: Backend) -> None:
        self.backend, self.trial, self.step = backend, None, 0

    def round(self, row: dict) -> None:
        if row["trial"] != self.trial:
            self.end(finished=False)
            self.backend.start_trial(row["trial"], row["seed"])
            self.trial = row["trial"]
        self.step = row["round"]
        self.backend.log_round(self.step, _metrics(row))

    def trial_finished(self, summary: dict) -> None:
        self.backend.log_trial(self.step, _metrics(summary))
        self.end(finished=True)

    def end(self, finished: bool) -> None:
        if self.trial is not None:
            self.backend.end_trial(finished)
            self.trial = None


def _metrics(row: dict) -> dict[str, float]:
    return {key: float(value) for key, value in row.items() if key not in ROW_KEYS}


class Tracker:
    """The loop's side: each event goes to a worker thread that drives the backend. The
    backend's first exception is logged once as a warning, after which events are dropped;
    nothing the backend does reaches the loop."""

    def __init__(self, name: str, factory: Callable[[], Backend] | None) -> None:
        self.name, self._factory = name, factory
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._failed = False

    def round(self, row: dict) -> None:
        """A round was recorded (its rounds.csv row)."""
        row = dict(row)
        self._put(lambda session: session.round(row))

    def trial_finished(self, summary: dict) -> None:
        """A trial is complete (its summary.csv row)."""
        summary = dict(summary)
        self._put(lambda session: session.trial_finished(summary))

    def close(self) -> None:
        """End the open tracker run and wait (at most CLOSE_TIMEOUT s) for the backend."""
        if self._thread is None:
            return
        self._events.put(None)
        self._thread.join(CLOSE_TIMEOUT)
        if self._thread.is_alive() and not self._failed:
            self._failed = True  # one warning: what the backend does later is not reported
            log.warning(
                "logger '%s' did not finish within %g s; the run ends without waiting for it "
                "(its records are complete)", self.name, CLOSE_TIMEOUT,
            )  # fmt: skip

    def _put(self, event: Callable[[_Session], None]) -> None:
        if self._factory is None:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="tracker", daemon=True)
            self._thread.start()
        self._events.put(event)

    def _work(self) -> None:
        session: _Session | None = None
        for event in iter(self._events.get, None):
            if session is None:
                session = self._guarded(lambda: _Session(self._factory()))
            if session is not None:
                self._guarded(event, session)
        if session is not None:
            self._guarded(session.end, False)

    def _guarded(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` unless the backend failed before; a first failure is warned about
        once and makes every later call a no-op."""
        if self._failed:
            return None
        try:
            return fn(*args)
        except BaseException as err:  # a library's KeyboardInterrupt or exit ends it alone
            if not self._failed:
                self._failed = True
                reason = (str(err).strip().splitlines() or [""])[0]
                log.warning(
                    "logger '%s' failed (%s: %s); the run goes on without it and its records "
                    "are not affected", self.name, type(err).__name__, reason,
                )  # fmt: skip
            return None


def check_logger(cfg: DictConfig) -> None:
    """The `logger` group names a registered logger with valid options whose package is
    installed; otherwise a ConfigError (before anything is written). A config without the
    group (written before it existed) tracks nothing."""
    chosen = OmegaConf.select(cfg, "logger")
    if chosen is None:
        return
    factory, _ = TRACKERS.check(chosen)
    if issubclass(factory, Backend) and importlib.util.find_spec(factory.package) is None:
        raise ConfigError(
            f"logger={factory.name} needs the Python package '{factory.package}', which is not "
            f"installed: install it with pip install 'deepal-bench[{factory.extra}]', or run "
            f"with logger=none (no live tracking; the records are the same)."
        )


def open_tracker(cfg: DictConfig, output_dir: Path) -> Tracker:
    """The tracker of the run in `output_dir` (`check_logger` passed); nothing starts
    before the first round is recorded."""
    chosen = OmegaConf.select(cfg, "logger")
    if chosen is None:
        return Tracker("none", None)
    factory, options = TRACKERS.check(chosen)
    if not issubclass(factory, Backend):
        return Tracker(factory.name, None)
    run = RunInfo(run_name(output_dir, cfg.results_root), Path(output_dir), identity(cfg))
    return Tracker(factory.name, lambda: factory(run, **options))


@TRACKERS.register("tensorboard")
class TensorBoard(Backend):
    """TensorBoard event files in `<log_dir>/<run>/trial<t>/`: a scalar per metric and
    round, the parameters and trial metrics in the HParams dashboard."""

    package = extra = "tensorboard"

    def __init__(self, run: RunInfo, log_dir: str) -> None:
        super().__init__(run)
        from torch.utils.tensorboard import SummaryWriter, summary

        self._writer_class, self._hparams = SummaryWriter, summary.hparams
        self.log_dir = Path(log_dir)

    def start_trial(self, trial: int, seed: int) -> None:
        folder = self.log_dir / self.run.name / f"trial{trial}"
        self.writer = self._writer_class(str(folder))
        metrics = dict.fromkeys(summary_metric_names())
        experiment, start, self._session_end = self._hparams(
            self.run.flat_params(trial, seed), metrics
        )
        self.writer.file_writer.add_summary(experiment)
        self.writer.file_writer.add_summary(start)

    def log_round(self, step: int, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, step)

    def log_trial(self, step: int, metrics: dict[str, float]) -> None:
        self.log_round(step, metrics)
        self.writer.file_writer.add_summary(self._session_end)

    def end_trial(self, finished: bool) -> None:
        self.writer.close()


@TRACKERS.register("mlflow")
class MLflow(Backend):
    """MLflow: a run per trial in the experiment `experiment`, the parameters as params,
    tagged with its run directory; `tracking_uri` null = MLflow's own
    ($MLFLOW_TRACKING_URI, else its default store)."""

    package = extra = "mlflow"
    TAG = "deepal_bench.trial_key"

    def __init__(self, run: RunInfo, experiment: str, tracking_uri: str | None = None) -> None:
        super().__init__(run)
        from mlflow import get_tracking_uri
        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient

        self._metric, self._param = Metric, Param
        uri = tracking_uri or get_tracking_uri()
        attempts = SQLITE_ATTEMPTS if uri.startswith("sqlite:") else 1
        for attempt in range(attempts):
            try:
                self.client = MlflowClient(uri)
                self.experiment_id = self._experiment(experiment)
                break
            except Exception:
                if attempt == attempts - 1:
                    raise
                time.sleep(2.0**attempt)

    def _experiment(self, name: str) -> str:
        """The experiment's id; created unless it exists (or another job of the sweep
        created it meanwhile)."""
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        try:
            return self.client.create_experiment(name)
        except Exception:
            found = self.client.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    def start_trial(self, trial: int, seed: int) -> None:
        key = self.run.trial_key(trial)
        found = self.client.search_runs(
            [self.experiment_id], f"tags.`{self.TAG}` = '{key}'", max_results=1
        )
        if found:
            self.run_id = found[0].info.run_id
            self.client.update_run(self.run_id, status="RUNNING")
            return
        tags = {self.TAG: key, "deepal_bench.output_dir": str(self.run.output_dir)}
        created = self.client.create_run(
            self.experiment_id, tags=tags, run_name=self.run.trial_name(trial)
        )
        self.run_id = created.info.run_id
        params = [
            self._param(_mlflow_key(k), str(v)[:500])
            for k, v in self.run.flat_params(trial, seed).items()
        ]
        for start in range(0, len(params), 100):  # MLflow takes at most 100 params a batch
            self.client.log_batch(self.run_id, params=params[start : start + 100])

    def log_round(self, step: int, metrics: dict[str, float]) -> None:
        now = int(time.time() * 1000)
        batch = [self._metric(_mlflow_key(k), v, now, step) for k, v in metrics.items()]
        self.client.log_batch(self.run_id, metrics=batch)

    def log_trial(self, step: int, metrics: dict[str, float]) -> None:
        self.log_round(step, metrics)

    def end_trial(self, finished: bool) -> None:
        self.client.set_terminated(self.run_id, "FINISHED" if finished else "KILLED")


# Jobs of a sweep that start together race to create MLflow's local sqlite database (one
# of them fails its schema migration): a job that failed tries again after the other is done.
SQLITE_ATTEMPTS = 5  # waiting 1, 2, 4 and 8 s in between


def _mlflow_key(key: str) -> str:
    """`key` with the characters MLflow refuses in names replaced by `_`."""
    return re.sub(r"[^\w\-. /:]", "_", key)


@TRACKERS.register("wandb")
class WandB(Backend):
    """Weights & Biases: a run per trial in `project`, grouped by `group`, the nested
    parameters as its config; `mode` null = W&B's own ($WANDB_MODE, else online)."""

    package = extra = "wandb"

    def __init__(
        self,
        run: RunInfo,
        project: str,
        group: str,
        entity: str | None = None,
        mode: Literal["online", "offline", "disabled"] | None = None,
        dir: str | None = None,
    ) -> None:
        super().__init__(run)
        import wandb

        self.wandb = wandb
        self.options = {"project": project, "group": group, "entity": entity, "mode": mode}
        if dir is not None:
            Path(dir).mkdir(parents=True, exist_ok=True)
            self.options["dir"] = dir
        online = (mode or os.environ.get("WANDB_MODE") or "online") in ("online", "run")
        if online and not wandb.login(prompt=False):
            # wandb.init would ask for a key on the terminal, from the tracker's thread
            raise RuntimeError(
                "no W&B API key: run `wandb login` once or set WANDB_API_KEY, or use "
                "logger.mode=offline and `wandb sync` later"
            )

    def start_trial(self, trial: int, seed: int) -> None:
        config = {**self.run.trial_params(trial, seed), "output_dir": str(self.run.output_dir)}
        self.current = self.wandb.init(
            **self.options,
            name=self.run.trial_name(trial),
            id=self.run.trial_key(trial),
            resume="allow",
            config=config,
            settings=self.wandb.Settings(console="off", silent=True),
        )

    def log_round(self, step: int, metrics: dict[str, float]) -> None:
        self.current.log(metrics, step=step)

    def log_trial(self, step: int, metrics: dict[str, float]) -> None:
        self.current.summary.update(metrics)

    def end_trial(self, finished: bool) -> None:
        self.current.finish(exit_code=0 if finished else 1)
