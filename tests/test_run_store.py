"""Run directories: identity, repair from the state, damaged files, permissions."""

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest
import torch
from support import assert_same_records

from deepal_bench.errors import ConfigError
from deepal_bench.results import schema
from deepal_bench.run import loop
from deepal_bench.run.store import RunStore


@pytest.fixture
def reference(tiny_cfg):
    """An uninterrupted two-trial entropy run."""
    cfg = tiny_cfg("trials=2", name="reference")
    loop.run(cfg, cfg.output_dir)
    return Path(cfg.output_dir)


def test_state_saved_but_csvs_not_in_the_last_round_is_repaired(tiny_cfg, reference, monkeypatch):
    """Finding 1: killed after state.pt of the last round, before its CSVs; the rerun must
    rewrite the CSVs and only then write DONE."""
    cfg = tiny_cfg("trials=2", name="killed")
    calls = {"n": 0}
    real = RunStore.write_records

    def die_on_last(self, state, only_changed=False):
        calls["n"] += 1
        if calls["n"] == 6:  # 2 trials x 3 rounds: the last round's CSV write
            raise KeyboardInterrupt
        return real(self, state, only_changed)

    monkeypatch.setattr(RunStore, "write_records", die_on_last)
    with pytest.raises(KeyboardInterrupt):
        loop.run(cfg, cfg.output_dir)
    monkeypatch.setattr(RunStore, "write_records", real)
    out = Path(cfg.output_dir)
    assert not (out / schema.DONE_FILE).exists()
    loop.run(cfg, cfg.output_dir)
    assert_same_records(out, reference)
    assert (out / schema.DONE_FILE).read_text() == "2 trials complete\n"


