"""Product pages show similar and complementary items, shopper pages the inferred interests.

A small frame shop trained once per module (popularity, item_knn, kg and text signals): oak frames
are bought in the same order as a linen album six times, with a pine frame three times; shopper
``frames-fan`` buys frames, views an album and searches for "walnut frame".
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

from dashboard.models import Catalog, Event, EventType, ModelVersion, Product, Shopper, VersionState
from dashboard.services import serving
from dashboard.services.fusion import fusion_config_create
from dashboard.services.insights import product_related, shopper_profile
from mlcore.data import Dataset, temporal_split
from mlcore.recommenders.text import TextConfig
from mlcore.training.artifacts import write_bundle
from mlcore.training.runner import RunConfig, SignalSpec, run
from tests.factories import EventFactory, ProductFactory, ShopperFactory

START = dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
SIGNALS = (SignalSpec("popularity"), SignalSpec("item_knn"), SignalSpec("kg"),
           SignalSpec("text", TextConfig(finetune=False, device="cpu", max_length=32)))
PRODUCTS = [
    # id, title, category, brand, price
    ("oak", "Oak photo frame", "Home > Frames", "Woodly", 25.0),
    ("pine", "Pine photo frame", "Home > Frames", "Pinecraft", 18.0),
    ("walnut", "Walnut photo frame", "Home > Frames", "Woodly", 40.0),
    ("album", "Linen photo album", "Stationery > Albums", "Papyrus", 15.0),
    ("card", "Birthday card", "Stationery > Cards", "Papyrus", 3.0),
    ("lamp", "Brass desk lamp", "Home > Lighting", "Lumo", 60.0),
    ("mug", "Blue ceramic mug", "Kitchen > Mugs", "Acme", 8.0),
    ("rug", "Wool rug", "Home > Rugs", "Loom", 120.0),
]
ORDERS = ([["oak", "album"]] * 6 + [["oak", "pine"]] * 3 + [["lamp", "mug"]] * 3 + [["album", "card"]] * 2
          + [["pine", "walnut"], ["rug", "lamp"], ["oak", "album"], ["mug", "card"]])


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, products): order n by shopper ``s{n % 7}`` on day n, its items one minute apart."""
    rows = []
    for n, basket in enumerate(ORDERS):
        for m, item in enumerate(basket):
            rows.append({"user_id": f"s{n % 7}", "item_id": item, "type": "purchase", "quantity": 1,
                         "timestamp": START + dt.timedelta(days=n, minutes=m)})
    for n, item in enumerate(["oak", "pine", "walnut"]):
        rows.append({"user_id": "frames-fan", "item_id": item, "type": "purchase", "quantity": 1,
                     "timestamp": START + dt.timedelta(days=2 + 3 * n)})
    products = pd.DataFrame(PRODUCTS, columns=["item_id", "title", "category", "brand", "price"])
    return pd.DataFrame(rows), products


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory) -> Path:
    events, products = frames()
    data = Dataset.from_frames(events, products)
    split = temporal_split(data, (START + dt.timedelta(days=len(ORDERS) - 2)).isoformat(), validation_days=2)
    result = run(data, split, RunConfig(signals=SIGNALS, ablation=False))
    return write_bundle(tmp_path_factory.mktemp("insights") / "bundle", result)


