"""The report as one self-contained HTML page (`index.html`), opened from the file system.

Every table and figure of the report, a section per setting (the figures of that setting
and the rows of every table with a setting column), then what spans settings (the other
figures and tables, and tables without rows), what was not built, the notes, the skipped
runs with their reasons and every run used with its provenance. Figures are inline base64
PNGs, the style sheet and the table-sorting script (click a column header; numbers sort
as numbers, `mean ± std` by its mean, missing values last) are inline: no server, no
network, no file besides the page. Every text from the records and configs is escaped;
the page's Content-Security-Policy runs only its own script (by hash) and loads nothing,
so even markup that escaped the escaping could neither run nor fetch.

Plain HTML built with the standard library's `html.escape`: a template engine would be one
more dependency for one page of tables and images.
"""

import base64
import hashlib
import html
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from deepal_bench.report.family import Drawn, Outcome, Table
from deepal_bench.report.formats import cell

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 1.5em 3em; color: #1b1b1b; }
h1 { margin-bottom: .2em; } h2 { border-bottom: 2px solid #ccc; margin-top: 2em; }
h3 { margin: 1.4em 0 .3em; font-size: 1.05em; }
nav ul { columns: 2; padding-left: 1.2em; }
table { border-collapse: collapse; margin: .3em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d0d0; padding: .2em .55em; text-align: left; }
th { background: #eef1f5; cursor: pointer; user-select: none; position: sticky; top: 0; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: #f8f9fb; }
.scroll { overflow-x: auto; }
.files, .note, .empty { color: #555; font-size: .92em; margin: .2em 0; }
figure { display: inline-block; vertical-align: top; width: 100%; max-width: 580px;
         margin: 1em 1em 1em 0; }
figure img { width: 100%; height: auto; }
figcaption { color: #444; font-size: .92em; }
code { font-size: .92em; word-break: break-all; }
"""

SCRIPT = """
(function () {
  "use strict";
  const NUMBER = /^[~†]?\\s*(-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?)/i;
  function key(cell) {
    const text = cell ? cell.textContent.trim() : "";
    const match = NUMBER.exec(text);
    return { num: match ? parseFloat(match[1]) : NaN, text: text };
  }
  function compare(a, b, sign) {
    const aText = isNaN(a.num), bText = isNaN(b.num);
    if (aText !== bText) { return aText ? 1 : -1; }
    if (aText) { return sign * a.text.localeCompare(b.text, undefined, { numeric: true }); }
    return sign * (a.num - b.num);
  }
  function sortBy(table, column, header) {
    const sign = header.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).map(function (row, i) {
      return { row: row, key: key(row.cells[column]), i: i };
    });
    rows.sort(function (a, b) { return compare(a.key, b.key, sign) || a.i - b.i; });
    rows.forEach(function (entry) { body.appendChild(entry.row); });
    Array.from(table.tHead.rows[0].cells).forEach(function (th) {
      th.setAttribute("aria-sort", "none");
    });
    header.setAttribute("aria-sort", sign === 1 ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.from(table.tHead.rows[0].cells).forEach(function (header, column) {
      header.addEventListener("click", function () { sortBy(table, column, header); });
    });
  });
})();
"""


def esc(value: object) -> str:
    """`value` as HTML text (quotes escaped too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def content_security_policy() -> str:
    """Nothing loaded from anywhere; only inline images, and this page's style and script."""
    return (
        f"default-src 'none'; img-src data:; style-src {_sha256(STYLE)}; "
        f"script-src {_sha256(SCRIPT)}; base-uri 'none'; form-action 'none'"
    )


def table_html(frame: pd.DataFrame) -> str:
    """A sortable table of `frame`'s cells (text as written in the Markdown tables)."""
    head = "".join(f'<th scope="col" aria-sort="none">{esc(c)}</th>' for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(cell(value))}</td>" for value in row) + "</tr>\n"
        for row in frame.itertuples(index=False)
    )
    return (
        f'<div class="scroll"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{rows}</tbody></table></div>"
    )


def _href(path: str) -> str:
    return esc(quote(path))


def _table_block(table: Table, frame: pd.DataFrame, suffixes: tuple[str, ...]) -> str:
    files = " · ".join(
        f'<a href="{_href(f"{table.name}.{suffix}")}">{esc(suffix)}</a>' for suffix in suffixes
    )
    notes = "".join(f'<p class="note">{esc(note)}</p>' for note in table.notes)
    body = table_html(frame) if len(frame) else '<p class="empty">No rows.</p>'
    return f'<h3>{esc(table.title)}</h3>\n<p class="files">{files}</p>\n{body}\n{notes}\n'


def _image(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def _figure_block(drawn: Drawn, out: Path) -> str:
    blocks = []
    for png in (p for p in drawn.paths if p.suffix == ".png"):
        pdf = png.with_suffix(".pdf")
        link = f' (<a href="{_href(str(pdf.relative_to(out)))}">pdf</a>)' * (pdf in drawn.paths)
        blocks.append(
            f'<figure><img src="{_image(png)}" alt="{esc(png.stem)}">'
            f"<figcaption>{esc(drawn.title)}: {esc(png.stem)}{link}</figcaption></figure>\n"
        )
    return "".join(blocks)


def _settings(tables: list[tuple[Table, pd.DataFrame]], outcome: Outcome) -> list[str]:
    """Every setting label of the tables' rows and the figures, in order of appearance."""
    found = [s for _, frame in tables if "setting" in frame for s in frame["setting"]]
    return list(dict.fromkeys([*found, *(d.setting for d in outcome.figures if d.setting)]))


def _sections(
    outcome: Outcome,
    tables: list[tuple[Table, pd.DataFrame]],
    suffixes: tuple[str, ...],
    out: Path,
) -> dict[str | None, list[str]]:
    """Setting label (None: across settings) -> its figure blocks, then its table blocks."""
    sections: dict[str | None, list[str]] = {s: [] for s in _settings(tables, outcome)}
    sections[None] = []
    for drawn in outcome.figures:
        where = drawn.setting if drawn.setting in sections else None
        sections[where].append(_figure_block(drawn, out))
    for table, frame in tables:
        if "setting" not in frame or frame.empty:
            sections[None].append(_table_block(table, frame, suffixes))
            continue
        for setting, part in frame.groupby("setting", sort=False):
            sections[setting].append(_table_block(table, part.drop(columns="setting"), suffixes))
    return sections


def _list_section(anchor: str, title: str, items: list[str]) -> str:
    entries = "".join(f"<li>{esc(item)}</li>" for item in items)
    return f'<section id="{anchor}"><h2>{esc(title)}</h2><ul>{entries}</ul></section>\n'


def _skipped_section(outcome: Outcome) -> str:
    frame = pd.DataFrame(
        [(str(s.path), s.kind, s.reason) for s in outcome.skipped],
        columns=["run", "kind", "reason"],
    )
    body = table_html(frame) if len(frame) else '<p class="empty">None.</p>'
    return f'<section id="skipped"><h2>Skipped runs ({len(frame)})</h2>{body}</section>\n'


def _runs_section(outcome: Outcome, runs_file: str) -> str:
    link = f'<p class="files"><a href="{_href(runs_file)}">{esc(runs_file)}</a></p>'
    body = table_html(outcome.runs) if len(outcome.runs) else '<p class="empty">None.</p>'
    title = "Runs, configs and provenance"
    return f'<section id="runs"><h2>{title}</h2>{link}{body}</section>\n'


def _contents(entries: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="#{anchor}">{esc(title)}</a></li>' for anchor, title in entries)
    return f"<nav><h2>Contents</h2><ul>{items}</ul></nav>\n"


def _section(anchor: str, title: str, blocks: list[str]) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>\n{"".join(blocks)}</section>\n'


def _body(
    sections: dict[str | None, list[str]], outcome: Outcome, runs_file: str
) -> tuple[list[tuple[str, str]], list[str]]:
    """The contents' (anchor, title) entries and the sections in page order."""
    contents, body = [], []
    for number, (setting, blocks) in enumerate(sections.items(), start=1):
        if blocks:
            anchor = "across" if setting is None else f"setting-{number}"
            title = "Across settings" if setting is None else f"Setting {setting}"
            contents.append((anchor, title))
            body.append(_section(anchor, title, blocks))
    extras = [
        ("not-built", "Not built", outcome.not_built),
        ("notes", "Notes (runs kept apart, code versions pooled)", outcome.notes),
    ]
    for anchor, title, items in extras:
        if items:
            contents.append((anchor, title))
            body.append(_list_section(anchor, title, items))
    contents.append(("skipped", f"Skipped runs ({len(outcome.skipped)})"))
    contents.append(("runs", "Runs, configs and provenance"))
    body += [_skipped_section(outcome), _runs_section(outcome, runs_file)]
    return contents, body


def _head(title: str) -> str:
    return (
        '<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(content_security_policy())}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{esc(title)}</title>\n<link rel="icon" href="data:,">\n<style>{STYLE}</style>\n'
    )


def page(
    outcome: Outcome,
    tables: list[tuple[Table, pd.DataFrame]],
    suffixes: tuple[str, ...],
    out: Path,
    runs_file: str,
) -> str:
    """The whole page: `tables` are the outcome's tables with their displayed cells, the
    files of each table have `suffixes`, the figures and `runs_file` lie under `out`."""
    contents, body = _body(_sections(outcome, tables, suffixes, out), outcome, runs_file)
    summary = (
        f"{len(outcome.runs)} runs used, {len(outcome.skipped)} skipped. Every number is "
        "recomputed from the runs' records (rounds.csv, summary.csv); published numbers "
        "come from results/paper/. Click a column header to sort a table."
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{_head(outcome.title)}</head>\n<body>\n'
        f"<header><h1>{esc(outcome.title)}</h1>\n<p>{esc(summary)}</p></header>\n"
        f"{_contents(contents)}<main>\n{''.join(body)}</main>\n"
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
