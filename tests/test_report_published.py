"""Published numbers (report.published): loading, settings, exact matching, and checks of
the transcriptions against relations the papers themselves state."""

import io
import os
from contextlib import redirect_stderr

import numpy as np
import pandas as pd
import pytest
from crafted import bounded
from support import RANDOM, config, write_run

from deepal_bench.cli import report
from deepal_bench.metrics import win_tie_loss
from deepal_bench.report.labels import dataset_display_name
from deepal_bench.report.published import (
    LONG_COLUMNS,
    PAPER_DIR,
    compare,
    differences,
    load_published,
    parse_where,
    same_value,
)
from deepal_bench.results.cells import flat_settings
from deepal_bench.results.safe_read import DamagedFile

# Rows per published table (values with a mean; '*' / '#' / shifted cells have none).
EXPECTED_ROWS = {
    ("deepal_plus", "1"): 390 - 14,
    ("deepal_plus", "4"): 232 - 9 - 19,  # 9 "#" cells, 19 shifted Time cells
    ("ralif", "2"): 129,
    ("ralif", "7"): 135,
    ("falcun", "3"): 192,
    ("dmle", "2"): 168,
    ("constrained", "2"): 54,
}


def test_every_csv_loads_with_units_scaled():
    published = load_published()
    counts = published.groupby(["paper", "table"]).size()
    for key, rows in EXPECTED_ROWS.items():
        assert counts[key] == rows, key
    ralif = published[(published["paper"] == "ralif") & (published["table"] == "2")]
    random = ralif[(ralif["dataset"] == "Cifar10") & (ralif["strategy"] == "random")]
    assert random[random["metric"] == "first_acc"]["mean"].iloc[0] == pytest.approx(0.6133)
    falcun = published[(published["paper"] == "falcun") & (published["table"] == "2")]
    clue = falcun[(falcun["strategy"] == "clue") & (falcun["metric"] == "query_seconds_max")]
    assert clue["mean"].iloc[0] == pytest.approx(227 * 3600)  # printed ">227 hrs"
    entropy = falcun[(falcun["strategy"] == "entropy")].set_index("metric")["mean"]
    assert entropy["query_seconds_min"] == pytest.approx(1.8)
    assert entropy["query_seconds_max"] == pytest.approx(21 * 60)


def _value(published, paper, table, dataset, strategy, metric, n_labeled=None, **settings):
    rows = published[
        (published["paper"] == paper)
        & (published["table"] == table)
        & (published["dataset"] == dataset)
        & (published["strategy"] == strategy)
        & (published["metric"] == metric)
    ]
    if n_labeled is not None:
        rows = rows[rows["n_labeled"] == n_labeled]
    wanted = {key.replace("__", "."): value for key, value in settings.items()}
    rows = rows[[not differences(wanted, s) for s in rows["settings"]]]
    assert len(rows) == 1, (dataset, strategy, metric, settings, len(rows))
    return rows["mean"].iloc[0], rows["std"].iloc[0]


def test_spot_checks_against_the_paper_texts():
    """A few cells read off the papers by hand."""
    published = load_published()
    value = lambda *args, **kw: _value(published, *args, **kw)  # noqa: E731
    # DeepAL+ Table 4: LPL on MNIST w/ pre-train "0.9923 ± 0.0005 0.9955 2.29"
    lpl = value("deepal_plus", "4", "MNIST", "lpl", "aubc", model__pretrained=True)
    assert lpl == pytest.approx((0.9923, 0.0005))
    time = value("deepal_plus", "4", "MNIST", "lpl", "time_ratio", model__pretrained=True)
    assert time[0] == 2.29
    # Table 6: WAAL on TinyImageNet "0.0157 ± 0.0005 0.0050 0.58"
    waal = value("deepal_plus", "6", "TinyImageNet", "waal", "f_acc", model__pretrained=False)
    assert waal[0] == 0.0050
    # Table 8: VAAL, Waterbird worst group w/ pre-train "0.3688 ± 0.1656 0.5135"
    vaal = value(
        "deepal_plus",
        "8",
        "Waterbirds",
        "vaal",
        "worst_group_accuracy_aubc",
        model__pretrained=True,
    )
    assert vaal == pytest.approx((0.3688, 0.1656))
    # RALIF Table 5: BADGE, Cifar10 B=1000 VGG16 "85.61 ± 0.311"
    vgg = value("ralif", "5", "Cifar10", "badge", "first_acc", model__name="vgg16")
    assert vgg == pytest.approx((0.8561, 0.00311))
    # RALIF Table 7: Grad-Norm, Cifar100 "0.948 0.000 0.838"
    assert value("ralif", "7", "Cifar100", "grad_norm", "first_p")[0] == 0.948
    # FALCUN Table 3: gamma = 10 with u and d, BloodMNIST at 1000: "80.8"
    both = {"strategy__gamma": 10, "strategy__uncertainty": True, "strategy__diversity": True}
    assert value("falcun", "3", "BloodMNIST", "falcun", "accuracy", 1000, **both)[0] == (
        pytest.approx(0.808)
    )
    # DMLE Table 5: Iris, k = 10, SPS, DMLE "0.95 ± 0.02"
    sps = {"estimator__name": "dmle", "selection__name": "power", "budget__batch": 10}
    assert value("dmle", "5", "Iris", "least_confidence", "accuracy", **sps) == pytest.approx(
        (0.95, 0.02)
    )
    # Constrained Table 2: Salt and Pepper, ResNet-18, CIFAR10, BALD "38.52%"
    sp = {"model__name": "resnet18", "dataset__noise__kind": "salt_pepper"}
    assert value("constrained", "2", "CIFAR10", "bald", "f_acc", **sp)[0] == pytest.approx(0.3852)


