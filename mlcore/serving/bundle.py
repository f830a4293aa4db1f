"""A loaded bundle: every signal of a version in memory, fused top-K for a shopper with explanations.

The folder is the one :func:`mlcore.training.artifacts.write_bundle` writes (its docstring gives the
layout); this module only reads it. Nothing is unpickled: arrays come from ``.npz``, tables from Parquet.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mlcore.data import IdMap
from mlcore.fusion import (
    Contribution,
    ExcludeBought,
    Explanation,
    FusionConfig,
    Rule,
    RuleContext,
    apply_rules,
    explain,
    fuse,
    mmr,
    normalize,
    with_rules,
)
from mlcore.fusion.features import Context, candidate_pools, pair_features
from mlcore.fusion.learned import CONTEXT_FILE, LEARNED, META_FILE, WEIGHTED, LearnedFusion, place_pool


class Bundle:
    """A loaded bundle: all signals in memory, fused ranking with explanations for a shopper."""

    def __init__(self, folder: Path) -> None:
        from mlcore.recommenders import load as load_recommender

        self.folder = Path(folder)
        meta_path = self.folder / "meta.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"{self.folder} is not a bundle (no meta.json)")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        self.fusion = FusionConfig.from_dict(json.loads((self.folder / "fusion.json").read_text()))
        self.users = IdMap.load(self.folder / "users.json")
        self.items = IdMap.load(self.folder / "items.json")
        if self.items.fingerprint() != self.meta["items_fingerprint"] or self.users.fingerprint() != self.meta["users_fingerprint"]:
            raise ValueError(f"{self.folder}: id maps do not match meta.json")
        with np.load(self.folder / "seen.npz", allow_pickle=False) as npz:
            shape = tuple(int(x) for x in npz["shape"])
            self.seen = sp.csr_matrix(
                (np.ones(len(npz["indices"]), dtype=np.float32), npz["indices"], npz["indptr"]), shape=shape
            )
        self.products = pd.read_parquet(self.folder / "products.parquet")
        self.titles: np.ndarray = self.products["title"].astype(str).to_numpy(dtype=object)
        self.models = {name: load_recommender(self.folder / "signals" / name) for name in self.meta["signals"]}
        for name, model in self.models.items():
            if model.items != self.items:
                raise ValueError(f"{self.folder}: signal {name!r} was trained on another item map")
        self.learned: LearnedFusion | None = None
        self.context: Context | None = None
        if (self.folder / "fusion" / META_FILE).exists():
            self.learned = LearnedFusion.load(self.folder / "fusion")
            self.context = Context.load(self.folder / "fusion" / CONTEXT_FILE, self.products)
            missing = [s for s in self.learned.signals if s not in self.models]
            if missing:
                raise ValueError(f"{self.folder}: the learned fusion reads signals the bundle lacks: {missing}")

    def user_index(self, user_id: object) -> int:
        """Row of ``user_id``; KeyError (naming it) for shoppers unknown to this bundle."""
        return self.users.index_of(user_id)

    def signal_scores(self, users: np.ndarray) -> dict[str, np.ndarray]:
        """Raw scores of each signal, float32 (len(users), n_items)."""
        return {name: np.asarray(m.score(np.asarray(users, dtype=np.int64)), dtype=np.float32) for name, m in self.models.items()}

    def score(self, users: np.ndarray, fusion: FusionConfig | None = None) -> np.ndarray:
        """Fused scores (len(users), n_items) with the bundle's fusion, or another one (a preview)."""
        f = fusion or self.fusion
        return fuse(self.signal_scores(users), f.weights, f.normalization)

    def recommend(
        self,
        user_id: object,
        k: int = 10,
        *,
        exclude_seen: bool = False,
        rules: Iterable[Rule] = (),
        fusion: FusionConfig | None = None,
        mmr_lambda: float | None = None,
        item_vectors: np.ndarray | None = None,
        candidates: int = 200,
        extra_seen: Iterable[object] = (),
        products: pd.DataFrame | None = None,
        recent: Iterable[object] = (),
        context: str = "",
        allowed: np.ndarray | None = None,
        also: Mapping[str, tuple[float, np.ndarray]] | None = None,
    ) -> list[Explanation]:
        """Top-k for one shopper, each with its explanation (contributions, rules, graph path).

        Order: fuse → drop seen (optional) and items not ``allowed`` → best ``candidates`` → rules → MMR
        (when ``mmr_lambda`` and ``item_vectors`` are given) → k. ``extra`` holds ``item_id`` and ``title``.
        ``extra_seen``: item ids the shopper has beyond the bundle's ``seen`` (events after its
        training data); they count for ``exclude_seen`` and the exclude-bought rule, unknown ids are
        ignored. ``products``: attributes to apply rules on instead of the bundle's (current stock,
        prices), one row per item in ``items`` order. ``recent``: item ids the shopper saw lately, for the
        exclude-recent rule (unknown ids ignored). ``context``: the page shown (e.g. "category:Home > Kitchen"),
        for pins limited to one. ``allowed``: (n_items,) bool, the only items that may be returned (a pin
        cannot bring another back). ``also``: more signals for this one ranking, ``{name: (weight, raw
        scores (n_items,))}``, fused and explained like the bundle's own.
        """
        f = fusion or self.fusion
        u = self.user_index(user_id)
        rows = {n: r[0] for n, r in self.signal_scores(np.array([u])).items()}
        if also:
            rows.update({name: np.asarray(v, dtype=np.float32) for name, (_w, v) in also.items()})
            f = dataclasses.replace(f, weights={**f.weights, **{name: w for name, (w, _v) in also.items()}})
        extra = self.items.index(list(extra_seen))
        bought = np.union1d(self.seen[u].indices, extra[extra >= 0]).astype(np.int64)
        return self.rank(rows, f, k, user=u, bought=bought, drop=bought if exclude_seen else None, rules=rules,
                         mmr_lambda=mmr_lambda, item_vectors=item_vectors, candidates=candidates, products=products,
                         recent=recent, context=context, allowed=allowed)

    def rank(
        self,
        rows: Mapping[str, np.ndarray],
        fusion: FusionConfig,
        k: int,
        *,
        user: int | None = None,
        bought: np.ndarray | None = None,
        drop: np.ndarray | None = None,
        rules: Iterable[Rule] = (),
        mmr_lambda: float | None = None,
        item_vectors: np.ndarray | None = None,
        candidates: int = 200,
        products: pd.DataFrame | None = None,
        recent: Iterable[object] = (),
        context: str = "",
        allowed: np.ndarray | None = None,
    ) -> list[Explanation]:
        """Top-k of any scores over the items: ``rows`` maps each signal to raw scores (n_items,), fused with
        ``fusion`` and explained per signal (the graph path when ``user``, a row, is given). ``bought`` and
        ``drop`` are item columns (the exclude-bought rule's; never returned); the rest as in :meth:`recommend`.

        With ``fusion.mode`` ``learned``, a bundle holding a learned fusion and a known ``user``, the learned
        ranker orders the candidates (or the ranking its route for this request names: see
        :mod:`mlcore.fusion.learned`) and each item's contributions are its ranker contributions grouped by
        signal (plus ``context`` and ``base``; they sum to the score); rules and MMR act after it alike.
        """
        if products is not None and len(products) != len(self.items):
            raise ValueError(f"products has {len(products)} rows; the bundle has {len(self.items)} items")
        rules = list(rules)
        learned = self._learned_route(fusion, user, drop, rules, allowed)
        if learned is not None and learned not in (LEARNED, WEIGHTED):
            fusion = dataclasses.replace(fusion, weights={learned: 1.0}, mode="weighted")
        if learned != LEARNED:
            fusion = dataclasses.replace(fusion, mode="weighted")
        # each signal normalised once, for the fusion and for the explanations alike
        norm = {n: normalize(np.asarray(r)[None, :], fusion.normalization)[0] if fusion.weights.get(n) else
                np.asarray(r, dtype=np.float32) for n, r in rows.items()}
        fused = fuse({n: r[None, :] for n, r in norm.items()}, fusion.weights, normalized=True)[0]
        if drop is not None:
            fused[np.asarray(drop, dtype=np.int64)] = -np.inf
        if allowed is not None:
            fused[~np.asarray(allowed, dtype=bool)] = -np.inf
        if learned == LEARNED:
            assert user is not None  # _learned_route routes to the ranker only for a known shopper
            pool_ok = np.isfinite(fused)
            if bought is not None and any(isinstance(r, ExcludeBought) for r in rules):
                pool_ok[np.asarray(bought, dtype=np.int64)] = False  # the rule drops them: no use pooling them
            fused = self._learned_scores(rows, norm, fusion, user, fused, pool_ok)
        order = np.argsort(-fused, kind="stable")
        order = order[np.isfinite(fused[order])][: max(candidates, k)]
        table = self.products if products is None else products
        seen_lately = self.items.index(list(recent))
        owned = frozenset(np.asarray(bought if bought is not None else (), dtype=np.int64).tolist())
        ctx = RuleContext(products=table, items=self.items, bought=owned,
                          recent=frozenset(seen_lately[seen_lately >= 0].tolist()), context=context)
        whole = mmr_lambda is not None or allowed is not None  # rank them all, then cut
        ranked = apply_rules(order, fused[order], rules, ctx, k=None if whole else k)
        chosen, notes = ranked.items, dict(zip(ranked.items.tolist(), ranked.notes, strict=True))
        if allowed is not None:
            chosen = chosen[np.asarray(allowed, dtype=bool)[chosen]]
        if mmr_lambda is not None and item_vectors is not None and len(chosen):
            chosen = mmr(chosen, np.nan_to_num(fused[chosen], nan=0.0, neginf=0.0), item_vectors, k, mmr_lambda)
        chosen = chosen[:k]
        explainers = {name: m for name, m in self.models.items() if hasattr(m, "explain")} if user is not None else {}
        if learned == LEARNED and user is not None:
            out = self._learned_explain(rows, norm, fusion, user, chosen, explainers)
        else:
            out = explain(norm, fusion.weights, chosen, "none", user=user, explainers=explainers)
        titles = self.titles
        return [
            with_rules(
                _with_extra(e, {"item_id": self.items.ids[e.item], "title": str(titles[e.item])}), notes.get(e.item, ())
            )
            for e in out
        ]


    # -- learned fusion ------------------------------------------------------------------------------------
    def _learned_route(self, fusion: FusionConfig, user: int | None, drop: np.ndarray | None, rules: list[Rule],
                       allowed: np.ndarray | None) -> str | None:
        """None (weighted fusion asked for, or no ranker/shopper), or the route serving this request."""
        if fusion.mode != "learned" or self.learned is None or self.context is None or user is None:
            return None
        new = self.context.item_new > 0
        if allowed is not None and not np.asarray(allowed, dtype=bool)[~new].any():
            return self.learned.route("cold_start")
        if bool(self.context.new_shoppers(np.array([user]))[0]):
            return self.learned.route("new_shoppers")
        if drop is not None or any(isinstance(r, ExcludeBought) for r in rules):
            return self.learned.route("exclude_seen")
        return self.learned.route("all")

    def _extra_part(self, norm: Mapping[str, np.ndarray], fusion: FusionConfig) -> dict[str, float]:
        assert self.learned is not None
        return {n: float(w) for n, w in fusion.weights.items() if w and n in norm and n not in self.learned.signals}

    def _learned_scores(self, rows: Mapping[str, np.ndarray], norm: Mapping[str, np.ndarray], fusion: FusionConfig,
                        user: int, fused: np.ndarray, pool_ok: np.ndarray) -> np.ndarray:
        """``fused`` (n_items,) with the pool of this shopper (among ``pool_ok``, bool) re-scored by the ranker."""
        assert self.learned is not None and self.context is not None
        model = self.learned
        one = {s: np.asarray(rows[s], dtype=np.float32)[None, :] for s in model.signals}
        pr, pi = candidate_pools(one, model.pool, model.cold_pool, self.context.item_new > 0, pool_ok)
        pred = model.predict(pair_features(one, model.signals, np.array([user]), pr, pi, self.context, self.seen))
        for n, w in self._extra_part(norm, fusion).items():
            pred = pred + w * np.asarray(norm[n], dtype=np.float64)[pi]
        return place_pool(fused[None, :], pr, pi, pred)[0]

    def _learned_explain(self, rows: Mapping[str, np.ndarray], norm: Mapping[str, np.ndarray], fusion: FusionConfig,
                         user: int, chosen: np.ndarray, explainers: Mapping[str, Any]) -> list[Explanation]:
        """Per chosen item: the ranker's contributions by signal (+ ``context``, ``base``, extra signals)."""
        assert self.learned is not None and self.context is not None
        model = self.learned
        one = {s: np.asarray(rows[s], dtype=np.float32)[None, :] for s in model.signals}
        pi = np.asarray(chosen, dtype=np.int64)
        parts = model.contributions(pair_features(one, model.signals, np.array([user]), np.zeros(len(pi), np.int64),
                                                  pi, self.context, self.seen))
        extra = self._extra_part(norm, fusion)
        paths = explain(norm, dict.fromkeys(model.signals, 1.0), pi, "none", user=user, explainers=explainers)
        out = []
        for e, item, groups in zip(paths, pi.tolist(), parts, strict=True):
            contributions = [Contribution(g, v, 1.0) for g, v in groups.items()]
            contributions += [Contribution(n, float(norm[n][item]), w) for n, w in extra.items()]
            score = float(sum(c.value for c in contributions))
            out.append(dataclasses.replace(e, score=score, contributions=tuple(contributions),
                                           extra={**dict(e.extra), "fusion": "learned"}))
        return out


def _with_extra(e: Explanation, extra: Mapping[str, Any]) -> Explanation:
    return dataclasses.replace(e, extra={**dict(e.extra), **dict(extra)})


def load_bundle(folder: Path | str) -> Bundle:
    """Load a bundle written by :func:`mlcore.training.artifacts.write_bundle`."""
    return Bundle(Path(folder))



__all__ = ["Bundle", "load_bundle"]
