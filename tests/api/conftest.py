"""The API's tests ask about the access matrix's world: every role, and cohort A's objects
(region A) against the "_other" people of cohort B (region B)."""

import pytest
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from api.models import ApiResource, TokenAccess
from api.services import api_token_create
from tests.security.scenario import scenario_build

ALL_RESOURCES = list(ApiResource.values)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module, inside a transaction rolled back at the end."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        built = scenario_build()
        yield built
        transaction.set_rollback(True)


def token_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def make_token():
    """A token for a user (national staff by default in the world) and a client using it."""

    def make(user, *, access=TokenAccess.READ_WRITE, resources=None, days=30):
        token, raw = api_token_create(
            user=user, name="Test", access=access, resources=resources or ALL_RESOURCES, expires_in_days=days
        )
        return token, raw, token_client(raw)

    return make


@pytest.fixture
def session_client():
    """A client signed in (by session) as a user."""

    def make(user, *, enforce_csrf: bool = False) -> APIClient:
        client = APIClient(enforce_csrf_checks=enforce_csrf)
        client.force_login(user)
        return client

    return make
