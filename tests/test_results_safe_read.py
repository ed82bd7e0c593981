"""Bounded, inert reading: crafted files are refused with a one-line reason, each read in a
forked child under a time limit (SIGALRM) and an address-space limit (RLIMIT_AS), so a
read that hangs, blows up memory or recurses fails the test instead of the machine."""

import io
import os
import pickle
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from crafted import SECONDS, alias_bomb, bounded, npy_header

from deepal_bench.results import safe_read
from deepal_bench.results.safe_read import DamagedFile


@pytest.fixture
def run(tmp_path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    return folder


# --- crafted files --------------------------------------------------------------------------


def test_a_symlink_out_of_the_run_directory_is_not_followed(run, tmp_path):
    (tmp_path / "secret.yaml").write_text("token: 1\n")
    (run / "config.yaml").symlink_to(tmp_path / "secret.yaml")
    assert bounded(lambda: safe_read.read_yaml(run / "config.yaml", within=run)) == (
        "damaged: config.yaml is a symbolic link"
    )


def test_a_folder_linked_inside_the_run_directory_is_not_followed(run, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "trial0-round1.npy").write_bytes(b"")
    (run / "predictions").symlink_to(tmp_path / "elsewhere")
    reason = bounded(lambda: safe_read.read_npy(run / "predictions" / "trial0-round1.npy", run))
    assert reason == (
        "damaged: predictions/trial0-round1.npy: the folder predictions is a symbolic link "
        "or no folder"
    )


def test_a_path_outside_the_run_directory_is_refused(run, tmp_path):
    (tmp_path / "other.yaml").write_text("a: 1\n")
    reason = bounded(lambda: safe_read.read_yaml(run / ".." / "other.yaml", within=run))
    assert reason.startswith("damaged: ") and "is outside" in reason


@pytest.mark.parametrize("name", ["rounds.csv", "DONE", "deepal-bench.log"])
def test_a_link_to_dev_zero_is_refused_without_reading(run, name):
    (run / name).symlink_to("/dev/zero")
    for read in (lambda: safe_read.read_csv(run / name, within=run),
                 lambda: safe_read.read_text(run / name, safe_read.MARKER_CAP, run),
                 lambda: safe_read.read_tail(run / name, within=run)):  # fmt: skip
        assert bounded(read) == f"damaged: {name} is a symbolic link"


def test_a_device_is_not_a_regular_file():
    assert bounded(lambda: safe_read.read_text(Path("/dev/zero"), 100)) == (
        "damaged: /dev/zero is a device, not a regular file"
    )


def test_a_fifo_named_lock_never_blocks(run):
    os.mkfifo(run / "LOCK")
    start = time.monotonic()
    reason = bounded(lambda: safe_read.read_json(run / "LOCK", safe_read.LOCK_CAP, run))
    assert reason == "damaged: LOCK is a FIFO, not a regular file"
    assert time.monotonic() - start < SECONDS


def test_a_huge_file_is_refused_by_its_size(run):
    with open(run / "rounds.csv", "wb") as handle:
        handle.truncate(10**10)  # sparse: 10 GB that take no disk
    assert bounded(lambda: safe_read.read_csv(run / "rounds.csv", within=run)) == (
        f"damaged: rounds.csv is larger than {safe_read.CSV_CAP:,} bytes"
    )


def test_a_small_file_costs_its_size_not_the_cap(run):
    (run / "rounds.csv").write_text("trial,round\n0,0\n")
    cap = 4 << 30  # far above the memory a read may add, so a buffer sized by it fails
    answer = bounded(lambda: safe_read.read_bytes(run / "rounds.csv", cap, within=run))
    assert answer == "ok: b'trial,round\\n0,0\\n'"


def test_a_file_that_grows_past_the_cap_while_read_is_refused(run, monkeypatch):
    (run / "rounds.csv").write_bytes(b"x" * 10)
    opened = safe_read.open_file

    def growing(path, within=None):
        with opened(path, within) as (handle, size):
            (run / "rounds.csv").write_bytes(b"x" * 100)
            yield handle, size

    monkeypatch.setattr(safe_read, "open_file", contextmanager(growing))
    with pytest.raises(DamagedFile, match="larger than 50 bytes"):
        safe_read.read_bytes(run / "rounds.csv", 50, within=run)


def test_a_yaml_alias_bomb_is_refused_without_expanding_it(run):
    (run / "config.yaml").write_text(alias_bomb())
    assert bounded(lambda: safe_read.read_yaml(run / "config.yaml", within=run)) == (
        "damaged: config.yaml uses a YAML alias (line 2); records never do"
    )


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,
        "{a: " * 5000 + "1" + "}" * 5000,
        "".join(" " * i + f"k{i}:\n" for i in range(1000)) + " " * 1000 + "v\n",
    ],  # fmt: skip
    ids=["flow-lists", "flow-maps", "block"],
)
def test_a_deep_yaml_is_refused_without_recursion(run, text):
    (run / "config.yaml").write_text(text)
    reason = bounded(lambda: safe_read.read_yaml(run / "config.yaml", within=run))
    assert reason.startswith("damaged: config.yaml is nested deeper than 64 levels")


def test_a_deep_json_lock_is_refused_before_parsing(run):
    (run / "LOCK").write_text("[" * 30000 + "]" * 30000)
    assert bounded(lambda: safe_read.read_json(run / "LOCK", safe_read.LOCK_CAP, run)) == (
        "damaged: LOCK is nested deeper than 64 levels"
    )


