"""The text model's device paths end to end on a tiny shop: fine-tune (full, LoRA, fp16 with a
gradient scaler), save, reload, and check that reloaded scores and query embeddings match.

    PYTHONPATH=. python benchmarks/text_cuda_check.py [--device cuda] [--model .gpu/minilm]

Prints one line per check and exits non-zero when a reloaded model disagrees.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from mlcore.recommenders import load
from mlcore.recommenders.text import TextConfig, TextRecommender
from mlcore.text import FinetuneConfig, TextEncoder, finetune, product_texts
from tests.mlcore.conftest import tiny_dataset


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", default="", help="MiniLM folder (default: the bundled package)")
    args = parser.parse_args()
    data = tiny_dataset()
    texts = product_texts(data.products)
    users = np.arange(data.n_users)
    worst = 0.0
    for lora in (False, True):
        config = TextConfig(
            model=args.model, device=args.device, finetune=True, finetune_steps=3, batch_size=4,
            lora=lora, lr=1e-3 if lora else 5e-5,
        )
        model = TextRecommender(config).fit(data)
        with tempfile.TemporaryDirectory() as folder:
            model.save(Path(folder))
            again = load(Path(folder))
            assert isinstance(again, TextRecommender)
            score_diff = float(np.abs(again.score(users) - model.score(users)).max())
            query_diff = float(np.abs(again.query_encoder(args.device).encode(texts) - model.item_embeddings).max())
        worst = max(worst, score_diff, query_diff)
        print(f"{'lora' if lora else 'full'}: {model.finetune_result}; reloaded score diff {score_diff:.2e}, "
              f"query-vs-item embedding diff {query_diff:.2e}")
    encoder = TextEncoder.load(args.model or None, device=args.device)
    result = finetune(encoder, texts[:8], texts[1:9], FinetuneConfig(max_steps=3, batch_size=4, precision="fp16"))
    print(f"fp16 + gradient scaler: {result.steps} steps, losses {[round(x, 3) for x in result.losses]}, {result.device}")
    if torch.cuda.is_available():
        print(f"peak GPU memory {torch.cuda.max_memory_allocated() // 2**20} MiB")
    ok = worst < 1e-2  # bf16 autocast rounds; a wrong reload differs by ~0.1 or more
    print("OK" if ok else f"MISMATCH {worst:.2e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
