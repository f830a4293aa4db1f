"""The online state on a real Redis (this module's own ``redis-server``) and PostgreSQL: a click reaches the
next recommendations within 2 s, trending decays with the half-life, a new product is similar-itemable and
searchable without retraining, and a Redis outage loses nothing."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from dashboard.models import Event, ModelVersion, OnlineState
from dashboard.services import online_state, search_index, serving
from dashboard.services.imports import import_start, import_upload
from dashboard.services.online_state_store import MemoryStore, stores_forget
from dashboard.services.trending import TrendingInputError, half_life_set, trending
from tests.dashboard.api import conftest as api_fixtures
from tests.dashboard.api.conftest import client_for

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")]
REFLECTS_WITHIN_S = 2.0
api_bundle = api_fixtures.api_bundle  # the API tests' trained catalog, shared
served_catalog = api_fixtures.served_catalog


class RedisProcess:
    """A ``redis-server`` of this test module only (its own port, no persistence), stoppable and restartable."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not listen on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="module")
def redis_process(tmp_path_factory) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live(served_catalog, redis_process, settings):
    """The served catalog with its online state on this module's Redis (emptied first)."""
    if redis_process.process is None:
        redis_process.start()
    settings.ONLINE_STATE_URL = redis_process.url
    stores_forget()
    online_state.settings_forget()
    online_state.store().clear(online_state.prefix_of(served_catalog))
    serving.warm(ModelVersion.objects.get(catalog=served_catalog, state="active"))  # as a started web process
    return served_catalog


def post_events(client, catalog, events: list[dict]) -> dict:
    response = client.post(f"/api/v1/catalogs/{catalog.slug}/events", data=json.dumps({"events": events}),
                           content_type="application/json")
    assert response.status_code == 202, response.content
    return response.json()


def recommendations(client, catalog, **params) -> dict:
    response = client.get(f"/api/v1/catalogs/{catalog.slug}/recommendations", {"n": 10, "explain": "true", **params})
    assert response.status_code == 200, response.content
    return response.json()


def within(seconds: float, check: Callable[[], object]) -> tuple[object, float]:
    """Polls ``check`` until it is truthy; returns its value and the seconds it took (fails after ``seconds``)."""
    started = time.monotonic()
    while True:
        value = check()
        took = time.monotonic() - started
        if value:
            return value, took
        assert took < seconds, f"not reflected within {seconds} s"
        time.sleep(0.05)


def test_a_guests_click_reaches_the_next_recommendations_within_two_seconds(live):
    api = client_for([live])
    before = recommendations(api, live, session="T1")
    assert before["fallback"] == "popular"
    post_events(api, live, [{"type": "click", "session_id": "T1", "product_id": "P012"}])

    def reflected():
        body = recommendations(api, live, session="T1")
        return body if body["fallback"] == "session" else None

    body, took = within(REFLECTS_WITHIN_S, reflected)
    assert took < REFLECTS_WITHIN_S
    assert all(it["reason"] == "similar to Product 12 you just viewed" for it in body["items"])
    assert "P012" not in [it["item_id"] for it in body["items"]]
    garden = sum(it["category"] == "Garden > Tools" for it in body["items"][:5])
    assert garden >= 4  # P012's neighbours (its half of the catalog) rose to the top


def test_a_known_shoppers_click_raises_its_live_co_occurrence_neighbours(live):
    api = client_for([live])
    first = [it["item_id"] for it in recommendations(api, live, shopper="U000", n=20)["items"]]
    target = first[-1]  # low on U000's list
    seed = "P019" if target != "P019" else "P018"
    post_events(api, live, [{"type": "view", "session_id": f"S{n}", "product_id": p}
                            for n in range(6) for p in (seed, target)])
    post_events(api, live, [{"type": "click", "shopper_id": "U000", "product_id": seed}])

    def raised():
        items = recommendations(api, live, shopper="U000", n=20)["items"]
        ids = [it["item_id"] for it in items]
        return items if target in ids and ids.index(target) < first.index(target) else None

    items, _took = within(REFLECTS_WITHIN_S, raised)
    card = next(it for it in items if it["item_id"] == target)
    assert "co_occurrence" in {c["signal"] for c in card["explanation"]["contributions"]}


def test_trending_counters_decay_with_the_catalogs_half_life(live):
    api = client_for([live])
    half_life_set(live, 2.0)
    now = timezone.now()
    earlier = (now - dt.timedelta(hours=2)).isoformat()  # one half-life ago
    post_events(api, live, [
        {"type": "view", "shopper_id": "U001", "product_id": "P001"},  # 1 now
        *[{"type": "view", "shopper_id": "U002", "product_id": "P002", "timestamp": earlier}] * 4,  # 4 × ½ = 2 now
        {"type": "purchase", "shopper_id": "U003", "product_id": "P015", "timestamp": earlier},  # 8 × ½ = 4 now
    ])
    found, _took = within(REFLECTS_WITHIN_S, lambda: dict(trending(live, n=10)))
    assert found["P015"] == pytest.approx(4.0, rel=0.01)
    assert found["P002"] == pytest.approx(2.0, rel=0.01)
    assert found["P001"] == pytest.approx(1.0, rel=0.01)
    body = api.get(f"/api/v1/catalogs/{live.slug}/trending", {"category": "Home", "n": 5}).json()
    assert [it["item_id"] for it in body["items"]] == ["P002", "P001"]
    assert body["surface"] == "trending" and body["half_life_hours"] == 2.0
    half_life_set(live, 1.0)  # rebuilt from the stored events with the new half-life: ¼ of 4 views
    assert dict(trending(live, n=10))["P002"] == pytest.approx(1.0, rel=0.01)
    with pytest.raises(TrendingInputError):
        half_life_set(live, "soon")


