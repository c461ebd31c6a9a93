"""The schema is the contract: requests generated from it (schemathesis, bounded examples)
against the app find no 500 and no response that breaks the schema. The documentation page
is served from the site itself."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import ApiResource
from api.services import api_token_create

pytestmark = pytest.mark.django_db

# Bounded so the whole run stays well under a minute on this machine.
EXAMPLES = 12
UNCHECKED = list(HealthCheck)  # slow data generation and fixtures are expected here


def _app_with_client_address():
    """The app as a server runs it: every request has the client's address (the WSGI test
    client sends none, and the rate limits refuse a caller they cannot place)."""
    app = get_wsgi_application()

    def with_address(environ, start_response):
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        environ["REMOTE_ADDR"] = environ["REMOTE_ADDR"] or "127.0.0.1"
        return app(environ, start_response)

    return with_address


@pytest.fixture
def api_schema(world):
    """As Django's test client does, requests leave the database connection open: closing it
    (request_finished) would end the test's transaction on PostgreSQL."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", _app_with_client_address())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def national_header(world, settings):
    settings.VERIFY_RATE_LIMIT = 10_000  # the public check's own limit is tested elsewhere
    _token, raw = api_token_create(
        user=world.users["national"],
        name="Schemathesis",
        access="read_write",
        resources=list(ApiResource.values),
        expires_in_days=1,
    )
    return {"Authorization": f"Bearer {raw}"}


def test_no_request_from_the_schema_breaks_the_api(api_schema, national_header):
    """Every operation, with generated parameters and bodies, as national staff with a token.
    Errors are part of the contract: every status answered must be documented, with its body.
    (schemathesis' own pytest plugin does not run under this pytest, so Hypothesis drives each
    operation's strategy directly.)"""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 22

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=UNCHECKED, database=None)
        def check(case):
            case.call_and_validate(
                # Unzipped: schemathesis' WSGI transport reads the body as sent, and the
                # contract is about content (compression is tested in tests/config).
                headers={**national_header, "Accept-Encoding": "identity"},
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    response_schema_conformance,
                    content_type_conformance,
                ],
            )

        check()


def test_the_schema_is_valid_openapi_3(client):
    from drf_spectacular.validation import validate_schema

    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate_schema(document)
    assert "/api/v1/certificates/verify/{code}/" in document["paths"]
    assert document["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


def test_the_docs_page_loads_only_this_sites_files(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>" not in html
    assert "<style>" not in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert "/api/v1/schema/" in script.content.decode()
