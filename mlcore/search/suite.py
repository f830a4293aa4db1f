"""The relevance suite behind ``python -m mlcore search-eval`` and ``benchmarks/search_chorus.py``.

Rows: the four base modes, ``hybrid+qu+cat`` (category intent; the engine's default settings),
the same two dense-using rows on an encoder fine-tuned on the catalog (``+ft``), and ``+ re-rank``
(cross-encoder over the top candidates of the best row before it). Fine-tuned weights, cross-encoder
weights and product embeddings are cached under ``cache_dir``; every row is built on the same
products and scored on the same queries, against bm25.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from mlcore.search.adapt import AdaptConfig, adapt_encoder
from mlcore.search.dense import cached_encode
from mlcore.search.engine import SearchConfig, SearchEngine
from mlcore.search.evaluate import Judgements, evaluate_engines
from mlcore.search.lexical import field_texts
from mlcore.search.query import QueryConfig
from mlcore.search.rerank import RerankConfig, train_reranker

# bm25 is the baseline (bm25s and its tokens, English stopwords, title + short_description + supplier,
# k1 1.5, b 0.75); "hybrid" adds dense retrieval to exactly that. The fusion weights, the doubled title,
# the attribute values in the BM25 text, one-character tokens, b and the category weight were chosen on
# the odd-numbered lines of the Chorus dev queries (global settings, no per-query rules); the even lines
# are the held-out check.
TUNED = SearchConfig()
BASELINE = SearchConfig(mode="bm25", lexical_fields=("title", "short_description", "supplier"), bm25_b=0.75,
                        query=QueryConfig(min_token_chars=2), category_boost=0.0)
CONFIGS: dict[str, SearchConfig] = {
    "bm25": BASELINE,
    "dense": SearchConfig(mode="dense", category_boost=0.0),
    "hybrid": replace(BASELINE, mode="hybrid"),
    "hybrid+qu": replace(TUNED, price_scale=100.0, category_boost=0.0),
    "hybrid+qu+cat": replace(TUNED, price_scale=100.0),
}
FT_ROWS = {"dense+ft": "dense", "hybrid+qu+cat+ft": "hybrid+qu+cat"}
RERANK_ROW = "+ re-rank"


def run_suite(products: pd.DataFrame, judgements: Judgements, *, names: Sequence[str] = (), cache_dir: Path,
              adapt: AdaptConfig | None = AdaptConfig(), rerank: RerankConfig | None = RerankConfig(),
              encoder: Any = None, log: Any = print, query_threads: int | None = None) -> dict[str, object]:
    """Build and score the rows in ``names`` (all when empty; bm25 always). ``adapt`` None skips the
    ``+ft`` rows, ``rerank`` None the re-rank row. ``query_threads`` sets torch's threads for the
    timed queries (training and encoding use the default). Returns :func:`evaluate_engines`' report."""
    wanted = list(dict.fromkeys(["bm25", *(names or [*CONFIGS, *FT_ROWS, RERANK_ROW])]))
    if adapt is None:
        wanted = [n for n in wanted if n not in FT_ROWS]
    if rerank is None:
        wanted = [n for n in wanted if n != RERANK_ROW]
    engines: dict[str, SearchEngine] = {}
    needs_model = any(n != "bm25" for n in wanted)
    if needs_model and encoder is None:
        from mlcore.text.encoder import TextEncoder

        encoder = TextEncoder.load(None, device="cpu")
    texts = field_texts(products, SearchConfig().dense_fields)
    vectors = cached_encode(encoder, texts, cache_dir) if needs_model else None
    for name in [n for n in wanted if n in CONFIGS]:
        config = CONFIGS[name]
        engines[name] = SearchEngine(config, encoder).build(products, vectors if config.mode != "bm25" else None)
    ft_rows = [n for n in wanted if n in FT_ROWS]
    if ft_rows and adapt is not None:
        tuned = copy.deepcopy(encoder)
        result = adapt_encoder(tuned, products, CONFIGS["hybrid+qu+cat"], adapt, cache_dir=cache_dir)
        log(f"fine-tuned encoder: {'cached' if result is None else f'{result.steps} steps in {result.seconds:.0f} s'}")
        tuned_vectors = cached_encode(tuned, texts, cache_dir, model=f"ft-{hash_of(adapt)}")
        for name in ft_rows:
            config = CONFIGS[FT_ROWS[name]]
            engines[name] = SearchEngine(config, tuned).build(products, tuned_vectors)
    if RERANK_ROW in wanted and rerank is not None:
        before = [n for n in ("hybrid+qu+cat+ft", "hybrid+qu+cat") if n in engines]
        source = engines[before[0]] if before else SearchEngine(CONFIGS["hybrid+qu+cat"], encoder).build(products, vectors)
        reranker = train_reranker(source, rerank, cache_dir=cache_dir)
        log(f"re-rank: cross-encoder over the top {rerank.top} of {before[0] if before else 'hybrid+qu+cat'}")
        engines[RERANK_ROW] = copy.copy(source)
        engines[RERANK_ROW].reranker = reranker
    if query_threads is not None:
        import torch

        torch.set_num_threads(query_threads)
    return evaluate_engines(engines, judgements, baseline="bm25")


def hash_of(config: AdaptConfig) -> str:
    import hashlib

    return hashlib.sha256(repr(config).encode()).hexdigest()[:12]
