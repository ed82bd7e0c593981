"""Running a report family: build its tables and figures, compare ours with the published
cells of its papers, and write everything in every format (`report.writers`) with an index.

A builder that raises `family.Missing` is listed under "Not built" with its reason and the
others are still written; any other exception is a bug and propagates.
"""

from pathlib import Path

import pandas as pd

from deepal_bench.report.family import (
    Context,
    Drawn,
    Family,
    Figure,
    Missing,
    Outcome,
    Table,
)
from deepal_bench.report.formats import markdown_table, spreadsheet_safe
from deepal_bench.report.labels import MIXED_VERSIONS, mixed_version_notes
from deepal_bench.report.published import compare
from deepal_bench.report.writers import (
    INDEX_WRITERS,
    RUNS_FILE,
    TABLE_WRITERS,
    notes_markdown,
    shown,
)
from deepal_bench.results.io import atomic_write_csv
from deepal_bench.results.provenance import UNKNOWN, Provenance, code_version_text

VERSUS_SHOWN = [
    "paper",
    "table",
    "dataset",
    "method",
    "setting",
    "strategy",
    "metric",
    "n_labeled",
    "trials",
    "ours_mean",
    "ours_std",
    "paper_mean",
    "paper_std",
    "difference",
]


def _build(what: str, builder, ctx: Context, outcome: Outcome) -> list[Table | Figure]:
    """The builder's items, or none and one line in `outcome.not_built` saying why."""
    try:
        return builder(ctx)
    except Missing as reason:
        outcome.not_built.append(f"{what}: not built, {reason}")
    return []


def _shown_pairs(frame: pd.DataFrame, data: pd.DataFrame, mixed: dict) -> set:
    """The (setting, strategy) cells of `mixed` that a displayed frame shows."""
    if "setting" in frame:
        present = set(zip(frame["setting"], frame["strategy"], strict=True))
    else:
        settings = set(data["setting"]) if "setting" in data else {s for s, _ in mixed}
        present = {(s, t) for s in settings for t in frame["strategy"]}
    return {pair for pair in mixed if pair in present}


def _marked_rows(frame: pd.DataFrame, pairs: set) -> pd.Series:
    if "setting" in frame:
        shown = zip(frame["setting"], frame["strategy"], strict=True)
        return pd.Series([pair in pairs for pair in shown], index=frame.index)
    return frame["strategy"].isin({strategy for _, strategy in pairs})


def mark_mixed_versions(table: Table, mixed: dict[tuple[str, str], str]) -> Table:
    """`table` with a marker on the strategy of every row that shows a cell pooling runs of
    several code versions, and a note naming them."""
    frame = table.data if table.display is None else table.display
    pairs = _shown_pairs(frame, table.data, mixed) if "strategy" in frame else set()
    if not pairs:
        return table
    display = frame.copy()
    rows = _marked_rows(frame, pairs)
    display.loc[rows, "strategy"] = display.loc[rows, "strategy"].astype(str) + f" {MIXED_VERSIONS}"
    notes = [*table.notes, *(mixed[pair] for pair in sorted(pairs))]
    return Table(table.name, table.title, table.data, display, table.digits, notes)


def _write_table(table: Table, out: Path, outcome: Outcome) -> None:
    outcome.files += [writer.write(out, table) for writer in TABLE_WRITERS]
    outcome.tables.append(table)
    body = markdown_table(shown(table)) + notes_markdown(table.notes)
    outcome.markdown += f"## {table.title}\n\n{body}\n"


def _draw(figure: Figure, out: Path, outcome: Outcome) -> None:
    paths = figure.draw(out / "figures")
    outcome.files += paths
    if paths:
        outcome.figures.append(Drawn(figure.title, paths, figure.setting))
        rel = paths[0].relative_to(out)
        outcome.markdown += f"## {figure.title}\n\n![{figure.name}]({rel})\n\n"


