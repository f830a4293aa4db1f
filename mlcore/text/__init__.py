"""The transformer text model: MiniLM encoding, behaviour pairs, contrastive fine-tuning."""
from mlcore.text.encoder import EMBEDDING_DIM, TextEncoder, bundled_model_path
from mlcore.text.finetune import FinetuneConfig, FinetuneResult, finetune, info_nce
from mlcore.text.pairs import PairConfig, behaviour_pairs
from mlcore.text.product_text import ProductTextConfig, product_texts

__all__ = [
    "EMBEDDING_DIM",
    "FinetuneConfig",
    "FinetuneResult",
    "PairConfig",
    "ProductTextConfig",
    "TextEncoder",
    "behaviour_pairs",
    "bundled_model_path",
    "finetune",
    "info_nce",
    "product_texts",
]
