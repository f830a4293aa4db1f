"""Serving: what a running storefront asks of a trained version, in milliseconds and without Django.

- :mod:`mlcore.serving.bundle` — :class:`Bundle` / :func:`load_bundle`: every signal of a version in memory,
  fused top-K for a shopper with explanations (the writer is :func:`mlcore.training.artifacts.write_bundle`).
- :mod:`mlcore.serving.recommend` — :func:`recommend`: one page for a known shopper, a guest's session or
  nobody known, from a :class:`~mlcore.serving.requests.RecommendRequest`.
- :mod:`mlcore.serving.related` — similar and complementary items with their reasons.
- :mod:`mlcore.serving.profile` — a shopper's inferred interests and their vector (:func:`profile_vector`).
- :mod:`mlcore.serving.search_store` — the on-disk search index of a version: built files, added parts, replay.

Import from the modules (``from mlcore.serving.bundle import load_bundle``): loading this package
loads none of them, so a process pays only for what it uses.
"""
