"""Published numbers (results/paper/*.csv) next to ours, for every cell we reproduced.

Each CSV row is one published value: paper, table, dataset, strategy (our registry name),
metric (aubc, f_acc, time_ratio, first_acc, last_acc, auca_ratio, accuracy, ...), mean,
std, and optionally:

- batch: the per-cycle budget (blank = any);
- n_labeled: the labeled-set size a per-budget value (metric `accuracy`) is read at;
- unit: `percent` values are divided by 100, `minutes` / `hours` converted to seconds;
- where: `;`-separated `dotted.key=value` conditions on the run's resolved config that tell
  apart published cells sharing dataset, strategy and metric (e.g. `model.pretrained=true`,
  `estimator.name=dmle;selection.name=softmax`). Values are read as YAML (`true`, `0.4`,
  `null`, `det`); a `false` or `null` condition also holds when the run lacks the key;
- method, note: the paper's own label and remarks (`*` / `#` cells have no mean).

A cell matches when the dataset names agree ignoring case and punctuation ("CIFAR10-imb" =
"cifar10_imb"), the strategy names agree, the batch and n_labeled agree where the paper
gives them, and every `where` condition holds for the run's config. Rows of ours that carry
no config (the general report passes none) are matched without the `where` conditions.
"""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from omegaconf import OmegaConf

from deepal_bench.paths import PAPER_DIR
from deepal_bench.report.formats import markdown_table

COLUMNS = [
    "paper",
    "table",
    "dataset",
    "strategy",
    "metric",
    "mean",
    "std",
    "batch",
    "unit",
    "n_labeled",
    "where",
    "method",
    "note",
]
UNIT_SCALE = {"percent": 0.01, "minutes": 60.0, "hours": 3600.0}
VERSUS_COLUMNS = [
    "paper",
    "table",
    "dataset",
    "where",
    "setting",
    "strategy",
    "metric",
    "n_labeled",
    "ours_mean",
    "ours_std",
    "trials",
    "paper_mean",
    "paper_std",
    "difference",
]


