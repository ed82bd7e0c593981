"""Many runs: a sweep's jobs expanded as Hydra expands them, their cost before they run
(plan) and where they stand (status)."""
