"""Progress as data: progress.json, derived from the state after every round."""

import json
import time
from pathlib import Path

import pytest

from deepal_bench.results import schema
from deepal_bench.run import loop
from deepal_bench.run.progress import Progress, UnreadableProgress, read_progress
from deepal_bench.run.store import RunStore


def test_progress_json_follows_every_round(tiny_cfg, monkeypatch):
    cfg = tiny_cfg("trials=2")
    out, seen = Path(cfg.output_dir), []
    save = RunStore.save

    def save_and_look(self, state):
        save(self, state)
        seen.append(json.loads((out / schema.PROGRESS_FILE).read_text()))

    monkeypatch.setattr(RunStore, "save", save_and_look)
    loop.run(cfg, cfg.output_dir)
    assert [(p["trial"], p["round"]) for p in seen[:-1]] == [
        (t, r) for t in (0, 1) for r in (0, 1, 2)
    ]
    assert seen[-1] == seen[-2]  # marking the run complete changes nothing
    for p in seen:
        assert (p["format"], p["trials"], p["rounds"]) == (1, 2, 2)
        time.strptime(p["updated"], "%Y-%m-%dT%H:%M:%SZ")
    assert read_progress(out) == Progress(2, 1, 2, 2, seen[-1]["updated"])
    assert read_progress(out).describe() == "trial 2/2, round 2/2 done"


def test_progress_json_is_derived_from_the_state(tiny_cfg):
    cfg = tiny_cfg()
    loop.run(cfg, cfg.output_dir)
    path = Path(cfg.output_dir) / schema.PROGRESS_FILE
    written = path.read_text()
    path.unlink()
    loop.run(cfg, cfg.output_dir)  # complete: repaired from the state, nothing computed
    assert path.read_text() == written


NOT_OURS = [
    "{not json",
    '{"format": 2, "trials": 1, "trial": 0, "round": 0, "rounds": 2}',
    '{"format": 1, "trials": "3", "trial": 0, "round": 0, "rounds": 2}',
    '{"format": 1, "trials": 3, "trial": -1, "round": 0, "rounds": 2}',
    '{"format": 1, "trials": 3, "trial": 0, "round": true, "rounds": 2}',
]


@pytest.mark.parametrize("content", NOT_OURS)
def test_a_progress_file_that_is_not_ours_is_refused_as_data(tmp_path, content):
    (tmp_path / schema.PROGRESS_FILE).write_text(content)
    with pytest.raises(UnreadableProgress):
        read_progress(tmp_path)
    assert read_progress(tmp_path / "absent") is None
