"""Contrastive fine-tuning: the loss, what trains, LoRA, cancellation, save and reload."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mlcore.runtime import Callback, Cancelled
from mlcore.text import FinetuneConfig, TextEncoder, finetune, info_nce

ANCHORS = ["red ceramic mug", "garden hose", "steel spade", "tea pot", "wool scarf", "leather wallet"]
POSITIVES = ["ceramic saucer", "watering can", "garden rake", "tea cup", "knitted hat", "card holder"]
PROBE = ["blue ceramic mug", "lawn sprinkler"]


def fresh() -> TextEncoder:
    return TextEncoder.load(device="cpu", max_length=16)


def params(encoder: TextEncoder) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in encoder.model.state_dict().items()}


def batch_loss(encoder: TextEncoder) -> float:
    with torch.no_grad():
        a = encoder.forward(encoder.tokenize(ANCHORS))
        p = encoder.forward(encoder.tokenize(POSITIVES))
    ids = torch.arange(2 * len(ANCHORS)).reshape(2, -1).T
    return float(info_nce(a, p, ids, 0.05))


def test_info_nce_is_near_zero_for_aligned_pairs_and_masks_duplicate_texts():
    eye = torch.eye(3)
    distinct = torch.tensor([[0, 3], [1, 4], [2, 5]])
    assert float(info_nce(eye, eye, distinct, 0.05)) < 1e-6
    # rows 0 and 1 share their positive text: not a negative of each other
    twin = torch.nn.functional.normalize(torch.tensor([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]), dim=1)
    shared = torch.tensor([[0, 3], [1, 3], [2, 5]])
    assert float(info_nce(twin, twin, shared, 0.05)) < 1e-6
    assert float(info_nce(twin, twin, distinct, 0.05)) > 0.4


def test_a_few_steps_lower_the_loss_and_leave_frozen_layers_alone():
    encoder = fresh()
    before, loss_before = params(encoder), batch_loss(encoder)
    result = finetune(encoder, ANCHORS, POSITIVES, FinetuneConfig(epochs=4, batch_size=6, lr=1e-4, freeze_layers=4))
    after = params(encoder)
    assert result.steps == 4 and len(result.losses) == 4 and result.samples_per_s > 0
    assert batch_loss(encoder) < loss_before
    assert not torch.equal(before["encoder.layer.5.attention.self.query.weight"], after["encoder.layer.5.attention.self.query.weight"])
    assert torch.equal(before["encoder.layer.3.attention.self.query.weight"], after["encoder.layer.3.attention.self.query.weight"])
    assert torch.equal(before["embeddings.word_embeddings.weight"], after["embeddings.word_embeddings.weight"])


def test_lora_trains_only_the_adapters_on_query_and_value():
    encoder = fresh()
    base = params(encoder)["encoder.layer.0.attention.self.query.weight"]
    finetune(encoder, ANCHORS, POSITIVES, FinetuneConfig(max_steps=2, batch_size=3, lr=1e-3, lora=True))
    trainable = encoder.trainable_state()
    assert trainable and all("lora_" in name for name in trainable)
    assert any(".query." in name for name in trainable) and any(".value." in name for name in trainable)
    assert any(float(t.abs().sum()) > 0 for name, t in trainable.items() if "lora_B" in name)
    assert torch.equal(params(encoder)["encoder.layer.0.attention.self.query.base_layer.weight"], base)


@pytest.mark.parametrize("config", [FinetuneConfig(lora=True, lr=1e-3), FinetuneConfig(freeze_layers=5)])
def test_a_saved_fine_tuned_encoder_reloads_to_identical_embeddings(config, tmp_path):
    encoder = fresh()
    original = encoder.encode(PROBE)
    finetune(encoder, ANCHORS, POSITIVES, FinetuneConfig(**{**config.__dict__, "max_steps": 2, "batch_size": 3}))
    tuned = encoder.encode(PROBE)
    encoder.save(tmp_path)
    again = TextEncoder.load(tmp_path, device="cpu")
    assert not np.allclose(original, tuned, atol=1e-6)
    np.testing.assert_allclose(again.encode(PROBE), tuned, atol=1e-5)
    assert again.adaptation == encoder.adaptation


def test_only_the_trained_tensors_are_saved(tmp_path):
    encoder = fresh()
    finetune(encoder, ANCHORS, POSITIVES, FinetuneConfig(max_steps=1, batch_size=3, freeze_layers=5))
    encoder.save(tmp_path)
    from safetensors.torch import load_file

    names = set(load_file(str(tmp_path / "encoder.safetensors")))
    assert names and all(name.startswith("encoder.layer.5.") for name in names)


class StopAtOnce(Callback):
    def should_stop(self) -> bool:
        return True


def test_it_stops_when_cancelled_and_leaves_the_encoder_usable():
    encoder = fresh()
    with pytest.raises(Cancelled):
        finetune(encoder, ANCHORS, POSITIVES, FinetuneConfig(batch_size=3), StopAtOnce())
    assert not encoder.model.training
    assert encoder.encode(PROBE).shape == (2, 384)


def test_it_rejects_unpaired_texts_and_batches_without_negatives():
    encoder = fresh()
    with pytest.raises(ValueError, match="pair up"):
        finetune(encoder, ANCHORS, POSITIVES[:2])
    with pytest.raises(ValueError, match="at least 2"):
        finetune(encoder, ANCHORS, POSITIVES, FinetuneConfig(batch_size=1))
