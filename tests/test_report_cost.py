"""Cost next to gain (report.cost): query and total seconds in every summary row, the Pareto
front of AUBC against total seconds and its figure, deepal-bench-plan's estimate beside the
measured seconds."""

import numpy as np
import pandas as pd
import pytest
from support import ENTROPY, RANDOM, config, write_run
from test_results_provenance import session, write_provenance

from deepal_bench.cli.report import main
from deepal_bench.report.cost import device_kind, pareto_front, plan_vs_measured
from deepal_bench.report.family import Context, Options
from deepal_bench.results.collect import collect
from deepal_bench.results.records import pool_runs
from deepal_bench.sweeps.throughput import THROUGHPUT_COLUMNS, ThroughputTable

CPU = "cpu (AMD EPYC 7B13 64-Core Processor)"
H100 = "NVIDIA H100 80GB HBM3"


def test_pareto_front_on_hand_made_points():
    #         a    b    c    d    e    f (= b)  g (NaN)
    cost = [1.0, 2.0, 3.0, 2.5, 4.0, 2.0, np.nan]
    gain = [0.5, 0.7, 0.8, 0.6, 0.8, 0.7, 0.99]
    # a: cheapest; b, f: equal (neither dominates the other); c: best gain;
    # d: b costs less and gains more; e: c gains as much for less; g: unknown cost
    assert pareto_front(cost, gain).tolist() == [True, True, True, False, False, True, False]
    assert pareto_front([1.0, 1.0], [0.5, 0.6]).tolist() == [False, True]  # same cost
    assert pareto_front([], []).tolist() == []


def test_device_kind_is_a_word_of_the_recorded_name_the_table_has():
    assert device_kind(CPU, ["cpu", "h100"]) == "cpu"
    assert device_kind("cpu", ["cpu"]) == "cpu"
    assert device_kind(H100, ["cpu", "h100"]) == "h100"
    assert device_kind(H100, ["cpu", "h200"]) is None
    assert device_kind(None, ["cpu"]) is None


@pytest.fixture
def sweep(tmp_path):
    """random (0.5 s per query round) and entropy (2 s) on digits, 3 trials of 3 rounds."""
    root = tmp_path / "runs"
    random = write_run(root / "random", config("random"), RANDOM, query_seconds=0.5)
    entropy = write_run(root / "entropy", config("entropy"), ENTROPY, query_seconds=2.0)
    return root, random, entropy


def test_every_summary_row_carries_query_and_total_seconds(sweep, tmp_path):
    root, *_ = sweep
    out = tmp_path / "out"
    assert main([str(root), "--out", str(out), "--no-figures"]) == 0
    overall = pd.read_csv(out / "aubc_facc.csv").set_index("strategy")
    # per trial: 2 query rounds of 0.5 s (2 s); total 3 x (1 s train + 0.1 s eval) + 2 x 0.5 s
    assert overall.loc["random", "query_seconds_mean"] == pytest.approx(0.5)
    assert overall.loc["entropy", "query_seconds_mean"] == pytest.approx(2.0)
    assert overall.loc["random", "total_seconds_mean"] == pytest.approx(4.3)
    assert overall.loc["entropy", "total_seconds_mean"] == pytest.approx(7.3)
    assert overall.loc["entropy", "total_seconds_std"] == 0.0
    # time ratio (train + query): (3 + 4) / (3 + 1)
    assert overall.loc["entropy", "time_ratio"] == pytest.approx(7 / 4)
    shown = (out / "aubc_facc.md").read_text()
    assert "| AUBC | F-acc | Time | Query s/round | Total s |" in shown
    assert "| 1.75 | 2 ± 0 | 7.3 ± 0 |" in shown and "| 1.00 | 0.5 ± 0 | 4.3 ± 0 |" in shown


def test_a_cost_figure_per_setting(sweep, tmp_path):
    root, *_ = sweep
    write_run(root / "epochs5", config("random", trainer__epochs=5), RANDOM)
    out = tmp_path / "out"
    assert main([str(root), "--out", str(out)]) == 0
    figures = sorted(p.name for p in (out / "figures").glob("cost_*.png"))
    assert figures == [
        "cost_digits_lenet_10+20_10_imle-topk_trainer.epochs_20.png",
        "cost_digits_lenet_10+20_10_imle-topk_trainer.epochs_5.png",
    ]
    assert all((out / "figures" / name).stat().st_size > 1000 for name in figures)
    assert "AUBC against total compute" in (out / "index.md").read_text()


