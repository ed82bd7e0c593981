"""Build the whole report from records: tables (Markdown, CSV, LaTeX), figures (PNG, PDF)
and an index.md linking them with the runs and configs that produced them."""

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from deepal_bench.metrics.dueling import DuelingResult
from deepal_bench.metrics.groups import MISMATCH, WORST_GROUP
from deepal_bench.report import figures, tables
from deepal_bench.report.formats import pm, to_markdown, write_table
from deepal_bench.report.paper import PAPER_DIR, compare, load_published, ours_long
from deepal_bench.report.permutation import permutation_table
from deepal_bench.results.collect import (
    DUPLICATE,
    Cell,
    Run,
    Skipped,
    collect,
    group_cells,
    round_table,
    trial_table,
)
from deepal_bench.results.io import atomic_write_csv, atomic_write_text


@dataclass
class ReportOptions:
    baseline: str = "random"
    group_by: tuple[str, ...] | None = None
    margin: float = 0.005
    alpha: float = 0.05
    permutations: int = 10_000
    reference: str | None = None
    paper_dir: Path = PAPER_DIR
    figures: bool = True


@dataclass
class Report:
    """What was built: the stdout table, written files, skipped runs and pooling notes."""

    summary_markdown: str
    files: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        """Runs collected but left out as duplicates of pooled trials."""
        return sum(1 for skip in self.skipped if skip.kind == DUPLICATE)


def _deepal_display(overall: pd.DataFrame, full: pd.DataFrame) -> pd.DataFrame:
    """DeepAL+ Tables 1/4-7 layout: AUBC, F-acc, Time per setting; Full row where known."""
    rows = []
    for setting, part in overall.groupby("setting", sort=True):
        dataset, model = part["dataset"].iloc[0], part["model"].iloc[0]
        reference = full[(full["dataset"] == dataset) & (full["model"] == model)]
        for ref in reference.itertuples():
            rows.append([setting, f"Full (n={ref.n_labeled})", ref.trials, "—",
                         pm(ref.f_acc_mean, ref.f_acc_std), "—"])  # fmt: skip
        for row in part.sort_values("aubc_mean", ascending=False).itertuples():
            rows.append(
                [
                    setting,
                    row.strategy,
                    row.trials,
                    pm(row.aubc_mean, row.aubc_std),
                    pm(row.f_acc_mean, row.f_acc_std),
                    "—" if pd.isna(row.time_ratio) else f"{row.time_ratio:.2f}",
                ]
            )
    return pd.DataFrame(rows, columns=["setting", "strategy", "trials", "AUBC", "F-acc", "Time"])


def _ralif_display(overall: pd.DataFrame) -> pd.DataFrame:
    """RALIF Table 2 layout: first- and last-cycle accuracy and AUCA ratio, mean ± std."""
    frame = pd.DataFrame(
        {
            "setting": overall["setting"],
            "strategy": overall["strategy"],
            "trials": overall["trials"],
            "First cycle": [
                pm(m, s) for m, s in zip(overall.first_acc_mean, overall.first_acc_std, strict=True)
            ],
            "Last cycle": [
                pm(m, s) for m, s in zip(overall.last_acc_mean, overall.last_acc_std, strict=True)
            ],
            "AUCA ratio": [
                pm(m, s, 3)
                for m, s in zip(overall.auca_ratio_mean, overall.auca_ratio_std, strict=True)
            ],
        }
    )
    return frame


def _group_display(groups: pd.DataFrame) -> pd.DataFrame:
    """DeepAL+ Table 8 layout: AUBC and F-acc of mismatch and worst-group accuracy."""
    frame = groups[["setting", "strategy"]].copy()
    for column, title in ((MISMATCH, "mismatch"), (WORST_GROUP, "worst group")):
        for metric, name in (("aubc", "AUBC"), ("f_acc", "F-acc")):
            key = f"{column}_{metric}"
            if f"{key}_mean" in groups:
                frame[f"{title} {name}"] = [
                    pm(m, s)
                    for m, s in zip(groups[f"{key}_mean"], groups[f"{key}_std"], strict=True)
                ]
    return frame


