"""The scenario every security test asks about, built once per test module."""

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.db import transaction
from django.test import override_settings

from tests.security.scenario import scenario_build


@pytest.fixture(scope="module")
def scenario(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module (inside a transaction rolled back at the end)."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        built = scenario_build()
        trainee = built.users["trainee"]
        address = trainee.emailaddress_set.get()
        built.objects.update(
            media_root=media,
            email_confirmation_key=EmailConfirmationHMAC(address).key,
            reset_uidb36=user_pk_to_url_str(trainee),
            reset_key=default_token_generator.make_token(trainee),
        )
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def world(scenario, settings):
    settings.MEDIA_ROOT = scenario.media_root
    return scenario
