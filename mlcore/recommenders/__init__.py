"""Recommenders, one module each, registered under stable names.

Importing this package registers them all; use :func:`get` to look one up.
"""
from mlcore.recommenders import ease, image, item_knn, kg, mf, popularity, repeat, sequential, text  # noqa: F401  (registers them)
from mlcore.recommenders.base import REGISTRY, Recommender, get, load, register

__all__ = ["REGISTRY", "Recommender", "get", "load", "register"]
