"""Each role lands on its own home page and is refused, with an explanation, elsewhere."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.permissions import ROLE_HOME, Role
from tests.factories import MFA_ROLES, UserFactory, totp_code

pytestmark = pytest.mark.django_db

# Each role's home page, as the apps have set it (training gives trainees and trainers theirs).
HOMES = {role: url_name for role, (_perm, url_name) in ROLE_HOME.items()}


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_lands_on_its_home_after_login(client, seeded, role):
    """After signing in (trainers and staff with their second factor too), each role is taken
    to its own home page."""
    user = UserFactory(role=role)
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    if role in MFA_ROLES:
        assert response.url == reverse("mfa_authenticate")
        response = client.post(response.url, {"code": totp_code()})
        assert response.status_code == 302
    assert response.url == reverse(HOMES[role])
    assert client.get(response.url).status_code == 200


@pytest.mark.parametrize(
    ("role", "forbidden"),
    [
        (Role.TRAINEE, "members:staff-home"),
        (Role.TRAINEE, "training:manage-cohort-list"),
        (Role.TRAINER, "members:staff-home"),
        (Role.TRAINER, "training:programme-list"),
    ],
)
def test_a_page_of_another_role_explains_the_refusal(client, seeded, role, forbidden):
    """A role opening another role's page gets a 403 page that explains, in the site layout."""
    client.force_login(UserFactory(role=role))
    response = client.get(reverse(forbidden))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You can't use this page" in html
    assert 'id="main"' in html


@pytest.mark.parametrize(
    "name", [*HOMES.values(), "members:trainee-home", "members:profile-edit", "members:consent"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    """Pages for members send an anonymous visitor to sign in, then back."""
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login") + "?next=")


@pytest.mark.parametrize("old_home", ["members:trainee-home", "members:trainer-home"])
@pytest.mark.parametrize("role", list(HOMES))
def test_the_old_placeholder_homes_lead_to_the_members_own_home(client, seeded, old_home, role):
    """/home/ and /trainer/ were placeholder pages ("Soon: ..."): a bookmark of either now
    takes any member to their own home, and no page of the site is a placeholder."""
    client.force_login(UserFactory(role=role))
    response = client.get(reverse(old_home), follow=True)
    assert response.redirect_chain[-1][0] == reverse(HOMES[role])
    assert response.status_code == 200
    assert "Soon:" not in response.content.decode()


def test_front_page_is_public(client, db):
    """The front page is open to anyone and invites them to sign up."""
    response = client.get("/")
    assert response.status_code == 200
    assert reverse("account_signup") in response.content.decode()


def test_unknown_url_gets_a_404_page_in_the_layout(client, db):
    """An unknown address gets a 404 with the site's layout, not Django's debug page."""
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert 'class="skip-link"' in html


def test_admin_works_for_national_staff(client, seeded):
    """Staff with is_staff reach Django's admin and can flag target seats."""
    staff = UserFactory(role=Role.NATIONAL_STAFF, is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("admin:members_constituency_changelist"))
    assert response.status_code == 200


def test_admin_login_goes_through_allauth(client, db):
    """The admin has no login form of its own: anonymous visitors go to allauth's sign-in."""
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    follow = client.get(response.url)
    assert follow.status_code == 302
    assert follow.url.startswith(reverse("account_login"))


def test_trainee_cannot_reach_the_admin(client, seeded):
    """A trainee opening the admin is refused."""
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(reverse("admin:index"), follow=True).status_code == 403


@pytest.mark.parametrize("name", list(HOMES.values()))
def test_home_pages_run_a_fixed_number_of_queries(client, seeded, name):
    """The cost of a home page does not grow with the number of members."""
    role = next(role for role, url in HOMES.items() if url == name)
    user = UserFactory(role=role)
    client.force_login(user)
    client.get(reverse(name))  # warm caches that are per-process, not per-request

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        return len(queries)

    small = count_queries()
    UserFactory.create_batch(30, role=role)
    # New members change the dashboard's figures, so its cache is rebuilt once first; its cold
    # and warm counts are both pinned in tests/performance/test_key_pages.py.
    client.get(reverse(name))
    assert count_queries() == small
    # Regional staff land on their dashboard, whose budget is tests/certification/test_dashboard.py's.
    assert small <= (30 if name == "reporting:dashboard" else 8)


def test_migrating_makes_every_role_group(db):
    """The groups come from post_migrate after the last app with models (a model-less app
    listed last, such as dbbackup, gets no post_migrate and must not be waited for)."""
    from django.contrib.auth.models import Group

    from members.permissions import ROLE_GROUP_NAMES

    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_GROUP_NAMES.values())
