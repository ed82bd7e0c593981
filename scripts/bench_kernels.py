"""Time the batch-aware selection kernels on synthetic data and write a CSV.

    python scripts/bench_kernels.py                       # grid: N in {10k, 50k, 200k}, D=512, C=10
    python scripts/bench_kernels.py --sizes 2000 --kernels falcun,kcenter --out /tmp/b.csv
    python scripts/bench_kernels.py --suite floor         # kernels against their floor (see below)
    python scripts/bench_kernels.py --suite floor --deepal-plus ~/src/deepALplus \\
        --reference-python ~/venvs/bbr/bin/python       # + the reference implementations

`--suite floor` runs fixed rows: k-center, k-means++ and BADGE at N = 20,000 (select 500),
k-center and BADGE at N = 700,000 (select 1,000), BatchBALD at N = 10,000 (20 MC samples,
1,000 configurations, select 100 and 1,000); all with D = 512, C = 10, 1,000 labeled points.
`--deepal-plus DIR` adds DeepAL+'s k-center (`KCenterGreedy.query`) and BADGE (`init_centers`,
timed on explicit gradient embeddings) at N = 20,000, imported from a local checkout of
SineZHAN/deepALplus at run time; `--reference-python PATH` adds batchbald_redux's
`get_batchbald_batch` (select 100), run by the interpreter of a separate environment where
it is installed. Neither is a dependency of this project.

Each (kernel, N) runs in its own subprocess (clean peak memory, a hard `--timeout`); the
child reports wall time of the kernel call (the fastest of `--repeats` calls: on a shared
machine the others include interference) and its peak memory over all calls: the largest
resident set size sampled every 2 ms minus the size just before the first call (inputs
excluded), or `torch.cuda.max_memory_allocated` on CUDA. Rows that time out are written with
status=timeout. For the distance kernels the child also measures the matrix-vector product
of the N x D embeddings on the same machine (`gemv_gmacs`, best of 10) and writes the floor
of one such product per pick, select * N * D / throughput, and seconds / floor. Inputs:
probabilities softmax(3 z), embeddings z (standard normal), `--labeled` labeled embeddings,
`--passes` MC samples for BatchBALD: softmax(3 (sqrt(rho) z + sqrt(1 - rho) z_k)) with one z
shared by all samples and rho = `--mc-correlation` (0: independent samples, the setting of
the floor suite; near 1: samples that agree, as MC dropout on a trained model).
"""

import argparse
import contextlib
import csv
import importlib
import io
import json
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

KERNELS = (
    "kcenter",
    "kmeanspp",
    "badge",
    "falcun",
    "cdal",
    "kmeans_faiss",
    "kmeans_sklearn",
    "cluster_margin",
    "alfamix",
    "ralif",
    "batchbald",
)
REFERENCE_KERNELS = ("deepal_plus_kcenter", "deepal_plus_badge", "batchbald_redux")
FLOOR_KERNELS = ("kcenter", "kmeanspp", "badge", "deepal_plus_kcenter", "deepal_plus_badge")
COLUMNS = (
    "kernel",
    "n_pool",
    "dim",
    "classes",
    "select",
    "n_labeled",
    "passes",
    "configs",
    "mc_correlation",
    "seconds",
    "peak_mib",
    "gemv_gmacs",
    "floor_seconds",
    "floor_ratio",
    "status",
    "device",
    "threads",
)