def mirror(catalog: Catalog, folder: Path | None) -> ModelVersion | None:
    """The shop's products, shoppers and events in ``catalog``; ``folder``: register it as the active version."""
    events, products = frames()
    by_id = {p.external_id: p for p in Product.objects.bulk_create(
        Product(catalog=catalog, external_id=r["item_id"], title=r["title"], category_path=r["category"],
                brand=r["brand"], price=r["price"]) for r in products.to_dict("records"))}
    shoppers = {s.external_id: s for s in Shopper.objects.bulk_create(
        Shopper(catalog=catalog, external_id=u) for u in sorted(events["user_id"].unique()))}
    Event.objects.bulk_create(
        Event(catalog=catalog, shopper=shoppers[r["user_id"]], product=by_id[r["item_id"]], type=EventType.PURCHASE,
              quantity=1, timestamp=r["timestamp"]) for r in events.to_dict("records"))
    fan, last = shoppers["frames-fan"], START + dt.timedelta(days=40)
    Event.objects.create(catalog=catalog, shopper=fan, product=by_id["album"], type=EventType.VIEW, timestamp=last)
    Event.objects.create(catalog=catalog, shopper=fan, type=EventType.SEARCH, query="walnut frame",
                         timestamp=last + dt.timedelta(minutes=2))
    if folder is None:
        return None
    return ModelVersion.objects.create(catalog=catalog, number=1, artifact_path=str(folder), state=VersionState.ACTIVE,
                                       signals={s.name: {} for s in SIGNALS}, fusion={}, data_fingerprint="f",
                                       split="t")


@pytest.fixture
def served(catalog, bundle_folder) -> Catalog:
    serving.clear_cache()
    mirror(catalog, bundle_folder)
    return catalog


def product_page(client, catalog, external_id):
    pk = Product.objects.get(catalog=catalog, external_id=external_id).pk
    return client.get(reverse("dashboard:product_detail", kwargs={"catalog": catalog.slug, "pk": pk}))


def shopper_page(client, catalog, external_id):
    pk = Shopper.objects.get(catalog=catalog, external_id=external_id).pk
    return client.get(reverse("dashboard:shopper_detail", kwargs={"catalog": catalog.slug, "pk": pk}))


# -- products -------------------------------------------------------------------------------------------
def test_the_product_page_lists_similar_and_complementary_items_with_reasons(analyst_client, served):
    response = product_page(analyst_client, served, "album")
    related = response.context["related"]
    assert related["state"] == "ok" and related["version"] == 1
    first = related["complementary"][0]
    assert first["item_id"] == "oak" and first["cross_category"]
    assert first["reason"].startswith("Often bought together (") and first["reason"].endswith(" orders)")
    assert related["similar"], "the text and item_knn signals find similar items"
    html = response.content.decode()
    oak = Product.objects.get(catalog=served, external_id="oak")
    assert "Similar items" in html and "Often bought with" in html
    assert reverse("dashboard:product_detail", kwargs={"catalog": served.slug, "pk": oak.pk}) in html
    assert first["reason"] in html


def test_complementary_items_prefer_other_categories(analyst_client, served):
    related = product_related(catalog=served, product=Product.objects.get(catalog=served, external_id="oak"))
    ids = [it["item_id"] for it in related["complementary"]]
    assert ids[0] == "album" and ids.index("album") < ids.index("pine")


def test_a_product_newer_than_the_version_says_to_retrain(analyst_client, served):
    ProductFactory(catalog=served, external_id="teak", title="Teak frame")
    html = product_page(analyst_client, served, "teak").content.decode()
    assert "This product is newer than model version 1" in html and "train and promote a new version" in html


def test_without_an_active_version_the_product_page_says_to_train_one(analyst_client, catalog):
    serving.clear_cache()
    mirror(catalog, None)
    response = product_page(analyst_client, catalog, "oak")
    assert response.context["related"]["state"] == "no_version"
    assert "no active model version yet: train one and promote it" in response.content.decode()


def test_the_product_page_runs_a_fixed_number_of_queries(analyst_client, served, django_assert_max_num_queries):
    product_page(analyst_client, served, "oak")  # the bundle is loaded once per process
    with django_assert_max_num_queries(13):  # + the lookalikes list (image signal)
        assert product_page(analyst_client, served, "oak").status_code == 200


