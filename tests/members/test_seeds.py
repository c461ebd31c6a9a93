"""`load_seeds` loads reference and demo data, and a second run changes nothing."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from members.models import ConsentRecord, ConsentText, Constituency, Profile, Region, User
from members.permissions import ROLE_GROUP_NAMES, ROLE_HOME, Role
from members.seeding import DEMO_TOTP_SECRET
from tests.factories import totp_code
from training.models import Assignment, Outcome, RubricCriterion, RubricLevel, VersionStatus
from training.uploads import FILE_TYPE_KEYS

pytestmark = pytest.mark.django_db

DEMO_LOGINS = {
    "trainee@demo.futureleaders.example": ROLE_HOME[Role.TRAINEE][1],
    "trainer@demo.futureleaders.example": ROLE_HOME[Role.TRAINER][1],
    "staff@demo.futureleaders.example": ROLE_HOME[Role.NATIONAL_STAFF][1],
    "regional@demo.futureleaders.example": ROLE_HOME[Role.REGIONAL_STAFF][1],
}


def _snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (
            Region,
            Constituency,
            ConsentText,
            User,
            Profile,
            ConsentRecord,
            Group,
            Assignment,
            RubricCriterion,
            RubricLevel,
        )
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


def test_every_seeded_assignment_has_a_rubric_that_can_be_passed(seeded):
    """Each assignment of the seeded programme has 3-4 criteria of 3 levels, lowest first,
    with distinct titles and a passing level, plus its file types and attempts."""
    assignments = Assignment.objects.filter(module__version__status=VersionStatus.PUBLISHED).prefetch_related(
        "criteria__levels"
    )
    assert assignments.count() == 8
    for assignment in assignments:
        criteria = list(assignment.criteria.order_by("position"))
        assert 3 <= len(criteria) <= 4, assignment.title
        assert [criterion.position for criterion in criteria] == list(range(1, len(criteria) + 1))
        for criterion in criteria:
            levels = sorted(criterion.levels.all(), key=lambda level: level.position)
            assert [level.position for level in levels] == [0, 1, 2], criterion.title
            assert len({level.title for level in levels}) == 3, criterion.title
            assert all(level.description for level in levels), criterion.title
            assert Outcome.PASS in {level.outcome for level in levels}, criterion.title
            assert levels[-1].outcome == Outcome.PASS, criterion.title
        keys = [key for key in assignment.accepted_file_types.split(",") if key]
        assert set(keys) <= FILE_TYPE_KEYS, assignment.title
        assert 1 <= assignment.max_attempts <= 10, assignment.title


@pytest.mark.parametrize(("email", "home"), list(DEMO_LOGINS.items()))
def test_each_demo_login_works(client, settings, email, home):
    """Each demo login signs in with the README's password (trainers and staff then with the
    README's authenticator secret) and lands on its home page."""
    settings.DEMO_MODE = True
    call_command("load_seeds", "--demo", verbosity=0)
    response = client.post(reverse("account_login"), {"login": email, "password": "future-leaders-demo"})
    assert response.status_code == 302
    if home != ROLE_HOME[Role.TRAINEE][1]:
        assert response.url == reverse("mfa_authenticate")
        response = client.post(response.url, {"code": totp_code(DEMO_TOTP_SECRET)})
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