def _table(*kinds: str) -> ThroughputTable:
    """lenet at 1,000 training images/s, inference too fast to count, on each kind."""
    row = dict.fromkeys(THROUGHPUT_COLUMNS)
    row.update(model="lenet", input_shape="1x28x28", batch_size=64, amp=False, compile=False)
    row.update(forward_mflops=1e6, train_images_per_s=1000.0, infer_images_per_s=1e15)
    return ThroughputTable(pd.DataFrame([{**row, "device_kind": kind} for kind in kinds]))


def _plan(root, table: ThroughputTable) -> pd.DataFrame:
    runs, skipped = collect([root])
    ctx = Context(pool_runs(runs, skipped), Options(), pd.DataFrame())
    return plan_vs_measured(ctx.labelled_cells, ctx.trials, table).set_index("strategy")


def test_the_plans_estimate_beside_the_measured_seconds(sweep):
    root, random, entropy = sweep
    write_provenance(random, session(device=CPU))
    write_provenance(entropy, session(device=H100))
    plan = _plan(root, _table("cpu"))
    # 3 trials x (10 + 20 + 30 labeled) x 20 epochs / 1,000 images/s = 3.6 s = 0.001 h
    assert plan.loc["random", "device"] == "cpu"
    assert plan.loc["random", "plan_hours"] == pytest.approx(0.001, rel=1e-6)
    assert plan.loc["random", "measured_seconds"] == pytest.approx(3 * 4.3)
    assert plan.loc["random", "measured_over_plan"] == pytest.approx(3 * 4.3 / 3.6, rel=1e-6)
    # the H100 run: the table has no h100 row, so the estimate is unknown and says why
    assert np.isnan(plan.loc["entropy", "plan_hours"])
    assert np.isnan(plan.loc["entropy", "measured_over_plan"])
    assert plan.loc["entropy", "note"] == f"no throughput row for {H100} (the table has cpu)"
    assert plan.loc["entropy", "measured_seconds"] == pytest.approx(3 * 7.3)
    with_h100 = _plan(root, _table("cpu", "h100"))
    assert with_h100.loc["entropy", "device"] == "h100"
    assert with_h100.loc["entropy", "plan_hours"] == pytest.approx(0.001, rel=1e-6)


def test_a_run_resumed_with_fewer_trials_is_scaled_and_no_provenance_is_unknown(tmp_path):
    root = tmp_path / "runs"
    write_provenance(write_run(root / "a", config("random", trials=2), RANDOM[:2]), session())
    cpu = write_run(root / "b", config("random", seed=2, trials=4), RANDOM[2:])
    write_provenance(cpu, session(device="cpu"))
    write_run(root / "c", config("entropy"), ENTROPY)
    plan = _plan(root, _table("cpu", "h100"))
    # random pools an h100 run of 2 trials and a cpu run recording 1 of its 4 trials
    assert plan.loc["random", "device"] == "h100, cpu"
    assert plan.loc["random", "trials"] == 3
    assert plan.loc["random", "plan_hours"] == pytest.approx(3 * 1.2 / 3600, rel=1e-6)
    assert np.isnan(plan.loc["entropy", "plan_hours"])
    assert plan.loc["entropy", "device"] == "unknown"
    assert plan.loc["entropy", "note"] == "no provenance.json: the device is unknown"


def test_plan_vs_measured_in_the_report_notes_the_unknown(sweep, tmp_path):
    root, random, _ = sweep
    write_provenance(random, session(device=CPU))
    out = tmp_path / "out"
    assert main([str(root), "--out", str(out), "--no-figures"]) == 0
    table = pd.read_csv(out / "plan_vs_measured.csv").set_index("strategy")
    assert table.loc["random", "plan_hours"] > 0 and table.loc["random", "device"] == "cpu"
    shown = (out / "plan_vs_measured.md").read_text()
    assert "| entropy | 3 | unknown | unknown | 0.00608 | 21.9 | unknown |" in shown
    assert "no provenance.json: the device is unknown" in shown