# -- shoppers -------------------------------------------------------------------------------------------
def test_the_shopper_page_shows_interests_from_the_history(analyst_client, served):
    response = shopper_page(analyst_client, served, "frames-fan")
    profile = response.context["profile"]
    assert profile["state"] == "ok" and profile["known_to_model"]
    p = profile["profile"]
    assert p["categories"][0]["name"] == "Home > Frames" and p["categories"][0]["percent"] > 50
    assert p["brands"][0]["name"] in {"Woodly", "Pinecraft"}
    assert p["price"]["basis"] == "bought" and p["price"]["median"] == 25.0
    assert p["intent"]["queries"] == ["walnut frame"]
    assert p["has_vector"]  # the text signal's embeddings
    html = response.content.decode()
    for text in ("Interests", "Top categories", "Top brands", "Price band", "Recent intent", "“walnut frame”"):
        assert text in html
    assert 'class="progress"' in html


def test_the_shopper_page_links_to_the_recommendation_preview_when_a_fusion_config_exists(
        analyst_client, served, merchandiser):
    assert "Preview recommendations" not in shopper_page(analyst_client, served, "frames-fan").content.decode()
    config = fusion_config_create(catalog=served, by=merchandiser, name="Default", weights={"item_knn": 1.0},
                                  is_default=True)
    html = shopper_page(analyst_client, served, "frames-fan").content.decode()
    url = reverse("dashboard:fusion_edit", kwargs={"catalog": served.slug, "pk": config.pk})
    assert f'href="{url}?shopper=frames-fan"' in html


def test_a_shopper_without_events_gets_an_empty_profile(analyst_client, served):
    shopper = ShopperFactory(catalog=served, external_id="newcomer")
    response = shopper_page(analyst_client, served, shopper.external_id)
    assert response.context["profile"]["state"] == "no_history"
    assert "nothing to infer interests from" in response.content.decode()


def test_without_a_version_the_profile_still_comes_from_the_database(analyst_client, catalog):
    serving.clear_cache()
    mirror(catalog, None)
    response = shopper_page(analyst_client, catalog, "frames-fan")
    profile = response.context["profile"]
    assert profile["state"] == "ok" and profile["version"] is None and not profile["profile"]["has_vector"]
    assert profile["profile"]["price"]["catalog_median"] == 21.5  # from the catalog's prices in the database
    assert "train and promote a version to preview" in response.content.decode()


def test_events_after_training_update_the_profile(served):
    fan = Shopper.objects.get(catalog=served, external_id="frames-fan")
    rug = Product.objects.get(catalog=served, external_id="rug")
    for n in range(3):
        EventFactory(catalog=served, shopper=fan, product=rug, type=EventType.PURCHASE,
                     timestamp=START + dt.timedelta(days=60, minutes=n))
    p = shopper_profile(catalog=served, shopper=fan)["profile"]
    assert p["categories"][0]["name"] == "Home > Rugs" and p["intent"]["categories"][0]["name"] == "Home > Rugs"


def test_the_insights_are_json_ready_for_the_api(served):
    product = Product.objects.get(catalog=served, external_id="oak")
    fan = Shopper.objects.get(catalog=served, external_id="frames-fan")
    related = json.loads(json.dumps(product_related(catalog=served, product=product)))
    assert related["complementary"][0]["product"]["pk"] == Product.objects.get(catalog=served, external_id="album").pk
    profile = json.loads(json.dumps(shopper_profile(catalog=served, shopper=fan), cls=DjangoJSONEncoder))
    assert profile["profile"]["categories"][0]["name"] == "Home > Frames"


def test_the_shopper_page_runs_a_fixed_number_of_queries(analyst_client, served, django_assert_max_num_queries):
    shopper_page(analyst_client, served, "frames-fan")
    with django_assert_max_num_queries(16):  # + recommended now: config, purchases, recent events
        assert shopper_page(analyst_client, served, "frames-fan").status_code == 200


# -- Simplified Chinese -----------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["product", "shopper"])
def test_the_pages_render_in_simplified_chinese(analyst_client, served, page):
    analyst_client.cookies["django_language"] = "zh-hans"
    response = (product_page(analyst_client, served, "album") if page == "product"
                else shopper_page(analyst_client, served, "frames-fan"))
    html = response.content.decode()
    assert response.status_code == 200 and '<html lang="zh-hans">' in html
    assert "商品" in html and "顾客" in html
