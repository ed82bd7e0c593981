"""docs/architecture.md's worked example (a new score strategy) works as written."""

import ast
import re
import subprocess
from pathlib import Path

import pytest
import torch
import yaml

from deepal_bench.data.pool import Pool
from deepal_bench.seeding import generator
from deepal_bench.selection import TopK
from deepal_bench.strategies import STRATEGIES, QueryContext, build_strategy, uncertainty

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def registry_snapshot():
    saved = dict(STRATEGIES._items)
    yield
    STRATEGIES._items.clear()
    STRATEGIES._items.update(saved)


def test_worked_example_is_one_class_one_yaml_one_test(registry_snapshot):
    namespace = dict(vars(uncertainty))
    strategy_code, test_code = _blocks("python")
    exec(strategy_code, namespace)
    namespace["pytest"] = pytest
    exec(test_code, namespace)
    namespace["test_ratio_prefers_the_closest_call"]()
    (config,) = _blocks("yaml")
    strategy = build_strategy(yaml.safe_load(config))
    probs = torch.tensor([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4]])
    model = torch.nn.Linear(2, 2)
    ctx = QueryContext(model, None, Pool(3), generator(0, 1, "query"), seed=0)
    ctx._cache["probs"] = probs
    assert strategy.query(ctx, 2, TopK()).indices.tolist() == [1, 2]
    assert strategy.differentiable_score().function(probs).tolist() == pytest.approx(
        [1 / 9, 1.0, 2 / 3]
    )


def _layer_table() -> dict[str, int]:
    """Each package path of the layer table (`cli`, `selection`, ...) -> its layer, 0 = top."""
    section = DOC.read_text().split("## Layers", 1)[1].split("Rules:", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    layers = {}
    for depth, row in enumerate(rows):
        where = row.split("|")[2]
        for path in re.findall(r"`([^`]+)`", where):
            layers[path.rstrip("/").removesuffix(".py")] = depth
    return layers


def _imports(path: Path) -> set[str]:
    """The deepal_bench modules that `path` imports (as dotted names)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("deepal_bench"):
            found.add(node.module)
            if node.module == "deepal_bench":
                found.update(f"deepal_bench.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("deepal_bench"))
    return found


def _layer_of(module: str, layers: dict[str, int]) -> int:
    parts = module.split(".")[1:]
    assert parts and parts[0] in layers, f"{module} is in no layer of docs/architecture.md"
    return layers[parts[0]]


def test_layer_table_matches_the_real_imports():
    layers = _layer_table()
    package = DOC.parent.parent / "deepal_bench"
    upward = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "__init__.py" and path.parent == package:
            continue
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        mine = _layer_of(module, layers)
        for imported in _imports(path):
            if imported != "deepal_bench" and _layer_of(imported, layers) < mine:
                upward.append(f"{module} imports {imported}")
    assert not upward, "imports that point upward: " + "; ".join(upward)


def test_at_most_eight_modules_at_the_top_of_the_package():
    package = DOC.parent.parent / "deepal_bench"
    top = [p.name for p in package.glob("*.py") if not p.name.startswith("__")]
    assert len(top) <= 8, top


def _tracked_text_files() -> list[Path]:
    root = DOC.parent.parent
    suffixes = {".py", ".md", ".yaml", ".sh", ".toml", ".cfg"}
    listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    return [root / f for f in listed.stdout.split() if Path(f).suffix in suffixes]


def test_no_reference_to_a_tracker_or_a_file_outside_the_repository():
    tracker = re.compile(r"\bissues? #?\d+", re.I)
    outside = re.compile(r"\.\./shared|DESIGN\.md")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in _tracked_text_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if tracker.search(line) or outside.search(line)
    ]
    assert not found, found
