"""Sign-up, email confirmation, consent and profile, through HTTP, as a new member meets them."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from members.models import ConsentRecord, Constituency, Profile, Region, User
from members.permissions import ROLE_HOME, Role
from members.selectors import consent_text_current
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_EMAIL = "new.member@example.org"


def _sign_up(client, email=NEW_EMAIL, password=PASSWORD):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": password, "password2": password}
    )


def _confirmation_url(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)


def _region_with_seats():
    region = Region.objects.filter(constituencies__isnull=False).distinct().first()
    return region, region.constituencies.first()


def test_new_member_signs_up_confirms_consents_and_lands_home(client, seeded):
    """A new member goes sign-up, email, consent, profile, then the trainee home page."""
    response = _sign_up(client)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [NEW_EMAIL]

    response = client.post(_confirmation_url(message))
    assert response.status_code == 302

    response = client.get(reverse("members:home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("members:consent")
    assert consent_text_current().body[:40] in response.content.decode()

    response = client.post(reverse("members:consent"), {"agree": "on"})
    assert response.status_code == 302
    record = ConsentRecord.objects.get(user__email=NEW_EMAIL)
    assert record.text == consent_text_current()

    response = client.get(reverse("members:home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("members:profile-edit")

    region, seat = _region_with_seats()
    response = client.post(
        reverse("members:profile-edit"),
        {
            "first_name": "Rosa",
            "last_name": "Parks",
            "region": region.pk,
            "constituency": seat.pk,
            "phone": "020 7946 0123",
        },
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user__email=NEW_EMAIL)
    assert (profile.region, profile.constituency, str(profile.phone)) == (region, seat, "+442079460123")

    response = client.get(reverse("members:home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse(ROLE_HOME[Role.TRAINEE][1])
    assert "Welcome, Rosa" in response.content.decode()


def test_unconfirmed_member_cannot_sign_in(client, seeded):
    """Outside demo mode, an unconfirmed address cannot sign in; it is told to confirm."""
    _sign_up(client)
    client.logout()
    response = client.post(reverse("account_login"), {"login": NEW_EMAIL, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("members:trainee-home")).status_code == 302


def test_weak_password_is_refused_with_a_message(client, seeded):
    """A short, common password gives the form back with the reason beside the field."""
    response = _sign_up(client, password="password")
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert not User.objects.filter(email=NEW_EMAIL).exists()


def test_taken_email_does_not_reveal_the_account(client, seeded):
    """Signing up with a taken address looks like any sign-up; the owner is emailed instead."""
    owner = UserFactory(email="taken@example.org")
    response = _sign_up(client, email="taken@example.org")
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "already" in mail.outbox[0].body.lower()


def test_missing_consent_gives_the_form_back(client, seeded):
    """Not ticking the consent box records nothing and says why."""
    user = UserFactory(onboarding=False)
    client.force_login(user)
    response = client.post(reverse("members:consent"), {})
    assert response.status_code == 400
    assert "You need to agree before you can use Future Leaders." in response.content.decode()
    assert not ConsentRecord.objects.filter(user=user).exists()


def test_no_page_past_sign_up_without_consent(client, seeded):
    """A signed-in member without consent is sent to the consent page from any page."""
    client.force_login(UserFactory(onboarding=False))
    for name in ("members:home", "members:trainee-home", "members:profile-edit"):
        response = client.get(reverse(name), follow=True)
        assert response.redirect_chain[-1][0] == reverse("members:consent"), name


@pytest.fixture
def consented_member(client, seeded):
    user = UserFactory(onboarding=False)
    ConsentRecord.objects.create(user=user, text=consent_text_current(), given_at="2026-11-01T10:00Z")
    client.force_login(user)
    return user


def _profile_post(client, **overrides):
    region, seat = _region_with_seats()
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "region": region.pk,
        "constituency": seat.pk,
        "phone": "",
    }
    data.update(overrides)
    return client.post(reverse("members:profile-edit"), data)


def test_unknown_constituency_is_refused(client, consented_member):
    """A constituency id that does not exist gives a clear message next to the field."""
    response = _profile_post(client, constituency=999999)
    assert response.status_code == 400
    assert "Choose a constituency from the list." in response.content.decode()
    assert not Profile.objects.filter(user=consented_member).exists()


def test_constituency_outside_the_region_is_refused(client, consented_member):
    """A constituency in another region is refused, naming where it is."""
    seat = Constituency.objects.select_related("region").first()
    other_region = Region.objects.exclude(pk=seat.region_id).first()
    response = _profile_post(client, region=other_region.pk, constituency=seat.pk)
    assert response.status_code == 400
    assert f"{seat.name} is in {seat.region.name}" in response.content.decode()


def test_malformed_phone_is_refused(client, consented_member):
    """A phone number that cannot be a real number is refused with an example."""
    response = _profile_post(client, phone="12ab")
    assert response.status_code == 400
    assert "Enter a valid phone number" in response.content.decode()


def test_profile_form_marks_the_field_in_error(client, consented_member):
    """The message sits beside its field, which is marked invalid for assistive technology."""
    response = _profile_post(client, phone="12ab")
    html = response.content.decode()
    assert 'aria-invalid="true"' in html or "is-invalid" in html
