"""Published numbers (results/paper/*.csv) and exact matching of our cells against them.

Each CSV row is one published value: paper, table, dataset (the paper's name), method (the
paper's label), strategy (our registry name, for grouping), metric (aubc, f_acc,
time_ratio, first_acc, last_acc, auca_ratio, accuracy, ...), mean, std, unit, n_labeled,
where, note, and columns of a paper's own (model, not_significant_vs_ralif, ...):

- where: the settings the value was produced with, `;`-separated `dotted.key=value`
  (`true`, `false`, `null`, numbers, YAML lists / mappings, else text: `det`), e.g.
  `dataset.name=mnist;model.name=resnet18;model.stem=imagenet;model.pretrained=false;budget.initial=500;
  budget.batch=250;budget.quota=10000;trainer.epochs=20;strategy.name=entropy;...`;
- n_labeled: the labeled-set size a per-budget value (metric `accuracy`) is read at;
- unit: `percent` values are divided by 100, `minutes` / `hours` converted to seconds.

One of our rows matches a published cell only when the metric is the same, n_labeled is
the same where the paper gives one, and every setting of `where` equals ours (numbers
compared as numbers; a `false` or `null` setting also holds when our config lacks the key).
A published cell of the same metric, dataset and strategy that no row of ours matches is
reported with the settings that differ from our nearest row.
"""

import io
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from deepal_bench.paths import PAPER_DIR
from deepal_bench.results.safe_read import CSV_CAP, DamagedFile, parse_yaml, read_bytes

__all__ = ["PAPER_DIR", "compare", "load_published", "parse_where"]

COLUMNS = [
    "paper",
    "table",
    "dataset",
    "method",
    "strategy",
    "metric",
    "mean",
    "std",
    "unit",
    "n_labeled",
    "where",
    "note",
]
UNIT_SCALE = {"percent": 0.01, "minutes": 60.0, "hours": 3600.0}
LONG_COLUMNS = [
    "setting",
    "strategy",
    "n_labeled",
    "metric",
    "ours_mean",
    "ours_std",
    "trials",
    "config",
]
VERSUS_COLUMNS = [
    "paper",
    "table",
    "dataset",
    "method",
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
UNMATCHED_COLUMNS = [
    "paper",
    "table",
    "dataset",
    "method",
    "metric",
    "n_labeled",
    "where",
    "nearest",
    "differs",
]
NEAR_KEYS = ("dataset.name", "strategy.name")  # an unmatched cell is listed when these agree


LITERALS = {"true": True, "false": False, "null": None, "": None}


def setting_value(text: str) -> object:
    """A setting's value: `true`, `false`, `null`, a number, a YAML list or mapping, or text."""
    text = text.strip()
    if text in LITERALS:
        return LITERALS[text]
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return parse_yaml(text, name=f"setting {text[:40]!r}") if text[0] in "[{'\"" else text


def parse_where(text: object) -> dict[str, object]:
    """`a.b=1;c=true` -> {"a.b": 1, "c": True}; blank -> {}."""
    if not isinstance(text, str) or not text.strip():
        return {}
    pairs = (part.partition("=") for part in text.split(";"))
    return {key.strip(): setting_value(value) for key, _, value in pairs}


def _read(path: Path) -> pd.DataFrame | None:
    """One published CSV (read as `results.safe_read` reads records: a regular file of its
    folder, at most CSV_CAP bytes); None when it lacks the published columns."""
    data = read_bytes(path, CSV_CAP, path.parent)
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype={"table": str, "where": str})
    except (ValueError, pd.errors.ParserError) as err:
        raise DamagedFile(f"{path} is not a readable CSV ({err})") from None
    if not {"paper", "dataset", "strategy", "metric", "mean"} <= set(frame.columns):
        return None
    return frame


def load_published(paper_dir: Path = PAPER_DIR) -> pd.DataFrame:
    """Every published value with a `mean`, scaled to fractions (percent) and seconds, with
    its parsed `settings`."""
    frames = [f for f in map(_read, sorted(Path(paper_dir).glob("*.csv"))) if f is not None]
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "settings"])
    published = pd.concat(frames, ignore_index=True).dropna(subset=["mean"])
    published = published.reindex(columns=list(dict.fromkeys([*COLUMNS, *published.columns])))
    for unit, scale in UNIT_SCALE.items():
        rows = published["unit"] == unit
        published.loc[rows, ["mean", "std"]] = published.loc[rows, ["mean", "std"]] * scale
    published["settings"] = [parse_where(w) for w in published["where"]]
    return published.reset_index(drop=True)


