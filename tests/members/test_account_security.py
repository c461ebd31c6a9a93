"""allauth's protections as configured here: rate limits, password reset without enumeration."""

import pytest
from django.core import mail
from django.urls import reverse

from members.models import Constituency
from members.permissions import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_repeated_failed_logins_lock_the_account_for_a_while(client, seeded):
    """After five wrong passwords, even the right one is refused for now."""
    user = UserFactory()
    for _attempt in range(5):
        response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong-guess-1"})
        assert response.status_code == 200
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


def test_password_reset_reads_the_same_for_known_and_unknown_addresses(client, seeded):
    """A reset request answers alike whether or not the address has an account."""
    user = UserFactory()
    known = client.post(reverse("account_reset_password"), {"email": user.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == reverse("account_reset_password_done")
    reset_mail = next(m for m in mail.outbox if m.to == [user.email])
    assert "/accounts/password/reset/key/" in reset_mail.body


def test_password_reset_sets_a_new_password(client, seeded):
    """Following the emailed link lets the member choose a new password and sign in with it."""
    user = UserFactory()
    client.post(reverse("account_reset_password"), {"email": user.email})
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/password/reset/key/" in line)
    path = link[link.index("/accounts/") :].strip()
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    new_password = "a-brand-new-passphrase"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_staff_flag_a_target_seat_in_the_admin(client, seeded):
    """National staff flag constituencies as target seats with the admin action."""
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF, is_staff=True))
    seats = list(Constituency.objects.order_by("pk")[:2])
    response = client.post(
        reverse("admin:members_constituency_changelist"),
        {"action": "flag_as_target_seat", "_selected_action": [seat.pk for seat in seats]},
    )
    assert response.status_code == 302
    assert Constituency.objects.filter(is_target_seat=True).count() == 2


def test_trainers_cannot_flag_target_seats(client, seeded):
    """Only national staff may change constituencies; a trainer is refused."""
    client.force_login(UserFactory(role=Role.TRAINER))
    seat = Constituency.objects.first()
    response = client.post(
        reverse("admin:members_constituency_changelist"),
        {"action": "flag_as_target_seat", "_selected_action": [seat.pk]},
        follow=True,
    )
    assert response.status_code == 403
    assert not Constituency.objects.filter(is_target_seat=True).exists()
