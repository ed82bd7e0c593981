"""One pipeline for every report (report.pipeline, report.writers): the index lists every
run's provenance, a table cell that pools runs of different code versions says so, every
table is written in every format."""

import pandas as pd
from support import ENTROPY, RANDOM, config, random_and_entropy, write_run
from test_results_provenance import session, write_provenance

from deepal_bench.cli.report import main
from deepal_bench.report.writers import TABLE_WRITERS


def test_the_index_lists_each_runs_provenance_and_unknown_without_the_file(tmp_path):
    root = tmp_path / "runs"
    known, _ = random_and_entropy(root)
    write_provenance(known, session(), session(host="node18", trial=2, git_dirty=True))
    out = tmp_path / "out"
    assert main([str(root), "--out", str(out), "--no-figures"]) == 0
    index = (out / "index.md").read_text()
    assert ("| random | 3 | 0 1 2 | 0.1.0@1a2b3c4 (uncommitted changes) | 2.14.1 / 12.4 "
            "| NVIDIA H100 80GB HBM3 | node17, node18 |") in index  # fmt: skip
    assert "| entropy | 3 | 0 1 2 | unknown | unknown | unknown | unknown |" in index
    runs = pd.read_csv(out / "configs.csv").set_index("strategy")
    assert (
        runs.loc["entropy", "code"] == "unknown" and runs.loc["random", "host"] == "node17, node18"
    )


def test_a_cell_pooling_code_versions_is_marked_with_a_note(tmp_path, capsys):
    root = tmp_path / "runs"
    old = write_run(root / "old", config("random", trials=2), RANDOM[:2])
    new = write_run(root / "new", config("random", seed=2, trials=1), RANDOM[2:])
    same = write_run(root / "entropy", config("entropy"), ENTROPY)
    write_provenance(old, session(git_commit="aaaaaaaaaa"))
    write_provenance(new, session(git_commit="bbbbbbbbbb"))
    write_provenance(same, session(git_commit="bbbbbbbbbb"))
    out = tmp_path / "out"
    assert main([str(root), "--out", str(out), "--no-figures"]) == 0
    table = (out / "aubc_facc.md").read_text()
    assert "| random † | 3 |" in table and "| entropy | 3 |" in table
    note = "pools runs made by 2 code versions (0.1.0@aaaaaaa, 0.1.0@bbbbbbb)"
    assert note in table and note in (out / "index.md").read_text()
    assert "random †" not in (out / "aubc_facc.csv").read_text()  # the data keep the label
    assert note in capsys.readouterr().err


def test_every_table_is_written_in_every_format(tmp_path):
    root = tmp_path / "runs"
    random_and_entropy(root)
    out = tmp_path / "out"
    assert main([str(root), "--out", str(out), "--no-figures"]) == 0
    index = (out / "index.md").read_text()
    for name in ("aubc_facc", "cycles_auca", "win_tie_loss", "paper_comparison"):
        assert f"[{name}.md]({name}.md) · [csv]({name}.csv) · [tex]({name}.tex)" in index
        for writer in TABLE_WRITERS:
            assert (out / f"{name}.{writer.suffix}").is_file()
    assert "## Not built" in index and "permutation tests: not built" in index


def test_only_the_rows_of_the_mixed_cell_are_marked(tmp_path):
    root = tmp_path / "runs"
    old = write_run(root / "old", config("random", trials=2), RANDOM[:2])
    new = write_run(root / "new", config("random", seed=2, trials=1), RANDOM[2:])
    write_run(root / "other", config("random", trainer__epochs=5), RANDOM)
    write_provenance(old, session(git_commit="aaaaaaaaaa"))
    write_provenance(new, session(git_commit="bbbbbbbbbb"))
    out = tmp_path / "out"
    assert main([str(root), "--out", str(out), "--no-figures"]) == 0
    rows = [line for line in (out / "aubc_facc.md").read_text().splitlines() if "| random" in line]
    assert len(rows) == 2
    marked = [row for row in rows if "random †" in row]
    assert len(marked) == 1 and "[trainer.epochs=20]" in marked[0]
