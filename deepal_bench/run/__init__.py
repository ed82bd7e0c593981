"""One run: its settings and budget, where it runs, the loop over trials and rounds, and
the run directory it owns (identity, records, state, lock)."""