def test_ralif_average_rows_are_the_mean_of_the_nine_scenarios():
    """RALIF Table 2's Average row = mean ± population std (ddof 0) over the 6 + 3 scenarios
    of Tables 2 and 5: recomputed from our transcription it agrees to the printed rounding
    (the sample std, ddof 1, would give 11.60 instead of 10.94 for BADGE's first cycle)."""
    published = load_published()
    ralif = published[published["paper"] == "ralif"]
    scenarios = ralif[
        ralif["table"].isin(["2", "5"]) & ~ralif["dataset"].isin(["Average", "All scenarios"])
    ]
    average = ralif[ralif["dataset"] == "Average"]
    average = average.assign(metric=average["metric"].str.removeprefix("average_"))
    average = average.set_index(["strategy", "metric"])
    for (strategy, metric), part in scenarios.groupby(["strategy", "metric"]):
        assert len(part) == 9
        assert part["mean"].mean() == pytest.approx(
            average.loc[(strategy, metric), "mean"], abs=6e-4
        )
        std = part["mean"].std(ddof=0)
        assert std == pytest.approx(average.loc[(strategy, metric), "std"], abs=1.5e-3)


def test_dmle_table2_gives_the_averages_of_section_5_2():
    """§5.2: mean relative improvements 9.6, 7, 3.9, 11.8 % for SSMS, SPS, SSRS, Top-k."""
    table = pd.read_csv(PAPER_DIR / "dmle_table2.csv")
    settings = [parse_where(w) for w in table["where"]]
    table["selection"] = [s["selection.name"] for s in settings]
    table["batch"] = [s["budget.batch"] for s in settings]
    wide = table.pivot_table(
        index=["dataset", "batch", "selection"], columns="method", values="mean"
    )
    relative = 100 * (wide["DMLE"] - wide["IMLE"]) / wide["IMLE"]
    by_selection = relative.groupby("selection").mean().round(1)
    assert by_selection.to_dict() == {"softmax": 9.6, "power": 7.0, "softrank": 3.9, "topk": 11.8}


def test_deepal_plus_table9_medical_waal_from_table1():
    """Table 9's medical group (18 methods: no KMeans(GPU)) recomputed from Table 1's AUBCs
    gives WAAL 34-0-0 and LPL's 25-6-3 within a count."""
    table1 = load_published()
    table1 = table1[(table1["paper"] == "deepal_plus") & (table1["table"] == "1")]
    medical = table1[
        table1["dataset"].isin(["PneumoniaMNIST", "BreakHis"]) & (table1["metric"] == "aubc")
    ]
    scores = medical.pivot(index="strategy", columns="dataset", values="mean")
    table = win_tie_loss(scores.drop(index="kmeans_faiss"), 0.005)
    assert table.loc["waal", ["win", "tie", "loss"]].tolist() == [34, 0, 0]
    assert table.loc["lpl", ["win", "tie", "loss"]].tolist() == [26, 5, 3]


def test_settings_are_parsed_and_compared_as_values():
    settings = parse_where("model.pretrained=true;strategy.gamma=10;dataset.noise=null;x.y=det")
    assert settings == {
        "model.pretrained": True,
        "strategy.gamma": 10,
        "dataset.noise": None,
        "x.y": "det",
    }
    ours = {"model.pretrained": True, "strategy.gamma": 10.0, "dataset.noise": None, "x.y": "det"}
    assert differences(settings, ours) == []
    assert differences(settings, {**ours, "strategy.gamma": 1.0}) == [
        "strategy.gamma: ours 1.0, paper 10"
    ]
    assert differences(settings, {**ours, "dataset.noise": {"kind": "gaussian"}}) == [
        "dataset.noise: ours {'kind': 'gaussian'}, paper None"
    ]
    # false / null also hold for a missing key (a model without the flag is not pretrained)
    assert same_value(False, None) and not same_value(True, None)
    assert differences({"model.pretrained": True}, {"model.name": "lenet"}) == [
        "model.pretrained: ours absent, paper True"
    ]
    assert parse_where(np.nan) == {}


