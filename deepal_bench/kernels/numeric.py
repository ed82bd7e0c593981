"""Numeric constants shared by the kernels and the losses built on them."""

EPS = 1e-12
"""Floor for probabilities and distances before a log or a square root (log 0, sqrt' 0)."""
