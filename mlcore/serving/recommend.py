"""One entry point for a page's recommendations: a known shopper, a guest's session, or nobody known.

:func:`recommend` answers a :class:`~mlcore.serving.requests.RecommendRequest` three ways:

- **a shopper the bundle knows** → :meth:`Bundle.recommend` (the fused signals, the operator's rules, MMR).
  With a ``context_item`` (the product on the page) its similarity to every item joins the fusion as
  one more signal, ``context``, weighing :data:`CONTEXT_SHARE` × the sum of the fusion's positive weights
  (about a quarter of the score, whatever the weights' scale), so the page matters without drowning
  the shopper's taste. Their ``recent_items`` count for the exclude-recent rule. ``fallback`` None.
- **a guest** (no shopper, or one the bundle never saw) with ``recent_items`` or a ``context_item`` →
  a session ranking: for each seed item (the recent items, newest last, then the context item), the
  similarity sources of :func:`~mlcore.serving.related.similar_items` (text embeddings, item_knn, ease,
  mf, graph), each clipped at 0 and divided by its best item, summed with the seed's weight
  :data:`SESSION_DECAY` ** age (the newest seed weighs 1). Each source is one signal of the fusion
  (``minmax`` normalised, weighted as in :class:`~mlcore.serving.related.SimilarConfig`), so every item's
  explanation has a :class:`~mlcore.fusion.Contribution` per source and a path "similar to <title> you
  just viewed" naming the seed it owes most to. Items similar to no seed come after, by popularity.
  ``fallback="session"``.
- **the live session's order**: when the bundle has the ``sequential`` signal (weighted in its fusion), the
  request's ``recent_items`` are read by it as a sequence — after a known shopper's newest training items,
  or alone for a guest — so its scores follow the last click, not the training snapshot; an item owed
  mostly to it is explained "because you just viewed <title>" (see :func:`live_sequential`).
- **nothing known** → the most popular items (shoppers who have each item in the bundle), through the
  same rules. ``fallback="popular"``.

In every case ``filters`` and ``exclude`` (and the context item, and a guest's recent items) are
applied before the candidate cut, so a narrow category still fills the page; then the list is ranked
to ``offset + n`` and sliced, so page 2 never repeats page 1.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlcore.fusion import Explanation, FusionConfig, Rule, RuleContext, apply_rules, filter_mask
from mlcore.serving.bundle import Bundle
from mlcore.serving.related import SimilarConfig, similarity_sources
from mlcore.serving.requests import RecommendRequest, RecommendResponse

SESSION_DECAY = 0.8  # a seed's weight is SESSION_DECAY ** age (0: the newest)
SESSION_SEEDS = 20  # the newest recent items that seed a guest's ranking
CONTEXT_SHARE = 0.3  # the context item's signal weight, as a share of the fusion's positive weights
SEQUENTIAL = "sequential"  # the signal that reads the live session's order (mlcore.recommenders.sequential)


def recommend(
    bundle: Bundle,
    request: RecommendRequest,
    *,
    fusion: FusionConfig | None = None,
    rules: Iterable[Rule] = (),
    mmr_lambda: float | None = None,
    item_vectors: np.ndarray | None = None,
    candidates: int = 200,
    extra_seen: Iterable[object] = (),
    products: pd.DataFrame | None = None,
    recent_seen: Iterable[object] = (),
    popular: bool = True,
    similar: SimilarConfig = SimilarConfig(),
    live: Mapping[str, tuple[float, np.ndarray]] | None = None,
) -> RecommendResponse:
    """The page of items for ``request`` (see the module doc for the three ways).

    ``fusion``, ``rules``, ``mmr_lambda``, ``item_vectors``, ``candidates``: as in :meth:`Bundle.recommend`.
    ``extra_seen``: item ids the shopper (or guest) bought beyond the bundle's ``seen``, for the
    exclude-bought rule. ``products``: the bundle's product table with current values (stock), one row
    per item. ``recent_seen``: item ids seen lately, for the exclude-recent rule. ``popular=False``: when
    nothing is known, serve nothing (the operator turned the fallback off). ``similar``: the source weights
    of a guest's session ranking. ``live``: more signals for a known shopper's fusion (the online state's:
    ``{name: (weight, raw scores (n_items,))}``). ValueError names an unknown filter column and the known ones.
    """
    rules = list(rules)
    table = bundle.products if products is None else products
    allowed = allowed_items(bundle, request, table)
    k = request.offset + request.n
    if request.n == 0:
        return RecommendResponse((), _fallback_of(bundle, request))
    recent = [*recent_seen, *request.recent_items]
    page = slice(request.offset, k)
    if request.shopper is not None and request.shopper in bundle.users:
        also = None
        context_col = _cols(bundle, [request.context_item] if request.context_item else [])
        if len(context_col):
            f = fusion or bundle.fusion
            rows, _weights, by_seed = session_signals(bundle, context_col, similar)
            if rows:
                also = {"context": (CONTEXT_SHARE * sum(w for w in f.weights.values() if w > 0), by_seed[0])}
        if live:
            also = {**(also or {}), **live}
        clicked = _cols(bundle, request.recent_items)
        sequence = live_sequential(bundle, request.shopper, clicked, fusion or bundle.fusion)
        if sequence is not None:
            also = {**(also or {}), SEQUENTIAL: sequence[0]}
        recs = bundle.recommend(request.shopper, k, fusion=fusion, rules=rules, mmr_lambda=mmr_lambda,
                                item_vectors=item_vectors, candidates=candidates, extra_seen=extra_seen,
                                products=products, recent=recent, context=request.context, allowed=allowed, also=also)
        if sequence is not None:
            recs = _because_just_viewed(bundle, recs, clicked)
        return RecommendResponse(tuple(recs[page]), None)
    bought = _cols(bundle, extra_seen)
    seeds = session_seeds(bundle, request)
    session = _session(bundle, seeds, k, allowed=allowed, bought=bought, similar=similar,
                       context_item=request.context_item, rules=rules, mmr_lambda=mmr_lambda,
                       item_vectors=item_vectors, candidates=candidates, products=products, recent=recent,
                       context=request.context) if len(seeds) else []
    fallback = "session" if session else "popular"
    if len(session) < k and popular:  # a guest with too few similar items (or none): popular items after them
        rest = allowed.copy()
        rest[[e.item for e in session]] = False
        session += popular_items(bundle, k - len(session), allowed=rest, bought=bought, rules=rules,
                                 candidates=candidates, products=products, recent=recent, context=request.context)
    return RecommendResponse(tuple(session[page]), fallback)


def _fallback_of(bundle: Bundle, request: RecommendRequest) -> str | None:
    if request.shopper is not None and request.shopper in bundle.users:
        return None
    return "session" if len(session_seeds(bundle, request)) else "popular"


def allowed_items(bundle: Bundle, request: RecommendRequest, products: pd.DataFrame | None = None) -> np.ndarray:
    """(n_items,) bool: the items ``request`` may return — matching its filters (:func:`mlcore.fusion.filter_mask`), not
    excluded, not the context item, and for a guest not one of the recent items."""
    mask = filter_mask(bundle.products if products is None else products, request.filters)
    never = [*request.exclude, *([request.context_item] if request.context_item else [])]
    if request.shopper is None or request.shopper not in bundle.users:
        never += list(request.recent_items)
    mask[_cols(bundle, never)] = False
    return mask


def session_seeds(bundle: Bundle, request: RecommendRequest) -> np.ndarray:
    """Item columns seeding a guest's ranking, oldest first: the known recent items (each at its latest
    place) then the context item, at most :data:`SESSION_SEEDS`."""
    ids = [*request.recent_items, *([request.context_item] if request.context_item else [])]
    cols = _cols(bundle, ids)
    latest = list(dict.fromkeys(reversed(cols.tolist())))[::-1]  # a repeated item keeps its newest place
    return np.asarray(latest[-SESSION_SEEDS:], dtype=np.int64)


def session_signals(bundle: Bundle, seeds: np.ndarray, similar: SimilarConfig = SimilarConfig()
                    ) -> tuple[dict[str, np.ndarray], dict[str, float], np.ndarray]:
    """For ``seeds`` (item columns, oldest first): ``(rows, weights, by_seed)`` — each similarity source's
    decayed sum over the seeds (n_items,), its weight, and each seed's weighted part (n_seeds, n_items),
    which says which seed an item owes most to. Seeds score 0 on every row."""
    n = len(bundle.items)
    rows: dict[str, np.ndarray] = {}
    weights: dict[str, float] = {}
    by_seed = np.zeros((len(seeds), n), dtype=np.float32)
    for place, col in enumerate(seeds.tolist()):
        decay = np.float32(SESSION_DECAY ** (len(seeds) - 1 - place))
        for name, (weight, raw) in similarity_sources(bundle, col, similar).items():
            v = np.maximum(np.nan_to_num(np.asarray(raw, dtype=np.float32).ravel(), nan=0.0, posinf=0.0,
                                         neginf=0.0), 0.0)
            v[seeds] = 0.0
            top = float(v.max()) if len(v) else 0.0
            if top <= 0:
                continue
            v = decay * v / np.float32(top)
            rows[name] = rows.get(name, np.zeros(n, dtype=np.float32)) + v
            weights[name] = float(weight)
            by_seed[place] += np.float32(weight) * v
    return rows, weights, by_seed


def _session(bundle: Bundle, seeds: np.ndarray, k: int, *, allowed: np.ndarray, bought: np.ndarray,
             similar: SimilarConfig, context_item: str | None, rules: Sequence[Rule], mmr_lambda: float | None,
             item_vectors: np.ndarray | None, candidates: int, products: pd.DataFrame | None,
             recent: Sequence[object], context: str) -> list[Explanation]:
    rows, weights, by_seed = session_signals(bundle, seeds, similar)
    sequence = live_sequential(bundle, None, seeds, bundle.fusion)
    if sequence is not None:  # the guest's clicks in order: what comes next, weighing like the best similarity source
        rows, weights = {**rows, SEQUENTIAL: sequence[0][1]}, {**weights, SEQUENTIAL: max(weights.values(), default=1.0)}
    if not rows:
        return []
    related = allowed & (by_seed.sum(axis=0) > 0)
    if sequence is not None:
        related |= allowed & (np.argsort(np.argsort(-sequence[0][1])) < max(candidates, k))
    recs = bundle.rank(rows, FusionConfig(weights, "minmax"), k, bought=bought, rules=rules, mmr_lambda=mmr_lambda,
                       item_vectors=item_vectors, candidates=candidates, products=products, recent=recent,
                       context=context, allowed=related)
    titles = bundle.titles
    context_col = _cols(bundle, [context_item] if context_item else [])
    out = []
    for e in recs:
        if sequence is not None and _owed_to_sequential(e):
            out.extend(_because_just_viewed(bundle, [e], sequence[1]))
            continue
        seed = int(seeds[int(np.argmax(by_seed[:, e.item]))])
        where = "you are viewing" if len(context_col) and seed == int(context_col[0]) else "you just viewed"
        out.append(dataclasses.replace(e, path=f"similar to {titles[seed]} {where}",
                                       extra={**dict(e.extra), "because_of": bundle.items.ids[seed]}))
    return out


def popular_items(bundle: Bundle, k: int, *, allowed: np.ndarray | None = None, bought: np.ndarray | None = None,
                  rules: Sequence[Rule] = (), candidates: int = 200, products: pd.DataFrame | None = None,
                  recent: Sequence[object] = (), context: str = "") -> list[Explanation]:
    """The ``k`` items most shoppers have in the bundle (``allowed`` only), through ``rules``; each
    explanation has no contributions (nothing personal), its rules, and ``item_id`` and ``title``."""
    table = bundle.products if products is None else products
    popularity = np.asarray(bundle.seen.sum(axis=0)).ravel().astype(np.float64)
    score = popularity.copy()
    if allowed is not None:
        score[~allowed] = -np.inf
    order = np.argsort(-score, kind="stable")
    order = order[np.isfinite(score[order])][: max(candidates, k)]
    seen_lately = _cols(bundle, recent)
    ctx = RuleContext(products=table, items=bundle.items,
                      bought=frozenset(np.asarray(bought if bought is not None else (), dtype=np.int64).tolist()),
                      recent=frozenset(seen_lately.tolist()), context=context)
    ranked = apply_rules(order, popularity[order], list(rules), ctx, k=None)
    keep = allowed[ranked.items] if allowed is not None else np.ones(len(ranked.items), dtype=bool)
    titles = bundle.titles
    picked = [(int(i), float(s), tuple(n)) for i, s, n, ok in
              zip(ranked.items, ranked.scores, ranked.notes, keep, strict=True) if ok][:k]
    return [Explanation(item=i, score=s, contributions=(), rules=n,
                        extra={"item_id": bundle.items.ids[i], "title": str(titles[i])}) for i, s, n in picked]


def live_sequential(bundle: Bundle, shopper: object | None, clicked: np.ndarray, fusion: FusionConfig
                    ) -> tuple[tuple[float, np.ndarray], np.ndarray] | None:
    """The ``sequential`` signal read from the live session: ``((weight, raw scores (n_items,)), sequence)``,
    or None when the bundle has no such signal (or it weighs nothing) or there are no ``clicked`` items.

    ``clicked``: the session's item columns, oldest first (a guest's recent items, or a known shopper's
    clicks since the bundle was trained); a known ``shopper``'s newest training items come before them,
    so the scores follow the last click instead of the training snapshot. The weight is the fusion's."""
    model: Any = bundle.models.get(SEQUENTIAL)
    weight = float(fusion.weights.get(SEQUENTIAL, 0.0))
    if model is None or not hasattr(model, "score_sequences") or weight <= 0 or not len(clicked):
        return None
    history = model.user_history(bundle.user_index(shopper)) if shopper is not None else np.zeros(0, dtype=np.int64)
    sequence = np.concatenate([history, np.asarray(clicked, dtype=np.int64)])
    return (weight, model.score_sequences([sequence])[0]), sequence


