"""Every preset's runs match their own table's published cells (results/paper/), and every
published cell states the settings it was produced with; the paper-internal conflicts carry
a note."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf
from test_report_published_settings import run_config

from deepal_bench.metrics import aubc
from deepal_bench.paths import CONF_DIR
from deepal_bench.report.families import PAPERS
from deepal_bench.report.family import Context, Options
from deepal_bench.report.published import PAPER_DIR, compare, load_published
from deepal_bench.results.collect import Run
from deepal_bench.results.records import pool_runs

PRESET_TABLES = {
    "deepal_plus/table4": ("deepal_plus", {"1", "4", "8"}),
    "deepal_plus/table5": ("deepal_plus", {"1", "5"}),
    "deepal_plus/table6": ("deepal_plus", {"1", "6"}),
    "deepal_plus/table7": ("deepal_plus", {"1", "7"}),
    "ralif/table1": ("ralif", {"1"}),
    "ralif/table2": ("ralif", {"2"}),
    "ralif/table3": ("ralif", {"3"}),
    "ralif/table4": ("ralif", {"4"}),
    "ralif/cifar100": ("ralif", {"2"}),
    "ralif/cifar100_ralif": ("ralif", {"2"}),
    "ralif/svhn_scratch": ("ralif", {"5"}),
    "falcun/gamma": ("falcun", {"3"}),
    "falcun/gamma_uncertainty": ("falcun", {"3"}),
    "falcun/gamma_diversity": ("falcun", {"3"}),
    "dmle/table2": ("dmle", {"2", "3"}),
    "dmle/table4": ("dmle", {"4"}),
    "dmle/table5": ("dmle", {"5"}),
    "constrained/table2": ("constrained", {"2", "fig3"}),
    "constrained/ideal": ("constrained", {"fig3"}),
    "constrained/supervised": ("constrained", {"fig3"}),
}
NO_ROW = {"adv_deepfool"}  # one of DeepAL+'s 19 methods without a row in Tables 4-8


def sweep(preset: str) -> dict[str, list[str]]:
    """The preset's swept keys and values, parsed as Hydra's basic sweeper parses them."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={preset}"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    return {o.get_key_element(): (list(o.sweep_string_iterator()) if o.is_sweep_override()
                                  else [o.get_value_element_as_str()]) for o in parsed}  # fmt: skip


def job_configs(preset: str) -> list[dict]:
    """The run configs of jobs covering every swept value (strategies included) at least
    once. A job that differs from the first in its strategy only gets that strategy's own
    YAML (what Hydra composes: test_conf_presets.py checks it), not a composition of its own."""
    grid = sweep(preset)
    first = {key: values[0] for key, values in grid.items()}
    combos = [{**first, key: value} for key, values in grid.items() for value in values[1:]]
    base = run_config(f"experiment={preset}", *(f"{k}={v}" for k, v in first.items()))
    configs = [base]
    for combo in combos:
        if any(combo[k] != first[k] for k in combo if k != "strategy"):
            configs.append(
                run_config(f"experiment={preset}", *(f"{k}={v}" for k, v in combo.items()))
            )
        else:
            own = OmegaConf.load(CONF_DIR / "strategy" / f"{combo['strategy']}.yaml")
            configs.append({**base, "strategy": OmegaConf.to_container(own)})
    return configs


def hand_made_run(config: dict, index: int) -> Run:
    """A one-trial run of `config` in memory: a rising accuracy curve over its budget."""
    b = config["budget"]
    n_labeled = [b["initial"] + min(b["quota"], r * b["batch"])
                 for r in range(math.ceil(b["quota"] / b["batch"]) + 1)]  # fmt: skip
    accuracy = np.linspace(0.5, 0.9, len(n_labeled))
    rounds = pd.DataFrame({"trial": 0, "seed": config["seed"], "round": range(len(n_labeled)),
                           "n_labeled": n_labeled, "accuracy": accuracy, "train_seconds": 1.0,
                           "query_seconds": 0.5, "eval_seconds": 0.1})  # fmt: skip
    if config["dataset"]["name"] == "waterbirds":
        rounds = rounds.assign(
            worst_group_accuracy=accuracy - 0.2, mismatch_accuracy=accuracy - 0.1
        )
    summary = pd.DataFrame({"trial": [0], "aubc": [aubc(n_labeled, accuracy)],
                            "f_acc": [accuracy[-1]], "total_seconds": [1.0]})  # fmt: skip
    return Run(
        Path(f"hand-made/{index}"), OmegaConf.create(config), rounds, pd.DataFrame(), summary
    )


