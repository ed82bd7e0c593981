"""On-disk formats: a CIFAR batch goes through a restricted unpickler."""

import pickle
from pathlib import Path

import numpy as np
import pytest

from deepal_bench.data.formats import read_pickle_batch
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
