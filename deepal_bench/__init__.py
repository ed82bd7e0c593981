"""deepal-bench: a seeded, config-driven benchmark harness for deep active learning."""

__version__ = "0.1.0"
