"""Query time of every registered strategy in units of one forward pass over the same pool.

    python scripts/bench_query.py --threads 2                     # N = 50,000, LeNet, CPU
    python scripts/bench_query.py --device cuda --in-process
    python scripts/bench_query.py --strategies entropy,badge --pool 5000 --out /tmp/q.csv

Setting (DeepAL+ MNIST sizes): MNIST-shaped synthetic images (1x28x28, 10 classes,
class-dependent means plus noise), 500 labeled points, a pool of `--pool` unlabeled points,
b = 250 queried, LeNet (dropout 0.5) trained for 20 epochs by the harness's `Trainer`. Each
strategy runs in its own process: train, then time one bare forward pass over the pool
(eval mode, `inference_mode`, batches of 1,024, softmax) and `strategy.query` on a fresh
`QueryContext`, alternately three times (the query only once when it takes over 10 s),
keeping the fastest of each. The ratio is query / forward pass. Training-coupled strategies
(those with a trainer extension) are also trained twice with their extension, alternating
with plain fits, and the extra seconds per round are the fastest extended fit minus the
fastest plain one (CEAL and the adversarial strategies after a query, whose pseudo-labels
or examples they train on; the adversarial ones with `add_adversarial: true`, DFAL's extra
examples). Kernels too slow for the full pool run on a smaller one (`SMALL_POOL`), VAAL's
networks on the CPU for 3 of their 30 epochs (`CPU_OPTIONS`); the table's note column says
so. `--lock FILE` makes each measurement hold an exclusive lock on FILE, so other processes
using the same lock never run beside one; `--in-process` measures every strategy in this
process instead (on a GPU it saves each subprocess's CUDA start-up). Writes `--out` (CSV)
and the Markdown table of docs/benchmarks.md beside it (`.md`).
"""

import argparse
import csv
import fcntl
import json
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from omegaconf import OmegaConf

COMPLEXITY = {
    "random": "O(N)",
    "entropy": "1 pass + O(NC)",
    "margin": "1 pass + O(NC)",
    "least_confidence": "1 pass + O(NC)",
    "var_ratio": "1 pass + O(NC) (one_pass)",
    "grad_norm": "N per-sample backward passes (vmap, whole network)",
    "bald": "trunk once + T tail passes + O(TNC)",
    "entropy_dropout": "trunk once + T tail passes + O(TNC)",
    "margin_dropout": "trunk once + T tail passes + O(TNC)",
    "least_confidence_dropout": "trunk once + T tail passes + O(TNC)",
    "mean_std": "trunk once + T tail passes + O(TNC)",
    "batchbald": "T passes + O(b N K C) greedy joint MI, K <= 1,000 configurations",
    "kcenter": "1 pass + labeled pass + PCA to 32 + O(b N 32) greedy, running minima",
    "badge": "1 pass + k-means++ O(b N (C + D)) on factored gradient embeddings",
    "kmeans": "1 pass + Lloyd (scikit-learn) n_init x iters x O(N b D)",
    "kmeans_faiss": "1 pass + faiss k-means nredo x niter x O(N b D)",
    "cdal": "1 pass + labeled pass + O(b N C) k-center on probabilities",
    "falcun": "1 pass + O(b N C)",
    "clue": "1 pass + weighted k-means n_init x iters x O(N b D)",
    "dbal": "1 pass + weighted k-means on the rho b lowest margins",
    "cluster_margin": "1 pass + HAC on k_m = 10 b candidates O(k_m^2 D)",
    "alfamix": "1 pass + labeled pass + interpolation O(N D C) + k-means on candidates",
    "ralif": "1 pass + labeled pass + (C(D+1))^2 Hessian + O(N C D) + k-means++ on 0.1 N",
    "ceal": "base strategy (entropy) + O(NC) pseudo-label entropies",
    "lpl": "1 pass with feature taps + loss module",
    "waal": "1 pass + critic on embeddings O(N D)",
    "vaal": "VAE encoder + discriminator pass",
    "adv_bim": "up to max_iter = 50 forward + backward passes per candidate",
    "adv_deepfool": "up to max_iter = 50 x C gradient passes per candidate",
}
SMALL_POOL = {"batchbald": 2_000, "kmeans": 10_000, "clue": 10_000, "adv_bim": 5_000,
              "adv_deepfool": 2_000}  # fmt: skip