def _floor_suite(deepal_plus: bool, reference: bool) -> list[dict]:
    """The floor suite: (kernel, n, select[, mc_correlation]), D = 512, C = 10, 1,000
    labeled; BatchBALD also on agreeing MC samples (rho = 0.99), whose posteriors over the
    samples stay spread, so every configuration goes through the GEMM."""
    rows = [
        ("kcenter", 20_000, 500),
        ("kmeanspp", 20_000, 500),
        ("badge", 20_000, 500),
        ("kcenter", 700_000, 1000),
        ("badge", 700_000, 1000),
        ("batchbald", 10_000, 100),
        ("batchbald", 10_000, 1000),
        ("batchbald", 10_000, 100, 0.99),
        ("batchbald", 10_000, 1000, 0.99),
    ]
    if deepal_plus:
        rows[3:3] = [("deepal_plus_kcenter", 20_000, 500), ("deepal_plus_badge", 20_000, 500)]
    if reference:
        rows.append(("batchbald_redux", 10_000, 100))
    specs = [{"kernel": r[0], "n_pool": r[1], "select": r[2]} for r in rows]
    for spec, row in zip(specs, rows, strict=True):
        if len(row) > 3:
            spec["mc_correlation"] = row[3]
    return specs


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakRSS:
    """Samples the resident set size in a thread while the kernel runs."""

    def __enter__(self) -> "_PeakRSS":
        self.base = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def _inputs(args: argparse.Namespace, device) -> dict:
    import torch

    n, dim, classes, n_labeled = args.n, args.dim, args.classes, args.labeled
    g = torch.Generator().manual_seed(0)
    if args.kernel in ("batchbald", "batchbald_redux"):
        rho = args.mc_correlation
        shared = torch.randn(1, n, classes, generator=g)
        own = torch.randn(args.passes, n, classes, generator=g)
        mc = torch.softmax(3.0 * (rho**0.5 * shared + (1 - rho) ** 0.5 * own), 2)
        return {"mc": mc.to(device)}
    emb = torch.randn(n, dim, generator=g)
    probs = torch.softmax(3.0 * torch.randn(n, classes, generator=g), 1)
    out = {"emb": emb.to(device), "probs": probs.to(device)}
    lab = torch.randn(n_labeled, dim, generator=g)
    out["labeled_emb"] = lab.to(device)
    out["labeled_probs"] = torch.softmax(3.0 * torch.randn(n_labeled, classes, generator=g), 1)
    out["labeled_y"] = torch.arange(n_labeled) % classes
    out["head_w"] = torch.randn(classes, dim, generator=g) / dim**0.5
    out["head_b"] = torch.zeros(classes)
    if args.kernel == "deepal_plus_badge":
        onehot = torch.nn.functional.one_hot(probs.argmax(1), classes).float()
        out["grad_emb"] = ((probs - onehot)[:, :, None] * emb[:, None, :]).flatten(1).numpy()
    return out


def _deepal_plus_module(directory: str, name: str) -> types.ModuleType:
    """`query_strategies.<name>` from a DeepAL+ checkout, without running the package's
    __init__ (which imports every strategy and its dependencies)."""
    package = types.ModuleType("query_strategies")
    package.__path__ = [str(Path(directory).expanduser() / "query_strategies")]
    sys.modules["query_strategies"] = package
    return importlib.import_module(f"query_strategies.{name}")


def _deepal_plus_kcenter(module: types.ModuleType, pool, labeled, n: int):
    """DeepAL+'s `KCenterGreedy.query` on pool + labeled embeddings (returns pool positions)."""
    import numpy as np
    import torch

    emb = torch.cat([pool, labeled]).cpu()
    mask = np.zeros(len(emb), dtype=bool)
    mask[len(pool) :] = True
    dataset = types.SimpleNamespace(
        n_pool=len(emb), labeled_idxs=mask, get_train_data=lambda: (mask.copy(), None)
    )
    stub = types.SimpleNamespace(dataset=dataset, get_embeddings=lambda data: emb)
    return torch.from_numpy(module.KCenterGreedy.query(stub, n))


def _deepal_plus_badge(module: types.ModuleType, grad_emb, n: int):
    """DeepAL+'s BADGE `init_centers` (k-means++ on explicit gradient embeddings)."""
    import numpy as np
    import torch

    np.random.seed(1)
    with contextlib.redirect_stdout(io.StringIO()):
        return torch.tensor([int(i) for i in module.init_centers(grad_emb, n)])


def _batchbald_redux(module: types.ModuleType, mc, n: int, configs: int):
    """batchbald_redux's `get_batchbald_batch` (float64, as its default)."""
    import torch

    get_batchbald_batch = module.get_batchbald_batch
    torch.manual_seed(1)
    log_probs = mc.permute(1, 0, 2).log().contiguous()
    batch = get_batchbald_batch(log_probs, n, configs, dtype=torch.double, device=mc.device)
    return torch.tensor(batch.indices)


