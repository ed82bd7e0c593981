"""Reading provenance.json (results.provenance): the BRIEF's format, a run without the file
is "unknown" and never damaged, a bad file is reported and the run still used."""

import json
from pathlib import Path

import pytest
from support import RANDOM, config, write_run

from deepal_bench.results import schema
from deepal_bench.results.collect import Run, load_run
from deepal_bench.results.provenance import code_version_text, read_provenance


def session(**changes) -> dict:
    return {"package": "0.1.0", "git_commit": "1a2b3c4d5e6f7a8b9c0d", "git_dirty": False,
            "python": "3.11.7", "torch": "2.14.1", "cuda": "12.4", "cudnn": "9.1.0",
            "device": "NVIDIA H100 80GB HBM3", "host": "node17",
            "started": "2026-11-30T17:02:11Z", "trial": 0, "round": 0, **changes}  # fmt: skip


def write_provenance(path: Path, *sessions: dict) -> Path:
    data = {"format": 1, "sessions": list(sessions)}
    (path / schema.PROVENANCE_FILE).write_text(json.dumps(data))
    return path


def test_sessions_and_code_versions_are_read(tmp_path):
    second = session(git_commit="ffffffffff", host="node18", trial=1, round=2, cuda=None)
    write_provenance(tmp_path, session(), second)
    provenance = read_provenance(tmp_path)
    assert provenance.known and provenance.problem is None
    assert [s.host for s in provenance.sessions] == ["node17", "node18"]
    assert provenance.sessions[1].cuda is None and provenance.sessions[1].round == 2
    assert provenance.code_versions == {("0.1.0", "1a2b3c4d5e6f7a8b9c0d"), ("0.1.0", "ffffffffff")}
    assert code_version_text(("0.1.0", "1a2b3c4d5e6f7a8b9c0d")) == "0.1.0@1a2b3c4"
    assert code_version_text(("0.1.0", None)) == "0.1.0@no git"


def test_a_run_without_the_file_is_unknown_and_loads(tmp_path):
    path = write_run(tmp_path / "run", config("random"), RANDOM)
    run = load_run(path)
    assert isinstance(run, Run)
    assert not run.provenance.known and run.provenance.problem is None


@pytest.mark.parametrize(
    "text, reason",
    [
        ("{not json", "Expecting property name"),
        ('{"format": 2, "sessions": []}', "not a format 1"),
        ('{"format": 1, "sessions": {}}', "'sessions' is not a list"),
        ('{"format": 1, "sessions": [{"torch": 2}]}', "a session lacks package"),
        (json.dumps({"format": 1, "sessions": [session(torch=2)]}), "torch=2 is not a string"),
        (json.dumps({"format": 1, "sessions": [session(trial=-1)]}), "trial=-1 is not a count"),
        (json.dumps({"format": 1, "sessions": [session(git_dirty="yes")]}), "git_dirty='yes'"),
    ],
)
def test_an_unreadable_file_is_reported_and_the_run_still_loads(tmp_path, text, reason):
    path = write_run(tmp_path / "run", config("random"), RANDOM)
    (path / schema.PROVENANCE_FILE).write_text(text)
    run = load_run(path)
    assert isinstance(run, Run) and not run.provenance.known
    assert run.provenance.problem.startswith("unreadable provenance.json")
    assert reason in run.provenance.problem
