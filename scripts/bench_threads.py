"""The embedded default under CPU contention: wall time alone and beside one busy process.

    python scripts/bench_threads.py --out results/bench/threads.csv
    python scripts/bench_threads.py --threads 1,2 --wait-policy default,passive \
        --overrides strategy=entropy trials=1

Each row runs `deepal-bench` in a fresh process (so OMP_WAIT_POLICY takes effect before torch
starts its thread pool) with the given torch thread count and OpenMP wait policy, once alone
and once while another process spins on one core (`while True: pass`), and records the wall
time of each and their ratio. Run it on an otherwise idle machine.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUSY = "while True:\n    pass\n"
COLUMNS = ("threads", "wait_policy", "neighbour", "seconds", "cores", "overrides")


def timed_run(threads: str, policy: str, overrides: list[str], root: str) -> float:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy.upper()
    command = [sys.executable, "-m", "deepal_bench", "-m", f"threads={threads}",
               "progress=false", f"results_root={root}", *overrides]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(threads: str, policy: str, busy: bool, overrides: list[str]) -> float:
    with tempfile.TemporaryDirectory() as root:
        neighbour = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
        try:
            return timed_run(threads, policy, overrides, root)
        finally:
            if neighbour is not None:
                neighbour.kill()
                neighbour.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--wait-policy", default="default,passive", help="default|passive,...")
    parser.add_argument(
        "--overrides",
        nargs="*",
        default=["strategy=entropy", "trials=1"],
        help="deepal-bench overrides (none: the embedded six-strategy sweep)",
    )
    parser.add_argument("--out", type=Path, default=Path("results/bench/threads.csv"))
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for threads in args.threads.split(","):
        for policy in args.wait_policy.split(","):
            for busy in (False, True):
                seconds = measure(threads, policy, busy, [o for o in args.overrides if o])
                row = dict(threads=threads, wait_policy=policy, neighbour="busy" if busy else
                           "none", seconds=round(seconds, 2), cores=os.cpu_count(),
                           overrides=" ".join(args.overrides))  # fmt: skip
                rows.append(row)
                print(row, flush=True)
    with open(args.out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
