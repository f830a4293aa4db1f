"""Evaluation: ranking metrics, the full-ranking protocol over a split, and fusion-weight tuning against a metric."""
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
from mlcore.evaluation.tune import TuneConfig, TuneResult, tune_weights

__all__ = [
    "SLICES",
    "EvalConfig",
    "EvaluationReport",
    "Scorer",
    "TuneConfig",
    "TuneResult",
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
    "tune_weights",
]
