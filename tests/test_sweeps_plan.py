"""deepal-bench-plan: jobs, rounds, images and device-hours of a sweep before it runs,
checked on a hand-made throughput table and a sweep whose numbers are computed by hand."""

import numpy as np
import pandas as pd
import pytest

from deepal_bench.cli import plan as plan_cli
from deepal_bench.cli.plan import format_plan
from deepal_bench.data import load_dataset
from deepal_bench.data.catalogue import DATASETS
from deepal_bench.data.descriptor import Sizes
from deepal_bench.data.sizes import dataset_sizes
from deepal_bench.models import MODELS
from deepal_bench.models.resnet import ResNet18
from deepal_bench.sweeps import plan, throughput
from deepal_bench.sweeps.expand import job_overrides

# wine: 178 rows, 30% test -> 125 train / 53 test, 13 features, 3 classes.
SWEEP = [
    "strategy=random,entropy", "dataset=wine", "model=mlp", "trials=2", "budget.initial=10",
    "budget.batch=5", "budget.quota=12", "trainer=default", "trainer.epochs=3",
    "trainer.batch_size=16",
]  # fmt: skip
# MLP 13 -> 256 -> 256 -> 3: 2 x (13*256 + 256*256 + 256*3) = 139,264 forward FLOPs.
MLP_MFLOPS = 2 * (13 * 256 + 256 * 256 + 256 * 3) / 1e6


def table(rows: list[dict]) -> throughput.ThroughputTable:
    defaults = {"batch_size": 16, "amp": False, "compile": False, "input_shape": "13"}
    return throughput.ThroughputTable(pd.DataFrame([{**defaults, **row} for row in rows]))


def cpu_row(**changes) -> dict:
    row = {"device_kind": "cpu", "model": "mlp", "forward_mflops": MLP_MFLOPS,
           "train_images_per_s": 0.1, "infer_images_per_s": 1.0}  # fmt: skip
    return {**row, **changes}


GPU_LENET = {
    "device_kind": "h200",
    "model": "lenet",
    "input_shape": "1x28x28",
    "forward_mflops": 0.833,
    "train_images_per_s": 1e5,
    "infer_images_per_s": 1e6,
}


def test_hand_computed_sweep_rounds_images_and_hours():
    """Labeled sizes 10, 15, 20, 22 (ceil(12 / 5) = 3 query rounds, the last of 2 points):
    per trial 67 x 3 epochs = 201 images trained and 4 rounds x 53 test images inferred;
    entropy also passes over the unlabeled pool before each query: (125 - 10) + (125 - 15)
    + (125 - 20) = 330. Two trials per job, two jobs."""
    result = plan.plan(SWEEP, table([cpu_row(), GPU_LENET]))
    assert result.kinds == ["cpu", "h200"]
    assert result.total.jobs == 2 and result.total.rounds == 2 * 2 * 4
    assert result.total.train_images == 2 * 2 * 201
    random_inferred, entropy_inferred = 2 * 212, 2 * (330 + 212)
    assert result.total.infer_images == random_inferred + entropy_inferred == 1_508
    seconds = 804 / 0.1 + 1_508 / 1.0
    assert result.total.hours["cpu"] == pytest.approx(seconds / 3600)
    assert result.total.hours["h200"] is None  # no mlp row on that device kind
    assert result.total.interpolated == set() and not result.total.upper_bound
    (group,) = result.groups
    assert (group.dataset, group.model, group.input, group.jobs) == ("wine", "mlp", "13", 2)
    text = format_plan(result)
    assert "| wine x mlp | 13 | 2 | 16 | 804 | 1,508 | 2.65 | unknown |" in text
    assert (
        ": 2 jobs, 16 rounds, 804 images trained, 1,508 images inferred; 2.65 cpu-hours, "
        "unknown h200-hours." in text
    )


def test_model_flops_are_the_hand_computed_ones():
    spec = throughput.model_spec({"name": "mlp", "hidden": 256, "layers": 2}, (13,), 3)
    assert spec == throughput.ModelSpec("mlp", pytest.approx(MLP_MFLOPS))


def test_a_row_of_a_smaller_model_is_scaled_by_flops_and_marked():
    """A row measured at half the job's FLOPs: half its images/s, marked `~`; a row of a
    larger model is not assumed faster for a smaller job (no speed-up beyond the row)."""
    half = table([cpu_row(forward_mflops=MLP_MFLOPS / 2, input_shape="7")])
    result = plan.plan(SWEEP, half)
    assert result.total.hours["cpu"] == pytest.approx(2 * (804 / 0.1 + 1_508) / 3600)
    assert result.total.interpolated == {"cpu"}
    assert "| ~5.3 |" in format_plan(result)
    double = table([cpu_row(forward_mflops=MLP_MFLOPS * 2, batch_size=64)])
    result = plan.plan(SWEEP, double)
    assert result.total.hours["cpu"] == pytest.approx((804 / 0.1 + 1_508) / 3600)
    assert result.total.interpolated == {"cpu"}