def _configs_table(cells: list[Cell]) -> pd.DataFrame:
    """Every run the report used: its cell, trial seeds and config file."""
    rows = []
    for cell in cells:
        for run in cell.runs:
            seeds = sorted(int(s) for s in run.rounds["seed"].unique())
            rows.append(
                {
                    "setting": cell.setting,
                    "strategy": cell.strategy,
                    "trials": len(seeds),
                    "seeds": " ".join(map(str, seeds)),
                    "config": str(run.path / "config.yaml"),
                }
            )
    return pd.DataFrame(rows)


@dataclass
class Records:
    """Pooled records of a set of runs, ready for the tables."""

    cells: list[Cell]
    full_cells: list[Cell]
    trials: pd.DataFrame
    rounds: pd.DataFrame
    full: pd.DataFrame
    skipped: list[Skipped]
    notes: list[str]

    def overall(self, baseline: str) -> pd.DataFrame:
        return tables.overall_table(self.trials, self.rounds, baseline)


def pool(runs: list[Run], skipped: list[Skipped], group_by: tuple[str, ...] | None) -> Records:
    """Split off full-data reference runs, pool the rest into cells, build trial/round tables."""
    full_runs = [run for run in runs if run.is_full_data]
    al_runs = [run for run in runs if not run.is_full_data]
    cells, duplicates, notes = group_cells(al_runs, group_by)
    full_cells, full_duplicates, full_notes = group_cells(full_runs, group_by)
    return Records(
        cells=cells,
        full_cells=full_cells,
        trials=trial_table(cells),
        rounds=round_table(cells),
        full=tables.full_table(trial_table(full_cells)),
        skipped=[*skipped, *duplicates, *full_duplicates],
        notes=[*notes, *full_notes],
    )


@dataclass
class Section:
    """One report table: file stem, title, the data (CSV) and its display (Markdown, LaTeX)."""

    name: str
    title: str
    data: pd.DataFrame
    display: pd.DataFrame | None = None


def _has_duels(duel: DuelingResult) -> bool:
    return duel.comparisons.to_numpy().sum() > 0


def _curve_sections(overall: pd.DataFrame, full: pd.DataFrame, baseline: str) -> list[Section]:
    sections = [
        Section("aubc_facc", "AUBC, F-acc and time ratio (DeepAL+ Tables 1, 4-7)", overall,
                _deepal_display(overall, full)),
        Section("cycles_auca", f"First/last cycle and AUCA ratio vs {baseline} (RALIF Table 2)",
                overall, _ralif_display(overall)),
    ]  # fmt: skip
    if len(full):
        sections.append(Section("full", "Full-data reference runs", full))
    return sections


def _comparison_sections(
    records: Records, overall: pd.DataFrame, duel: DuelingResult, options: ReportOptions
) -> list[Section]:
    """Win-tie-loss, significance, group accuracies and the dueling matrix."""
    sections = []
    if overall["strategy"].nunique() > 1:
        title = f"Win-tie-loss on mean AUBC, margin {options.margin} (DeepAL+ Table 9)"
        sections.append(Section("win_tie_loss", title,
                                tables.win_tie_loss_table(overall, options.margin)))  # fmt: skip
    significance = tables.significance_table(records.trials, options.baseline)
    if len(significance):
        title = f"AUBC vs {options.baseline}: paired t-test and Wilcoxon"
        sections.append(Section("significance", title, significance))
    groups = tables.group_table(records.rounds)
    if len(groups):
        sections.append(Section("groups", "Mismatch and worst-group accuracy (DeepAL+ Table 8)",
                                groups, _group_display(groups)))  # fmt: skip
    if _has_duels(duel):
        title = f"Dueling matrix, paired t-test at alpha={options.alpha} (FALCUN Fig. 4)"
        sections.append(Section("dueling_matrix", title, tables.dueling_table(duel)))
    return sections


def _reference_sections(
    records: Records, overall: pd.DataFrame, options: ReportOptions
) -> list[Section]:
    """Label-permutation tests and the published numbers next to ours."""
    sections = []
    reference = options.reference or options.baseline
    perm = permutation_table(records.cells, reference, options.baseline, options.permutations)
    if len(perm):
        title = "Label-permutation p-values, worst trial (RALIF Table 7)"
        sections.append(Section("permutation", title, perm))
    comparison = compare(ours_long(overall, records.full), load_published(options.paper_dir))
    if len(comparison):
        title = "Ours vs paper (published numbers in results/paper/)"
        sections.append(Section("paper_comparison", title, comparison))
    return sections


