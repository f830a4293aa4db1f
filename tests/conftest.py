"""Shared fixtures: users per role, and a real Celery worker process for job tests."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import CatalogFactory, make_user

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def catalog(db):
    return CatalogFactory(name="UK gifts", slug="uk-gifts")


@pytest.fixture
def admin_user(db):
    return make_user("alice", "admin")


@pytest.fixture
def merchandiser(db):
    return make_user("mia", "merchandiser")


@pytest.fixture
def analyst(db):
    return make_user("andy", "analyst")


@pytest.fixture
def merch_client(client, merchandiser):
    client.force_login(merchandiser)
    return client


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker) -> Iterator[subprocess.Popen]:
    """A real ``celery worker`` process on the test database and the Redis broker.

    Tests that use it must use ``transactional_db`` so the worker sees their rows.
    """
    from django.conf import settings

    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        pytest.skip("the worker tests need CELERY_BROKER_URL=redis://… (make test sets it)")
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    import redis

    redis.Redis.from_url(broker).flushdb()
    log = open(Path(settings.VAR_DIR) / "celery-worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "recsite", "worker", "-Q", "cpu,gpu", "--pool=solo",
         "--loglevel=info", "--without-gossip", "--without-mingle", "-n", f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    from recsite.celery import app

    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited early; see {log.name}")
        if app.control.inspect(timeout=1).ping():
            break
    else:
        proc.kill()
        raise RuntimeError(f"celery worker did not answer within 60 s; see {log.name}")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 takes ~1.5 s per user on this machine; tests need no strong hashes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request in zh-hans leaves its language active in the thread; start and end each test in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _impressions_written_at_once(settings):
    """Served lists are logged by a background thread in production; its connection cannot see a test's
    transaction, so tests write them in the request."""
    settings.API_IMPRESSION_FLUSH_S = 0


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from dashboard.services import online_state

    online_state.resume()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Before a test's database is flushed, stop this process's online-state applier between passes: its
    writes would deadlock with the flush's TRUNCATE."""
    from dashboard.services import online_state

    online_state.pause()
