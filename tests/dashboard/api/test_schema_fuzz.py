"""Schemathesis against the live OpenAPI schema: no server errors, and every response conforms to the schema."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dashboard.models import ModelVersion, VersionState
from dashboard.services import serving
from dashboard.services.api_tokens import api_token_create
from tests.dashboard.api.conftest import ALL_SCOPES

pytestmark = pytest.mark.django_db
EXAMPLES = 15  # per operation
# What the schema promises: no server error; documented status codes, content types, headers and bodies;
# schema-invalid input refused. (Schema-valid input may still be refused for what a schema cannot say, e.g.
# an event for a product the catalog does not have, so "positive data acceptance" is not among them.)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]


@pytest.fixture
def api_schema():
    """The live schema, called in-process like Django's test client: the request signals must not close the
    test's database connection (its transaction holds the served catalog)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_target(served_catalog):
    serving.warm(ModelVersion.objects.get(catalog=served_catalog, state=VersionState.ACTIVE))
    _token, key = api_token_create(name="fuzz", kind="secret", scopes=ALL_SCOPES, catalogs=[served_catalog],
                                   throttle_per_minute=1_000_000)
    return served_catalog, key


def test_the_api_conforms_to_its_schema(api_schema, fuzz_target):
    """Every operation, fuzzed from its schema (schemathesis's default checks: no 5xx, documented status
    codes, content types and response bodies). Driven by hand rather than by schemathesis's pytest plugin,
    which does not run under pytest 9."""
    catalog, key = fuzz_target
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)
        def conforms(case):
            if "slug" in (case.path_parameters or {}):
                case.path_parameters["slug"] = catalog.slug
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

        conforms()
