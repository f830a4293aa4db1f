"""Training fine-tunes the search index's encoder on searches followed by clicks, when there are enough."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from dashboard.models import EventType, JobStatus, ModelVersion, Product, Shopper, VersionState
from dashboard.services import search_index
from dashboard.services.search import search
from dashboard.services.training import job_folder, training_job_run, training_job_start
from tests.dashboard.test_search_service import PARAMS, TITLES
from tests.dashboard.training_data import START, fill_catalog
from tests.factories import EventFactory

# query -> the product (index into TITLES) shoppers click after it; "zorbly" shares no word with its kettle
QUERIES = {"teapot": 0, "chopping board": 1, "frying pan": 2, "bowl": 3, "zorbly": 4, "tea towel": 5,
           "pepper grinder": 6, "jar": 7, "colander": 8, "mug": 9, "hose": 10, "secateurs": 11,
           "watering can": 12, "hand trowel": 13, "compost": 14, "bird table": 15, "hedge cutter": 16,
           "saucer": 17, "barrow": 18, "seed tray": 19}
ROUNDS = 3  # each query searched and answered by a click this many times: 60 pairs
DENSE = {"name": "dense only", "mode": "dense"}


@pytest.fixture(autouse=True)
def _folders(settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SEARCH_FINETUNE_MIN_PAIRS = 40
    settings.SEARCH_FINETUNE_STEPS = 5  # enough for the 20 queries here; production default 60
    search_index.clear_cache()
    yield
    search_index.clear_cache()


def trained_with_searches(catalog):
    """The search test catalog plus ROUNDS searches of each query, each clicked through to its product."""
    fill_catalog(catalog)
    products = {}
    for p in Product.objects.filter(catalog=catalog):
        p.title = TITLES[int(p.external_id[1:])]
        p.brand = "Acme" if int(p.external_id[1:]) % 2 else "Other"
        p.save()
        products[int(p.external_id[1:])] = p
    shoppers = list(Shopper.objects.filter(catalog=catalog).order_by("external_id"))
    n = 0
    for r in range(ROUNDS):
        for query, index in QUERIES.items():
            when = START + dt.timedelta(days=r * 20, hours=n % 24, minutes=n)
            shopper = shoppers[n % len(shoppers)]
            EventFactory(catalog=catalog, shopper=shopper, product=None, type=EventType.SEARCH, query=query.upper(),
                         timestamp=when)
            EventFactory(catalog=catalog, shopper=shopper, product=products[index], type=EventType.CLICK,
                         timestamp=when + dt.timedelta(minutes=2))
            n += 1
    job = training_job_start(catalog=catalog, params=PARAMS)
    assert training_job_run(job_id=job.pk, progress_interval_s=0) == JobStatus.SUCCEEDED
    return ModelVersion.objects.get(job=job, state=VersionState.ACTIVE)


def rank_of(catalog, query, item_id):
    hits = [h["item_id"] for h in search(catalog=catalog, query=query, k=20, settings=DENSE)["hits"]]
    return hits.index(item_id)


def test_search_clicks_fine_tune_the_index_encoder_and_it_is_saved_and_reloaded(catalog):
    version = trained_with_searches(catalog)
    searches = pd.read_parquet(job_folder(version.job) / "searches.parquet")
    assert len(searches) == 60 and list(searches.columns) == ["user_id", "timestamp", "query"]
    folder = search_index.index_folder(version)
    meta = json.loads((folder / "index.json").read_text())
    assert meta["encoder"] == "index" and meta["finetune"]["pairs"] == 60
    assert meta["finetune"]["steps"] == 5 and meta["finetune"]["seconds"] > 0
    assert meta["finetune"]["loss_last"] < meta["finetune"]["loss_first"]
    assert (folder / "encoder" / "encoder.json").exists()
    assert "encoder fine-tuned on 60 search → product pairs" in version.job.log
    assert "search index: 20 products" in version.job.log

    assert rank_of(catalog, "zorbly", "P004") < 3  # learnt from clicks: the title shares no word with it
    search_index.clear_cache()  # a fresh process loads the folder's own encoder
    loaded = search_index.index_for(version)
    shared = search_index.load_encoder(Path(version.artifact_path), "")
    assert loaded.engine.encoder.adaptation and loaded.engine.encoder is not shared
    assert shared.adaptation == {}  # a copy was tuned: the process's shared MiniLM is untouched
    assert rank_of(catalog, "zorbly", "P004") < 3
    assert search(catalog=catalog, query="Cast iron skillet")["hits"][0]["item_id"] == "P002"


def test_below_the_threshold_the_plain_encoder_indexes(catalog, settings):
    settings.SEARCH_FINETUNE_MIN_PAIRS = 61
    version = trained_with_searches(catalog)
    folder = search_index.index_folder(version)
    meta = json.loads((folder / "index.json").read_text())
    assert meta["encoder"] == "" and meta["finetune"] == {"pairs": 60, "min_pairs": 61}
    assert not (folder / "encoder").exists()
    assert "fewer than 61; encoder not fine-tuned" in version.job.log
    assert rank_of(catalog, "zorbly", "P004") >= 3  # the plain model does not know the made-up word
    assert search(catalog=catalog, query="Cast iron skillet")["hits"][0]["item_id"] == "P002"