def test_flat_settings_and_dataset_display_names():
    flat = flat_settings(
        {"dataset": {"name": "medmnist", "flag": "bloodmnist", "noise": {"kind": "gaussian"}}}
    )
    assert flat["dataset.noise"] == {"kind": "gaussian"}
    assert flat["dataset.noise.kind"] == "gaussian"
    assert dataset_display_name(flat) == "bloodmnist"
    assert dataset_display_name({"dataset.name": "openml", "dataset.data_id": 156}) == "openml-156"
    repeated = {"dataset.name": "mnist", "dataset.redundancy": 0.1}
    assert dataset_display_name(repeated) == "repeatedmnist-90"
    repeated = {"dataset.name": "mnist", "dataset.redundancy": {"keep": 0.05}}
    assert dataset_display_name(repeated) == "repeatedmnist-95"
    assert dataset_display_name({"dataset.name": "cifar10"}) == "cifar10"


def _published(rows: list[list]) -> pd.DataFrame:
    columns = [
        "paper",
        "table",
        "dataset",
        "strategy",
        "metric",
        "mean",
        "std",
        "n_labeled",
        "where",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.assign(method="", settings=[parse_where(w) for w in frame["where"]])


def test_compare_matches_only_cells_with_every_setting_equal():
    imb = "dataset.name=cifar10_imb;strategy.name=entropy"
    published = _published(
        [
            [
                "p",
                "1",
                "CIFAR10-imb",
                "entropy",
                "aubc",
                0.7,
                0.01,
                np.nan,
                f"{imb};model.pretrained=false;budget.batch=10",
            ],
            [
                "p",
                "1",
                "CIFAR10-imb",
                "entropy",
                "aubc",
                0.9,
                0.01,
                np.nan,
                f"{imb};model.pretrained=true;budget.batch=10",
            ],
            [
                "p",
                "2",
                "cifar10_imb",
                "entropy",
                "accuracy",
                0.5,
                np.nan,
                20,
                f"{imb};budget.batch=10",
            ],
            [
                "p",
                "2",
                "cifar10_imb",
                "entropy",
                "accuracy",
                0.6,
                np.nan,
                30,
                f"{imb};budget.batch=10",
            ],
            [
                "p",
                "2",
                "cifar10_imb",
                "entropy",
                "accuracy",
                0.1,
                np.nan,
                20,
                f"{imb};budget.batch=99",
            ],
            ["p", "2", "mnist", "entropy", "accuracy", 0.1, np.nan, 20, "dataset.name=mnist"],
        ]
    )
    config = {
        "dataset.name": "cifar10_imb",
        "strategy.name": "entropy",
        "model.name": "resnet18",
        "model.pretrained": False,
        "budget.batch": 10,
        "strategy.x": 1,
    }
    ours = pd.DataFrame(
        [
            ["s", "entropy [strategy.x=1]", None, "aubc", 0.72, 0.02, 3, config],
            ["s", "entropy [strategy.x=1]", 20, "accuracy", 0.55, 0.0, 3, config],
        ],
        columns=LONG_COLUMNS,
    )
    versus = compare(ours, published)
    matched = versus.matched.set_index("metric")
    assert len(matched) == 2
    assert matched.loc["aubc", "paper_mean"] == 0.7  # the pre-trained cell is not matched
    assert matched.loc["aubc", "difference"] == pytest.approx(0.02)
    assert matched.loc["accuracy", "paper_mean"] == 0.5  # n_labeled 20, batch 10
    assert matched.loc["accuracy", "n_labeled"] == 20
    # the near cells left unmatched say what differs; MNIST is not near a CIFAR10-imb row
    unmatched = versus.unmatched.set_index("table")
    assert sorted(versus.unmatched["differs"]) == [
        "budget.batch: ours 10, paper 99",
        "model.pretrained: ours False, paper True",
        "n_labeled: ours 20, paper 30",
    ]
    assert set(unmatched["nearest"]) == {"s, entropy [strategy.x=1]"}


def test_a_crafted_published_file_is_one_paragraph(tmp_path):
    """`--paper-dir` names someone else's folder: a FIFO among its CSVs kept the report
    waiting for ever; a setting with a YAML alias is refused, not expanded."""
    results = write_run(tmp_path / "runs" / "random", config("random"), RANDOM).parent
    papers = tmp_path / "papers"
    papers.mkdir()
    os.mkfifo(papers / "crafted.csv")
    argv = [str(results), "--out", str(tmp_path / "out"), "--no-figures",
            "--paper-dir", str(papers)]  # fmt: skip
    answer = bounded(lambda: _status_and_stderr(argv))
    assert answer.startswith("ok: (2, ") and "crafted.csv is a FIFO, not a regular file" in answer
    with pytest.raises(DamagedFile, match="uses a YAML alias"):
        parse_where("budget.x=[&a [1, 2], *a]")


def _status_and_stderr(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err):
        status = report.main(argv)
    return status, err.getvalue()[:2000]
