"""OpenML tabular datasets by id (FALCUN §4: 6 letter, 155 pokerhand, 156 RandomRBF),
read from a local CSV, Parquet or ARFF file; features are standardised by `load_dataset`.

Offline, pass `path` (any of the three formats) or keep `<root>/openml/<data_id>.csv`.
With `download=true` the dataset is fetched through scikit-learn's OpenML client and
saved as that CSV (a failed offline fetch never touches an existing file). Non-numeric
feature columns are integer-coded; missing values become the training mean (0 after
standardisation).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.descriptor import Descriptor, Sizes, Unknown, held_out
from deepal_bench.data.sources import Source, ensure, register_source
from deepal_bench.data.splits import stratified_split
from deepal_bench.errors import ConfigError
from deepal_bench.typed import TestSize

FORMATS = (".csv", ".parquet", ".arff")
# data_id -> rows of the whole table, input features, classes (FALCUN App. B Table 4: N,
# F - 1, C). Table 4 gives OpenML-6 (UCI "letter", 20,000 rows) as 16,000: the training
# part of the authors' 80/20 split (sobermeier/falcun src/deepal/dataset.py get_openml,
# testSplit = .2 of the whole table), which the loader makes too.
KNOWN = {6: (20_000, 16, 26), 155: (829_201, 10, 10), 156: (800_000, 10, 5)}


def _fetch(root: Path, options: dict) -> None:
    from sklearn.datasets import fetch_openml

    data_id = int(options["data_id"])
    bunch = fetch_openml(data_id=data_id, as_frame=True, data_home=str(root / "openml" / "cache"))
    frame = bunch.frame if bunch.frame is not None else bunch.data.assign(class_=bunch.target)
    out = root / "openml" / f"{data_id}.csv"
    tmp = out.with_suffix(".csv.tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(out)


register_source(
    Source(
        "openml",
        lambda o: [f"openml/{o.get('data_id')}.csv"] if not o.get("path") else [],
        "download the dataset as CSV or ARFF from https://www.openml.org/d/<data_id> and pass "
        "dataset.path=<file>, or save it as <root>/openml/<data_id>.csv.",
        "https://www.openml.org (licence per dataset, shown on its page)",
        _fetch,
    )
)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV, Parquet or ARFF file as a DataFrame (ARFF nominal values decoded to str)."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise ConfigError(f"dataset.path: file not found: {path}")
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except ImportError as err:
            raise ConfigError(f"reading {path} needs pyarrow: pip install pyarrow.") from err
    if suffix == ".arff":
        from scipy.io import arff

        records, _ = arff.loadarff(str(path))
        frame = pd.DataFrame(records)
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].str.decode("utf-8")
        return frame
    raise ConfigError(
        f"dataset.path '{path}' has an unsupported format. Valid choices: {', '.join(FORMATS)}."
    )


def _codes(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float32)
    codes = pd.Categorical(column).codes.astype(np.float32)
    codes[codes < 0] = np.nan
    return codes


def load_openml(
    root: str | None = None,
    download: bool = False,
    data_id: int | None = None,
    path: str | None = None,
    target: str | None = None,
    test_size: TestSize = 0.2,
    split_seed: int = 0,
) -> ALData:
    """An OpenML dataset (or any table) split stratified into train/test (`test_size`).

    `target` names the label column (default: `class` if present, else the last column).
    """
    if path is None and data_id is None:
        raise ConfigError(
            "dataset openml needs dataset.data_id (e.g. 6, 155, 156) or dataset.path."
        )
    options = {"data_id": data_id, "path": path}
    table = (
        Path(path) if path else ensure("openml", root, download, options) / f"openml/{data_id}.csv"
    )
    frame = read_table(table)
    target = target or ("class" if "class" in frame.columns else frame.columns[-1])
    if target not in frame.columns:
        raise ConfigError(
            f"dataset.target '{target}' is not a column of {table}. "
            f"Valid choices: {', '.join(map(str, frame.columns))}."
        )
    column = frame[target]
    if not pd.api.types.is_numeric_dtype(column):
        column = column.astype(str)
    classes, labels = np.unique(column.to_numpy(), return_inverse=True)
    features = frame.drop(columns=[target])
    x = torch.from_numpy(np.stack([_codes(features[c]) for c in features.columns], axis=1))
    y = torch.from_numpy(labels.astype(np.int64))
    keep, test = stratified_split(y, test_size, torch.Generator().manual_seed(int(split_seed)))
    train_mean = torch.nanmean(x[keep], dim=0)
    x = torch.where(torch.isnan(x), train_mean.expand_as(x), x)
    return ALData(
        name=f"openml_{data_id}" if data_id is not None else table.stem,
        x_train=x[keep],
        y_train=y[keep],
        x_test=x[test],
        y_test=y[test],
        num_classes=len(classes),
        meta={"raw": True, "classes": classes.tolist(), "source": str(table)},
    )


def _sizes(options: dict) -> Sizes | Unknown:
    """A known OpenML id split by `test_size`; a table from `path` or another id is not
    known without reading it in full (CSV, ARFF and Parquet hold no row count and class
    list that can be read without the table)."""
    if options["path"]:
        return Unknown(f"the size of table {options['path']} is known only by reading it")
    if options["data_id"] not in KNOWN:
        return Unknown(
            f"OpenML data_id {options['data_id']} is not among the described ids "
            f"({', '.join(map(str, KNOWN))})"
        )
    rows, features, classes = KNOWN[options["data_id"]]
    return Sizes((features,), *held_out(rows, options["test_size"]), classes)


OPENML_DESCRIPTOR = Descriptor(
    _sizes,
    tuple({"data_id": i} for i in KNOWN),
    variant_name=lambda options: f"openml-{options['data_id']}",
)