def _has_a_number(published: pd.DataFrame, tables: set[str], config: dict) -> bool:
    """The paper prints a number for this dataset and strategy in one of `tables`."""
    settings = published["settings"]
    same = [s.get("dataset.name") == config["dataset"]["name"]
            and s.get("strategy.name") == config["strategy"]["name"] for s in settings]  # fmt: skip
    return bool((published["table"].isin(tables) & pd.Series(same, index=published.index)).any())


@pytest.mark.parametrize("preset", sorted(PRESET_TABLES))
def test_every_job_of_a_preset_matches_its_tables_cells(preset):
    paper, tables = PRESET_TABLES[preset]
    configs = job_configs(preset)
    runs = [hand_made_run(config, k) for k, config in enumerate(configs)]
    published = load_published()
    published = published[published["paper"] == paper]
    ctx = Context(pool_runs(runs), Options(), published)
    matched = compare(PAPERS[paper].ours(ctx), published).matched
    matched = matched[matched["table"].isin(tables)]
    found = set(zip(matched["setting"], matched["strategy"], strict=True))
    cell_of = {id(run): cell for cell in ctx.records.all_cells for run in cell.runs}
    assert len(cell_of) == len(runs)
    for config, run in zip(configs, runs, strict=True):
        cell = cell_of[id(run)]
        label = (ctx.labels.setting[cell.key], ctx.labels.strategy[cell.key])
        if cell.key.is_full_data:  # our rows of a run without acquisition: "full", "supervised"
            label = (label[0], {"deepal_plus": "full", "constrained": "supervised"}[paper])
        if label in found:
            continue
        assert config["strategy"]["name"] in NO_ROW or not _has_a_number(published, tables,
                                                                         config), label  # fmt: skip


# ----------------------------------------------------------------- the CSVs themselves


def test_every_cell_of_runs_states_their_dataset_model_budget_and_strategy():
    published = load_published()
    aggregates = published["dataset"].isin(["Average", "All scenarios", "all"]) | published[
        "metric"
    ].isin(["query_seconds_min", "query_seconds_max"])  # over FALCUN's scalability runs
    per_run = published[~aggregates]
    for row in per_run.itertuples():
        s = row.settings
        budget = [k for k in s if k.startswith("budget.")]
        assert {"dataset.name", "model.name"} <= set(s) and budget, (row.paper, row.where)
        if row.strategy not in ("full", "supervised"):
            assert s["strategy.name"] == row.strategy, (row.paper, row.table, row.where)


def test_the_papers_internal_conflicts_carry_a_note():
    """DeepAL+ Table 1 and Tables 4-7 differ in 27 cells; RALIF Table 7 prints Table 5's
    scenarios with B = 100; 4 RALIF underlines disagree with Table 7's p-values."""
    table1 = pd.read_csv(PAPER_DIR / "deepal_plus_table1.csv")
    assert table1["note"].str.contains("disagrees with itself", na=False).sum() == 27
    svhn = table1[(table1["dataset"] == "SVHN") & (table1["strategy"] == "vaal")]
    assert "Table 5 prints 0.8513" in svhn[svhn["metric"] == "f_acc"]["note"].iloc[0]
    table5 = pd.read_csv(PAPER_DIR / "ralif_table5.csv")
    assert table5["note"].str.contains("Table 7 prints this scenario as B=100").all()
    ralif = pd.concat(pd.read_csv(PAPER_DIR / f"ralif_table{n}.csv") for n in (2, 5))
    assert ralif["note"].str.contains("underlined", na=False).sum() == 4


def test_a_full_training_run_matches_the_full_cells_by_its_settings():
    """DeepAL+'s Full rows: the whole MNIST pool (60,000) trained once, no acquisition,
    with the MNIST setting's model and epochs; matched in Tables 1 and 4, not pre-trained."""
    config = run_config("experiment=deepal_plus/mnist", "strategy=random", "budget.initial=60000",
                        "budget.quota=0")  # fmt: skip
    published = load_published()
    published = published[published["paper"] == "deepal_plus"]
    ctx = Context(pool_runs([hand_made_run(config, 0)]), Options(), published)
    matched = compare(PAPERS["deepal_plus"].ours(ctx), published).matched
    assert sorted(zip(matched["table"], matched["paper_mean"], strict=True)) == [
        ("1", 0.9916), ("4", 0.9916)]  # fmt: skip
    assert set(matched["strategy"]) == {"full"} and set(matched["metric"]) == {"f_acc"}
