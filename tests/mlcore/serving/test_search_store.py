"""The search index on disk: written whole or not at all, grown by parts that any reader replays."""
import pandas as pd
import pytest

from mlcore.search.engine import SearchConfig, SearchEngine
from mlcore.serving import search_store as store

CONFIG = SearchConfig(mode="bm25", lexical_fields=("title",), dense_fields=("title",))


def frame(rows):
    return pd.DataFrame(rows, columns=["id", "title"])


@pytest.fixture
def bundle(tmp_path):
    engine = SearchEngine(CONFIG).build(frame([("p1", "blue ceramic mug"), ("p2", "steel garden spade")]))
    store.write_index(tmp_path, engine, {"encoder": "", "products": 2})
    return tmp_path


def test_the_built_index_is_written_under_its_final_name_only_and_only_once(bundle):
    folder = store.index_dir(bundle)
    assert store.has_index(folder) and store.read_meta(folder)["products"] == 2
    assert not [p for p in bundle.iterdir() if p.name.startswith(".")]
    with pytest.raises(FileExistsError, match="built once"):
        store.write_index(bundle, SearchEngine(CONFIG).build(frame([("p3", "x")])), {})


def test_an_added_part_is_replayed_by_another_reader_without_duplicates(bundle):
    folder = store.index_dir(bundle)
    writer, reader = store.load_index(folder, lambda ref: None), store.load_index(folder, lambda ref: None)
    name = store.add_products(writer, frame([("p3", "walnut spice rack")]))
    assert store.list_parts(folder) == [name] and name in writer.parts
    assert not reader.engine.search("walnut", k=1).hits
    assert store.replay(reader) == 1 and reader.engine.search("walnut", k=1).hits[0].product_id == "p3"
    assert store.replay(reader) == 0  # nothing new: one directory listing
    store.write_part(folder, frame([("p3", "walnut spice rack"), ("p4", "oak pepper mill")]), None)
    assert store.replay(reader) == 1 and reader.ids() == {"p1", "p2", "p3", "p4"}
    assert store.load_index(folder, lambda ref: None).ids() == {"p1", "p2", "p3", "p4"}
