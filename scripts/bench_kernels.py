"""Time every batch-aware selection kernel on synthetic data and write a CSV.

    python scripts/bench_kernels.py                       # N in {10k, 50k, 200k}, D=512, C=10
    python scripts/bench_kernels.py --sizes 2000 --kernels falcun,kcenter --out /tmp/b.csv

Each (kernel, N) runs in its own subprocess (clean peak memory, a hard `--timeout`); the
child reports wall time of the kernel call and its peak memory: the largest resident set
size sampled every 2 ms during the call minus the size just before it (inputs excluded), or
`torch.cuda.max_memory_allocated` on CUDA. Rows that time out are written with
status=timeout. Inputs: probabilities softmax(3 z), embeddings z (standard normal),
`--labeled` labeled embeddings, 10 MC passes for BatchBALD.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
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
COLUMNS = (
    "kernel",
    "n_pool",
    "dim",
    "classes",
    "select",
    "n_labeled",
    "seconds",
    "peak_mib",
    "status",
    "device",
    "threads",
)


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


def _inputs(n: int, dim: int, classes: int, n_labeled: int, device, kernel: str) -> dict:
    import torch

    g = torch.Generator().manual_seed(0)
    emb = torch.randn(n, dim, generator=g)
    probs = torch.softmax(3.0 * torch.randn(n, classes, generator=g), 1)
    out = {"emb": emb.to(device), "probs": probs.to(device)}
    lab = torch.randn(n_labeled, dim, generator=g)
    out["labeled_emb"] = lab.to(device)
    out["labeled_probs"] = torch.softmax(3.0 * torch.randn(n_labeled, classes, generator=g), 1)
    out["labeled_y"] = torch.arange(n_labeled) % classes
    out["head_w"] = torch.randn(classes, dim, generator=g) / dim**0.5
    out["head_b"] = torch.zeros(classes)
    if kernel == "batchbald":
        out["mc"] = torch.softmax(3.0 * torch.randn(10, n, classes, generator=g), 2).to(device)
    return out


def _call(kernel: str, x: dict, n: int):
    import torch

    from deepal_bench import kernels

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
        return kernels.batchbald(x["mc"], n, g)
    raise ValueError(kernel)


def child(args: argparse.Namespace) -> None:
    """Run one (kernel, N) measurement and print it as JSON."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    x = _inputs(args.n, args.dim, args.classes, args.labeled, device, args.kernel)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    with _PeakRSS() as rss:
        start = time.perf_counter()
        chosen = _call(args.kernel, x, args.select)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    assert len(torch.unique(chosen)) == len(chosen) == min(args.select, args.n)
    peak = rss.peak - rss.base
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() - before
    print(json.dumps({"seconds": seconds, "peak_mib": peak / 2**20, "device": str(device),
                      "threads": torch.get_num_threads()}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,200000", help="comma-separated N")
    parser.add_argument("--kernels", default=",".join(KERNELS), help="comma-separated names")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--select", type=int, default=1000)
    parser.add_argument("--labeled", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--cpu", action="store_true", help="stay on the CPU even with CUDA")
    parser.add_argument("--out", default="results/bench/kernels.csv")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kernel", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    names = [k for k in args.kernels.split(",") if k]
    unknown = sorted(set(names) - set(KERNELS))
    if unknown:
        parser.error(f"unknown kernels {unknown}; choose from {', '.join(KERNELS)}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for n in (int(s) for s in args.sizes.split(",")):
            for kernel in names:
                row = {"kernel": kernel, "n_pool": n, "dim": args.dim, "classes": args.classes,
                       "select": args.select, "n_labeled": args.labeled}  # fmt: skip
                cmd = [sys.executable, __file__, "--child", "--kernel", kernel, "--n", str(n),
                       "--dim", str(args.dim), "--classes", str(args.classes),
                       "--select", str(args.select), "--labeled", str(args.labeled),
                       "--threads", str(args.threads)]  # fmt: skip
                cmd += ["--cpu"] if args.cpu else []
                try:
                    proc = subprocess.run(
                        cmd, capture_output=True, text=True, timeout=args.timeout, env=env
                    )
                    if proc.returncode == 0:
                        row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
                        row["status"] = "ok"
                    else:
                        row["status"] = "error: " + proc.stderr.strip().splitlines()[-1][:200]
                except subprocess.TimeoutExpired:
                    row["status"] = f"timeout>{args.timeout:.0f}s"
                writer.writerow(row)
                f.flush()
                print(", ".join(f"{k}={row.get(k, '')}" for k in COLUMNS), flush=True)


if __name__ == "__main__":
    main()
