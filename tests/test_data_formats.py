"""On-disk formats: a CIFAR batch goes through a restricted unpickler; every dataset file is
read as a bounded regular file (a FIFO or device refused, an idx header checked first)."""

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from crafted import bounded

from deepal_bench.data.formats import read_data_bytes, read_idx, read_mat, read_pickle_batch
from deepal_bench.errors import ConfigError


class _Marker:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_a_real_batch_loads_with_every_pickle_protocol(tmp_path, protocol):
    batch = {
        b"data": np.arange(12, dtype=np.uint8).reshape(2, 6),
        b"labels": [3, 7],
        b"batch_label": b"training batch 1 of 5",
        b"filenames": [b"a.png", b"b.png"],
    }
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=protocol))
    loaded = read_pickle_batch(tmp_path / "data_batch_1")
    assert loaded[b"labels"] == [3, 7] and loaded[b"data"].tolist() == batch[b"data"].tolist()


def test_a_crafted_batch_runs_no_code(tmp_path):
    marker = tmp_path / "marker"
    batch = {b"data": _Marker(str(marker)), b"labels": [0]}
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(batch))
    with pytest.raises(ConfigError, match=r"not a CIFAR python batch .*refusing to load"):
        read_pickle_batch(tmp_path / "data_batch_1")
    assert not marker.exists()


# --- dataset files that are not what they claim: refused, never waited on or exhausting ------


def _refusal(read) -> str:
    """What `read()` raised (a ConfigError's message), run within the limits of `bounded`."""

    def attempt() -> str:
        try:
            read()
        except ConfigError as err:
            return str(err)
        return "read"

    answer = bounded(attempt)
    assert answer.startswith("ok: ") and answer != "ok: 'read'", answer
    return answer


def test_a_fifo_or_device_named_as_a_dataset_file_is_refused(tmp_path):
    """An idx file, a CIFAR batch or SVHN's .mat file that is a FIFO blocked the loader;
    one linked to /dev/zero grew its memory until the machine ran out."""
    os.mkfifo(tmp_path / "train-images-idx3-ubyte")
    os.mkfifo(tmp_path / "data_batch_1")
    os.mkfifo(tmp_path / "train_32x32.mat")
    (tmp_path / "t10k-images-idx3-ubyte").symlink_to("/dev/zero")
    for name, read in (
        ("train-images-idx3-ubyte", read_idx),
        ("data_batch_1", read_pickle_batch),
        ("train_32x32.mat", read_mat),
        ("t10k-images-idx3-ubyte", read_idx),
    ):
        answer = _refusal(lambda: read(tmp_path / name))  # noqa: B023 - run at once
        assert f"dataset file {tmp_path / name} cannot be read" in answer
        assert "not a regular file" in answer


def test_an_idx_header_is_checked_before_its_data_is_read(tmp_path):
    dims = np.array([10**9, 10**5], dtype=">i4").tobytes()
    (tmp_path / "claims").write_bytes(bytes([0, 0, 0x08, 2]) + dims + b"\0" * 16)
    assert "take 100,000.0 GB" in _refusal(lambda: read_idx(tmp_path / "claims"))
    (tmp_path / "short").write_bytes(
        bytes([0, 0, 0x08, 1]) + np.array([8], ">i4").tobytes() + b"12"
    )
    assert "ends before the 8 bytes its header announces" in _refusal(
        lambda: read_idx(tmp_path / "short")
    )


def test_an_idx_file_reads_as_before(tmp_path):
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 0x08, 3]) + np.array(images.shape, ">i4").tobytes()
    (tmp_path / "plain").write_bytes(header + images.tobytes())
    with gzip.open(tmp_path / "packed.gz", "wb") as handle:
        handle.write(header + images.tobytes())
    for name in ("plain", "packed"):
        assert read_idx(tmp_path / name).tolist() == images.tolist()


def test_a_list_file_of_a_dataset_folder_is_bounded(tmp_path):
    os.mkfifo(tmp_path / "wnids.txt")
    assert "not a regular file" in _refusal(lambda: read_data_bytes(tmp_path / "wnids.txt"))
    with open(tmp_path / "metadata.csv", "wb") as handle:
        handle.truncate(10**10)
    assert "larger than 67,108,864 bytes" in _refusal(
        lambda: read_data_bytes(tmp_path / "metadata.csv")
    )
