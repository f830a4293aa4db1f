"""Search service: the index a training job builds, queries with settings, rules, personalisation, imports."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.models import EventType, JobStatus, ModelVersion, Product, SearchSettings, Shopper, VersionState
from dashboard.services import search_index
from dashboard.services.fusion import fusion_config_create
from dashboard.services.imports import import_start, import_upload
from dashboard.services.search import (
    SearchInputError,
    SearchUnavailable,
    parse_synonyms,
    search,
    search_settings_ensure,
    search_settings_save,
)
from dashboard.services.training import bundle_folder, training_job_run, training_job_start
from dashboard.services.versions import version_promote, version_rollback
from dashboard.tasks import search_index_catch_up
from mlcore.text.encoder import TextEncoder
from tests.dashboard.training_data import fill_catalog
from tests.factories import EventFactory

TITLES = [
    "Enamel teapot", "Bamboo cutting board", "Cast iron skillet", "Ceramic mixing bowl", "Copper kettle",
    "Linen tea towel", "Oak pepper mill", "Glass storage jar", "Steel colander", "Porcelain mug",
    "Garden hose reel", "Pruning shears", "Galvanised watering can", "Trowel and fork set", "Compost bin",
    "Bird feeder", "Hedge trimmer", "Plant pot saucer", "Wheelbarrow", "Seed tray",
]
PARAMS = {"signals": ["popularity"], "split": {"kind": "temporal", "test_days": 20, "validation_days": 0},
          "auto_promote": True}


@pytest.fixture(autouse=True)
def _folders(settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.MEDIA_ROOT = tmp_path / "media"
    search_index.clear_cache()


def trained(catalog, attributes=None):
    """The catalog filled with 20 named products (``attributes``: {external id: dict}) and a promoted
    version (with its search index)."""
    fill_catalog(catalog)
    for p in Product.objects.filter(catalog=catalog):
        p.title = TITLES[int(p.external_id[1:])]
        p.brand = "Acme" if int(p.external_id[1:]) % 2 else "Other"
        p.attributes = (attributes or {}).get(p.external_id, p.attributes)
        p.save()
    job = training_job_start(catalog=catalog, params=PARAMS)
    assert training_job_run(job_id=job.pk, progress_interval_s=0) == JobStatus.SUCCEEDED
    return ModelVersion.objects.get(job=job, state=VersionState.ACTIVE)


def ids(result):
    return [h["item_id"] for h in result["hits"]]


def test_a_training_job_saves_a_search_index_in_the_version_folder(catalog):
    version = trained(catalog)
    folder = bundle_folder(version.job) / "search"
    assert str(folder).startswith(version.artifact_path)
    meta = json.loads((folder / "index.json").read_text())
    assert meta["products"] == 20 and meta["encoder"] == ""  # no text signal: the bundled MiniLM
    assert (folder / "vectors.npy").exists() and (folder / "config.json").exists()
    assert not list(folder.parent.glob(".search.partial-*"))
    assert "search index: 20 products" in version.job.log


def test_an_exact_title_finds_its_product_first_with_signals_and_reasons(catalog):
    trained(catalog)
    result = search(catalog=catalog, query="Cast iron skillet")
    top = result["hits"][0]
    assert top["item_id"] == "P002" and top["title"] == "Cast iron skillet"
    assert set(top["signals"]) == {"bm25", "dense"} and "bm25 match" in top["reasons"]
    assert result["query"]["tokens"] == ["cast", "iron", "skillet"] and result["version"] == 1
    keywords = next(s for s in search_settings_ensure(catalog=catalog) if s.mode == "bm25")
    only = search(catalog=catalog, query="cast iron skillet", settings=keywords)
    assert ids(only) == ["P002"] and set(only["hits"][0]["signals"]) == {"bm25"}


def test_attribute_values_are_searched_but_bare_numbers_are_not(catalog):
    trained(catalog, {"P009": {"material": "vitrified stoneware", "capacity_ml": "350", "colour": "red"},
                      "P004": {"rooms": ["kitchen", "cafe"], "dishwasher_safe": True}})
    assert ids(search(catalog=catalog, query="stoneware"))[0] == "P009"  # "Porcelain mug"
    top = search(catalog=catalog, query="red mug")["hits"][0]
    assert top["item_id"] == "P009" and "colour red" in top["reasons"]
    assert ids(search(catalog=catalog, query="cafe"))[0] == "P004"  # a list value
    assert search_index.attribute_text({"capacity_ml": "350", "safe": True, "material": "stoneware", "x": None}) \
        == "stoneware"


def test_a_misspelt_query_is_corrected_and_suggested(catalog):
    trained(catalog)
    result = search(catalog=catalog, query="skilet")
    assert result["query"]["corrections"] == [["skilet", "skillet"]]
    assert result["suggestion"] == "skillet" and ids(result)[0] == "P002"


def test_the_linked_fusion_configs_rules_filter_and_pin(catalog):
    trained(catalog)
    garden = fusion_config_create(catalog=catalog, name="Garden only", weights={"popularity": 1.0}, rules=[
        {"kind": "category", "include": ["Garden > Tools"]}, {"kind": "pin", "item_id": "P019", "position": 1}])
    settings = search_settings_save(catalog=catalog, values={"name": "Garden", "mode": "hybrid+qu",
                                                             "fusion_config": garden.pk})
    result = search(catalog=catalog, query="kettle", settings=settings, k=10)
    assert result["hits"] and all(int(i[1:]) >= 10 for i in ids(result))
    assert ids(result)[0] == "P019" and result["hits"][0]["score"] is None
    assert "pinned at 1" in result["hits"][0]["reasons"]
    assert "P004" in ids(search(catalog=catalog, query="kettle"))  # the default settings have no rules


def test_search_rules_see_the_shoppers_purchases_recent_views_and_the_page_context(catalog):
    trained(catalog)
    config = fusion_config_create(catalog=catalog, name="Shopper rules", weights={"popularity": 1.0}, rules=[
        {"kind": "exclude_bought"}, {"kind": "exclude_recent", "days": 7, "types": ["view"]},
        {"kind": "pin", "item_id": "P019", "position": 1, "context": "search:kitchen"}])
    settings = search_settings_save(catalog=catalog, values={"name": "Shopper", "mode": "hybrid+qu",
                                                             "fusion_config": config.pk})
    shopper = Shopper.objects.create(catalog=catalog, external_id="buyer")
    now = dt.datetime.now(dt.UTC)
    for pid, kind, days in (("P004", EventType.PURCHASE, 40), ("P000", EventType.VIEW, 2), ("P009", EventType.VIEW, 30)):
        EventFactory(catalog=catalog, shopper=shopper, product=Product.objects.get(catalog=catalog, external_id=pid),
                     type=kind, timestamp=now - dt.timedelta(days=days))
    anyone = ids(search(catalog=catalog, query="kettle teapot mug", settings=settings, k=20))
    assert {"P004", "P000", "P009"} <= set(anyone) and "P019" not in anyone[:1]
    mine = ids(search(catalog=catalog, query="kettle teapot mug", settings=settings, k=20, shopper="buyer"))
    assert "P004" not in mine and "P000" not in mine  # bought (before training) and viewed 2 days ago
    assert "P009" in mine  # viewed 30 days ago: outside the 7-day window
    pinned = search(catalog=catalog, query="kettle teapot mug", settings=settings, k=20, context="Search:Kitchen")
    assert ids(pinned)[0] == "P019"


def test_the_profile_weight_moves_a_shoppers_products_up(catalog):
    trained(catalog)
    plain = ids(search(catalog=catalog, query="kitchen", k=10))
    favourite = plain[-1]
    shopper = Shopper.objects.create(catalog=catalog, external_id="fan")
    product = Product.objects.get(catalog=catalog, external_id=favourite)
    for n, kind in enumerate([EventType.PURCHASE, EventType.ADD_TO_CART, EventType.VIEW]):
        EventFactory(catalog=catalog, shopper=shopper, product=product, type=kind,
                     timestamp=dt.datetime(2011, 12, 1, 9 + n, tzinfo=dt.UTC))
    unweighted = search(catalog=catalog, query="kitchen", k=10, shopper="fan", profile_weight=0)
    assert ids(unweighted) == plain and unweighted["shopper"]["personalised"] is False
    mine = search(catalog=catalog, query="kitchen", k=10, shopper="fan", profile_weight=5)
    assert ids(mine)[0] == favourite and mine["shopper"] == {"id": "fan", "history": 3, "personalised": True}
    assert ids(search(catalog=catalog, query="kitchen", k=10, shopper="nobody", profile_weight=5)) == plain


def test_a_product_imported_after_training_is_found_without_retraining(
        catalog, monkeypatch, django_capture_on_commit_callbacks):
    trained(catalog)
    assert "P100" not in ids(search(catalog=catalog, query="espresso grinder"))
    csv = b"sku,name,price,colour,category\nP100,Burr espresso grinder,89.00,black,Home > Kitchen\n"
    batch = import_upload(catalog=catalog, kind="products", file=SimpleUploadedFile("new.csv", csv))
    sent = []
    monkeypatch.setattr("dashboard.services.search_index.current_app.send_task",
                        lambda name, args=(), **kw: sent.append((name, list(args))))
    with django_capture_on_commit_callbacks(execute=True):
        import_start(batch=batch, mapping={"sku": "id", "name": "title", "price": "price", "category": "category"},
                     run_inline=True)  # inside the request: the encoding is queued for a worker
    assert sent == [(search_index.TASK_CATCH_UP, [catalog.pk])]
    assert search_index_catch_up(catalog.pk) == 1  # the worker's task
    assert ids(search(catalog=catalog, query="espresso grinder"))[0] == "P100"
    # another process (a fresh cache) replays the added part from the version folder
    search_index.clear_cache()
    result = search(catalog=catalog, query="black espresso grinder")
    assert ids(result)[0] == "P100" and "colour black" in result["hits"][0]["reasons"]
    assert search_index.index_add_new_products(catalog=catalog) == 0  # nothing left to add


def test_search_says_what_to_do_without_an_index(catalog):
    with pytest.raises(SearchUnavailable, match="train a version"):
        search(catalog=catalog, query="mug")
    fill_catalog(catalog)
    ModelVersion.objects.create(catalog=catalog, number=1, artifact_path="/nowhere", state=VersionState.ACTIVE,
                                data_fingerprint="f", split="t")
    with pytest.raises(SearchUnavailable, match="no search index"):
        search(catalog=catalog, query="mug")


def test_settings_are_created_by_default_and_checked_by_field(catalog):
    first = search_settings_ensure(catalog=catalog)
    assert [(s.name, s.is_default) for s in first] == [("Hybrid", True), ("Keywords only", False)]
    assert parse_synonyms("sofa: couch, settee\n\nmug: cup") == (("sofa", ("couch", "settee")), ("mug", ("cup",)))
    with pytest.raises(SearchInputError, match="synonyms, line 2"):
        search_settings_save(catalog=catalog, values={"name": "x", "synonyms": "a: b\nno colon here"})
    with pytest.raises(SearchInputError, match="already exist"):
        search_settings_save(catalog=catalog, values={"name": "Hybrid"})
    with pytest.raises(SearchInputError, match="boost: must be between 1 and 5"):
        search_settings_save(catalog=catalog, values={"name": "x", "boost": "9"})
    new = search_settings_save(catalog=catalog, values={"name": "New default", "is_default": True})
    assert list(SearchSettings.objects.filter(catalog=catalog, is_default=True)) == [new]
    with pytest.raises(SearchInputError, match="query: type something"):
        search(catalog=catalog, query="  ")


def test_synonyms_expand_the_query(catalog):
    trained(catalog)
    plain = search_settings_save(catalog=catalog, values={"name": "Plain", "mode": "bm25"})
    expanded = search_settings_save(catalog=catalog, values={"name": "Syn", "mode": "hybrid+qu", "dense_weight": 0,
                                                             "synonyms": "pan: skillet"})
    assert search(catalog=catalog, query="pan", settings=plain)["hits"] == []
    assert ids(search(catalog=catalog, query="pan", settings=expanded))[0] == "P002"


def test_zero_result_queries_are_run_again_in_keyword_mode_with_a_suggestion(catalog):
    from dashboard.services.search_analytics import QueryStats, zero_result_queries

    trained(catalog)
    when = dt.datetime(2012, 1, 1, tzinfo=dt.UTC)
    stats = [QueryStats(q, n, 1, 0, when) for q, n in (("skillet", 5), ("skilet", 3), ("unicorn saddle", 2))]
    assert zero_result_queries(catalog=catalog, stats=stats) == [
        {"query": "skilet", "searches": 3, "suggestion": "skillet"},
        {"query": "unicorn saddle", "searches": 2, "suggestion": None},
    ]


def test_the_index_uses_the_bundles_fine_tuned_text_encoder_when_there_is_one(tmp_path):
    assert search_index.encoder_ref(tmp_path) == ""
    assert search_index.encoder_ref(tmp_path, "/models/my-minilm") == "/models/my-minilm"
    (tmp_path / "signals" / "text" / "encoder").mkdir(parents=True)
    (tmp_path / "signals" / "text" / "encoder" / "encoder.json").write_text("{}")
    assert search_index.encoder_ref(tmp_path, "/models/my-minilm") == "signals/text/encoder"


def test_a_failed_index_build_fails_the_job_and_registers_nothing(catalog, monkeypatch):
    fill_catalog(catalog)

    def broken(self, folder):
        (folder / "config.json").write_text("{}")
        raise OSError("disk full")

    monkeypatch.setattr("mlcore.search.engine.SearchEngine.save", broken)
    job = training_job_start(catalog=catalog, params=PARAMS)
    assert training_job_run(job_id=job.pk, progress_interval_s=0) == JobStatus.FAILED
    job.refresh_from_db()
    assert "disk full" in job.error and not ModelVersion.objects.exists()
    assert not bundle_folder(job).exists() and not list(bundle_folder(job).parent.glob(".*"))


def test_products_created_while_the_version_trained_are_added_by_the_catch_up_task(catalog):
    trained(catalog)
    Product.objects.create(catalog=catalog, external_id="P200", title="Walnut spice rack", price=30)
    search_index.clear_cache()  # a process loading the promoted version's index: it encodes nothing
    assert "P200" not in ids(search(catalog=catalog, query="walnut spice rack"))
    assert search_index_catch_up(catalog.pk) == 1  # the worker's task, queued when the version was promoted
    assert ids(search(catalog=catalog, query="walnut spice rack"))[0] == "P200"
    folder = search_index.index_folder(ModelVersion.objects.get(state=VersionState.ACTIVE))
    assert len(list((folder / "added").iterdir())) == 1
    search_index.clear_cache()  # another process replays the part
    assert ids(search(catalog=catalog, query="walnut spice rack"))[0] == "P200"


def test_a_web_process_loading_an_index_encodes_no_products(catalog, monkeypatch):
    trained(catalog)
    Product.objects.create(catalog=catalog, external_id="P200", title="Walnut spice rack", price=30)
    search_index.clear_cache()
    real = TextEncoder.encode

    def queries_only(self, texts, *args, **kwargs):
        if len(texts) != 1 or "Walnut" in texts[0]:
            raise AssertionError(f"a web request encoded products: {list(texts)[:3]}")
        return real(self, texts, *args, **kwargs)

    monkeypatch.setattr(TextEncoder, "encode", queries_only)
    search_index.index_for(ModelVersion.objects.get(state=VersionState.ACTIVE))
    assert "P200" not in ids(search(catalog=catalog, query="walnut spice rack"))


def test_promoting_or_rolling_back_a_version_queues_the_catch_up_after_the_commit(
        catalog, monkeypatch, django_capture_on_commit_callbacks):
    first = trained(catalog)
    job = training_job_start(catalog=catalog, params={**PARAMS, "auto_promote": False})
    sent = []
    monkeypatch.setattr("dashboard.services.search_index.current_app.send_task",
                        lambda name, args=(), **kw: sent.append((name, list(args))))
    with django_capture_on_commit_callbacks(execute=True):
        assert training_job_run(job_id=job.pk, progress_interval_s=0) == JobStatus.SUCCEEDED
    assert sent == [(search_index.TASK_CATCH_UP, [catalog.pk])]  # a version was registered
    second = ModelVersion.objects.get(job=job)
    with django_capture_on_commit_callbacks(execute=True):
        version_promote(version=second, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        version_rollback(catalog=catalog, to_version=first, by=None)
    assert sent == [(search_index.TASK_CATCH_UP, [catalog.pk])] * 3
