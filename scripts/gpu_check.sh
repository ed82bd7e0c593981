#!/usr/bin/env bash
# The GPU check: everything that needs a CUDA device, in one call of at most 8 minutes.
#
#   bash scripts/gpu_check.sh [OUT]          # OUT: results/gpu_check by default
#   GPU_CHECK_DRY_RUN=1 bash scripts/gpu_check.sh /tmp/plan   # print the steps, run none
#
# Steps, in order, each under its own time limit and never past the overall deadline
# (GPU_CHECK_SECONDS, default 480): the environment (nvidia-smi, torch, the GPU), the
# install, the CUDA-marked tests, scripts/bench_round.py on CUDA (LeNet, ResNet18, MLP
# against a bare loop), scripts/bench_kernels.py on CUDA (N = 10,000 / 50,000 / 200,000),
# the embedded default with device=cuda and its report; then, while time is left, the
# bf16 round of ResNet18, the GPU throughput rows for deepal-bench-plan and every
# strategy's query cost. A step that fails or runs out of time is recorded and the next one
# runs. Everything lands under OUT: one file or folder per step, the whole log
# (gpu_check.log) and steps.csv (step, exit status, seconds). docs/benchmarks.md ("GPU
# check") says how the figures are read.
#
# Install: nothing if deepal_bench and its dependencies already import; else the wheels in
# $GPU_CHECK_WHEELS (a folder, for a machine without network) into a private folder on
# PYTHONPATH; else `pip install -e .[dev]`.
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-results/gpu_check}
DEADLINE=$((SECONDS + ${GPU_CHECK_SECONDS:-480}))
DRY_RUN=${GPU_CHECK_DRY_RUN:-0}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ "$DRY_RUN" = 0 ]; then
    exec > >(tee "$OUT/gpu_check.log") 2>&1
fi
echo "step,status,seconds" > "$OUT/steps.csv"

# step NAME CAP_SECONDS COMMAND...: run COMMAND for at most CAP seconds (less if the
# deadline is nearer) and record its exit status (124: out of time; skipped: no time left).
step() {
    local name=$1 cap=$2 left=$((DEADLINE - SECONDS)) start=$SECONDS status
    shift 2
    echo "== $name (at most ${cap}s): $*"
    if [ "$DRY_RUN" != 0 ]; then
        echo "$name,dry-run,0" >> "$OUT/steps.csv"
        return 0
    fi
    if [ "$left" -lt 10 ]; then
        echo "$name,skipped,0" >> "$OUT/steps.csv"
        return 0
    fi
    timeout --kill-after=10 "$((cap < left ? cap : left))" "$@"
    status=$?
    echo "$name,$status,$((SECONDS - start))" >> "$OUT/steps.csv"
}

# optional NAME CAP COMMAND...: a step that runs only if its whole cap fits before the deadline.
optional() {
    if [ "$DRY_RUN" = 0 ] && [ $((DEADLINE - SECONDS)) -lt "$2" ]; then
        echo "== $1: not run, under ${2}s left"
        echo "$1,skipped,0" >> "$OUT/steps.csv"
        return 0
    fi
    step "$@"
}

install() {
    if "$PYTHON" -c "import deepal_bench.cli.run, hydra, omegaconf, pandas, scipy, sklearn, pytest" \
        2>/dev/null; then
        return 0
    fi
    if [ -n "${GPU_CHECK_WHEELS:-}" ]; then
        "$PYTHON" -m pip install -q --no-index --no-deps --target "$SITE" "$GPU_CHECK_WHEELS"/*.whl
    else
        "$PYTHON" -m pip install -q -e ".[dev]"
    fi
}

environment() {
    nvidia-smi || echo "nvidia-smi: not available"
    "$PYTHON" - <<'EOF'
import platform, torch
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.version.cuda)
if not torch.cuda.is_available():
    raise SystemExit(
        "No CUDA device is visible to torch (torch.cuda.is_available() is False); the GPU "
        "check needs one. Run it on a machine with an NVIDIA GPU and a CUDA build of torch."
    )
print("device", torch.cuda.get_device_name(0), torch.cuda.get_device_properties(0).total_memory)
EOF
}

SITE="$OUT/site-packages"
export PYTHON SITE PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export -f install environment  # so that `timeout` can run them through bash -c

step environment 60 bash -c environment > "$OUT/environment.txt" 2>&1
cat "$OUT/environment.txt"
if [ "$DRY_RUN" = 0 ] && ! grep -q "^device " "$OUT/environment.txt"; then
    exit 1
fi
step install 120 bash -c install
# Only the modules with CUDA-marked tests: the others may import dev-only packages.
mapfile -t CUDA_TESTS < <(grep -l "mark.cuda" tests/test_*.py)
step cuda_tests 120 "$PYTHON" -m pytest -q -m cuda -p no:cacheprovider \
    --junitxml="$OUT/cuda_tests.xml" "${CUDA_TESTS[@]}"
step bench_round 150 "$PYTHON" scripts/bench_round.py --device cuda --repeats 2 \
    --out "$OUT/round_cuda.csv"
step bench_kernels 120 "$PYTHON" scripts/bench_kernels.py --device cuda \
    --sizes 10000,50000,200000 --timeout 60 --out "$OUT/kernels_cuda.csv"
step embedded_default 150 "$PYTHON" -m deepal_bench -m device=cuda progress=false \
    results_root="$OUT/default"
step report 30 "$PYTHON" -m deepal_bench.cli.report "$OUT/default/digits" \
    --out "$OUT/default/report"
optional bench_round_amp 60 "$PYTHON" scripts/bench_round.py --device cuda --repeats 2 \
    --models resnet18 --amp --out "$OUT/round_cuda_amp.csv"
cp deepal_bench/sweeps/throughput.csv "$OUT/throughput.csv"  # the GPU rows merge into a copy
optional bench_throughput 120 "$PYTHON" scripts/bench_throughput.py --device cuda \
    --out "$OUT/throughput.csv"
optional bench_query 240 "$PYTHON" scripts/bench_query.py --device cuda --in-process \
    --out "$OUT/query_cuda.csv"
echo "== done in $((SECONDS))s; steps:"
cat "$OUT/steps.csv"
