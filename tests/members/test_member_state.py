"""What a signed-in member's session keeps between requests (members/member_state.py) changes
on the very next request after its source does: a role given or taken (the menu and the
pages it opens), a new consent text, a consent withdrawn, the profile or an authenticator
deleted; with Redis down too. Decision 0028."""

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from members.member_state import SESSION_KEY
from members.models import ConsentRecord, Profile
from members.permissions import Role
from members.selectors import consent_text_current
from members.services import consent_text_publish, user_assign_role, user_remove_role
from tests.factories import RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

MARKING = reverse("training:marking-queue")
MARKING_LINK = f'href="{MARKING}"'
PROFILE = reverse("members:profile-edit")
CONSENT = reverse("members:consent")

# A Redis no one listens on: every cache call is a miss (config.cache.FailSafeRedisCache).
REDIS_DOWN = {
    "default": {
        "BACKEND": "config.cache.FailSafeRedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1, "DOWN_SECONDS": 0},
    }
}


def _settled(user) -> Client:
    """Signed in, one page seen: the session keeps the member's state."""
    client = Client()
    client.force_login(user)
    assert client.get(PROFILE).status_code == 200
    assert SESSION_KEY in client.session
    return client


def test_a_role_given_shows_in_the_menu_and_opens_its_pages_on_the_next_request(seeded):
    member = UserFactory(role=Role.TRAINEE, mfa=True)
    client = _settled(member)
    assert MARKING_LINK not in client.get(PROFILE).content.decode()
    assert client.get(MARKING).status_code == 403

    user_assign_role(user=member, role=Role.TRAINER)

    assert MARKING_LINK in client.get(PROFILE).content.decode()
    assert client.get(MARKING).status_code == 200


def test_a_role_taken_leaves_the_menu_and_is_refused_on_the_next_request(seeded):
    member = UserFactory(role=Role.TRAINER)
    client = _settled(member)
    assert client.get(MARKING).status_code == 200

    user_remove_role(user=member, role=Role.TRAINER)

    assert MARKING_LINK not in client.get(PROFILE).content.decode()
    assert client.get(MARKING).status_code == 403


@pytest.mark.parametrize("committed", [False, True], ids=["in the transaction", "committed"])
def test_a_new_consent_text_sends_the_member_to_agree_on_the_next_request(
    seeded, django_capture_on_commit_callbacks, committed
):
    client = _settled(UserFactory(role=Role.TRAINEE))

    with django_capture_on_commit_callbacks(execute=committed):  # the cache's copy is set on commit
        consent_text_publish(version="2099-01", body="New words.")

    assert client.get(reverse("training:my-training")).url == CONSENT


def test_a_consent_withdrawn_sends_the_member_to_agree_on_the_next_request(seeded):
    member = UserFactory(role=Role.TRAINEE)
    client = _settled(member)

    record = ConsentRecord.objects.get(user=member)
    record.withdrawn_at = timezone.now()
    record.save(update_fields=["withdrawn_at"])

    assert client.get(reverse("training:my-training")).url == CONSENT


def test_a_profile_deleted_sends_the_member_to_make_one_on_the_next_request(seeded):
    member = UserFactory(role=Role.TRAINEE)
    client = _settled(member)

    Profile.objects.filter(user=member).delete()

    assert client.get(reverse("training:my-training")).url == PROFILE


def test_an_authenticator_deleted_by_an_operator_puts_the_trainer_before_the_gate(seeded):
    trainer = UserFactory(role=Role.TRAINER)
    client = _settled(trainer)
    assert client.get(MARKING).status_code == 200

    Authenticator.objects.filter(user=trainer).delete()  # the admin, a shell

    assert client.get(MARKING).url == reverse("mfa_index")


def test_onboarding_finished_is_kept_from_then_on(seeded):
    """An onboarding not complete is read on each request, so finishing it needs no stamp."""
    member = UserFactory(role=Role.TRAINEE, onboarding=False)
    client = Client()
    client.force_login(member)
    assert client.get(reverse("training:my-training")).url == CONSENT
    assert client.session[SESSION_KEY]["onboarded"] is False

    ConsentRecord.objects.create(user=member, text=consent_text_current(), given_at=timezone.now())
    Profile.objects.create(user=member, region=RegionFactory())

    assert client.get(reverse("training:my-training")).status_code == 200
    assert client.session[SESSION_KEY]["onboarded"] is True


@override_settings(CACHES=REDIS_DOWN)
def test_with_redis_down_a_new_consent_text_still_takes_effect(seeded):
    """Decision 0021: nothing in Redis is needed to answer; the stamp is read from the database."""
    client = _settled(UserFactory(role=Role.TRAINEE))
    assert client.get(reverse("training:my-training")).status_code == 200

    consent_text_publish(version="2099-02", body="Newer words.")

    assert client.get(reverse("training:my-training")).url == CONSENT


def test_a_superuser_made_an_ordinary_member_loses_every_permission_on_the_next_request(seeded):
    """is_superuser lives on the user row, not in a role: clearing it (the admin, a shell, an
    update that moves no access_version) must not leave the session keeping all permissions."""
    operator = UserFactory(role=Role.TRAINEE, is_superuser=True, mfa=True)
    client = _settled(operator)
    assert client.get(MARKING).status_code == 200

    type(operator).objects.filter(pk=operator.pk).update(is_superuser=False)

    assert client.get(MARKING).status_code == 403
    assert MARKING_LINK not in client.get(PROFILE).content.decode()
