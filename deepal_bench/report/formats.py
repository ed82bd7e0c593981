"""Table cells and tables as Markdown and LaTeX text (no extra dependency: plain tabular)."""

import math

import pandas as pd

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


def markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = [
        "| " + " | ".join(cell(v, digits) for v in row) + " |" for row in frame.itertuples(False)
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
