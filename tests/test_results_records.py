"""Pooling runs into cells (results.records): configs that agree pool, others stay apart,
duplicated trials are skipped, runs without acquisition are reference cells."""

from support import ENTROPY, RANDOM, config, write_run
from test_results_provenance import session, write_provenance

from deepal_bench.results.collect import DUPLICATE, collect
from deepal_bench.results.records import pool_runs, round_table, trial_table


def test_runs_of_one_config_pool_and_repeated_seeds_are_duplicates(tmp_path):
    write_run(tmp_path / "a", config("random", seed=0, trials=2), RANDOM[:2])
    write_run(tmp_path / "b", config("random", seed=2, trials=1), RANDOM[2:])
    write_run(tmp_path / "c", config("random", trials=3), RANDOM)  # seeds 0-2 again
    write_run(tmp_path / "d", config("entropy"), ENTROPY)
    records = pool_runs(*collect([tmp_path]))
    cells = {cell.key.strategy.name: cell for cell in records.cells}
    assert sorted(r.path.name for r in cells["random"].runs) == ["a", "b"]
    assert cells["random"].seeds == {0, 1, 2}
    (duplicate,) = records.skipped
    assert duplicate.kind == DUPLICATE and duplicate.path.name == "c"
    assert "duplicate trials (seeds [0, 1, 2])" in duplicate.reason


def test_the_data_folder_never_splits_a_cell_and_the_epochs_do(tmp_path):
    elsewhere = config("random", seed=3, trials=1)
    elsewhere["dataset"]["root"] = "/other/machine/data"
    write_run(tmp_path / "a", config("random"), RANDOM)
    write_run(tmp_path / "b", elsewhere, RANDOM[:1])
    write_run(tmp_path / "c", config("random", seed=5, trainer__epochs=5), RANDOM)
    records = pool_runs(*collect([tmp_path]))
    sizes = sorted((cell.key.epochs, len(cell.runs)) for cell in records.cells)
    assert sizes == [(5, 1), (20, 2)]


def test_runs_without_acquisition_are_reference_cells(tmp_path):
    write_run(tmp_path / "al", config("random"), RANDOM)
    write_run(tmp_path / "full", config("random", budget__initial=1258, budget__quota=0),
              [[0.95], [0.97], [0.96]])  # fmt: skip
    records = pool_runs(*collect([tmp_path]))
    assert [c.key.budget.quota for c in records.cells] == [20]
    assert [c.key.budget.initial for c in records.full_cells] == [1258]
    assert len(records.all_cells) == 2


def test_tables_carry_the_cell_key(tmp_path):
    write_run(tmp_path / "r", config("random"), RANDOM)
    records = pool_runs(*collect([tmp_path]))
    trials, rounds = trial_table(records.cells), round_table(records.cells)
    (key,) = {cell.key for cell in records.cells}
    assert list(trials["key"]) == [key] * 3 and list(rounds["key"]) == [key] * 9
    assert trials["aubc"].tolist() == [0.6, 0.615, 0.585]
    assert trials["first_acc"].tolist() == [0.6, 0.62, 0.58]


def test_a_cell_knows_the_code_versions_of_its_runs(tmp_path):
    a = write_run(tmp_path / "a", config("random", seed=0, trials=1), RANDOM[:1])
    b = write_run(tmp_path / "b", config("random", seed=1, trials=1), RANDOM[1:2])
    write_run(tmp_path / "c", config("random", seed=2, trials=1), RANDOM[2:])
    write_provenance(a, session(git_commit="aaaa"))
    write_provenance(b, session(git_commit="bbbb"), session(git_commit="aaaa", trial=1))
    (cell,) = pool_runs(*collect([tmp_path])).cells
    assert cell.code_versions == {("0.1.0", "aaaa"), ("0.1.0", "bbbb")}
    assert cell.runs_without_provenance == 1
