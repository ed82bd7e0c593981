"""Table cells and tables as Markdown and LaTeX text (no extra dependency: plain tabular),
and frames made safe to open in a spreadsheet.

Cells hold text from other people's configs (strategy and dataset names, settings). In a
CSV, a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (`=HYPERLINK(...)` runs when clicked): such text gets
a leading apostrophe, which spreadsheets show as text (OWASP's advice on CSV injection);
numbers, and text that is a plain number, are kept. Markdown cells keep their text, with
`|` escaped and line breaks as spaces so a cell cannot split the table; LaTeX cells are
escaped (`latex_escape`).
"""

import math
import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def cell(value: object, digits: int = 4) -> str:
    """A table cell: floats with `digits` decimals, NaN as an em dash."""
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def pm(mean: float, std: float, digits: int = 4) -> str:
    """`mean ± std`, or an em dash when the mean is missing."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "—"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def spreadsheet_text(value: object) -> object:
    """`value`, with a leading apostrophe when it is text a spreadsheet would take for a
    formula."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell and column name passed through `spreadsheet_text`."""
    safe = frame.rename(columns=spreadsheet_text)
    kinds = (pd.api.types.is_object_dtype, pd.api.types.is_string_dtype)
    text = [i for i, dtype in enumerate(safe.dtypes) if any(k(dtype) for k in kinds)]
    if text:
        safe = safe.copy()
        for i in text:
            safe.isetitem(i, safe.iloc[:, i].map(spreadsheet_text))
    return safe


def markdown_cell(text: str) -> str:
    """`text` as one Markdown table cell: `|` escaped, line breaks as spaces."""
    return " ".join(text.replace("|", "\\|").splitlines()) if text else text


def markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    header = "| " + " | ".join(markdown_cell(str(c)) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = [
        "| " + " | ".join(markdown_cell(cell(v, digits)) for v in row) + " |"
        for row in frame.itertuples(False)
    ]
    return "\n".join([header, rule, *rows]) + "\n"


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text).replace("±", r"$\pm$")


def latex_table(frame: pd.DataFrame, digits: int = 4) -> str:
    spec = "l" * len(frame.columns)
    lines = [rf"\begin{{tabular}}{{{spec}}}", r"\toprule"]
    lines.append(" & ".join(latex_escape(str(c)) for c in frame.columns) + r" \\")
    lines.append(r"\midrule")
    for row in frame.itertuples(False):
        lines.append(" & ".join(latex_escape(cell(v, digits)) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def summary_markdown(table: pd.DataFrame) -> str:
    """AUBC / F-acc per setting (the table printed to stdout), best mean AUBC first."""
    blocks = []
    for setting, part in table.groupby("setting", sort=True):
        lines = [f"### {setting}", "", "| strategy | trials | AUBC | F-acc |", "|---|---|---|---|"]
        for row in part.sort_values("aubc_mean", ascending=False).itertuples():
            lines.append(
                f"| {row.strategy} | {row.trials} | {pm(row.aubc_mean, row.aubc_std)} "
                f"| {pm(row.f_acc_mean, row.f_acc_std)} |"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