def normalise(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def flat_config(config) -> dict[str, object]:
    """Dotted keys of a (resolved) config, every level included: `dataset.noise` holds the
    whole noise mapping (or None) and `dataset.noise.kind` its kind."""
    container = (
        OmegaConf.to_container(config, resolve=True) if OmegaConf.is_config(config) else config
    )

    def walk(value: object, prefix: str, out: dict[str, object]) -> dict[str, object]:
        if isinstance(value, dict):
            for key, inner in value.items():
                name = f"{prefix}.{key}" if prefix else str(key)
                out[name] = inner
                walk(inner, name, out)
        return out

    return walk(container, "", {})


def dataset_label(config: dict[str, object]) -> str:
    """The dataset as the papers name it: MedMNIST by flag, OpenML by id, RepeatedMNIST by
    its redundancy (share of duplicated images, FALCUN §4), else the catalogue name."""
    name = str(config.get("dataset.name"))
    if name == "medmnist":
        return str(config.get("dataset.flag"))
    if name == "openml":
        return f"openml-{config.get('dataset.data_id')}"
    redundancy = config.get("dataset.redundancy")
    if redundancy is not None:
        keep = redundancy.get("keep") if isinstance(redundancy, dict) else redundancy
        return f"repeated{name}-{round(100 * (1 - float(keep)))}"
    return name


def model_label(config: dict[str, object]) -> str:
    """Model name, with `pretrained` where the config says so."""
    name = str(config.get("model.name"))
    return f"{name} pretrained" if config.get("model.pretrained") else name


def load_published(paper_dir: Path = PAPER_DIR) -> pd.DataFrame:
    """Every published value with a `mean`, scaled to fractions (percent) and seconds."""
    frames = []
    for path in sorted(Path(paper_dir).glob("*.csv")):
        frame = pd.read_csv(path, dtype={"table": str, "batch": str, "where": str})
        if not {"paper", "dataset", "strategy", "metric", "mean"} <= set(frame.columns):
            continue
        frames.append(frame.reindex(columns=COLUMNS))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    published = pd.concat(frames, ignore_index=True).dropna(subset=["mean"])
    for unit, scale in UNIT_SCALE.items():
        rows = published["unit"] == unit
        published.loc[rows, ["mean", "std"]] = published.loc[rows, ["mean", "std"]] * scale
    return published.reset_index(drop=True)


def parse_where(text: object) -> dict[str, object]:
    """`a.b=1;c=true` -> {"a.b": 1, "c": True}; blank -> {}."""
    if not isinstance(text, str) or not text.strip():
        return {}
    conditions = {}
    for part in text.split(";"):
        key, _, value = part.partition("=")
        conditions[key.strip()] = yaml.safe_load(value.strip())
    return conditions


def _same(wanted: object, actual: object) -> bool:
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return wanted is actual or (wanted is False and actual is None)
    if isinstance(wanted, int | float) and isinstance(actual, int | float):
        return math.isclose(float(wanted), float(actual), rel_tol=1e-9, abs_tol=1e-12)
    return wanted == actual


def conditions_hold(conditions: dict[str, object], config: dict[str, object] | None) -> bool:
    """Every condition holds for the flat config (`None`: no config, nothing checked)."""
    if config is None:
        return True
    return all(_same(value, config.get(key)) for key, value in conditions.items())


def ours_long(
    overall: pd.DataFrame,
    full: pd.DataFrame | None = None,
    configs: dict[tuple[str, str], dict[str, object]] | None = None,
) -> pd.DataFrame:
    """Our overall table as (dataset, batch, strategy, metric, mean, std) rows.

    `configs` maps (setting, strategy) to the cell's flat config (`papers.common.flat_config`)
    so that the published `where` conditions can be checked."""
    rows = [r for row in overall.to_dict("records") for r in _metric_rows(row, configs or {})]
    if full is not None:
        rows += [_full_training_row(row) for row in full.to_dict("records")]
    return pd.DataFrame(rows)


def _metric_rows(row: dict, configs: dict[tuple[str, str], dict[str, object]]) -> list[dict]:
    """One long row per metric present in one cell of the overall table."""
    base = {
        "setting": row["setting"],
        "dataset": row["dataset"],
        "batch": row["batch"],
        "strategy": row["strategy"],
        "trials": row["trials"],
        "config": configs.get((row["setting"], row["strategy"])),
    }
    rows = [
        {**base, "metric": metric, "ours_mean": row[f"{metric}_mean"],
         "ours_std": row[f"{metric}_std"]}
        for metric in ("aubc", "f_acc", "first_acc", "last_acc", "auca_ratio")
        if f"{metric}_mean" in row and pd.notna(row[f"{metric}_mean"])
    ]  # fmt: skip
    if pd.notna(row.get("time_ratio", float("nan"))):
        time = {"metric": "time_ratio", "ours_mean": row["time_ratio"], "ours_std": float("nan")}
        rows.append({**base, **time})
    return rows


def _full_training_row(row: dict) -> dict:
    """The F-acc of training on the whole pool, as a `full` strategy row."""
    return {
        "setting": f"{row['dataset']}/{row['model']}/full",
        "dataset": row["dataset"],
        "batch": None,
        "strategy": "full",
        "trials": row["trials"],
        "config": None,
        "metric": "f_acc",
        "ours_mean": row["f_acc_mean"],
        "ours_std": row["f_acc_std"],
    }


def _agree(published: pd.Series, ours: pd.Series) -> pd.Series:
    """Published blank, or equal to ours as numbers (or as text)."""
    left = pd.to_numeric(published, errors="coerce")
    right = pd.to_numeric(ours, errors="coerce")
    text = published.astype(str) == ours.astype(str)
    return published.isna() | (left == right) | text


def compare(ours: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Ours vs paper for every matching cell: both means and stds and the difference."""
    if ours.empty or published.empty:
        return pd.DataFrame(columns=VERSUS_COLUMNS)
    ours = ours.reindex(columns=[*ours.columns, *{"config", "n_labeled"} - set(ours.columns)])
    left = ours.assign(
        key=ours["dataset"].map(normalise),
        base=ours["strategy"].astype(str).str.split(" [", regex=False).str[0],
    )
    right = published.assign(key=published["dataset"].map(normalise)).rename(
        columns={"mean": "paper_mean", "std": "paper_std", "dataset": "paper_dataset"}
    )
    merged = left.merge(
        right,
        left_on=["key", "base", "metric"],
        right_on=["key", "strategy", "metric"],
        suffixes=("", "_paper"),
    )
    if merged.empty:
        return pd.DataFrame(columns=VERSUS_COLUMNS)
    keep = _agree(merged["batch_paper"], merged["batch"])
    keep &= _agree(merged["n_labeled_paper"], merged["n_labeled"])
    keep &= pd.Series(
        [
            conditions_hold(parse_where(where), config)
            for where, config in zip(merged["where"], merged["config"], strict=True)
        ],
        index=merged.index,
    )
    merged = merged[keep].assign(difference=lambda m: m["ours_mean"] - m["paper_mean"])
    merged["dataset"] = merged["paper_dataset"]
    merged["n_labeled"] = [int(n) if pd.notna(n) else np.nan for n in merged["n_labeled_paper"]]
    return merged[VERSUS_COLUMNS].sort_values(
        ["paper", "table", "dataset", "setting", "strategy", "metric"]
    )


def versus_markdown(versus: pd.DataFrame) -> str:
    """The "ours vs paper" section a paper command prints (a note when nothing matched)."""
    body = (
        markdown_table(versus)
        if len(versus)
        else "no dataset/strategy of the paper in these records\n"
    )
    return f"## Ours vs paper ({len(versus)} reproduced cells)\n\n{body}"
