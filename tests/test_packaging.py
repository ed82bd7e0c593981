"""A built wheel installed into a fresh virtual environment runs from any folder.

The wheel is installed without its dependencies into a new venv whose only link to this
environment is a .pth line giving it torch & co. (so CI does not download them twice); the
package itself, its configs and its published numbers must come from the wheel.
"""

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent


def run(*command, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd or "/")}
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the built wheel installed; returns its bin folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
        "-w", tmp / "dist", REPO)  # fmt: skip
    (wheel,) = (tmp / "dist").glob("deepal_bench-*.whl")
    run(sys.executable, "-m", "venv", tmp / "venv")
    (site,) = (tmp / "venv" / "lib").glob("python*/site-packages")
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(tmp / "venv" / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", wheel)
    return tmp / "venv" / "bin"


def test_the_wheel_carries_configs_and_published_numbers(installed, tmp_path):
    probe = (
        "import deepal_bench, deepal_bench.paths as p;"
        "from deepal_bench.report.published import load_published;"
        "print(deepal_bench.__file__, p.CONF_DIR, p.PAPER_DIR, len(load_published()))"
    )
    package, conf, papers, published = run(installed / "python", "-c", probe, cwd=tmp_path)\
        .stdout.split()  # fmt: skip
    venv = str(installed.parent)
    assert package.startswith(venv) and conf.startswith(venv) and papers.startswith(venv)
    assert int(published) > 1000
    assert len(list(Path(conf).rglob("*.yaml"))) == len(list((REPO / "conf").rglob("*.yaml")))


def test_a_small_job_runs_from_an_unrelated_folder(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    help_text = run(installed / "deepal-bench", "--help", cwd=elsewhere).stdout
    assert "strategy: " in help_text and "badge" in help_text and "_dataset" not in help_text
    run(installed / "deepal-bench", "dataset=wine", "trials=1", "budget.initial=10",
        "budget.batch=10", "budget.quota=10", "trainer.epochs=1", "results_root=runs",
        cwd=elsewhere)  # fmt: skip
    (done,) = (elsewhere / "runs").rglob("DONE")
    assert done.read_text() == "1 trials complete\n"
    report = run(installed / "deepal-bench-report", "runs", "--out", "report", cwd=elsewhere)
    assert "| entropy | 1 |" in report.stdout