def _write_item(
    item: Table | Figure,
    out: Path,
    outcome: Outcome,
    figures: bool,
    mixed: dict[tuple[str, str], str],
) -> None:
    if isinstance(item, Table):
        _write_table(mark_mixed_versions(item, mixed), out, outcome)
    elif figures:
        _draw(item, out, outcome)


def _ours(family: Family, ctx: Context, outcome: Outcome) -> pd.DataFrame:
    ours = _build("ours vs paper", family.ours, ctx, outcome)
    return ours if isinstance(ours, pd.DataFrame) else pd.DataFrame()


def versus_tables(family: Family, ctx: Context, outcome: Outcome) -> list[Table]:
    """Ours next to every published cell matched exactly, and the near cells unmatched."""
    published = ctx.published
    if family.papers is not None:
        published = published[published["paper"].isin(family.papers)]
    versus = compare(_ours(family, ctx, outcome), published)
    none = [] if len(versus.matched) else ["No published cell has the settings of these runs."]
    matched = Table(
        family.versus_name,
        f"Ours vs paper ({len(versus.matched)} cells with the same settings)",
        versus.matched,
        versus.matched[VERSUS_SHOWN],
        notes=none,
    )
    if versus.unmatched.empty:
        return [matched]
    title = (
        "Published cells of the same dataset and strategy not matched: the settings that "
        "differ from our nearest cell"
    )
    shown = versus.unmatched.drop(columns="where")  # the CSV keeps every setting
    return [matched, Table(f"{family.versus_name}_unmatched", title, versus.unmatched, shown)]


def _provenance_columns(provenance: Provenance) -> dict[str, str]:
    if not provenance.known:
        return {
            "code": provenance.problem or UNKNOWN,
            "torch / CUDA": UNKNOWN,
            "device": UNKNOWN,
            "host": UNKNOWN,
        }
    sessions = provenance.sessions

    def values(get) -> str:
        return ", ".join(dict.fromkeys(str(get(s)) for s in sessions))

    dirty = any(s.git_dirty for s in sessions)
    code = ", ".join(sorted(map(code_version_text, provenance.code_versions)))
    return {
        "code": code + (" (uncommitted changes)" if dirty else ""),
        "torch / CUDA": values(lambda s: f"{s.torch} / {s.cuda or 'none'}"),
        "device": values(lambda s: s.device),
        "host": values(lambda s: s.host),
    }


def runs_table(ctx: Context) -> pd.DataFrame:
    """Every run used: its cell, trial seeds, provenance and config file."""
    rows = []
    for cell in ctx.records.all_cells:
        for run in cell.runs:
            seeds = sorted(int(s) for s in run.rounds["seed"].unique())
            rows.append(
                {
                    "setting": ctx.labels.setting[cell.key],
                    "strategy": ctx.labels.strategy[cell.key],
                    "trials": len(seeds),
                    "seeds": " ".join(map(str, seeds)),
                    **_provenance_columns(run.provenance),
                    "config": str(run.path / "config.yaml"),
                }
            )
    return pd.DataFrame(rows)


def run_family(family: Family, ctx: Context, out: Path) -> Outcome:
    """Write every table and figure of `family` for the records of `ctx` into `out`."""
    (out / "figures").mkdir(parents=True, exist_ok=True)
    mixed = mixed_version_notes(ctx.records.all_cells, ctx.labels)
    outcome = Outcome(
        family.title,
        markdown=f"# {family.title}\n\n",
        notes=[*ctx.labels.notes, *mixed.values()],
        skipped=ctx.records.skipped,
        runs=runs_table(ctx),
    )
    items = [
        item for what, builder in family.builders for item in _build(what, builder, ctx, outcome)
    ]
    for item in [*items, *versus_tables(family, ctx, outcome)]:
        _write_item(item, out, outcome, ctx.options.figures, mixed)
    atomic_write_csv(out / RUNS_FILE, spreadsheet_safe(outcome.runs))
    outcome.files += [out / RUNS_FILE, *(writer.write(out, outcome) for writer in INDEX_WRITERS)]
    return outcome
