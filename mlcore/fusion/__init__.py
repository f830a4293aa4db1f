"""Fusion: normalise signals, weight and sum them, tune the weights, apply rules and diversity."""
from mlcore.fusion.diversity import hashed_text_vectors, mmr
from mlcore.fusion.fuse import Contribution, Explanation, FusionConfig, explain, fuse, with_rules
from mlcore.fusion.normalize import NORMALIZATIONS, Normalization, normalize
from mlcore.fusion.rules import (
    Boost,
    Bury,
    CategoryFilter,
    ExcludeBought,
    InStock,
    Pin,
    PriceRange,
    Ranked,
    Rule,
    RuleContext,
    apply_rules,
    rule_from_dict,
    rule_to_dict,
    truthy,
)
from mlcore.fusion.tune import TuneConfig, TuneResult, tune_weights

__all__ = [
    "NORMALIZATIONS",
    "Boost",
    "Bury",
    "CategoryFilter",
    "Contribution",
    "ExcludeBought",
    "Explanation",
    "FusionConfig",
    "InStock",
    "Normalization",
    "Pin",
    "PriceRange",
    "Ranked",
    "Rule",
    "RuleContext",
    "TuneConfig",
    "TuneResult",
    "apply_rules",
    "explain",
    "fuse",
    "hashed_text_vectors",
    "mmr",
    "normalize",
    "rule_from_dict",
    "rule_to_dict",
    "truthy",
    "tune_weights",
    "with_rules",
]
