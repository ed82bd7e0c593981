"""The record format (DESIGN.md "Records"): file names and columns of one run directory."""

CONFIG_FILE = "config.yaml"
ROUNDS_FILE = "rounds.csv"
QUERIES_FILE = "queries.csv"
SUMMARY_FILE = "summary.csv"
STATE_FILE = "state.pt"
DONE_FILE = "DONE"

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
SUMMARY_COLUMNS = ["trial", "aubc", "f_acc", "total_seconds"]
