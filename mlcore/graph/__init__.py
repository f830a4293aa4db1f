"""The product knowledge graph: construction, propagation scores and explanation paths."""
from mlcore.graph.baskets import behaviour_events, co_occurrence, recent_item_weights, session_ids
from mlcore.graph.build import BASE_RELATIONS, ENTITY_KINDS, GraphConfig, KnowledgeGraph, build_graph
from mlcore.graph.paths import ExplanationPath, Hop, PathFinder
from mlcore.graph.propagate import PropagationConfig, item_features, propagate_scores, relation_weight

__all__ = [
    "BASE_RELATIONS",
    "ENTITY_KINDS",
    "ExplanationPath",
    "GraphConfig",
    "Hop",
    "KnowledgeGraph",
    "PathFinder",
    "PropagationConfig",
    "behaviour_events",
    "build_graph",
    "co_occurrence",
    "item_features",
    "propagate_scores",
    "recent_item_weights",
    "relation_weight",
    "session_ids",
]
