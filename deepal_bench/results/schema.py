"""The record format (docs/records.md): file names and columns of one run directory."""

from deepal_bench.metrics.records import TRIAL_METRICS

CONFIG_FILE = "config.yaml"
ROUNDS_FILE = "rounds.csv"
QUERIES_FILE = "queries.csv"
SUMMARY_FILE = "summary.csv"
STATE_FILE = "state.pt"
DONE_FILE = "DONE"
LOCK_FILE = "LOCK"
LOG_FILE = "deepal-bench.log"  # Hydra's job log (hydra.job.name: deepal-bench in conf/config.yaml)
STATE_FORMAT = 2  # version of the plain-container layout of state.pt (store.RunState)
PROVENANCE_FILE = "provenance.json"  # who made the run (package, git commit, torch, device, host)
TEMP_SUFFIX = ".tmp"  # interrupted atomic writes leave `.<name>.<random>.tmp` files

ROUNDS_COLUMNS = [
    "trial",
    "seed",
    "round",
    "n_labeled",
    "accuracy",
    "train_seconds",
    "query_seconds",
    "eval_seconds",
]
QUERIES_COLUMNS = ["trial", "round", "pool_index"]
RECORD_FILES = (ROUNDS_FILE, QUERIES_FILE, SUMMARY_FILE)  # Run(rounds, queries, summary)
SUMMARY_COLUMNS = ["trial", *TRIAL_METRICS]  # aubc, f_acc, total_seconds (metrics.records)

# Optional records (`store_predictions: true`): the test labels once, then the predicted
# test labels of every (trial, round) as int32 .npy files, for RALIF's label-permutation test.
PREDICTIONS_DIR = "predictions"
TEST_LABELS_FILE = "test_labels.npy"
PREDICTIONS_PATTERN = "trial{trial}-round{round}.npy"

# Extra rounds.csv columns come from the registered round metrics (metrics/records.py), e.g.
# when the dataset defines test groups (DeepAL+ Table 8): worst_group_accuracy,
# mismatch_accuracy (when the dataset declares `mismatch_groups`) and accuracy_<group name>.
