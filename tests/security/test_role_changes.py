"""The access matrix's rows for a role that changes in the middle of a session (issue 17).

test_access_matrix.py asks every URL as each role, each role fixed for the whole session.
Here each row is a member who stays signed in while their role changes, by one of the paths
that give or take roles: national staff in the app (accrediting a trainer on the registry,
the role services), an operator in the admin (groups, the superuser flag), and the platform
itself (a certificate of the trainers' programme accredits its holder). The same session
asks the row's URLs before the change and after it: a role that needs a second factor sends
the member to set one up on their very next request (`mfa`), and a role taken away stops
opening its pages on the next request. Answers are as in the matrix, plus `mfa` (a 302 to
the two-factor set-up page). Decision 0020.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification.services.certificates import certificate_issue_manually
from members.models import User
from members.permissions import ROLE_GROUP_NAMES, Role
from members.services import user_assign_role, user_remove_role
from tests.factories import CohortFactory, EnrolmentFactory, ProgrammeFactory, UserFactory, VersionFactory
from tests.security.scenario import Scenario
from tests.security.test_access_matrix import TABLE
from training.models import CohortStatus, EnrolmentStatus, Programme

MARKING = ("training:marking-queue", "training:cohort-gradebook", "training:cohort-gradebook-csv")


def _answer(response) -> str:
    if response.status_code == 302 and response["Location"] == reverse("mfa_index"):
        return "mfa"
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return "login"
    return str(response.status_code)


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _admin_groups_set(s: Scenario, who: str, *, roles: list[Role], superuser: bool = False) -> None:
    """An operator saves the member's admin form with exactly these roles."""
    member = s.users[who]
    operator = UserFactory(is_superuser=True, is_staff=True)
    data = {
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "is_active": "on",
        "groups": [Group.objects.get(name=ROLE_GROUP_NAMES[role]).pk for role in roles],
        "staff_region": "",
    }
    if superuser:
        data["is_superuser"] = "on"
    response = _signed_in(operator).post(reverse("admin:members_user_change", args=[member.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors


def _accredit_on_the_registry(s: Scenario, who: str) -> None:
    response = _signed_in(s.users["national"]).post(
        reverse("certification:registry-accredit", args=[s.entry.pk])
    )
    assert response.status_code == 302
    assert s.users[who].groups.filter(name=ROLE_GROUP_NAMES[Role.TRAINER]).exists()


def _certify_in_the_trainers_programme(s: Scenario, who: str) -> None:
    """A certificate of the trainers' programme: the platform accredits its holder by itself
    (certification.services.certificates: the same step for automatic and manual issue)."""
    programme = Programme.objects.filter(slug=settings.TRAINER_PROGRAMME_SLUG).first() or ProgrammeFactory(
        slug=settings.TRAINER_PROGRAMME_SLUG
    )
    cohort = CohortFactory(
        version=VersionFactory(programme=programme),
        region=s.region,
        status=CohortStatus.FINISHED,
        starts_on=timezone.localdate() - dt.timedelta(days=120),
        ends_on=timezone.localdate() - dt.timedelta(days=30),
    )
    enrolment = EnrolmentFactory(cohort=cohort, member=s.users[who], status=EnrolmentStatus.COMPLETED)
    certificate_issue_manually(enrolment=enrolment, actor=s.users["national"], reason="Evidence.")
    assert s.users[who].groups.filter(name=ROLE_GROUP_NAMES[Role.TRAINER]).exists()


@dataclass(frozen=True)
class RoleChange:
    """`who` (a scenario role) is signed in; `change` happens; `urls` are asked by the same
    session before (answers `before`) and after (answers `after`), in order."""

    who: str
    change: Callable[[Scenario, str], None]
    urls: tuple[str, ...]
    before: str
    after: str


ROWS: dict[str, RoleChange] = {
    # Gaining a role that needs a second factor: the next request goes to its set-up.
    "trainee accredited as a trainer by national staff (registry)": RoleChange(
        "trainee", _accredit_on_the_registry, MARKING, "403 403 403", "mfa mfa mfa"
    ),
    "trainee made a trainer by an operator (admin groups)": RoleChange(
        "trainee",
        lambda s, who: _admin_groups_set(s, who, roles=[Role.TRAINEE, Role.TRAINER]),
        MARKING,
        "403 403 403",
        "mfa mfa mfa",
    ),
    "trainee certified in the trainers' programme (automatic)": RoleChange(
        "trainee", _certify_in_the_trainers_programme, MARKING, "403 403 403", "mfa mfa mfa"
    ),
    "trainee given regional staff (role service)": RoleChange(
        "trainee",
        lambda s, who: user_assign_role(
            user=s.users[who], role=Role.REGIONAL_STAFF, actor=s.users["national"]
        ),
        ("reporting:dashboard", "api:dashboard"),
        "403 403",
        "mfa mfa",
    ),
    "trainee given national staff (role service)": RoleChange(
        "trainee",
        lambda s, who: user_assign_role(
            user=s.users[who], role=Role.NATIONAL_STAFF, actor=s.users["national"]
        ),
        (*MARKING, "reporting:dashboard"),
        "403 403 403 403",
        "mfa mfa mfa mfa",
    ),
    "trainee made a superuser by an operator (admin flag)": RoleChange(
        "trainee",
        lambda s, who: _admin_groups_set(s, who, roles=[Role.TRAINEE], superuser=True),
        MARKING,
        "403 403 403",
        "mfa mfa mfa",
    ),
    # Losing a role: its pages close on the next request.
    "trainer's role taken away (role service)": RoleChange(
        "trainer",
        lambda s, who: user_remove_role(user=s.users[who], role=Role.TRAINER, actor=s.users["national"]),
        MARKING,
        "200 200 200",
        "403 403 403",
    ),
    "trainer's group taken away by an operator (admin groups)": RoleChange(
        "trainer",
        lambda s, who: _admin_groups_set(s, who, roles=[Role.TRAINEE]),
        MARKING,
        "200 200 200",
        "403 403 403",
    ),
    "regional staff's role taken away (role service)": RoleChange(
        "regional",
        lambda s, who: user_remove_role(
            user=s.users[who], role=Role.REGIONAL_STAFF, actor=s.users["national"]
        ),
        ("training:cohort-manage", "reporting:dashboard", "api:enrolment-list"),
        "200 200 200",
        "403 403 403",
    ),
}


def _asked(client: Client, s: Scenario, urls: tuple[str, ...]) -> str:
    return " ".join(_answer(client.get(TABLE[name].url(name, s))) for name in urls)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_role_changed_mid_session_takes_effect_on_the_next_request(world, name):
    row = ROWS[name]
    client = _signed_in(world.users[row.who])
    assert _asked(client, world, row.urls) == row.before, f"{name}: before the change"

    row.change(world, row.who)

    assert _asked(client, world, row.urls) == row.after, f"{name}: after the change"


@pytest.mark.django_db
def test_the_rows_match_the_matrix_before_the_change(world):
    """Each row's `before` answers are the matrix's answers for that role (no row is stale)."""
    for name, row in ROWS.items():
        stated = " ".join(TABLE[url].expected("get")[row.who] for url in row.urls)
        assert stated == row.before, name


@pytest.mark.django_db
def test_the_gate_asks_again_once_after_a_change_and_then_costs_nothing(world):
    """A settled session asks the database nothing for the second factor; after a role
    change its next request works the answer out again (a few queries, once), and the one
    after costs what it did before."""
    trainer = world.users["trainer"]
    client = _signed_in(trainer)
    url = reverse("training:manage-cohort-list")

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    settled = queries()
    assert not [sql for sql in settled if "mfa_authenticator" in sql]
    user_assign_role(user=trainer, role=Role.TRAINEE, actor=world.users["national"])
    worked_out = queries()
    assert [sql for sql in worked_out if "mfa_authenticator" in sql]
    assert len(queries()) == len(settled)


@pytest.mark.django_db
def test_a_stale_save_of_the_user_cannot_hide_a_role_change(world):
    """A user instance loaded before a role change and then saved whole writes its older
    access_version; the database moves the version on instead, so the session still works
    its answer out again and is sent to set up a second factor."""
    trainee = world.users["trainee"]
    client = _signed_in(trainee)
    stale = User.objects.get(pk=trainee.pk)
    user_assign_role(user=trainee, role=Role.TRAINER, actor=world.users["national"])
    changed = User.objects.get(pk=trainee.pk).access_version

    stale.save()

    assert User.objects.get(pk=trainee.pk).access_version > changed
    assert _asked(client, world, MARKING) == "mfa mfa mfa"


@pytest.mark.django_db
def test_every_way_through_the_role_tables_moves_the_version(world):
    """Roles and permissions given or taken from either side of Django's many-to-many
    managers (the user's groups, a group's members, a group's permissions, a user's own
    permissions, clearing them) move the member's access_version; adding what is there
    already does not."""
    trainee, trainer = world.users["trainee"], world.users["trainer"]
    trainers = Group.objects.get(name=ROLE_GROUP_NAMES[Role.TRAINER])
    permission = Permission.objects.get(codename="access_staff_area")

    def version(user) -> int:
        return User.objects.get(pk=user.pk).access_version

    steps = [
        (trainee, lambda: trainers.user_set.add(trainee)),
        (trainee, lambda: trainers.user_set.remove(trainee)),
        (trainer, lambda: trainers.permissions.add(permission)),
        (trainer, lambda: permission.group_set.remove(trainers)),
        (trainee, lambda: trainee.user_permissions.add(permission)),
        (trainee, lambda: permission.user_set.clear()),
        (trainer, lambda: trainers.user_set.clear()),
    ]
    for user, step in steps:
        before = version(user)
        step()
        assert version(user) > before, step
    before = version(trainee)
    trainee.groups.add(Group.objects.get(name=ROLE_GROUP_NAMES[Role.TRAINEE]))
    assert version(trainee) == before
