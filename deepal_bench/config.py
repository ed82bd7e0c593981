"""Run identity: which config keys define a run, and the derived output directory."""

import hashlib
import json
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"

# Keys that do not change what a run computes (where it is written, how many trials are
# wanted — more trials extend a run —, threads, the progress bar).
NON_IDENTITY_KEYS = ("output_dir", "results_root", "trials", "threads", "progress", "hydra")
# Dataset keys that say where the files are, not what they contain (a run resumes on a
# machine whose DEEPAL_DATA differs).
NON_IDENTITY_DATASET_KEYS = ("root", "download")
PATH_GROUPS = ("dataset", "model", "strategy", "estimator", "selection", "budget")


def identity(cfg: DictConfig) -> dict:
    """The resolved config without the non-identity keys."""
    container = OmegaConf.to_container(cfg, resolve=False)
    for key in NON_IDENTITY_KEYS:
        container.pop(key, None)
    for key in NON_IDENTITY_DATASET_KEYS:
        (container.get("dataset") or {}).pop(key, None)
    return OmegaConf.to_container(OmegaConf.create(container), resolve=True)


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
