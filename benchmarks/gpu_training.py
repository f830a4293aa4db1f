"""Training throughput of `mf` and `text` fine-tuning on the available device (CUDA with mixed precision, or CPU).

    python benchmarks/gpu_training.py [--csv ../shared/data/online-retail/online_retail.csv.gz]
                                      [--model DIR] [--device auto|cpu|cuda] [--mf-epochs 5] [--text-steps 40]
    python benchmarks/gpu_training.py --smoke   # seconds, CPU or GPU: the first 5,000 rows, mf 1 epoch,
                                                # 1 fine-tuning step at batch 8 and 16, 64 titles encoded

Prints samples/s for: MF (iALS, full Online Retail), MiniLM contrastive fine-tuning on behaviour pairs
(``--batch`` 32 and ``--big-batch`` 256), and embedding throughput (titles/s). Run it once here on the CPU and once on
the GPU machine to compare: the figures are reported in the closing note.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from mlcore.data import Dataset
from mlcore.data.cleaning import clean_events
from mlcore.recommenders.mf import MF, MFConfig
from mlcore.runtime import Callback, pick_device
from mlcore.text.encoder import TextEncoder
from mlcore.text.finetune import FinetuneConfig, finetune
from mlcore.text.pairs import PairConfig, behaviour_pairs
from mlcore.text.product_text import product_texts

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared/data/online-retail/online_retail.csv.gz"


class Rates(Callback):
    """Keeps the last samples/s reported."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}

    def progress(self, *, phase: str, done: int, total: int, metrics: dict[str, float] | None = None) -> None:
        self.last = dict(metrics or {})


SMOKE = {"rows": 5_000, "mf_epochs": 1, "text_steps": 1, "batch": 8, "big_batch": 16, "encode_limit": 64}


def load(csv: Path, nrows: int | None = None) -> Dataset:
    """Online Retail's purchases, cleaned (``nrows``: only the first rows)."""
    raw = pd.read_csv(csv, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"}, nrows=nrows)
    events = pd.DataFrame({
        "user_id": raw["CustomerID"].astype("string"), "item_id": raw["StockCode"],
        "timestamp": pd.to_datetime(raw["InvoiceDate"]), "type": "purchase", "quantity": raw["Quantity"],
    })
    events, _ = clean_events(events)
    products = raw.drop_duplicates("StockCode").rename(columns={"StockCode": "item_id", "Description": "title"})
    return Dataset.from_frames(events, products[["item_id", "title"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--model", default=None, help="MiniLM folder (default: the bundled package)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--mf-epochs", type=int, default=5)
    parser.add_argument("--text-steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--big-batch", type=int, default=256)
    parser.add_argument("--encode-limit", type=int, default=0, help="titles encoded (0: every product's)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help=f"seconds on any device: {SMOKE}")
    args = parser.parse_args()
    if args.smoke:
        args.mf_epochs, args.text_steps = SMOKE["mf_epochs"], SMOKE["text_steps"]
        args.batch, args.big_batch, args.encode_limit = SMOKE["batch"], SMOKE["big_batch"], SMOKE["encode_limit"]
    device = pick_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    figures: dict[str, object] = {"device": name, "torch": torch.__version__}
    print(f"device: {name}, torch {torch.__version__}", flush=True)

    data = load(args.csv, nrows=SMOKE["rows"] if args.smoke else None)
    print(f"data: {data.n_users} users, {data.n_items} items, {len(data.events)} events", flush=True)

    rates = Rates()
    started = time.perf_counter()
    MF(MFConfig(epochs=args.mf_epochs, device=str(device))).fit(data, rates)
    figures["mf_seconds"] = round(time.perf_counter() - started, 2)
    figures["mf_samples_per_s"] = round(rates.last.get("samples_per_s", 0.0))
    print(f"mf (iALS, {args.mf_epochs} epochs): {figures['mf_seconds']} s, {figures['mf_samples_per_s']:,} samples/s", flush=True)

    encoder = TextEncoder.load(args.model, device=device)
    encoder.model.float()  # master weights in fp32; autocast does the mixed precision
    texts = product_texts(data.products)
    encoded = texts[: args.encode_limit] if args.encode_limit > 0 else texts
    started = time.perf_counter()
    encoder.encode(encoded, batch_size=256 if device.type == "cuda" else 64)
    figures["encode_titles_per_s"] = round(len(encoded) / (time.perf_counter() - started))
    print(f"encode: {figures['encode_titles_per_s']:,} titles/s ({len(encoded)} titles)", flush=True)

    pairs = behaviour_pairs(data, PairConfig(max_pairs=200_000))
    anchors = [texts[i] for i in pairs[:, 0]]
    positives = [texts[i] for i in pairs[:, 1]]
    for batch in (args.batch, args.big_batch):
        result = finetune(encoder, anchors, positives, FinetuneConfig(batch_size=batch, max_steps=args.text_steps))
        key = f"finetune_b{batch}"
        figures[key] = {"pairs_per_s": round(result.samples_per_s, 1), "s_per_step": round(result.seconds / max(result.steps, 1), 4),
                        "first_loss": round(result.losses[0], 4), "last_loss": round(result.losses[-1], 4), "device": result.device}
        print(f"fine-tune batch {batch}: {figures[key]}", flush=True)
    if device.type == "cuda":
        figures["peak_gpu_mem_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20)
    print(json.dumps(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
