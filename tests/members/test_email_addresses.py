"""A member's extra email addresses (allauth's /accounts/email/): never another account's."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse

from members.permissions import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EMAIL_PAGE = "account_email"


@pytest.fixture
def members(seeded):
    ada = UserFactory(role=Role.TRAINEE, email="ada@example.org")
    bob = UserFactory(role=Role.TRAINEE, email="bob@example.org")
    EmailAddress.objects.create(user=bob, email="bob.home@example.net", verified=False, primary=False)
    return ada, bob


def _add(client, email: str):
    return client.post(reverse(EMAIL_PAGE), {"action_add": "", "email": email})


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("taken", ["bob@example.org", "BOB@Example.ORG", "Bob.Home@EXAMPLE.net"])
def test_another_accounts_address_is_not_added_and_the_answer_reveals_nothing(client, members, taken):
    """With verification mandatory (production), the member is answered exactly as for a free
    address, the address is not added to their account, and the address's owner is told
    by email (allauth's "account already exists")."""
    ada, bob = members
    client.force_login(ada)
    mail.outbox.clear()
    refused = _add(client, taken)
    refused_messages = _messages(refused)
    assert not EmailAddress.objects.filter(user=ada, email__iexact=taken).exists()
    assert EmailAddress.objects.filter(user=bob, email__iexact=taken).count() == 1
    [sent] = mail.outbox
    assert sent.to == [taken.lower()]
    assert "/accounts/confirm-email/" not in sent.body  # nothing there confirms it for Ada
    # A free address: the same status, redirect and message, with its own address.
    other_tab = Client()
    other_tab.force_login(ada)
    free = _add(other_tab, "ada.work@example.net")
    assert EmailAddress.objects.filter(user=ada, email="ada.work@example.net", verified=False).exists()
    assert (refused.status_code, refused["Location"]) == (free.status_code, free["Location"])
    assert [text.replace(taken.lower(), "X") for text in refused_messages] == [
        text.replace("ada.work@example.net", "X") for text in _messages(free)
    ]


def test_where_enumeration_cannot_be_hidden_the_form_says_the_address_is_taken(client, members, settings):
    """With verification optional (demo mode), allauth's own rule puts uniqueness first: a
    plain error, and nothing added."""
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    ada, _bob = members
    client.force_login(ada)
    mail.outbox.clear()
    response = _add(client, "Bob.Home@example.net")
    assert response.status_code == 200
    assert "already registered with this email address" in response.content.decode()
    assert not EmailAddress.objects.filter(user=ada, email__iexact="bob.home@example.net").exists()
    assert mail.outbox == []


def test_a_free_address_is_still_added_and_confirmed_by_link(client, members):
    ada, _bob = members
    client.force_login(ada)
    mail.outbox.clear()
    response = _add(client, "Ada.Second@example.net")
    assert response.status_code == 302
    assert EmailAddress.objects.filter(user=ada, email="ada.second@example.net", verified=False).exists()
    [sent] = mail.outbox
    assert sent.to == ["ada.second@example.net"]
    assert "/accounts/confirm-email/" in sent.body