def _module(args: argparse.Namespace) -> types.ModuleType:
    """The module whose kernel `args.kernel` runs (imported before the timing starts)."""
    if args.kernel == "deepal_plus_kcenter":
        return _deepal_plus_module(args.deepal_plus, "kcenter_greedy")
    if args.kernel == "deepal_plus_badge":
        return _deepal_plus_module(args.deepal_plus, "badge_sampling")
    if args.kernel == "batchbald_redux":
        return importlib.import_module("batchbald_redux.batchbald")
    return importlib.import_module("deepal_bench.kernels")


def _call(args: argparse.Namespace, module: types.ModuleType, x: dict):
    import torch

    kernel, n = args.kernel, args.select
    if kernel == "deepal_plus_kcenter":
        return _deepal_plus_kcenter(module, x["emb"], x["labeled_emb"], n)
    if kernel == "deepal_plus_badge":
        return _deepal_plus_badge(module, x["grad_emb"], n)
    if kernel == "batchbald_redux":
        return _batchbald_redux(module, x["mc"], n, args.configs)

    kernels = module
    g = torch.Generator().manual_seed(1)
    if kernel == "kcenter":
        return kernels.kcenter_greedy(x["emb"], x["labeled_emb"], n)
    if kernel == "kmeanspp":
        return kernels.kmeanspp(x["emb"], n, g)
    if kernel == "badge":
        return kernels.badge(x["probs"], x["emb"], n, g)
    if kernel == "falcun":
        return kernels.falcun(x["probs"], n, 10.0, g)
    if kernel == "cdal":
        return kernels.kcenter_greedy(x["probs"], x["labeled_probs"].to(x["probs"].device), n)
    if kernel == "kmeans_faiss":
        return kernels.kmeans_select(x["emb"], n, g, backend="faiss")
    if kernel == "kmeans_sklearn":
        return kernels.kmeans_select(x["emb"], n, g, backend="sklearn")
    if kernel == "cluster_margin":
        return kernels.cluster_margin(x["emb"], -kernels.margin(x["probs"]), n, g)
    if kernel == "alfamix":
        flips = kernels.alfamix_candidates(
            x["emb"], x["probs"], x["labeled_emb"], x["labeled_y"], x["head_w"], x["head_b"]
        )
        cand = torch.nonzero(flips).flatten()
        return cand[kernels.kmeans_select(x["emb"][cand], n, g, backend="faiss")]
    if kernel == "ralif":
        scores = kernels.ralif_scores(
            x["probs"], x["emb"], x["probs"][:2000], x["emb"][:2000],
            x["labeled_probs"], x["labeled_emb"],
        )  # fmt: skip
        pool = torch.sort(scores).indices[: max(n, len(scores) // 10)]
        return pool[kernels.kmeanspp(x["emb"][pool], n, g)]
    if kernel == "batchbald":
        return kernels.batchbald(x["mc"], n, g, max_configs=args.configs)
    raise ValueError(kernel)


def _gemv_seconds(emb, device) -> float:
    """Best of 10 timings of one N x D float32 matrix-vector product on `emb`."""
    import torch

    mat, vec = emb.float(), emb[0].float()
    out = torch.empty(len(mat), device=mat.device)
    best = float("inf")
    for _ in range(11):
        start = time.perf_counter()
        torch.mv(mat, vec, out=out)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def child(args: argparse.Namespace) -> None:
    """Run one (kernel, N) measurement and print it as JSON."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    x = _inputs(args, device)
    module = _module(args)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    times = []
    with _PeakRSS() as rss:
        for _ in range(args.repeats):
            start = time.perf_counter()
            chosen = _call(args, module, x)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    seconds = min(times)
    expected = min(args.select, args.n)
    assert len(torch.unique(chosen)) == len(chosen) == expected, (len(chosen), expected)
    peak = rss.peak - rss.base
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() - before
    row = {"seconds": seconds, "peak_mib": peak / 2**20, "device": str(device),
           "threads": torch.get_num_threads()}  # fmt: skip
    if args.kernel in FLOOR_KERNELS:
        gemv = _gemv_seconds(x["emb"], device)
        floor = expected * gemv
        row.update(gemv_gmacs=args.n * args.dim / gemv / 1e9, floor_seconds=floor,
                   floor_ratio=seconds / floor)  # fmt: skip
    print(json.dumps(row))


def _run_row(args: argparse.Namespace, spec: dict, env: dict) -> dict:
    """One subprocess measurement; returns the CSV row."""
    rho = spec.get("mc_correlation", args.mc_correlation)
    row = {"dim": args.dim, "classes": args.classes, "n_labeled": args.labeled, **spec}
    if spec["kernel"] in ("batchbald", "batchbald_redux"):
        row.update(passes=args.passes, configs=args.configs, mc_correlation=rho)
    python = args.reference_python if spec["kernel"] == "batchbald_redux" else sys.executable
    cmd = [python, __file__, "--child", "--kernel", spec["kernel"], "--n", str(spec["n_pool"]),
           "--dim", str(args.dim), "--classes", str(args.classes),
           "--select", str(spec["select"]), "--labeled", str(args.labeled),
           "--passes", str(args.passes), "--configs", str(args.configs),
           "--mc-correlation", str(rho),
           "--threads", str(args.threads), "--device", args.device,
           "--repeats", str(args.repeats)]  # fmt: skip
    if args.deepal_plus:
        cmd += ["--deepal-plus", args.deepal_plus]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
        if proc.returncode == 0:
            row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
            row["status"] = "ok"
        else:
            lines = proc.stderr.strip().splitlines() or ["(no output)"]
            row["status"] = "error: " + lines[-1][:200]
    except subprocess.TimeoutExpired:
        row["status"] = f"timeout>{args.timeout:.0f}s"
    return row


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=("grid", "floor"), default="grid")
    parser.add_argument("--sizes", default="10000,50000,200000", help="grid: comma-separated N")
    parser.add_argument("--kernels", help="comma-separated (grid: all by default; suite: filter)")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--select", type=int, default=1000, help="grid: points to select")
    parser.add_argument("--labeled", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=20, help="BatchBALD MC samples")
    parser.add_argument("--configs", type=int, default=1000, help="BatchBALD max_configs")
    parser.add_argument(
        "--mc-correlation", type=float, default=0.0, help="BatchBALD: logit correlation of samples"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=1, help="calls per row; the fastest counts")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--cpu", action="store_true", help="same as --device cpu")
    parser.add_argument(
        "--deepal-plus", metavar="DIR", help="SineZHAN/deepALplus checkout: its k-center, BADGE"
    )
    parser.add_argument(
        "--reference-python", metavar="PATH", help="interpreter with batchbald_redux installed"
    )
    parser.add_argument("--out", default="results/bench/kernels.csv")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kernel", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    return parser


def _rows(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[dict]:
    names = [k for k in (args.kernels or "").split(",") if k]
    unknown = sorted(set(names) - set(KERNELS) - set(REFERENCE_KERNELS))
    if unknown:
        valid = ", ".join(KERNELS + REFERENCE_KERNELS)
        parser.error(f"unknown kernels {unknown}; choose from {valid}")
    if args.suite == "floor":
        rows = _floor_suite(bool(args.deepal_plus), bool(args.reference_python))
        return [r for r in rows if not names or r["kernel"] in names]
    sizes = [int(s) for s in args.sizes.split(",")]
    names = names or list(KERNELS)
    return [{"kernel": k, "n_pool": n, "select": args.select} for n in sizes for k in names]


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    if args.child:
        child(args)
        return
    rows = _rows(args, parser)
    kinds = {r["kernel"] for r in rows}
    if kinds & {"deepal_plus_kcenter", "deepal_plus_badge"} and not args.deepal_plus:
        parser.error("the deepal_plus_* kernels need --deepal-plus DIR")
    if "batchbald_redux" in kinds and not args.reference_python:
        parser.error("batchbald_redux needs --reference-python PATH")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    if args.threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(args.threads)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for spec in rows:
            row = _run_row(args, spec, env)
            writer.writerow(row)
            f.flush()
            print(", ".join(f"{k}={row.get(k, '')}" for k in COLUMNS), flush=True)


if __name__ == "__main__":
    main()
