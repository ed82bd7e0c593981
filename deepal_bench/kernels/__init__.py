"""Pure selection kernels: functions of tensors (+ a torch.Generator) returning scores or
pool positions. No model, no I/O, no globals."""

from deepal_bench.kernels.alfamix import alfamix_candidates
from deepal_bench.kernels.badge import badge
from deepal_bench.kernels.batchbald import batchbald
from deepal_bench.kernels.cluster_margin import cluster_margin
from deepal_bench.kernels.falcun import falcun
from deepal_bench.kernels.gradients import grad_norms, logit_entropy
from deepal_bench.kernels.influence import head_hessian, influence_losses, ralif_scores
from deepal_bench.kernels.kcenter import kcenter_greedy
from deepal_bench.kernels.kmeans import kmeans_select, nearest_to_centroids
from deepal_bench.kernels.kmeanspp import kmeanspp
from deepal_bench.kernels.meanshift import meanshift_select
from deepal_bench.kernels.projection import pca_project
from deepal_bench.kernels.sampling import shuffled_argsort
from deepal_bench.kernels.scores import (
    bald,
    entropy,
    entropy_dropout,
    least_confidence,
    least_confidence_dropout,
    margin,
    margin_dropout,
    mean_std,
    var_ratio,
)

__all__ = [
    "alfamix_candidates",
    "badge",
    "bald",
    "batchbald",
    "cluster_margin",
    "entropy",
    "entropy_dropout",
    "falcun",
    "grad_norms",
    "head_hessian",
    "influence_losses",
    "kcenter_greedy",
    "kmeans_select",
    "kmeanspp",
    "least_confidence",
    "least_confidence_dropout",
    "logit_entropy",
    "margin",
    "margin_dropout",
    "mean_std",
    "meanshift_select",
    "nearest_to_centroids",
    "pca_project",
    "ralif_scores",
    "shuffled_argsort",
    "var_ratio",
]
