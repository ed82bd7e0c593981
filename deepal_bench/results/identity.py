"""Run identity: which config keys define a run, and the derived output directory."""

import hashlib
import json

from omegaconf import DictConfig, OmegaConf

__all__ = ["config_hash", "differing_keys", "identity", "identity_json", "run_path"]

# Keys that do not change what a run computes (where it is written, how many trials are
# wanted — more trials extend a run —, threads, the progress bar, where it is tracked
# live: a resumed run may log elsewhere).
NON_IDENTITY_KEYS = (
    "output_dir", "results_root", "trials", "threads", "progress", "lock_timeout", "hydra",
    "logger",
)  # fmt: skip
# Dataset keys that say where the files are, not what they contain (a run resumes on a
# machine whose DEEPAL_DATA differs).
NON_IDENTITY_DATASET_KEYS = ("root", "download")
PATH_GROUPS = ("dataset", "model", "strategy", "estimator", "selection", "budget")


def _drop_non_identity(container: dict) -> dict:
    container = {k: v for k, v in container.items() if k not in NON_IDENTITY_KEYS}
    if isinstance(container.get("dataset"), dict):
        dataset = container["dataset"]
        container["dataset"] = {
            k: v for k, v in dataset.items() if k not in NON_IDENTITY_DATASET_KEYS
        }
    return container


def identity(cfg: DictConfig) -> dict:
    """The resolved config without the non-identity keys (dropped before resolving, so
    Hydra-only interpolations such as the default output_dir are never evaluated)."""
    container = _drop_non_identity(OmegaConf.to_container(cfg, resolve=False))
    return OmegaConf.to_container(OmegaConf.create(container), resolve=True)


def identity_of(container: dict) -> dict:
    """The identity keys of a plain, already resolved config mapping (a run's config.yaml)."""
    return _drop_non_identity(container)


def identity_json(cfg: DictConfig) -> str:
    """`identity(cfg)` as canonical JSON (stored in the run state)."""
    return json.dumps(identity(cfg), sort_keys=True, default=str)


def config_hash(cfg: DictConfig) -> str:
    """Short stable hash of `identity(cfg)`."""
    blob = json.dumps(identity(cfg), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def run_path(cfg: DictConfig, choices: dict) -> str:
    """`<dataset>/<model>/<strategy>/<estimator>-<selection>/<budget>/seed<seed>-<hash>`.

    Built from the Hydra group choices and the seed, no timestamp, so re-running a sweep
    finds finished and unfinished runs where it left them.
    """
    part = {g: str(choices.get(g) or cfg.get(g, {}).get("name", g)) for g in PATH_GROUPS}
    return (
        f"{part['dataset']}/{part['model']}/{part['strategy']}/"
        f"{part['estimator']}-{part['selection']}/{part['budget']}/"
        f"seed{cfg.seed}-{config_hash(cfg)}"
    )


def differing_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested dicts."""
    keys = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            keys += differing_keys(va, vb, f"{prefix}{key}.")
        elif va != vb:
            keys.append(f"{prefix}{key}")
    return keys