TRAINING_OPTIONS = {"adv_bim": {"add_adversarial": True}, "adv_deepfool": {"add_adversarial": True}}
# VAAL's 30 epochs of a 128-1024-channel VAE take tens of minutes on a 2-core CPU; its
# training time is linear in the epochs (a fixed number of steps each).
CPU_OPTIONS = {"vaal": {"epochs": 3}}
COLUMNS = (
    "strategy", "family", "n_pool", "n_labeled", "select", "device", "threads",
    "forward_seconds", "query_seconds", "ratio", "plain_train_seconds",
    "extension_train_seconds", "extra_train_seconds", "complexity", "note", "status",
)  # fmt: skip
LABELED, SELECT, EPOCHS, REPEATS = 500, 250, 20, 3


def strategy_config(name: str, device: str) -> dict:
    """conf/strategy/<name>.yaml (the registered defaults) plus TRAINING_OPTIONS (and
    CPU_OPTIONS on the CPU)."""
    from deepal_bench.paths import CONF_DIR

    path = CONF_DIR / "strategy" / f"{name}.yaml"
    cfg = OmegaConf.to_container(OmegaConf.load(path)) if path.is_file() else {"name": name}
    reduced = CPU_OPTIONS.get(name, {}) if device == "cpu" else {}
    return {**cfg, **TRAINING_OPTIONS.get(name, {}), **reduced}


def note(name: str, n: int, pool: int, device: str) -> str:
    """What differs from the full setting in this row."""
    parts = [f"N = {n:,} (slow kernel)"] if n < pool else []
    parts += [f"{k}={v}" for k, v in TRAINING_OPTIONS.get(name, {}).items()]
    if device == "cpu":
        parts += [f"{k}={v} (time linear in it)" for k, v in CPU_OPTIONS.get(name, {}).items()]
    return "; ".join(parts)


def synthetic(n: int, device: torch.device):
    """MNIST-shaped data: class means in [0, 1] plus noise, normalised per channel."""
    from deepal_bench.data.dataset import ALData

    gen = torch.Generator().manual_seed(0)
    means = torch.rand(10, 1, 28, 28, generator=gen)

    def split(size: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, 10, (size,), generator=gen)
        x = (means[y] + 0.3 * torch.randn(size, 1, 28, 28, generator=gen)).clamp(0, 1)
        return (x - 0.5) / 0.3, y

    (x, y), (x_test, y_test) = split(n), split(1_000)
    return ALData("synthetic", x, y, x_test, y_test, 10, mean=[0.5], std=[0.3]).to(device)


def family(strategy) -> str:
    from deepal_bench.strategies import BatchStrategy, Strategy
    from deepal_bench.strategies.base import MC_DROPOUT

    if type(strategy).trainer_extension is not Strategy.trainer_extension:
        return "training-coupled"
    if isinstance(strategy, BatchStrategy):
        return "batch"
    return "MC dropout" if MC_DROPOUT in strategy.needs else "score"


def forward_pass(model, x: torch.Tensor, batch_size: int) -> None:
    """The floor: one eval-mode forward pass with softmax, in batches."""
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            torch.softmax(model(x[start : start + batch_size]), 1)


def child(args: argparse.Namespace) -> dict:
    """Measure one strategy (in its own process)."""
    from deepal_bench.data import Pool
    from deepal_bench.models import build_model
    from deepal_bench.run.loop import timed
    from deepal_bench.selection import build_selection
    from deepal_bench.strategies import QueryContext, build_strategy
    from deepal_bench.training.estimators import IMLE, TrainContext
    from deepal_bench.training.trainer import Trainer, TrainerConfig

    device = torch.device(args.device)
    torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    data = synthetic(args.n + LABELED, device)
    pool = Pool(len(data))
    pool.label(torch.arange(LABELED))
    strategy, selection = (
        build_strategy(strategy_config(args.strategy, args.device)),
        build_selection({"name": "topk"}),
    )
    trainer = Trainer(TrainerConfig(epochs=EPOCHS), device)

    def new_model():
        torch.manual_seed(0)
        return build_model({"name": "lenet"}, data.input_shape, data.num_classes).to(device)

    def fit(extensions) -> tuple:
        model, gen = new_model(), torch.Generator().manual_seed(1)
        context = TrainContext(
            data, pool.labeled_indices(), 1, score=strategy.differentiable_score(),
            unlabeled=pool.unlabeled_indices(), seed=7,
        )  # fmt: skip
        _, seconds = timed(device, lambda: trainer.fit(model, context, IMLE(), gen, extensions))
        return model, seconds

    def query(model) -> float:
        gen = torch.Generator().manual_seed(2)
        ctx = QueryContext(model, data, pool, gen, seed=3, batch_size=args.eval_batch_size)
        _, seconds = timed(device, lambda: strategy.query(ctx, SELECT, selection))
        return seconds

    fit([])  # warm-up
    model, plain = fit([])
    row = {"plain_train_seconds": plain}
    if family(strategy) == "training-coupled":
        plains, extended = [plain], []
        for _ in range(2):  # extended and plain fits alternately, the fastest of each
            if strategy.trainer_extension() is None:  # CEAL, DFAL: their data come from a query
                query(model)
            model, seconds = fit([strategy.trainer_extension()])
            extended.append(seconds)
            plains.append(fit([])[1])
        row = {"plain_train_seconds": min(plains), "extension_train_seconds": min(extended),
               "extra_train_seconds": min(extended) - min(plains)}  # fmt: skip
    x_pool = data.x_train[pool.unlabeled_indices().to(device)]
    forwards, queries = [], []
    for _ in range(REPEATS):  # interleaved, so that both see the same machine
        forwards.append(timed(device, lambda: forward_pass(model, x_pool, args.eval_batch_size))[1])
        if not queries or queries[-1] < 10:
            queries.append(query(model))
    forward, seconds = min(forwards), min(queries)
    return {**row, "family": family(strategy), "forward_seconds": forward, "query_seconds": seconds,
            "ratio": seconds / forward, "threads": torch.get_num_threads()}  # fmt: skip


