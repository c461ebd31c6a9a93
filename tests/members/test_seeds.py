"""`load_seeds` loads reference and demo data, and a second run changes nothing."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from members.models import ConsentRecord, ConsentText, Constituency, Profile, Region, User
from members.permissions import ROLE_GROUP_NAMES, ROLE_HOME, Role

pytestmark = pytest.mark.django_db

DEMO_LOGINS = {
    "trainee@demo.futureleaders.example": ROLE_HOME[Role.TRAINEE][1],
    "trainer@demo.futureleaders.example": ROLE_HOME[Role.TRAINER][1],
    "staff@demo.futureleaders.example": ROLE_HOME[Role.NATIONAL_STAFF][1],
}


def _snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Region, Constituency, ConsentText, User, Profile, ConsentRecord, Group)
    } | {"profiles_updated": sorted(Profile.objects.values_list("updated_at", flat=True))}


def test_seeds_load_once_and_a_second_run_changes_nothing(settings):
    """Running the seeds twice leaves every table exactly as the first run did."""
    settings.DEMO_MODE = True
    call_command("load_seeds", "--demo", verbosity=0)
    first = _snapshot()
    call_command("load_seeds", "--demo", verbosity=0)
    assert _snapshot() == first
    assert Region.objects.count() == 12
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_GROUP_NAMES.values())
    assert Constituency.objects.values("region").distinct().count() >= 2


@pytest.mark.parametrize(("email", "home"), list(DEMO_LOGINS.items()))
def test_each_demo_login_works(client, settings, email, home):
    """Each demo login signs in with the README's password and lands on its home page."""
    settings.DEMO_MODE = True
    call_command("load_seeds", "--demo", verbosity=0)
    response = client.post(reverse("account_login"), {"login": email, "password": "future-leaders-demo"})
    assert response.status_code == 302
    assert response.url == reverse(home)
    assert client.get(response.url).status_code == 200


def test_demo_logins_are_refused_outside_demo_mode(settings):
    """Demo logins with a published password are never created on a real deployment."""
    from django.core.management.base import CommandError

    settings.DEMO_MODE = False
    settings.DEBUG = False
    with pytest.raises(CommandError, match="demo mode only"):
        call_command("load_seeds", "--demo", verbosity=0)
    assert not User.objects.exists()