def test_a_product_created_now_is_similar_and_searchable_without_retraining(live):
    api = client_for([live])
    response = api.put(f"/api/v1/catalogs/{live.slug}/products", data=json.dumps({"products": [
        {"id": "NEW1", "title": "Product 12 deluxe", "category": "Garden > Tools"}]}),
        content_type="application/json")
    assert response.status_code in (200, 201, 202), response.content
    assert search_index.index_add_new_products(catalog=live) == 1  # what the worker's catch-up task runs
    similar = api.get(f"/api/v1/catalogs/{live.slug}/products/P012/similar", {"n": 10}).json()
    assert "NEW1" in [it["item_id"] for it in similar["items"]]
    own = api.get(f"/api/v1/catalogs/{live.slug}/products/NEW1/similar", {"n": 5}).json()
    assert own["fallback"] == "new_product" and "P012" in [it["item_id"] for it in own["items"]]
    hits = api.get(f"/api/v1/catalogs/{live.slug}/search", {"q": "deluxe"}).json()
    assert [it["item_id"] for it in hits["items"]][:1] == ["NEW1"]


def test_with_redis_stopped_events_are_stored_and_the_state_catches_up_when_it_returns(live, redis_process):
    api = client_for([live])
    redis_process.stop()
    body = post_events(api, live, [{"type": "click", "session_id": "T9", "product_id": "P004"}])
    assert body["stored"] == 1 and Event.objects.filter(session_id="T9").count() == 1
    within(5.0, lambda: OnlineState.objects.filter(catalog=live, pending_since__isnull=False).exists())
    assert recommendations(api, live, session="T9")["fallback"] == "popular"  # served without the state
    redis_process.start()  # empty: it comes back without the click
    within(10.0, lambda: online_state.recent_items(live, session="T9") == ["P004"])
    within(5.0, lambda: OnlineState.objects.get(catalog=live).pending_since is None)
    assert recommendations(api, live, session="T9")["fallback"] == "session"


def test_imported_events_reach_the_state_once_the_import_commits(live):
    now = timezone.now().isoformat()
    rows = f"shopper,product,type,timestamp\nN005,P011,view,{now}\nN005,P016,click,{now}\n"
    online_state.catch_up_now(live.pk)  # the mirrored history is in the state
    store, prefix = online_state.store(), online_state.prefix_of(live)
    before = dict(store.top(prefix, "co:P016", 200)).get("P011", 0.0)
    batch = import_upload(catalog=live, kind="events", file=SimpleUploadedFile("e.csv", rows.encode()))
    import_start(batch=batch, mapping={"shopper": "shopper", "product": "product", "type": "type",
                                       "timestamp": "timestamp"}, run_inline=True)
    found, _took = within(REFLECTS_WITHIN_S, lambda: online_state.recent_items(live, shopper="N005"))
    assert found == ["P011", "P016"]
    assert dict(store.top(prefix, "co:P016", 200))["P011"] == before + 1


def test_the_rebuild_command_replays_the_stored_events(live, capsys):
    api = client_for([live])
    post_events(api, live, [{"type": "view", "session_id": "T3", "product_id": p} for p in ("P001", "P002")])
    within(REFLECTS_WITHIN_S, lambda: online_state.recent_items(live, session="T3") == ["P001", "P002"])
    online_state.store().clear(online_state.prefix_of(live))
    call_command("rebuild_online_state", "--catalog", live.slug)
    assert online_state.recent_items(live, session="T3") == ["P001", "P002"]
    assert "rebuilt from" in capsys.readouterr().out
    call_command("rebuild_online_state", "--catalog", live.slug, "--status")
    assert "applied through event" in capsys.readouterr().out


def test_the_embedded_default_keeps_the_state_in_memory(served_catalog, settings):
    settings.ONLINE_STATE_URL = ""
    settings.CELERY_BROKER_URL = "filesystem://"
    stores_forget()
    assert online_state.state_url() == "memory://" and isinstance(online_state.store(), MemoryStore)
    Event.objects.create(catalog=served_catalog, type="view", session_id="M1", timestamp=timezone.now(),
                         product=served_catalog.products.get(external_id="P007"))
    assert online_state.catch_up_now(served_catalog.pk) is not None
    assert online_state.recent_items(served_catalog, session="M1") == ["P007"]
    stores_forget()
