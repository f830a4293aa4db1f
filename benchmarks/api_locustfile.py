"""Locust users of ``benchmarks/api_load.py`` (started by it, one user class per phase; not meant to be run alone).

The environment names a JSON work file, ``API_LOAD_WORK`` (``slug``, ``key``, ``shoppers``, ``products``,
``queries``, ``batch``, ``prefix``), and the JSON file this process writes when it stops, ``API_LOAD_OUT``:
every request's client-side latency in ms by name (successes only) and failures, the phase's start and stop
times, the ``X-Request-Id`` of every served list, and for events: ids are ``<prefix>-<n>`` for n = 0 … allocated-1;
``unique_events`` counts those in POSTs that got an HTTP answer (a batch without one, a connection error,
may or may not be stored), then batches re-sent and the sums of the responses' ``stored`` and ``duplicates``.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, events, task

WORK = json.loads(Path(os.environ["API_LOAD_WORK"]).read_text())
BASE = f"/api/v1/catalogs/{WORK['slug']}/"
HEADERS = {"Authorization": f"Bearer {WORK['key']}"}
EVENT_TYPES = ("view", "view", "view", "click", "add_to_cart", "purchase")
RESEND_EVERY = 5

latencies: dict[str, list[float]] = {}
failures: dict[str, list[str]] = {}
served: list[str] = []
sent_batches: list[list[dict[str, Any]]] = []
counter = itertools.count()
stats = {"started": 0.0, "stopped": 0.0, "allocated_events": 0, "unique_events": 0, "resent_batches": 0, "resent_events": 0,
         "reported_stored": 0, "reported_duplicates": 0}


@events.test_start.add_listener
def _start(**_: Any) -> None:
    stats["started"] = time.time()


@events.request.add_listener
def _request(name: str, response_time: float, exception: Any = None, response: Any = None, **_: Any) -> None:
    if exception is None:
        latencies.setdefault(name, []).append(response_time)
    else:
        status = getattr(response, "status_code", None)
        failures.setdefault(name, []).append(f"{status} {str(exception)[:200]}")


@events.test_stop.add_listener
def _stop(**_: Any) -> None:
    stats["stopped"] = time.time()
    Path(os.environ["API_LOAD_OUT"]).write_text(json.dumps(
        {**stats, "latencies": latencies, "failures": failures, "served": served}))


class ApiUser(FastHttpUser):
    abstract = True
    network_timeout = 30.0
    connection_timeout = 30.0

    def served_list(self, path: str, name: str) -> None:
        with self.client.get(BASE + path, headers=HEADERS, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return
            request_id = response.headers.get("X-Request-Id") or response.json().get("request_id")
            if not request_id:
                response.failure("no request id")
                return
            served.append(request_id)

    def recommendations(self) -> None:
        rng = random.random()
        if rng < 0.8:
            self.served_list(f"recommendations?shopper={random.choice(WORK['shoppers'])}&n=10", "recommendations")
        else:
            recent = ",".join(random.sample(WORK["products"], random.randint(1, 3)))
            self.served_list(f"recommendations?recent={recent}&n=10", "recommendations")

    def search(self) -> None:
        self.served_list(f"search?q={random.choice(WORK['queries'])}&n=10", "search")

    def floor(self) -> None:
        self.client.get(BASE + "token", headers=HEADERS, name="floor")

    def events(self) -> None:
        resend = bool(sent_batches) and next(counter) % RESEND_EVERY == RESEND_EVERY - 1
        batch = random.choice(sent_batches) if resend else new_batch()
        with self.client.post(BASE + "events", json={"events": batch}, headers=HEADERS, name="events",
                              catch_response=True) as response:
            if response.status_code == 0:  # no answer: the batch may or may not be stored
                return
            if resend:
                stats["resent_batches"] += 1
                stats["resent_events"] += len(batch)
            else:
                sent_batches.append(batch)
                stats["unique_events"] += len(batch)
            if response.status_code not in (200, 201, 202):
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return
            body = response.json()
            stats["reported_stored"] += int(body.get("stored", 0))
            stats["reported_duplicates"] += int(body.get("duplicates", 0))


def new_batch() -> list[dict[str, Any]]:
    start = stats["allocated_events"]
    stats["allocated_events"] += WORK["batch"]
    now = dt.datetime.now(dt.UTC).isoformat()
    return [{"event_id": f"{WORK['prefix']}-{start + i}", "type": random.choice(EVENT_TYPES),
             "shopper_id": random.choice(WORK["shoppers"]), "product_id": random.choice(WORK["products"]),
             "timestamp": now} for i in range(WORK["batch"])]


class FloorUser(ApiUser):
    @task
    def token(self) -> None:
        self.floor()


class RecommendationsUser(ApiUser):
    @task
    def recommend(self) -> None:
        self.recommendations()


class SearchUser(ApiUser):
    @task
    def query(self) -> None:
        self.search()


class EventsUser(ApiUser):
    @task
    def send(self) -> None:
        self.events()