def test_json_brackets_inside_strings_do_not_count():
    text = '{"host": "[[[[[[[[[[", "pid": 1, "note": "\\"]]]]"}'
    assert safe_read.parse_json(text, max_depth=1) == {"host": "[" * 10, "pid": 1,
                                                        "note": '"]]]]'}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"since": NaN}', "NaN is not JSON"),
        ('{"pid": ' + "9" * 5000 + "}", "not valid JSON"),
        ("{'a': 1}", "not valid JSON"),
    ],  # fmt: skip
)
def test_json_is_strict(text, reason):
    with pytest.raises(DamagedFile, match=reason):
        safe_read.parse_json(text)


def test_an_npy_header_claiming_1e13_elements_allocates_nothing(run):
    (run / "predictions").mkdir()
    path = run / "predictions" / "trial0-round1.npy"
    path.write_bytes(npy_header((10**13,)) + b"\0" * 64)
    assert bounded(lambda: safe_read.read_npy(path, within=run)) == (
        f"damaged: predictions/trial0-round1.npy claims shape (10000000000000,), more than "
        f"{safe_read.NPY_ELEMENTS:,} elements"
    )


def test_an_npz_saved_under_an_npy_name_is_refused(run):
    buffer = io.BytesIO()
    np.savez(buffer, predictions=np.arange(4))
    (run / "trial0-round1.npy").write_bytes(buffer.getvalue())
    assert bounded(lambda: safe_read.read_npy(run / "trial0-round1.npy", within=run)) == (
        "damaged: trial0-round1.npy is a zip archive (an .npz saved under an .npy name)"
    )


class _Marker:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_an_object_npy_is_refused_without_unpickling(run, tmp_path):
    marker = tmp_path / "ran"
    array = np.array([_Marker(str(marker)), 1], dtype=object)
    header = npy_header((2,), "|O")
    (run / "labels.npy").write_bytes(header + pickle.dumps(array))
    assert bounded(lambda: safe_read.read_npy(run / "labels.npy", within=run)) == (
        "damaged: labels.npy holds dtype object; only arrays of booleans, integers, floats are read"
    )
    assert not marker.exists()


def test_a_truncated_npy_is_refused(run):
    (run / "x.npy").write_bytes(npy_header((10,)) + b"\0" * 39)
    assert bounded(lambda: safe_read.read_npy(run / "x.npy", within=run)) == (
        "damaged: x.npy holds 39 data bytes, not the 40 its header claims"
    )


def test_text_that_is_not_utf8_is_refused(run):
    (run / "DONE").write_bytes(b"\xff\xfe3 trials complete\n")
    reason = bounded(lambda: safe_read.read_text(run / "DONE", safe_read.MARKER_CAP, run))
    assert reason.startswith("damaged: DONE is not UTF-8 text")


def test_a_missing_file_is_missing_not_damaged(run):
    assert bounded(lambda: safe_read.read_json(run / "provenance.json", within=run)) == (
        "missing: provenance.json"
    )


# --- what the writers write still reads -----------------------------------------------------


def test_records_round_trip(run):
    (run / "config.yaml").write_text("dataset:\n  name: wine\nseed: 0\nlist: [1, 2.5, null]\n")
    assert safe_read.read_yaml(run / "config.yaml", within=run) == {
        "dataset": {"name": "wine"}, "seed": 0, "list": [1, 2.5, None]}  # fmt: skip
    frame = pd.DataFrame({"trial": [0, 0], "round": [0, 1], "accuracy": [0.5, 0.75]})
    frame.to_csv(run / "rounds.csv", index=False)
    pd.testing.assert_frame_equal(safe_read.read_csv(run / "rounds.csv", within=run), frame)
    (run / "LOCK").write_text('{"host": "node17", "pid": 12, "since": 1.5}')
    assert safe_read.read_json(run / "LOCK", safe_read.LOCK_CAP, run)["host"] == "node17"
    (run / "predictions").mkdir()
    for array in (np.arange(7, dtype=np.int32), np.asfortranarray(np.arange(6.0).reshape(2, 3))):
        np.save(run / "predictions" / "a.npy", array)
        read = safe_read.read_npy(run / "predictions" / "a.npy", within=run)
        assert read.dtype == array.dtype and (read == array).all()
    (run / "deepal-bench.log").write_text("".join(f"line {i}\n" for i in range(10000)))
    assert safe_read.read_tail(run / "deepal-bench.log", 25, run) == "line 9998\nline 9999\n"


def test_is_regular_file_follows_no_link(run):
    (run / "DONE").write_text("1 trials complete\n")
    (run / "LINK").symlink_to(run / "DONE")
    os.mkfifo(run / "FIFO")
    assert [safe_read.is_regular_file(run / n) for n in ("DONE", "LINK", "FIFO", "NONE")] == [
        True, False, False, False]  # fmt: skip


def test_yaml_with_a_control_character_is_damaged_not_an_error():
    """Found by the fuzz test: PyYAML checks the characters when the loader is made."""
    with pytest.raises(DamagedFile, match="config.yaml is not valid YAML"):
        safe_read.parse_yaml("a: 1\nb: \x1d\n", name="config.yaml")