def run_in_process(args: argparse.Namespace, name: str, n: int) -> dict:
    """One strategy in this process (`--in-process`: no start-up per strategy, no timeout)."""
    try:
        row = child(argparse.Namespace(**{**vars(args), "strategy": name, "n": n}))
    except Exception as err:  # a failing strategy is a row of the table, not the end
        return {"status": f"error: {type(err).__name__}: {str(err)[:200]}"}
    return {**row, "status": "ok"}


def run_child(args: argparse.Namespace, name: str, n: int) -> dict:
    """One strategy in a subprocess (under the lock, if any), with a timeout."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [sys.executable, __file__, "--child", "--strategy", name, "--n", str(n),
           "--device", args.device, "--threads", str(args.threads),
           "--eval-batch-size", str(args.eval_batch_size)]  # fmt: skip
    lock = open(args.lock, "a") if args.lock else nullcontext()  # noqa: SIM115
    with lock:
        if args.lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=args.timeout, env=env
            )
        except subprocess.TimeoutExpired:
            return {"status": f"timeout>{args.timeout:.0f}s"}
    if proc.returncode != 0:
        return {"status": "error: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "status": "ok"}


def cell(row: dict, key: str, fmt: str = "{:.2f}") -> str:
    value = row.get(key)
    return "–" if value in (None, "") else fmt.format(float(value))


def markdown(rows: list[dict]) -> str:
    lines = [
        "| strategy | family | N | forward pass | query | query / forward | extra training "
        "per round (plain) | complexity | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| `{r['strategy']}` | | {r['n_pool']:,} | | {r['status']} | | | "
                         f"{r['complexity']} | {r['note']} |")  # fmt: skip
            continue
        extra = (
            f"{cell(r, 'extra_train_seconds')} s ({cell(r, 'plain_train_seconds')} s)"
            if r.get("extra_train_seconds") not in (None, "")
            else "–"
        )
        lines.append(
            f"| `{r['strategy']}` | {r['family']} | {r['n_pool']:,} "
            f"| {cell(r, 'forward_seconds')} s | {cell(r, 'query_seconds')} s "
            f"| **{cell(r, 'ratio')}** | {extra} | {r['complexity']} | {r['note']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool", type=int, default=50_000, help="unlabeled pool size N")
    parser.add_argument("--strategies", help="comma-separated (default: every registered one)")
    parser.add_argument("--eval-batch-size", type=int, default=1024)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per strategy")
    parser.add_argument("--lock", help="hold an exclusive lock on this file while measuring")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure every strategy in this process (no start-up cost each, no timeout)",
    )
    parser.add_argument("--out", type=Path, default=Path("results/bench/query.csv"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--strategy", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(child(args)))
        return
    from deepal_bench.strategies import STRATEGIES

    names = args.strategies.split(",") if args.strategies else STRATEGIES.names()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows, start = [], time.perf_counter()
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for name in names:
            n = min(args.pool, SMALL_POOL.get(name, args.pool))
            row = {"strategy": name, "n_pool": n, "n_labeled": LABELED, "select": SELECT,
                   "device": args.device, "complexity": COMPLEXITY.get(name, "?"),
                   "note": note(name, n, args.pool, args.device),
                   **(run_in_process if args.in_process else run_child)(args, name, n)}  # fmt: skip
            rows.append(row)
            writer.writerow(row)
            f.flush()
            print(markdown([row]).splitlines()[-1], f"({time.perf_counter() - start:.0f} s)",
                  flush=True)  # fmt: skip
    args.out.with_suffix(".md").write_text(markdown(rows) + "\n")
    print(markdown(rows))
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
