"""Training: the trainer, its extension points, estimators and pool inference."""