def _owed_to_sequential(e: Explanation) -> bool:
    best = max(e.contributions, key=lambda c: c.value, default=None)
    return best is not None and best.signal == SEQUENTIAL and best.value > 0


def _because_just_viewed(bundle: Bundle, recs: Sequence[Explanation], sequence: np.ndarray) -> list[Explanation]:
    """Items whose largest contribution is ``sequential`` get the path "because you just viewed <title>",
    naming the recent item of ``sequence`` they are most like (``extra["because_of"]`` its id)."""
    model: Any = bundle.models[SEQUENTIAL]
    out = []
    for e in recs:
        seed = model.because(sequence, e.item) if e.path is None and _owed_to_sequential(e) else -1
        if seed >= 0:
            e = dataclasses.replace(e, path=f"because you just viewed {bundle.titles[seed]}",
                                    extra={**dict(e.extra), "because_of": bundle.items.ids[seed]})
        out.append(e)
    return out


def _cols(bundle: Bundle, ids: Iterable[object]) -> np.ndarray:
    cols = bundle.items.index(list(ids))
    return cols[cols >= 0].astype(np.int64)


__all__ = ["CONTEXT_SHARE", "SESSION_DECAY", "SESSION_SEEDS", "allowed_items", "live_sequential", "popular_items",
           "recommend", "session_seeds", "session_signals"]
