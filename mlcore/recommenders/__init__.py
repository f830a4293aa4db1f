"""Recommenders, one module each, registered under stable names.

Importing this package registers them all; use :func:`get` to look one up.
"""
from mlcore.recommenders.base import REGISTRY, Recommender, get, load, register

__all__ = ["REGISTRY", "Recommender", "get", "load", "register"]
