"""Each paper's tables in the paper's layout, from run records, with "ours vs paper".

`deepal-bench-paper FAMILY RESULTS_DIR... --out DIR` (see `cli.py`); one module per paper
family. `run_family` builds every table of a family: a table the records cannot give is
reported in one line (what is missing) and the others are still written.
"""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from deepal_bench.report.formats import cell, markdown_table, write_table
from deepal_bench.report.paper import compare, versus_markdown
from deepal_bench.report.papers import constrained, deepal_plus, dmle, falcun, ralif
from deepal_bench.report.papers.common import Context, Figure, Missing, Table
from deepal_bench.results.io import atomic_write_text

FAMILIES = {
    "deepal_plus": deepal_plus,
    "ralif": ralif,
    "falcun": falcun,
    "dmle": dmle,
    "constrained": constrained,
}
TITLES = {
    "deepal_plus": "DeepAL+ comparative survey (Zhan et al.)",
    "ralif": "RALIF, reliable active learning via influence functions",
    "falcun": "FALCUN, fast uncertainty- and diversity-based AL",
    "dmle": "DMLE, dependency-aware maximum likelihood estimation (Kalkanlı et al.)",
    "constrained": "Active learning under constrained and noisy data (Pantea)",
}


@dataclass
class Outcome:
    """What a family command built: printed Markdown, files, skipped tables."""

    markdown: str = ""
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)


def _write(item: Table | Figure, out: Path, outcome: Outcome, figures: bool) -> None:
    if isinstance(item, Figure):
        if figures:
            paths = item.draw(out / "figures")
            outcome.files += paths
            if paths:
                path = paths[0].relative_to(out)
                outcome.sections.append((item.title, str(path)))
                outcome.markdown += f"## {item.title}\n\n![{item.name}]({path})\n\n"
        return
    shown = item.data if item.display is None else item.display
    shown = shown.map(lambda value: cell(value, item.digits))
    outcome.files += write_table(out, item.name, item.data, shown)
    outcome.sections.append((item.title, f"{item.name}.md"))
    notes = "".join(f"\n{note}\n" for note in item.notes)
    outcome.markdown += f"## {item.title}\n\n{markdown_table(shown)}{notes}\n"


def _build(what: str, builder, ctx: Context, outcome: Outcome) -> list[Table | Figure]:
    """The builder's tables, or none and one line in `outcome.skipped` saying why."""
    try:
        return builder(ctx)
    except Missing as reason:
        outcome.skipped.append(f"{what}: not built, {reason}")
    except (KeyError, ValueError, TypeError, IndexError) as error:
        outcome.skipped.append(f"{what}: not built, {type(error).__name__}: {error}")
    return []


def run_family(name: str, ctx: Context, out: Path) -> Outcome:
    """Write every table of family `name` for the records of `ctx` into `out`."""
    family = FAMILIES[name]
    out.mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(exist_ok=True)
    outcome = Outcome(markdown=f"# {TITLES[name]}\n\n")
    for what, builder in family.BUILDERS:
        for item in _build(what, builder, ctx, outcome):
            _write(item, out, outcome, ctx.options.figures)
    ours = _build("ours vs paper", family.ours, ctx, outcome)
    published = ctx.published[ctx.published["paper"] == name]
    versus = compare(ours if isinstance(ours, pd.DataFrame) else pd.DataFrame(), published)
    outcome.files += write_table(out, f"{name}_vs_paper", versus)
    outcome.sections.append((f"Ours vs paper ({len(versus)} cells)", f"{name}_vs_paper.md"))
    outcome.markdown += versus_markdown(versus)
    atomic_write_text(out / "index.md", _index(name, outcome))
    outcome.files.append(out / "index.md")
    return outcome


def _index(name: str, outcome: Outcome) -> str:
    lines = [
        f"# {TITLES[name]}",
        "",
        "Recomputed from run records; published numbers from results/paper/.",
        "",
    ]
    lines += [f"- [{title}]({path})" for title, path in outcome.sections]
    if outcome.skipped:
        lines += ["", "## Not built", ""] + [f"- {line}" for line in outcome.skipped]
    return "\n".join(lines) + "\n"
