"""Evaluation: ranking metrics and the full-ranking protocol over a split."""
from mlcore.evaluation.metrics import (
    average_precision,
    coverage,
    hit_rate,
    intra_list_diversity,
    item_popularity,
    mrr,
    ndcg,
    novelty,
    ranking_metrics,
    recall,
    top_k,
)
from mlcore.evaluation.protocol import SLICES, EvalConfig, EvaluationReport, Scorer, check_split, evaluate

__all__ = [
    "SLICES",
    "EvalConfig",
    "EvaluationReport",
    "Scorer",
    "average_precision",
    "check_split",
    "coverage",
    "evaluate",
    "hit_rate",
    "intra_list_diversity",
    "item_popularity",
    "mrr",
    "ndcg",
    "novelty",
    "ranking_metrics",
    "recall",
    "top_k",
]
