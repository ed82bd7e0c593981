"""Output formats: each writes every table, and the index, in one format.

A table writer turns a `family.Table` into one file `<name>.<suffix>`: CSV keeps `data` at
full precision, Markdown and LaTeX show `display` (mean ± std cells) with `digits`
decimals; Markdown adds the table's notes. An index writer turns the `family.Outcome` of a
command into its index page: `index.md` with links, and `index.html`, the whole report in one
self-contained page (`report.html`). Another format is one more writer in `TABLE_WRITERS` or
`INDEX_WRITERS`. Every file is written atomically and without following a symbolic link
(`results.io`); CSV cells that a spreadsheet would take for formulas are escaped
(`formats.spreadsheet_safe`).
"""

from pathlib import Path
from typing import Protocol

import pandas as pd

from deepal_bench.report import html
from deepal_bench.report.family import INTERNAL_COLUMNS, Outcome, Table
from deepal_bench.report.formats import cell, latex_table, markdown_table, spreadsheet_safe
from deepal_bench.results.io import atomic_write_csv, atomic_write_text

RUNS_FILE = "configs.csv"


def public(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` without the structured columns (cell keys, settings mappings)."""
    return frame.drop(columns=[c for c in INTERNAL_COLUMNS if c in frame.columns])


def shown(table: Table) -> pd.DataFrame:
    """The display frame (the data where there is none) as text cells."""
    frame = public(table.data if table.display is None else table.display)
    return frame.map(lambda value: cell(value, table.digits))


class TableWriter(Protocol):
    suffix: str

    def write(self, out: Path, table: Table) -> Path: ...


class CsvWriter:
    suffix = "csv"

    def write(self, out: Path, table: Table) -> Path:
        path = out / f"{table.name}.{self.suffix}"
        atomic_write_csv(path, spreadsheet_safe(public(table.data)))
        return path


class MarkdownWriter:
    suffix = "md"

    def write(self, out: Path, table: Table) -> Path:
        path = out / f"{table.name}.{self.suffix}"
        atomic_write_text(path, markdown_table(shown(table)) + notes_markdown(table.notes))
        return path


class LatexWriter:
    suffix = "tex"

    def write(self, out: Path, table: Table) -> Path:
        path = out / f"{table.name}.{self.suffix}"
        atomic_write_text(path, latex_table(shown(table)))
        return path


def notes_markdown(notes: list[str]) -> str:
    return "".join(f"\n{note}\n" for note in notes)


class IndexWriter(Protocol):
    def write(self, out: Path, outcome: Outcome) -> Path: ...


class MarkdownIndex:
    """`index.md`: links to every table and figure, what was not built, runs kept apart,
    skipped runs with their reasons, and every run used with its provenance."""

    def write(self, out: Path, outcome: Outcome) -> Path:
        path = out / "index.md"
        atomic_write_text(path, "\n".join(index_lines(outcome, out)) + "\n")
        return path


def _links(name: str) -> str:
    others = [w.suffix for w in TABLE_WRITERS if w.suffix != MarkdownWriter.suffix]
    return " · ".join(f"[{suffix}]({name}.{suffix})" for suffix in others)


def _figure_lines(outcome: Outcome, out: Path) -> list[str]:
    lines = []
    for title, paths, _ in outcome.figures:
        for png in (p for p in paths if p.suffix == ".png"):
            rel = png.relative_to(out)
            pdf = f" ([pdf]({rel.with_suffix('.pdf')}))" if png.with_suffix(".pdf") in paths else ""
            lines += [f"### {title}: {png.stem}", "", f"![{png.stem}]({rel}){pdf}", ""]
    return lines


def _section(title: str, items: list[str]) -> list[str]:
    return ["", f"## {title}", "", *(f"- {item}" for item in items)] if items else []


def index_lines(outcome: Outcome, out: Path) -> list[str]:
    used = len(outcome.runs)
    lines = [
        f"# {outcome.title}",
        "",
        f"{used} runs used, {len(outcome.skipped)} skipped. Every "
        "number is recomputed from the runs' records (rounds.csv, summary.csv); published "
        "numbers come from results/paper/.",
        "",
        "## Tables",
        "",
    ]
    lines += [f"- {t.title}: [{t.name}.md]({t.name}.md) · {_links(t.name)}" for t in outcome.tables]
    figures = _figure_lines(outcome, out)
    lines += ["", "## Figures", "", *figures] if figures else []
    lines += _section("Not built", outcome.not_built)
    lines += _section("Notes (runs kept apart, code versions pooled)", outcome.notes)
    lines += _section("Skipped runs", [f"`{s.path}`: {s.reason}" for s in outcome.skipped])
    lines += ["", "## Runs, configs and provenance", "", f"[{RUNS_FILE}]({RUNS_FILE})", ""]
    return lines + (markdown_table(outcome.runs).splitlines() if used else [])


class HtmlIndex:
    """`index.html`: every table and figure in one self-contained page (`report.html`)."""

    def write(self, out: Path, outcome: Outcome) -> Path:
        path = out / "index.html"
        tables = [(table, shown(table)) for table in outcome.tables]
        suffixes = tuple(writer.suffix for writer in TABLE_WRITERS)
        atomic_write_text(path, html.page(outcome, tables, suffixes, out, RUNS_FILE))
        return path


TABLE_WRITERS: tuple[TableWriter, ...] = (CsvWriter(), MarkdownWriter(), LatexWriter())
INDEX_WRITERS: tuple[IndexWriter, ...] = (MarkdownIndex(), HtmlIndex())
