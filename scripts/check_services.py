"""Stop early, with a clear message, when PostgreSQL or Redis does not answer."""
from __future__ import annotations

import os
import sys
from urllib.parse import urlparse

import psycopg
import redis

database_url = os.environ["DATABASE_URL"]
broker_url = os.environ["CELERY_BROKER_URL"]
problems = []
try:
    # Connect to the maintenance database: the test database is created by the tests.
    parts = urlparse(database_url)
    with psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password,
        dbname="postgres", connect_timeout=5,
    ):
        pass
except Exception as exc:
    problems.append(f"PostgreSQL at {parts.hostname}:{parts.port or 5432} did not answer ({exc}).\n"
                    "  Start it (e.g. pg_ctlcluster 15 main start) or set DATABASE_URL.")
try:
    redis.Redis.from_url(broker_url, socket_connect_timeout=5).ping()
except Exception as exc:
    problems.append(f"Redis at {broker_url} did not answer ({exc}).\n"
                    "  Start it (e.g. redis-server --daemonize yes) or set CELERY_BROKER_URL.")
if problems:
    print("make test needs real services:\n- " + "\n- ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"services ok: PostgreSQL ({parts.hostname}:{parts.port or 5432}), Redis ({broker_url})")
