"""Labels rendered from cell keys (report.labels): unique per cell, the differing settings
appended, --group-by keys as the base, notes on runs kept apart and code versions pooled."""

from support import ENTROPY, RANDOM, config, write_run
from test_results_provenance import session, write_provenance

from deepal_bench.report.labels import label_cells, mixed_version_notes
from deepal_bench.results.collect import collect
from deepal_bench.results.records import pool_runs


def _records(tmp_path):
    return pool_runs(*collect([tmp_path]))


def test_settings_sharing_a_label_get_their_differing_keys(tmp_path):
    write_run(tmp_path / "a", config("random"), RANDOM)
    write_run(tmp_path / "b", config("random", seed=5, trainer__epochs=5), RANDOM)
    labels = label_cells(_records(tmp_path).cells)
    base = "digits/lenet/10+20/10/imle-topk"
    assert sorted(labels.setting.values()) == [f"{base} [trainer.epochs=20]",
                                               f"{base} [trainer.epochs=5]"]  # fmt: skip
    assert labels.notes == [f"{base}: 2 configs differ in trainer.epochs; "
                            "their runs are not averaged together"]  # fmt: skip


def test_group_by_keys_make_the_base_and_strategy_options_their_suffix(tmp_path):
    write_run(
        tmp_path / "a", {**config("bald"), "strategy": {"name": "bald", "passes": 10}}, ENTROPY
    )
    write_run(
        tmp_path / "b", {**config("bald"), "strategy": {"name": "bald", "passes": 20}}, ENTROPY
    )
    write_run(tmp_path / "c", config("random", budget__quota=10), [c[:2] for c in RANDOM])
    labels = label_cells(_records(tmp_path).cells, group_by=("dataset.name", "trainer.epochs"))
    pairs = sorted(zip(labels.setting.values(), labels.strategy.values(), strict=True))
    assert pairs == [
        ("digits/20 [budget.quota=10]", "random"),
        ("digits/20 [budget.quota=20]", "bald [strategy.passes=10]"),
        ("digits/20 [budget.quota=20]", "bald [strategy.passes=20]"),
    ]
    assert len(labels.notes) == 2


def test_a_cell_of_several_code_versions_gets_a_note(tmp_path):
    a = write_run(tmp_path / "a", config("random", trials=1), RANDOM[:1])
    b = write_run(tmp_path / "b", config("random", seed=1, trials=1), RANDOM[1:2])
    same = write_run(tmp_path / "c", config("entropy"), ENTROPY)
    write_provenance(a, session(git_commit="aaaaaaaaaa"))
    write_provenance(b, session(git_commit="bbbbbbbbbb"))
    write_provenance(same, session(git_commit="aaaaaaaaaa"))
    records = _records(tmp_path)
    notes = mixed_version_notes(records.cells, label_cells(records.cells))
    assert notes == {("digits/lenet/10+20/10/imle-topk", "random"): (
        "† digits/lenet/10+20/10/imle-topk, random: pools runs made by 2 code versions "
        "(0.1.0@aaaaaaa, 0.1.0@bbbbbbb)")}  # fmt: skip


def test_a_dataset_is_named_by_its_descriptor_never_by_its_registered_name(monkeypatch):
    """MedMNIST by its flag, OpenML by its id, and a dataset registered under another name
    with the same descriptor is named the same way (no dispatch on catalogue names)."""
    from deepal_bench.data.catalogue import DATASETS, DESCRIPTORS
    from deepal_bench.report.labels import dataset_display_name

    assert dataset_display_name({"dataset.name": "medmnist", "dataset.flag": "pathmnist"}) == (
        "pathmnist"
    )
    assert dataset_display_name({"dataset.name": "openml", "dataset.data_id": 155}) == (
        "openml-155"
    )
    monkeypatch.setitem(DATASETS._items, "my_medmnist", DATASETS.get("medmnist"))
    monkeypatch.setitem(DESCRIPTORS, "my_medmnist", DESCRIPTORS["medmnist"])
    settings = {"dataset.name": "my_medmnist", "dataset.flag": "octmnist"}
    assert dataset_display_name(settings) == "octmnist"
    assert dataset_display_name({"dataset.name": "not_registered"}) == "not_registered"