def test_truncated_csv_of_a_complete_run_is_repaired_from_the_state(tiny_cfg, reference):
    """Finding 5: a truncated rounds.csv in a complete run is rewritten from state.pt."""
    cfg = tiny_cfg("trials=2", name="reference")
    full = (reference / schema.ROUNDS_FILE).read_text()
    (reference / schema.ROUNDS_FILE).write_text(full[: len(full) // 2])
    (reference / schema.QUERIES_FILE).unlink()
    loop.run(cfg, cfg.output_dir)
    assert (reference / schema.ROUNDS_FILE).read_text() == full
    assert (reference / schema.QUERIES_FILE).exists()


def test_identity_is_checked_without_the_state(tiny_cfg, reference):
    """Finding 3: state.pt deleted, rerun with another strategy: refused, nothing relabelled."""
    (reference / schema.STATE_FILE).unlink()
    other = tiny_cfg("trials=2", "strategy=margin", name="reference")
    before = (reference / schema.CONFIG_FILE).read_text()
    with pytest.raises(ConfigError, match="strategy.name"):
        loop.run(other, other.output_dir)
    assert (reference / schema.CONFIG_FILE).read_text() == before


def test_identity_is_checked_against_the_state_without_config(tiny_cfg, monkeypatch):
    """Finding 3: a partial run whose config.yaml was removed, resumed with another strategy."""
    cfg = tiny_cfg("trials=2", name="partial")
    real = RunStore.save

    def stop_after_first(self, state):
        real(self, state)
        raise KeyboardInterrupt

    monkeypatch.setattr(RunStore, "save", stop_after_first)
    with pytest.raises(KeyboardInterrupt):
        loop.run(cfg, cfg.output_dir)
    monkeypatch.setattr(RunStore, "save", real)
    (Path(cfg.output_dir) / schema.CONFIG_FILE).unlink()
    other = tiny_cfg("trials=2", "strategy=margin", name="partial")
    with pytest.raises(ConfigError, match="by its state.pt.*strategy.name"):
        loop.run(other, other.output_dir)


def test_config_is_written_once_and_more_trials_do_not_rewrite_it(tiny_cfg, reference):
    """Finding 3: trials=1 on a 2-trial run left config.yaml (and the report) untouched;
    a later extension to 3 trials is recorded in DONE, not in config.yaml."""
    before = (reference / schema.CONFIG_FILE).read_text()
    loop.run(tiny_cfg("trials=1", name="reference"), str(reference))
    assert (reference / schema.CONFIG_FILE).read_text() == before
    loop.run(tiny_cfg("trials=3", name="reference"), str(reference))
    assert (reference / schema.CONFIG_FILE).read_text() == before
    assert (reference / schema.DONE_FILE).read_text() == "3 trials complete\n"
    assert len(pd.read_csv(reference / schema.SUMMARY_FILE)) == 3


def test_nothing_is_written_when_a_check_fails(tiny_cfg):
    """Finding 3: config.yaml was written before the config was validated."""
    cfg = tiny_cfg("strategy=bald", "strategy.mc_passes=0", name="bad")
    with pytest.raises(ConfigError, match="strategy.mc_passes"):
        loop.run(cfg, cfg.output_dir)
    assert not Path(cfg.output_dir).exists()
    cfg = tiny_cfg("budget.quota=100000", name="too_big")
    with pytest.raises(ConfigError, match="training pool"):
        loop.run(cfg, cfg.output_dir)
    assert not any(Path(cfg.output_dir).iterdir())


class _Marker:
    """Unpickling this creates a file: the proof that data ran code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.mark.parametrize(
    "content",
    ["crafted", b"\x00garbage bytes\xff", "truncated"],
    ids=["crafted-pickle", "random-bytes", "truncated"],
)
def test_damaged_or_crafted_state_runs_nothing_and_is_one_paragraph(tiny_cfg, tmp_path, content):
    """Findings 4 and 5: state.pt is never unpickled with code; damage is a ConfigError."""
    cfg = tiny_cfg("trials=2", name="run")
    out = Path(cfg.output_dir)
    marker = tmp_path / "marker"
    loop.run(tiny_cfg("trials=1", name="run"), cfg.output_dir)
    state = out / schema.STATE_FILE
    if content == "crafted":
        torch.save({"format": 2, "rounds": _Marker(str(marker))}, state)
    elif content == "truncated":
        state.write_bytes(state.read_bytes()[:50])
    else:
        state.write_bytes(content)
    with pytest.raises(ConfigError, match=r"state.pt is damaged.*remove the run directory"):
        loop.run(cfg, cfg.output_dir)
    assert not marker.exists()


def test_complete_run_with_damaged_state_or_done_is_not_a_traceback(tiny_cfg, reference):
    """Finding 5: a complete run was loaded (and crashed) before DONE was checked."""
    cfg = tiny_cfg("trials=2", name="reference")
    (reference / schema.STATE_FILE).write_bytes(b"garbage")
    state = loop.run(cfg, cfg.output_dir)
    assert [row["trial"] for row in state.summary] == [0, 1]
    (reference / schema.DONE_FILE).write_text("garbage")
    with pytest.raises(ConfigError, match="state.pt is damaged"):
        loop.run(cfg, cfg.output_dir)


def test_records_honour_the_umask_and_temp_files_are_cleaned(tiny_cfg):
    """Finding 9: records were created 0600; killed writes left .*.tmp files for ever."""
    cfg = tiny_cfg(name="perm")
    out = Path(cfg.output_dir)
    out.mkdir(parents=True)
    leftover = out / f".rounds.csv.abc123{schema.TEMP_SUFFIX}"
    leftover.write_text("half a write")
    old = os.umask(0o022)
    try:
        loop.run(cfg, cfg.output_dir)
    finally:
        os.umask(old)
    assert not leftover.exists()
    for name in (schema.CONFIG_FILE, schema.ROUNDS_FILE, schema.STATE_FILE, schema.DONE_FILE):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644


def test_a_state_written_before_progress_and_provenance_resumes(tiny_cfg, reference, monkeypatch):
    """A run interrupted under the format-2 state (no progress, no provenance) resumes to the
    same records; its provenance starts with the launch that resumed it."""
    cfg = tiny_cfg("trials=2", name="old")
    real, saved = RunStore.save, []

    def stop_after_two(self, state):
        real(self, state)
        saved.append(1)
        if len(saved) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunStore, "save", stop_after_two)
    with pytest.raises(KeyboardInterrupt):
        loop.run(cfg, cfg.output_dir)
    monkeypatch.setattr(RunStore, "save", real)
    out = Path(cfg.output_dir)
    state = torch.load(out / schema.STATE_FILE, weights_only=True)
    new = ("launch_trials", "query_rounds", "saved_at", "sessions")
    old = {k: v for k, v in state.items() if k not in new} | {"format": 2}
    torch.save(old, out / schema.STATE_FILE)
    for name in (schema.PROGRESS_FILE, schema.PROVENANCE_FILE):
        (out / name).unlink()
    loop.run(cfg, cfg.output_dir)
    assert_same_records(out, reference)
    sessions = json.loads((out / schema.PROVENANCE_FILE).read_text())["sessions"]
    assert [(s["trial"], s["round"]) for s in sessions] == [(0, 2)]
    assert json.loads((out / schema.PROGRESS_FILE).read_text())["trial"] == 1
