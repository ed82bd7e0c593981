"""Every paper family in miniature, end to end: a preset's sweep runs for real on
tiny dataset files written in the real on-disk format (one trial, two rounds, one epoch,
two strategies), then `deepal-bench-paper FAMILY` builds that paper's tables from the
records."""

import sys

import pytest
from support import write_cifar, write_mnist

from deepal_bench.cli import run as cli
from deepal_bench.cli.paper import main as paper_main
from deepal_bench.results import schema

pytestmark = pytest.mark.slow
TINY_BUDGET = ["budget.initial=10", "budget.batch=10", "budget.quota=10", "trials=1",
               "trainer.epochs=1", "progress=false"]  # fmt: skip
FAMILIES = {
    "deepal_plus": ("mnist", ["experiment=deepal_plus/mnist", "strategy=random,entropy",
                              "model.pretrained=false"]),
    "ralif": ("cifar", ["experiment=ralif/cifar10_scratch", "strategy=random,entropy",
                        "trainer.batch_size=8"]),
    "falcun": ("mnist", ["experiment=falcun/mnist", "strategy=random,falcun"]),
    "dmle": ("mnist", ["experiment=dmle/mnist", "budget=dmle_k5", "estimator=imle,dmle",
                       "selection=softmax", "dataset.subset=null", "dataset.test_subset=null",
                       "budget.validation=5"]),
    "constrained": ("mnist", ["experiment=constrained/mnist_lenet", "strategy=random,entropy",
                              "budget.validation=5", "dataset.noise=null"]),
}  # fmt: skip


def launch(*args: str) -> None:
    old = sys.argv
    sys.argv = ["deepal-bench", "-m", *args]
    try:
        cli.main()
    finally:
        sys.argv = old


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_family_runs_in_miniature_and_renders_its_tables(tmp_path, family, capsys):
    kind, overrides = FAMILIES[family]
    data = tmp_path / "data"
    if kind == "mnist":
        write_mnist(data, n_train=60, n_test=20)
    else:
        write_cifar(data, per_class=6)
    runs = tmp_path / "runs"
    launch(*overrides, *TINY_BUDGET, f"dataset.root={data}", f"results_root={runs}")
    assert len(list(runs.rglob(schema.DONE_FILE))) == 2
    capsys.readouterr()
    assert paper_main([family, str(runs), "--out", str(tmp_path / "tables"), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    assert "Traceback" not in printed
    written = {p.name for p in (tmp_path / "tables").glob("*.md")}
    assert written, f"no table written for {family}"
    print(f"\n### {family}\n{printed}", file=sys.stderr)