def same_value(wanted: object, actual: object) -> bool:
    """Equal settings: numbers as numbers, `false` / `null` also for a missing key (None)."""
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return wanted is actual or (wanted is False and actual is None)
    if isinstance(wanted, int | float) and isinstance(actual, int | float):
        return math.isclose(float(wanted), float(actual), rel_tol=1e-9, abs_tol=1e-12)
    return wanted == actual


def differences(wanted: dict[str, object], actual: dict[str, object]) -> list[str]:
    """`key: ours X, paper Y` for every setting of `wanted` that `actual` does not share."""
    return [
        f"{key}: ours {actual.get(key, 'absent')}, paper {value}"
        for key, value in wanted.items()
        if not same_value(value, actual.get(key))
    ]


def _size(n_labeled: object) -> str:
    """A labeled-set size as text: `20` (never `20.0`), `none` when not given."""
    return "none" if n_labeled is None or pd.isna(n_labeled) else str(int(n_labeled))


def _config(ours: dict) -> dict:
    return ours["config"] if isinstance(ours.get("config"), dict) else {}


@dataclass(frozen=True)
class _Cell:
    """A published cell as compared: its row index, settings and labeled-set size."""

    index: int
    settings: dict
    n_labeled: float

    def differences(self, ours: dict) -> list[str]:
        found = differences(self.settings, _config(ours))
        if not pd.isna(self.n_labeled) and not same_value(self.n_labeled, ours["n_labeled"]):
            found.append(
                f"n_labeled: ours {_size(ours['n_labeled'])}, paper {_size(self.n_labeled)}"
            )
        return found

    def is_near(self, ours: dict) -> bool:
        config = _config(ours)
        return all(
            same_value(self.settings[k], config.get(k)) for k in NEAR_KEYS if k in self.settings
        )


def _cells_by_metric(published: pd.DataFrame) -> dict[str, list[_Cell]]:
    by_metric: dict[str, list[_Cell]] = {}
    for index, row in published.iterrows():
        cell = _Cell(index, row["settings"], row["n_labeled"])
        by_metric.setdefault(row["metric"], []).append(cell)
    return by_metric


@dataclass
class Versus:
    """Ours next to the paper for every matched cell, and the near cells left unmatched."""

    matched: pd.DataFrame
    unmatched: pd.DataFrame


def _closer(found: list[str], best: tuple | None) -> bool:
    return best is None or len(found) < len(best[1])


def _match(ours: list[dict], published: pd.DataFrame) -> tuple[list, dict]:
    """(published index, our row) pairs that match; per near unmatched cell its nearest row."""
    cells, pairs, nearest = _cells_by_metric(published), [], {}
    for row in ours:
        for cell in cells.get(row["metric"], []):
            found = cell.differences(row)
            if not found:
                pairs.append((cell.index, row))
            elif cell.is_near(row) and _closer(found, nearest.get(cell.index)):
                nearest[cell.index] = (row, found)
    matched = {index for index, _ in pairs}
    return pairs, {i: near for i, near in nearest.items() if i not in matched}


def _matched_frame(pairs: list, published: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for index, ours in pairs:
        paper = published.loc[index]
        rows.append(
            {
                **{c: paper[c] for c in ("paper", "table", "dataset", "method", "where", "metric")},
                **{c: ours[c] for c in ("setting", "strategy", "ours_mean", "ours_std", "trials")},
                "n_labeled": paper["n_labeled"]
                if not pd.isna(paper["n_labeled"])
                else ours["n_labeled"],
                "paper_mean": paper["mean"],
                "paper_std": paper["std"],
                "difference": ours["ours_mean"] - paper["mean"],
            }
        )
    frame = pd.DataFrame(rows, columns=VERSUS_COLUMNS)
    return frame.sort_values(["paper", "table", "dataset", "setting", "strategy", "metric"])


def _unmatched_frame(nearest: dict, published: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for index, (ours, found) in sorted(nearest.items()):
        paper = published.loc[index]
        rows.append(
            {
                **{c: paper[c] for c in UNMATCHED_COLUMNS[:7]},
                "nearest": f"{ours['setting']}, {ours['strategy']}",
                "differs": "; ".join(found),
            }
        )
    return pd.DataFrame(rows, columns=UNMATCHED_COLUMNS)


def compare(ours: pd.DataFrame, published: pd.DataFrame) -> Versus:
    """Exact matching of our long rows (`LONG_COLUMNS`) against the published cells."""
    rows = ours.reindex(columns=LONG_COLUMNS).to_dict("records") if len(ours) else []
    pairs, nearest = _match(rows, published)
    return Versus(_matched_frame(pairs, published), _unmatched_frame(nearest, published))
