"""The ``sequential`` signal: it learns order, text gives cold items a vector, it saves and reads live sessions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.data import Dataset
from mlcore.recommenders import load
from mlcore.recommenders.cost import Workload
from mlcore.recommenders.sequential import Sequential, SequentialConfig
from mlcore.recommenders.sequential_model import training_windows

FAST = {"text_init": False, "device": "cpu", "epochs": 40, "dim": 16, "heads": 1, "layers": 1,
        "batch_size": 8, "lr": 1e-2, "dropout": 0.1, "max_len": 8}
CHAINS = [["a", "b", "c"], ["x", "y", "z"], ["p", "q", "r"]]


def chain_data(n_users: int = 24, cold: tuple[str, ...] = ("cold-a", "cold-x")) -> Dataset:
    """Each shopper walks one chain (a → b → c, x → y → z or p → q → r), then another one;
    ``cold`` items are never bought."""
    rows = []
    for u in range(n_users):
        first = u % len(CHAINS)
        second = (first + 1 + (u // len(CHAINS)) % 2) % len(CHAINS)
        for step, item in enumerate(CHAINS[first] + CHAINS[second]):
            rows.append((f"u{u}", item, pd.Timestamp("2024-01-01") + pd.Timedelta(hours=u * 10 + step), "purchase", 1))
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "type", "quantity"])
    items = [i for chain in CHAINS for i in chain] + list(cold)
    return Dataset.from_frames(events, pd.DataFrame({"item_id": items, "title": [f"Item {i}" for i in items]}))


@pytest.fixture(scope="module")
def chains() -> tuple[Dataset, Sequential]:
    data = chain_data()
    return data, Sequential(SequentialConfig(**FAST)).fit(data)


def best(model: Sequential, data: Dataset, sequence: list[str]) -> str:
    scores = model.score_sequences([data.items.index(sequence)])[0]
    return str(data.items.ids[int(np.argmax(scores))])


def test_it_learns_which_item_comes_next_in_a_chain(chains):
    data, model = chains
    assert best(model, data, ["a"]) == "b"
    assert best(model, data, ["a", "b"]) == "c"
    assert best(model, data, ["x", "y"]) == "z"
    assert best(model, data, ["p"]) == "q"
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]


def test_live_session_scoring_follows_the_last_item(chains):
    data, model = chains
    # the same shopper's snapshot ends with c; their live session's newest click changes the ranking
    assert best(model, data, ["a", "b", "c", "x"]) == "y"
    assert best(model, data, ["a", "b", "c", "p"]) == "q"
    a, b, x = data.items.index(["a", "b", "x"])
    assert model.because([a, x], b) == a  # b is owed to a, not to x


def test_snapshot_scores_are_the_live_scores_of_the_training_history(chains):
    data, model = chains
    u0 = data.users.index_of("u0")
    history = data.item_index[data.user_index == u0]
    np.testing.assert_allclose(model.score(np.array([u0]))[0], model.score_sequences([history])[0], rtol=1e-4, atol=1e-4)
    assert model.score_sequences([np.array([], dtype=np.int64)]).shape == (1, data.n_items)
    assert not model.score_sequences([np.array([], dtype=np.int64)]).any()


def test_text_embeddings_give_a_never_bought_product_a_vector_near_its_lookalikes():
    data = chain_data()
    rng = np.random.default_rng(0)
    # text vectors: each chain's items (and its cold lookalike) share a direction
    base = {c[0]: rng.normal(size=32) for c in CHAINS}
    family = {i: c[0] for c in CHAINS for i in c} | {"cold-a": "a", "cold-x": "x"}
    text = np.stack([base[family[i]] + 0.1 * rng.normal(size=32) for i in data.items.ids]).astype(np.float32)
    model = Sequential(SequentialConfig(**{**FAST, "text_init": True})).fit(data, item_embeddings=text)
    cold_a, cold_x, a, x = data.items.index(["cold-a", "cold-x", "a", "x"])
    table = model.item_table[1:]
    assert np.linalg.norm(table[cold_a]) > 0
    cos = table @ table[cold_a] / (np.linalg.norm(table, axis=1) * np.linalg.norm(table[cold_a]) + 1e-9)
    assert cos[a] > cos[x]
    assert model.text_vector(text[cold_a]).shape == (16,)
    # without text a never-bought item only has its random start
    plain = Sequential(SequentialConfig(**FAST)).fit(data)
    assert plain.text_proj.size == 0


def test_a_saved_model_loads_into_safetensors_and_scores_live_sessions_identically(chains, tmp_path):
    data, model = chains
    model.save(tmp_path / "seq")
    assert (tmp_path / "seq" / "model.safetensors").exists() and not (tmp_path / "seq" / "arrays.npz").exists()
    again = load(tmp_path / "seq")
    assert isinstance(again, Sequential) and again.config == model.config
    np.testing.assert_array_equal(again.score(np.arange(5)), model.score(np.arange(5)))
    seq = [data.items.index(["x", "y"])]
    np.testing.assert_allclose(again.score_sequences(seq), model.score_sequences(seq), rtol=1e-5, atol=1e-5)


def test_a_warm_start_continues_from_the_old_weights(chains):
    data, model = chains
    refreshed = Sequential(SequentialConfig(**{**FAST, "epochs": 2, "lr": 1e-3})).fit(data, init_from=model)
    assert best(refreshed, data, ["a", "b"]) == "c"
    other = chain_data(cold=("new-item",))
    with pytest.raises(ValueError, match="another item map"):
        Sequential(SequentialConfig(**FAST)).fit(other, init_from=model)


def test_training_windows_cover_the_newest_items_with_shifted_targets():
    inputs, targets = training_windows([np.arange(7)], max_len=3, per_user=0)
    # newest window first: inputs 3,4,5 → targets 4,5,6 (table rows are columns + 1)
    assert inputs[0].tolist() == [4, 5, 6] and targets[0].tolist() == [5, 6, 7]
    assert inputs[-1][-1] + 1 == targets[-1][-1]
    assert sorted({int(t) for t in targets.ravel() if t}) == [2, 3, 4, 5, 6, 7]
    one, _ = training_windows([np.arange(7)], max_len=3, per_user=1)
    assert len(one) == 1


def test_its_cost_grows_with_the_catalogue_and_names_the_fix():
    small = Sequential.cost(Workload(n_users=1000, n_items=1000, n_interactions=20_000))
    large = Sequential.cost(Workload(n_users=1000, n_items=100_000, n_interactions=20_000))
    assert large.seconds > 10 * small.seconds and large.peak_bytes > small.peak_bytes
    assert "sequential." in large.note


DDP_CONFIG = {**FAST, "dropout": 0.0, "epochs": 3}


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    """One torchrun-like process (gloo on CPU): the environment torchrun would set, then a fit."""
    import os

    import torch

    from mlcore.runtime import distributed

    torch.set_num_threads(1)
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    assert distributed.init_from_env(backend="gloo")
    try:
        model = Sequential(SequentialConfig(**DDP_CONFIG)).fit(chain_data())
        np.savez(f"{out}/rank{rank}.npz", table=model.item_table, loss=[h["loss"] for h in model.history_])
    finally:
        distributed.shutdown()


@pytest.mark.slow  # spawns two torch processes
def test_two_processes_train_the_same_model_as_one(tmp_path):
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    mp.spawn(_ddp_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(2)]
    single = Sequential(SequentialConfig(**DDP_CONFIG)).fit(chain_data())
    np.testing.assert_array_equal(ranks[0]["table"], ranks[1]["table"])
    np.testing.assert_allclose(ranks[0]["table"], single.item_table, atol=1e-4)
    np.testing.assert_allclose(ranks[0]["loss"], [h["loss"] for h in single.history_], rtol=1e-4)
