"""Finding and loading runs (results.collect): every crafted run directory is skipped with
its reason, within a time and memory limit, and never stops the others from loading; a
config from someone else never reads this machine's environment."""

import os
from pathlib import Path

import pytest
from crafted import KINDS, bounded, crafted_run, intact_run
from omegaconf import OmegaConf

from deepal_bench.results import schema
from deepal_bench.results.collect import (
    Run,
    collect,
    load_run,
    read_run_config,
    run_directories_under,
)
from deepal_bench.sweeps.status import run_status


def outcome(path: Path) -> tuple[str, str]:
    """(used | damaged | incomplete, the reason) of loading `path`."""
    loaded = load_run(path)
    return ("used", "") if isinstance(loaded, Run) else (loaded.kind, loaded.reason)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_crafted_run_is_skipped_with_its_reason_within_the_limits(tmp_path, kind):
    path = crafted_run(tmp_path / kind, kind)
    answer = bounded(lambda: outcome(path))
    assert answer.startswith(f"ok: ('{KINDS[kind].report}', "), answer
    if KINDS[kind].report != "used":
        assert "(" in answer.partition(", ")[2]  # a reason is given


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_status_says_what_a_crafted_run_is_within_the_limits(tmp_path, kind):
    path = crafted_run(tmp_path / kind, kind)
    answer = bounded(lambda: run_status(path, lock_timeout=1.0).state)
    assert answer == f"ok: '{KINDS[kind].status}'"


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("config_alias_bomb", "config.yaml uses a YAML alias (line 2); records never do"),
        ("config_5000_deep", "config.yaml is nested deeper than 64 levels"),
        ("config_fifo", "config.yaml is a FIFO, not a regular file"),
        ("config_link_out", "config.yaml is a symbolic link"),
        ("config_batch_0", "config.yaml has budget.batch=0, not an integer >= 1"),
        ("config_no_dataset", "config.yaml has no dataset.name"),
        ("config_missing_value", "config.yaml holds ??? at strategy.name"),
        ("config_number_key", "config.yaml has a key 1 that is not text"),
        ("config_quota_1e15", "rounds.csv has rounds [0, 1, 2] for trial 0"),
        ("rounds_dev_zero", "rounds.csv is a symbolic link"),
        ("rounds_fifo", "rounds.csv is a FIFO, not a regular file"),
        ("rounds_sparse_10gb", "rounds.csv is larger than 268,435,456 bytes"),
        ("rounds_folder", "rounds.csv is a folder, not a regular file"),
        ("done_dev_zero", "unreadable completion marker: DONE is a symbolic link"),
        ("done_fifo", "unreadable completion marker: DONE is a FIFO, not a regular file"),
        ("done_1e12_trials", "summary.csv has trials [0], expected 0..999999999999"),
        ("npy_shape_1e13", "claims shape (10000000000000,), more than 268,435,456 elements"),
        ("npz_as_npy", "trial0-round1.npy is a zip archive (an .npz saved under an .npy name)"),
        ("npy_object", "trial0-round1.npy holds dtype object; only arrays of integers are read"),
        ("predictions_link_out", "the folder predictions is a symbolic link or no folder"),
    ],
)
def test_the_reason_names_the_file_and_what_is_wrong(tmp_path, kind, reason):
    path = crafted_run(tmp_path / kind, kind)
    answer = bounded(lambda: outcome(path))
    assert answer.startswith("ok: ('damaged', ") and reason in answer, answer


def test_one_crafted_run_never_stops_the_others(tmp_path):
    for seed, kind in enumerate(sorted(KINDS), start=1):
        crafted_run(tmp_path / kind, kind, seed=seed)
    intact_run(tmp_path / "intact")
    used = [k for k, v in KINDS.items() if v.report == "used"]
    expected = (sorted(["intact", *used]), sorted(k for k in KINDS if k not in used))
    assert bounded(lambda: _names(tmp_path), seconds=30) == f"ok: {expected!r}"


def _names(root: Path) -> tuple[list[str], list[str]]:
    runs, skipped = collect([root])
    return sorted(r.path.name for r in runs), sorted(s.path.name for s in skipped)


def test_run_directories_are_found_without_following_links_or_entering_hydra(tmp_path):
    intact_run(tmp_path / "a")
    elsewhere = intact_run(tmp_path.parent / f"{tmp_path.name}-elsewhere")
    (tmp_path / "linked").symlink_to(elsewhere)
    (tmp_path / "a" / ".hydra").mkdir()
    (tmp_path / "a" / ".hydra" / schema.CONFIG_FILE).write_text("a: 1\n")
    assert run_directories_under([tmp_path]) == [tmp_path / "a"]
    status_markers = (schema.LOCK_FILE,)
    os.mkfifo(tmp_path / "a" / schema.LOCK_FILE)
    assert run_directories_under([tmp_path], status_markers) == [tmp_path / "a"]


@pytest.mark.parametrize(
    "value",
    ["${oc.env:HOME}", "\\${oc.env:HOME}", "\\\\${oc.env:HOME}", "a\\b${oc.env:HOME}\\"],
)
def test_no_config_value_reads_the_environment(tmp_path, monkeypatch, value):
    """A backslash before `${` made the escape itself escaped: `\\${oc.env:HOME}` in a
    colleague's config put this machine's home folder into the report."""
    monkeypatch.setenv("HOME", "/home/secret-user")
    path = intact_run(tmp_path / "run")
    (path / schema.CONFIG_FILE).write_text(
        (path / schema.CONFIG_FILE).read_text().replace("name: digits", f"name: '{value}'")
    )
    config = read_run_config(path)
    assert config.dataset.name == value
    assert OmegaConf.to_container(config, resolve=True)["dataset"]["name"] == value
    assert "secret-user" not in load_run(path).setting
