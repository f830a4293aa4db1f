from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.search.category import CategoryModel, CategorySettings, derive_labels, path_leaf, type_phrase
from mlcore.search.engine import SearchConfig, SearchEngine

SHOP = [
    # id, title, name, short_description, supplier
    ("n1", "HP 255 G7 Notebook Silver 39.6 cm (15.6\") 8 GB", "255 G7", "Slim notebook computer", "HP"),
    ("n2", "Lenovo IdeaPad 3 notebook Grey 35.6 cm (14\")", "IdeaPad 3", "Everyday notebook", "Lenovo"),
    ("n3", "Dell Latitude 5400 Notebook Black 35.6 cm (14\")", "Latitude 5400", "Business notebook PC", "Dell"),
    ("c1", "Targus CN600 notebook case 39.6 cm (15.6\") Backpack Black", "CN600", "Laptop bag for 15.6 inch laptops",
     "Targus"),
    ("c2", "Case Logic LAPS-116 notebook case Sleeve Black", "LAPS-116", "Laptop sleeve, fits most laptops",
     "Case Logic"),
    ("c3", "Targus TSS912 notebook case Briefcase Grey", "TSS912", "Laptop briefcase with padded laptop pocket",
     "Targus"),
    ("k1", "Logitech K120 keyboard USB QWERTY Black", "K120", "Wired office keyboard", "Logitech"),
    ("k2", "Cherry KC 1000 keyboard USB QWERTZ", "KC 1000", "Flat keyboard", "Cherry"),
    ("m1", "Logitech M185 mouse RF Wireless Optical", "M185", "Compact wireless mouse", "Logitech"),
    ("m2", "Targus AMW50 mouse Bluetooth", "AMW50", "Travel mouse", "Targus"),
]


def shop() -> pd.DataFrame:
    return pd.DataFrame(SHOP, columns=["id", "title", "name", "short_description", "supplier"])


def test_the_type_phrase_is_what_follows_brand_and_model_name() -> None:
    assert type_phrase("Targus CN600 notebook case 39.6 cm Backpack", "Targus", "CN600") == ("notebook case", None)
    assert type_phrase("Logitech K120 keyboard USB QWERTY", "Logitech", "K120") == ("keyboard", None)
    assert type_phrase("HP EliteBook 840 Notebook PC 35.6 cm", "HP", "EliteBook 840 Notebook PC") == (None, "notebook")
    assert type_phrase("Kingston 64 GB 1.5 V", "Kingston", "") == (None, None)


def test_labels_come_from_the_category_path_when_the_catalog_has_one() -> None:
    frame = pd.DataFrame({"title": ["a", "b", "c"], "category_path": ["Computers > Laptops", "Home > Mugs", None]})
    assert derive_labels(frame) == ["laptops", "mugs", None]
    assert path_leaf(" Bags ") == "bags"


def test_title_labels_keep_the_longest_common_prefix() -> None:
    labels = derive_labels(shop(), CategorySettings(min_count=2))
    assert labels == ["notebook"] * 3 + ["notebook case"] * 3 + ["keyboard"] * 2 + ["mouse"] * 2


def test_the_classifier_gives_unlabelled_products_their_nearest_type(encoder: object) -> None:
    extra = pd.DataFrame([("m3", "Targus AMW60 9 x 6 cm", "AMW60", "Wireless travel mouse", "Targus")],
                         columns=shop().columns)  # no type phrase in the title
    frame = pd.concat([shop(), extra], ignore_index=True)
    vectors = encoder.encode((frame["title"] + " " + frame["short_description"]).tolist())  # type: ignore[attr-defined]
    model = CategoryModel.fit(frame, vectors, encoder.encode, CategorySettings(min_count=2, assign_min_cosine=0.1))  # type: ignore[attr-defined]
    assert model.labels == ["keyboard", "mouse", "notebook", "notebook case"]
    assert model.product_type[10] == model.labels.index("mouse")
    probs = model.predict(encoder.encode(["wireless mouse"])[0])  # type: ignore[attr-defined]
    assert model.labels[int(np.argmax(probs))] == "mouse" and probs.sum() == pytest.approx(1.0)


@pytest.fixture(scope="module")
def minilm() -> object:
    from mlcore.text.encoder import TextEncoder

    return TextEncoder.load(None, device="cpu")


def category_config(**extra: object) -> SearchConfig:
    return SearchConfig(mode="hybrid+qu", fusion="weighted", dense_weight=0.5, category_min_count=2,
                        category_boost=0.5, category_weight=0.5, **extra)  # type: ignore[arg-type]


def test_a_laptop_query_wants_notebooks_not_laptop_bags(minilm: object) -> None:
    plain = SearchEngine(SearchConfig(mode="hybrid+qu", fusion="weighted", dense_weight=0.5), minilm).build(shop())
    assert plain.search("laptop", k=1).hits[0].product_id.startswith("c")  # bags say "laptop"; notebooks don't
    engine = SearchEngine(category_config(), minilm).build(shop())
    result = engine.search("laptop", k=3)
    top = [h.product_id[0] for h in result.hits]
    assert top[0] == "n" and top.count("n") >= 2
    assert result.query.category == "notebook" and result.query.to_dict()["category"] == "notebook"
    assert any(r == "type notebook" for r in result.hits[0].reasons)
    assert engine.search("laptop bag", k=1).hits[0].product_id.startswith("c")


def test_a_brand_only_query_favours_the_brand_and_skips_the_type_guess(minilm: object) -> None:
    engine = SearchEngine(category_config(), minilm).build(shop())
    result = engine.search("logitech", k=2)
    assert {h.product_id for h in result.hits} == {"k1", "m1"}
    assert result.query.brand == "logitech" and result.query.category is None


def test_the_category_model_survives_save_load_and_new_products(minilm: object, tmp_path: object) -> None:
    engine = SearchEngine(category_config(), minilm).build(shop().iloc[:8])
    engine.add_products(shop().iloc[8:])
    assert engine.category is not None and len(engine.category.product_type) == 10
    engine.save(tmp_path / "idx")  # type: ignore[operator]
    again = SearchEngine.load(tmp_path / "idx", minilm)  # type: ignore[operator]
    for q in ("laptop", "mouse", "notebook case"):
        assert engine.search(q, k=5).to_dict() == again.search(q, k=5).to_dict()


def test_old_config_files_without_category_fields_still_load() -> None:
    config = SearchConfig.from_dict({"mode": "bm25", "query": {}, "synonyms": [["tv", ["television"]]]})
    assert config.category_weight == 0.0 and not config.uses_category
