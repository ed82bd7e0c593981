"""Paper layouts and the scripts/paper_*.py commands on synthetic records."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from support import ENTROPY, RANDOM, config, write_run

from deepal_bench.report.layouts import deepal_plus_table1, deepal_plus_table9, ralif_table2

ROOT = Path(__file__).resolve().parents[1]


def _overall(rows):
    columns = ["setting", "dataset", "strategy", "aubc_mean", "f_acc_mean", "first_acc_mean",
               "first_acc_std", "last_acc_mean", "last_acc_std", "auca_ratio_mean",
               "auca_ratio_std"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


OVERALL = _overall(
    [
        ["s1", "mnist", "random", 0.90, 0.95, 0.80, 0.01, 0.95, 0.01, 1.0, 0.0],
        ["s1", "mnist", "entropy", 0.92, 0.97, 0.82, 0.02, 0.97, 0.01, 1.02, 0.01],
        ["s2", "svhn", "random", 0.70, 0.80, 0.60, 0.03, 0.80, 0.02, 1.0, 0.0],
        ["s2", "svhn", "entropy", 0.69, 0.82, 0.58, 0.01, 0.82, 0.02, 0.98, 0.02],
    ]
)


def test_deepal_plus_table1_layout_with_full_row():
    full = pd.DataFrame({"dataset": ["mnist"], "model": ["lenet"], "f_acc_mean": [0.99]})
    table = deepal_plus_table1(OVERALL, full).set_index("strategy")
    assert list(table.columns) == ["mnist AUBC", "mnist F-acc", "svhn AUBC", "svhn F-acc"]
    assert list(table.index) == ["Full", "entropy", "random"]
    assert table.loc["Full", "mnist F-acc"] == 0.99 and pd.isna(table.loc["Full", "mnist AUBC"])
    assert table.loc["entropy", "svhn AUBC"] == 0.69


def test_deepal_plus_table9_with_paper_counts():
    paper = pd.DataFrame({"strategy": ["entropy"], "win": [40], "tie": [54], "loss": [42],
                          "rank": [12]})  # fmt: skip
    table = deepal_plus_table9(OVERALL, paper).set_index("strategy")
    # mnist: entropy +.02 (win); svhn: -.01 (loss) -> 1-0-1 each
    assert table.loc["entropy", ["win", "tie", "loss"]].tolist() == [1, 0, 1]
    assert table.loc["entropy", "paper_win"] == 40 and pd.isna(table.loc["random", "paper_win"])


def test_ralif_table2_average_rows_by_hand():
    table = ralif_table2(OVERALL)
    average = table[table["setting"] == "Average (2 settings)"].set_index("strategy")
    # entropy first-cycle means .82 and .58: mean .70, std sqrt(2 * .12^2 / 1) = .1697
    assert average.loc["entropy", "First cycle"] == "0.7000 ± 0.1697"
    assert average.loc["random", "AUCA ratio"] == "1.000 ± 0.000"
    assert table.iloc[0].tolist() == ["s1", "entropy", "0.8200 ± 0.0200", "0.9700 ± 0.0100",
                                      "1.020 ± 0.010"]  # fmt: skip


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name, expected",
    [
        ("paper_deepal_plus", ["deepal_plus_table1.md", "deepal_plus_table9.csv"]),
        ("paper_ralif", ["ralif_table2.tex", "ralif_vs_paper.csv"]),
        ("paper_falcun", ["falcun_dueling_matrix.md", "dueling_matrix.png"]),
    ],
)
def test_paper_scripts_write_their_tables(tmp_path, capsys, name, expected):
    root = tmp_path / "runs"
    write_run(root / "r", config("random"), RANDOM)
    write_run(root / "e", config("entropy"), ENTROPY, 0.5)
    out = tmp_path / "out"
    assert _script(name).main([str(root), "--out", str(out)]) == 0
    for file in expected:
        assert (out / file).is_file()
    stdout = capsys.readouterr().out
    if name == "paper_deepal_plus":
        assert "| entropy | 0.6775 | 0.8033 |" in stdout
    if name == "paper_falcun":
        # round 1: entropy-random .1, .1, .11 -> significant; round 2 likewise
        assert "| entropy | — | 100.0 | 100.0 |" in stdout


def test_versus_markdown_counts_cells_and_says_when_none_matched():
    import pandas as pd

    from deepal_bench.report.paper import versus_markdown

    one = versus_markdown(pd.DataFrame({"dataset": ["mnist"], "ours": [0.97], "paper": [0.96]}))
    assert one.startswith("## Ours vs paper (1 reproduced cells)") and "| mnist |" in one
    none = versus_markdown(pd.DataFrame(columns=["dataset", "ours", "paper"]))
    assert "(0 reproduced cells)" in none and "no dataset/strategy of the paper" in none
