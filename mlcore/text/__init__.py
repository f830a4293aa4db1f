"""The transformer text model: MiniLM encoding, behaviour and catalog pairs, contrastive fine-tuning,
cross-encoder re-ranking."""
from mlcore.text.catalog_pairs import CatalogPairConfig, catalog_pairs
from mlcore.text.cross_encoder import CrossEncoder, CrossEncoderTrainConfig
from mlcore.text.embedding_cache import EmbeddingCache
from mlcore.text.encoder import EMBEDDING_DIM, TextEncoder, bundled_model_path
from mlcore.text.finetune import FinetuneConfig, FinetuneResult, finetune, info_nce
from mlcore.text.pairs import PairConfig, behaviour_pairs
from mlcore.text.product_text import ProductTextConfig, product_texts

__all__ = [
    "CatalogPairConfig",
    "CrossEncoder",
    "CrossEncoderTrainConfig",
    "EMBEDDING_DIM",
    "EmbeddingCache",
    "FinetuneConfig",
    "FinetuneResult",
    "PairConfig",
    "ProductTextConfig",
    "TextEncoder",
    "behaviour_pairs",
    "bundled_model_path",
    "catalog_pairs",
    "finetune",
    "info_nce",
    "product_texts",
]