def build_report(
    runs: list[Run], skipped: list[Skipped], out: Path, options: ReportOptions
) -> Report:
    """Write every table and figure for `runs` into `out` and return what was written."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(exist_ok=True)
    records = pool(runs, skipped, options.group_by)
    summary = tables.summary_table(records.trials)
    report = Report(to_markdown(summary) if len(summary) else "", skipped=records.skipped,
                    notes=records.notes)  # fmt: skip
    sections: list[Section] = []
    if not records.trials.empty:
        overall = records.overall(options.baseline)
        duel = tables.dueling(records.rounds, options.alpha)
        sections += _curve_sections(overall, records.full, options.baseline)
        sections += _comparison_sections(records, overall, duel, options)
        sections += _reference_sections(records, overall, options)
    written = []
    for section in sections:
        paths = write_table(out, section.name, section.data, section.display)
        report.files += paths
        written.append((section.title, section.name, paths))
    if options.figures and not records.trials.empty:
        if _has_duels(duel):
            report.files += figures.dueling_figure(duel, out / "figures")
        report.files += _figures(records.rounds, summary, options.baseline, out / "figures")
    configs = _configs_table([*records.cells, *records.full_cells])
    atomic_write_csv(out / "configs.csv", configs)
    atomic_write_text(out / "index.md", _index(report, written, configs, out))
    report.files += [out / "configs.csv", out / "index.md"]
    return report


def _figures(rounds: pd.DataFrame, summary: pd.DataFrame, baseline: str, out: Path) -> list[Path]:
    """Accuracy (and group accuracy) curves per setting and the AUCA-ratio box plots."""
    paths = []
    for setting in sorted(rounds["setting"].unique()):
        paths += figures.curve_figure(rounds, summary, setting, out)
        part = rounds[rounds["setting"] == setting]
        for column in (MISMATCH, WORST_GROUP):
            if column in part and part[column].notna().any():
                paths += figures.curve_figure(rounds, summary, setting, out, column)
    ratios = tables.auca_ratio_table(rounds, baseline)
    if len(ratios):
        paths += figures.auca_boxplot(ratios, out)
    return paths


def _index(report: Report, sections, configs: pd.DataFrame, out: Path) -> str:
    lines = ["# deepal-bench report", ""]
    lines.append(f"{len(configs)} runs, {len(report.skipped)} skipped. Every number below is "
                 "recomputed from the runs' records (rounds.csv, summary.csv).")  # fmt: skip
    lines += ["", "## Tables", ""]
    for title, name, _ in sections:
        lines.append(f"- {title}: [{name}.md]({name}.md) · [csv]({name}.csv) · [tex]({name}.tex)")
    pngs = sorted(p for p in report.files if p.suffix == ".png")
    if pngs:
        lines += ["", "## Figures", ""]
        for png in pngs:
            rel = png.relative_to(out)
            lines += [
                f"### {png.stem}",
                "",
                f"![{png.stem}]({rel}) ([pdf]({rel.with_suffix('.pdf')}))",
                "",
            ]
    if report.notes:
        lines += ["", "## Runs kept apart (configs differ)", ""] + [f"- {n}" for n in report.notes]
    if report.skipped:
        lines += ["", "## Skipped runs", ""] + [f"- `{s.path}`: {s.reason}" for s in report.skipped]
    lines += ["", "## Runs and configs", "", "[configs.csv](configs.csv)", ""]
    lines.append("| setting | strategy | trials | seeds | config |")
    lines.append("|---|---|---|---|---|")
    for row in configs.itertuples():
        lines.append(
            f"| {row.setting} | {row.strategy} | {row.trials} | {row.seeds} | `{row.config}` |"
        )
    return "\n".join(lines) + "\n"


def records_from_dirs(
    dirs: list[Path], group_by: tuple[str, ...] | None = None, verbose: bool = True
) -> Records:
    """Collect and pool every run under `dirs` (skipped runs reported on stderr)."""
    runs, skipped = collect(dirs)
    records = pool(runs, skipped, group_by)
    if verbose:
        for skip in records.skipped:
            print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
        for note in records.notes:
            print(f"note: {note}", file=sys.stderr)
    return records