def test_early_stopping_makes_the_images_an_upper_bound():
    result = plan.plan([*SWEEP, "trainer.early_stop_train_acc=0.99"], table([cpu_row()]))
    assert result.total.upper_bound and result.total.train_images == 804
    assert "<=804 |" in format_plan(result)


def test_preset_job_count_is_the_sweeps():
    result = plan.plan(["experiment=falcun/mnist"], table([cpu_row()]))
    assert result.total.jobs == len(job_overrides(["experiment=falcun/mnist"])) == 8
    assert result.title.startswith("FALCUN")
    assert result.total.hours["cpu"] is None  # LeNet has no row in this table
    assert "not counted: the selection kernel of" in format_plan(result)


def test_a_dataset_of_unknown_size_is_reported_unknown(tmp_path):
    missing = str(tmp_path / "absent.npz")
    result = plan.plan(["dataset=npz", f"dataset.path={missing}", "trials=1"], table([cpu_row()]))
    (group,) = result.groups
    assert group.input == "unknown" and group.infer_images is None
    assert group.hours["cpu"] is None
    assert "| unknown | unknown |" in format_plan(result)


def test_dataset_shapes_match_the_loaders(tmp_path):
    for name in ("wine", "digits", "iris"):
        data = load_dataset({"name": name})
        sizes = dataset_sizes({"name": name})
        assert (sizes.input_shape, sizes.train, sizes.test, sizes.classes) == (
            data.input_shape, len(data), len(data.y_test), data.num_classes,
        )  # fmt: skip
    path = tmp_path / "d.npz"
    x = np.zeros((7, 5, 6, 3), dtype=np.uint8)  # N x H x W x C
    np.savez(path, x_train=x, y_train=np.arange(7) % 4, x_test=x[:2], y_test=np.array([0, 5]))
    npz = {"name": "npz", "path": str(path)}
    data = load_dataset(npz)
    assert dataset_sizes(npz) == Sizes(
        data.input_shape, len(data), len(data.y_test), data.num_classes
    )
    assert dataset_sizes({"name": "cifar10", "subset": 3000, "image_size": 64}) == (
        Sizes((3, 64, 64), 3000, 10_000, 10)
    )


def test_a_dataset_without_descriptor_is_named_unknown_with_the_reason():
    """A loader registered without a descriptor (bypassing `register_dataset`) gives
    unknown sizes that the notes explain, never silent hours."""
    DATASETS.register("bare")(lambda: None)
    try:
        result = plan.plan(["dataset=wine", "dataset.name=bare", "trials=1"], table([cpu_row()]))
    finally:
        DATASETS._items.pop("bare")
    assert result.total.hours["cpu"] is None
    assert "- sizes unknown for bare: dataset 'bare' is registered without a descriptor." in (
        format_plan(result)
    )


def test_the_model_is_keyed_by_its_architecture_not_its_registered_name():
    """A model registered under a new name is keyed by what it builds: an ImageNet-stem
    ResNet18 is `resnet18/imagenet` whatever its name and options are called."""
    MODELS.register("my_resnet")(
        lambda input_shape, num_classes: ResNet18(1, num_classes, "imagenet")
    )
    try:
        spec = throughput.model_spec({"name": "my_resnet"}, (1, 28, 28), 10)
    finally:
        MODELS._items.pop("my_resnet")
    assert spec.variant == "resnet18/imagenet"
    assert throughput.model_spec({"name": "auto"}, (3, 32, 32), 10).variant == "lenet"
    frozen = {"name": "resnet50", "freeze": True, "pretrained": True}
    assert throughput.model_spec(frozen, (3, 32, 32), 10).variant == "resnet50/frozen"


@pytest.mark.parametrize(("estimator", "noted"), [("imle", False), ("lure", False), ("dmle", True)])
def test_only_an_objective_with_extra_passes_is_noted_as_not_counted(estimator, noted):
    """DMLE re-scores its past selections in the objective; LURE only re-weights the
    cross-entropy, so nothing is left uncounted for it."""
    result = plan.plan([*SWEEP[1:], f"estimator={estimator}"], table([cpu_row()]))
    assert (plan.OBJECTIVE in result.uncounted) == noted


def test_cli_prints_the_plan_and_refuses_bad_overrides(capsys, tmp_path):
    csv = tmp_path / "t.csv"
    pd.DataFrame([{**cpu_row(), "batch_size": 16, "amp": False, "compile": False,
                   "input_shape": "13"}]).to_csv(csv, index=False)  # fmt: skip
    plan_cli.main(["--throughput", str(csv), *SWEEP])
    assert "| **total** |  | 2 | 16 | 804 | 1,508 | 2.65 |" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        plan_cli.main(["--throughput", str(csv), "strategy=no_such_strategy"])
    assert exit_info.value.code == 2
    assert "no_such_strategy" in capsys.readouterr().err


def test_shipped_table_has_cpu_rows_for_the_default_models():
    shipped = throughput.ThroughputTable.read()
    cpu = shipped.frame[shipped.frame.device_kind == "cpu"]
    assert {"lenet", "mlp", "resnet18/cifar"} <= set(cpu.model)
    assert (cpu.train_images_per_s > 0).all() and (cpu.infer_images_per_s > 0).all()
