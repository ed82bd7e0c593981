"""The jobs of a sweep, expanded exactly as `deepal-bench -m OVERRIDES...` expands them.

Hydra's basic sweeper takes `hydra.sweeper.params` of the composed sweep config (a preset's
grid), appends the command-line overrides (which win for the same key) and forms the
cartesian product of every comma-separated value. `deepal-bench-plan` and
`deepal-bench-status --expect` use this to know a sweep's jobs and their run directories
without launching anything.
"""

from dataclasses import dataclass

from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from deepal_bench.paths import CONF_DIR
from deepal_bench.results.identity import run_path


@dataclass
class Job:
    """One job of a sweep: its overrides, composed config and default run directory."""

    overrides: list[str]
    config: DictConfig
    run_dir: str


def job_overrides(overrides: list[str]) -> list[list[str]]:
    """The override list of every job of `deepal-bench -m *overrides`, in launch order."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return _job_overrides(overrides)


def _job_overrides(overrides: list[str]) -> list[list[str]]:
    loader = GlobalHydra.instance().config_loader()
    sweep_cfg = loader.load_configuration("config", list(overrides), run_mode=RunMode.MULTIRUN)
    params = sweep_cfg.hydra.sweeper.params or {}
    arguments = [f"{k}={v}" for k, v in params.items()] + list(overrides)
    parsed = OverridesParser.create(config_loader=loader).parse_overrides(arguments)
    (batch,) = BasicSweeper.split_arguments(parsed, None)
    return [list(job) for job in batch]


def expand(overrides: list[str]) -> list[Job]:
    """Every job of the sweep, composed, with the run directory its default output_dir
    would give (`<results_root>/<dataset>/.../seed<S>-<hash>`)."""
    jobs = []
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for job in _job_overrides(overrides):
            cfg = compose("config", overrides=job, return_hydra_config=True)
            choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
            with open_dict(cfg):
                del cfg["hydra"]
            jobs.append(Job(job, cfg, f"{cfg.results_root}/{run_path(cfg, choices)}"))
    return jobs
