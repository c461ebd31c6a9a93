"""The audit trail: append-only (model and PostgreSQL trigger), one entry per audited event
with the right actor, object, subject and changes, and national staff's page and CSV."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEntry, AuditEntryImmutable
from audit.selectors import audit_entries_about, audit_entry_as_dict
from audit.services import audit_record, audit_subject_pseudonymise
from certification.models import Target, TargetScope
from certification.services.certificates import certificate_issue_manually, certificate_revoke
from certification.services.targets import target_change, target_create
from members.models import User
from members.permissions import Role
from members.services import user_assign_role, user_remove_role
from tests.factories import (
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    levels_chosen,
    rubric_add,
)
from training.models import MarkKind, Outcome
from training.services.marking import mark_save, moderation_mark, moderation_request, moderation_settle

pytestmark = pytest.mark.django_db

PASS, FAIL = Outcome.PASS, Outcome.FAIL

AUDIT = "audit:entry-list"


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF, email="nadia@example.org")


@pytest.fixture
def trainer(seeded):
    return UserFactory(role=Role.TRAINER, email="tess@example.org")


@pytest.fixture
def cohort(trainer):
    return CohortFactory(trainers=[trainer], name="Leeds spring")


@pytest.fixture
def submission(cohort):
    assignment = AssignmentFactory(module__version=cohort.version, title="Power map")
    rubric_add(assignment, 2)
    member = UserFactory(email="ada@example.org")
    return SubmissionFactory(enrolment=EnrolmentFactory(cohort=cohort, member=member), assignment=assignment)


def entries(action) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def only(action) -> AuditEntry:
    found = entries(action)
    assert len(found) == 1, found
    return found[0]


def _mark(submission, marker, outcomes, *, seen_version, reason=""):
    return mark_save(
        submission=submission,
        marker=marker,
        levels=levels_chosen(submission.assignment, outcomes),
        feedback="Feedback.",
        seen_version=seen_version,
        reason=reason,
    )


# --- Append-only ---------------------------------------------------------------------------


def test_an_entry_is_never_changed_or_deleted_through_the_model(staff):
    entry = audit_record(actor=staff, action=AuditAction.TARGET_CHANGED, label="North East")
    entry.action = AuditAction.ROLE_CHANGED
    with pytest.raises(AuditEntryImmutable):
        entry.save()
    with pytest.raises(AuditEntryImmutable):
        entry.delete()
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == AuditAction.TARGET_CHANGED


def test_an_unknown_action_is_refused(staff):
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record(actor=staff, action="tea_made")


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only (make test uses it under CI=true)")


def _raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.usefixtures("postgresql")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditentry SET action = 'role_changed' WHERE id = %s",
        "UPDATE audit_auditentry SET changes = '{}'::jsonb WHERE id = %s",
        "UPDATE audit_auditentry SET at = now() WHERE id = %s",
        "UPDATE audit_auditentry SET actor_label = 'someone else' WHERE id = %s",
        "UPDATE audit_auditentry SET client_address = '10.0.0.1' WHERE id = %s",
        "UPDATE audit_auditentry SET subject_id = actor_id WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_updates_and_deletes(staff, sql):
    """Whatever reaches the table, raw SQL included, cannot rewrite or remove an entry."""
    member = UserFactory()
    entry = audit_record(
        actor=staff,
        action=AuditAction.MARK_ADDED,
        subject=member,
        changes={"outcome": {"before": None, "after": "pass"}},
    )
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql, [entry.pk])
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert (kept.action, kept.actor_label, kept.subject_id) == (
        AuditAction.MARK_ADDED,
        staff.email,
        member.pk,
    )


@pytest.mark.usefixtures("postgresql")
def test_postgresql_lets_a_deleted_account_fall_away_and_an_erased_one_be_pseudonymised(staff):
    """The two exceptions: SET_NULL when an account is deleted, and the pseudonymising service."""
    member = UserFactory(email="gone@example.org")
    entry = audit_record(actor=member, action=AuditAction.DATA_EXPORTED, subject=member, obj=member)
    # Actor, subject and object here, and subject and object of the role given at sign-up.
    assert audit_subject_pseudonymise(member) == 5
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert "gone@example.org" not in (entry.actor_label, entry.subject_label, entry.object_label)
    # The setting is off again once the service returns, even inside an outer transaction.
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE audit_auditentry SET actor_label = 'x' WHERE id = %s", [entry.pk])
    User.objects.filter(pk=member.pk).delete()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (entry.actor_id, entry.subject_id, entry.action) == (None, None, AuditAction.DATA_EXPORTED)


def test_pseudonymising_replaces_only_the_erased_members_snapshots(staff):
    member = UserFactory(email="ada@example.org")
    other = UserFactory(email="bob@example.org")
    about = audit_record(
        actor=staff, action=AuditAction.ROLE_CHANGED, obj=member, subject=member, label=member.email
    )
    by = audit_record(actor=member, action=AuditAction.DATA_EXPORTED, subject=member)
    untouched = audit_record(
        actor=staff, action=AuditAction.ROLE_CHANGED, obj=other, subject=other, label=other.email
    )
    audit_subject_pseudonymise(member)
    about, by, untouched = (AuditEntry.objects.get(pk=e.pk) for e in (about, by, untouched))
    assert about.actor_label == "nadia@example.org"
    assert about.subject_label.startswith("erased member ")
    assert about.object_label == about.subject_label == by.actor_label == by.subject_label
    assert by.client_address is None
    assert (untouched.subject_label, untouched.object_label) == ("bob@example.org", "bob@example.org")
    assert about.changes == {}  # what happened is kept
    assert not AuditEntry.objects.filter(actor_label__contains="ada@").exists()


# --- Each audited event writes exactly one entry ------------------------------------------


def test_marks_added_and_changed(trainer, staff, submission):
    member = submission.enrolment.member
    first = _mark(submission, trainer, (PASS, PASS), seen_version=0)
    entry = only(AuditAction.MARK_ADDED)
    assert (entry.actor, entry.subject, entry.actor_label, entry.subject_label) == (
        trainer,
        member,
        "tess@example.org",
        "ada@example.org",
    )
    assert (entry.object_type, entry.object_id) == (ContentType.objects.get_for_model(first), first.pk)
    assert entry.object_label == "Mark (First mark) on “Power map”" or "Power map" in entry.object_label
    assert entry.changes == {
        "submission": submission.pk,
        "kind": MarkKind.FIRST,
        "outcome": {"before": None, "after": PASS},
    }
    correction = _mark(submission, trainer, (PASS, FAIL), seen_version=1, reason="Missed a criterion.")
    changed = only(AuditAction.MARK_CHANGED)
    assert changed.object_id == correction.pk
    assert changed.changes["outcome"] == {"before": PASS, "after": correction.outcome}
    assert changed.changes["kind"] == MarkKind.CORRECTION
    assert "Missed" not in str(changed.changes)  # the reason stays on the mark

    second_marker = UserFactory(role=Role.TRAINER)
    (moderation,) = moderation_request(marks=[correction], second_marker=second_marker, actor=staff)
    moderation_mark(
        moderation=moderation,
        marker=second_marker,
        levels=levels_chosen(submission.assignment, (PASS, PASS)),
        feedback="Blind.",
    )
    blind = entries(AuditAction.MARK_ADDED)[-1]
    assert (blind.actor, blind.subject) == (second_marker, member)
    assert blind.changes["kind"] == MarkKind.MODERATION
    assert blind.changes["outcome"] == PASS
    moderation_settle(
        moderation=moderation,
        actor=staff,
        levels=levels_chosen(submission.assignment, (PASS, PASS)),
        feedback="Settled.",
        reason="Agreed with the second marker.",
    )
    settled = entries(AuditAction.MARK_CHANGED)[-1]
    assert settled.actor == staff
    assert settled.changes["outcome"] == {"before": correction.outcome, "after": PASS}
    assert (
        AuditEntry.objects.filter(action__in=[AuditAction.MARK_ADDED, AuditAction.MARK_CHANGED]).count() == 4
    )


def test_a_refused_mark_writes_nothing(trainer, submission):
    _mark(submission, trainer, (PASS, PASS), seen_version=0)
    with pytest.raises(Exception, match="Someone else"):
        _mark(submission, trainer, (FAIL, FAIL), seen_version=0)
    assert (
        AuditEntry.objects.filter(action__in=[AuditAction.MARK_ADDED, AuditAction.MARK_CHANGED]).count() == 1
    )


def test_certificates_issued_and_revoked(staff):
    member = UserFactory(email="lee@example.org")
    certificate = certificate_issue_manually(
        enrolment=EnrolmentFactory(member=member), actor=staff, reason="Paper."
    )
    issued = only(AuditAction.CERTIFICATE_ISSUED)
    assert (issued.actor, issued.subject, issued.object_id) == (staff, member, certificate.pk)
    assert certificate.code in issued.object_label
    assert "lee@" not in issued.object_label
    assert issued.changes == {"status": {"before": None, "after": "valid"}, "manual": True}
    certificate_revoke(
        certificate=certificate, actor=staff, public_reason="Issued in error.", note="Private."
    )
    revoked = only(AuditAction.CERTIFICATE_REVOKED)
    assert (revoked.actor, revoked.subject, revoked.object_id) == (staff, member, certificate.pk)
    assert revoked.changes == {
        "status": {"before": "valid", "after": "revoked"},
        "public_reason": "Issued in error.",
    }
    assert certificate.events.count() == 2  # the certificate's own history is kept as before


def test_an_entry_rolls_back_with_its_change(staff):
    """Recorded in the same transaction: a change that fails leaves no entry behind."""
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Paper.")

    def revoke_then_fail():
        with transaction.atomic():
            certificate_revoke(certificate=certificate, actor=staff, public_reason="Error.")
            raise RuntimeError("the surrounding work failed")

    with pytest.raises(RuntimeError):
        revoke_then_fail()
    assert entries(AuditAction.CERTIFICATE_REVOKED) == []


def test_roles_given_and_taken(seeded, staff):
    member = UserFactory()  # its trainee role, given at creation by the platform
    given = AuditEntry.objects.filter(subject=member).get()
    assert (given.actor, given.changes) == (None, {"role": {"before": None, "after": "trainee"}})
    user_assign_role(user=member, role=Role.TRAINER, actor=staff)
    user_assign_role(user=member, role=Role.TRAINER, actor=staff)  # no change, no entry
    user_remove_role(user=member, role=Role.TRAINEE, actor=staff)
    user_remove_role(user=member, role=Role.TRAINEE, actor=staff)
    rows = list(AuditEntry.objects.filter(subject=member, actor=staff).order_by("pk"))
    assert [row.changes["role"] for row in rows] == [
        {"before": None, "after": "trainer"},
        {"before": "trainee", "after": None},
    ]
    assert all(row.object_id == member.pk and row.action == AuditAction.ROLE_CHANGED for row in rows)
    assert not member.has_perm("members.access_trainee_area")


def test_roles_changed_in_the_admin_are_recorded(client, seeded):
    admin = UserFactory(role=Role.NATIONAL_STAFF, is_staff=True, is_superuser=True)
    member = UserFactory(email="sam@example.org")
    client.force_login(admin)
    trainer_group = member.groups.model.objects.get(name="Trainer")
    url = reverse("admin:members_user_change", args=[member.pk])
    response = client.post(
        url,
        {
            "email": member.email,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "is_active": "on",
            "is_staff": "on",
            "groups": [trainer_group.pk],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(subject=member, actor=admin)
    assert entry.changes == {
        "groups": {"before": ["Trainee"], "after": ["Trainer"]},
        "is_staff": {"before": False, "after": True},
    }


def test_targets_set_and_changed(staff):
    deadline = timezone.localdate() + dt.timedelta(days=365)
    target = target_create(scope=TargetScope.NATIONAL, leaders=100, deadline=deadline, actor=staff)
    created = only(AuditAction.TARGET_CREATED)
    assert (created.actor, created.object_id, created.subject) == (staff, target.pk, None)
    assert created.changes["leaders"] == {"before": None, "after": 100}
    target_change(target=target, leaders=120, deadline=deadline, actor=staff, note="Funding grew.")
    changed = only(AuditAction.TARGET_CHANGED)
    assert changed.changes == {
        "leaders": {"before": 100, "after": 120},
        "deadline": {"before": deadline.isoformat(), "after": deadline.isoformat()},
    }
    assert Target.objects.get().leaders == 120


def test_the_client_address_comes_from_the_request_being_served(client, staff):
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Paper.")
    client.force_login(staff)
    url = reverse("certification:staff-certificate", args=[certificate.pk])
    response = client.post(url, {"action": "revoke", "public_reason": "Error."}, REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 302
    assert only(AuditAction.CERTIFICATE_REVOKED).client_address == "192.0.2.5"
    assert only(AuditAction.CERTIFICATE_ISSUED).client_address is None  # no request: a script


# --- Member lists: one entry per page view or export ---------------------------------------


def test_cohort_pages_gradebook_and_register_are_audited(client, trainer, cohort, submission):
    session = SessionFactory(cohort=cohort)
    client.force_login(trainer)
    visits = [
        (reverse("training:cohort-manage", args=[cohort.pk]), AuditAction.MEMBER_LIST_VIEWED, cohort),
        (reverse("training:cohort-gradebook", args=[cohort.pk]), AuditAction.MEMBER_LIST_VIEWED, cohort),
        (
            reverse("training:cohort-gradebook-csv", args=[cohort.pk]),
            AuditAction.MEMBER_LIST_EXPORTED,
            cohort,
        ),
        (reverse("training:session-register", args=[session.pk]), AuditAction.MEMBER_LIST_VIEWED, session),
    ]
    for url, action, obj in visits:
        before = AuditEntry.objects.count()
        assert client.get(url, REMOTE_ADDR="198.51.100.9").status_code == 200, url
        assert AuditEntry.objects.count() == before + 1, url
        entry = AuditEntry.objects.latest("pk")
        assert (entry.action, entry.actor, entry.object_id, entry.subject) == (action, trainer, obj.pk, None)
        assert entry.changes["path"] == url
        assert entry.client_address == "198.51.100.9"
    assert "Leeds spring" in AuditEntry.objects.latest("pk").object_label


def test_dashboard_lists_and_exports_are_audited(client, staff):
    client.force_login(staff)
    people = reverse("reporting:dashboard-people")
    trainers = reverse("reporting:dashboard-table", args=["trainers"])
    places = reverse("reporting:dashboard-table", args=["places"])
    assert client.get(people, {"figure": "leaders"}).status_code == 200
    assert client.get(people, {"figure": "leaders", "format": "csv"}).status_code == 200
    assert client.get(trainers, {"format": "csv"}).status_code == 200
    assert client.get(places).status_code == 200  # places, not people: not audited
    assert client.get(people, {"figure": "nonsense"}).status_code == 400  # refused: nothing shown
    viewed, exported = entries(AuditAction.MEMBER_LIST_VIEWED), entries(AuditAction.MEMBER_LIST_EXPORTED)
    assert [entry.changes["query"] for entry in viewed] == ["figure=leaders"]
    assert [entry.object_label for entry in exported] == ["Leaders", "Trainers"]
    assert {entry.actor for entry in viewed + exported} == {staff}


def test_staff_certificate_overview_is_audited(client, staff):
    client.force_login(staff)
    assert client.get(reverse("certification:staff-overview"), {"q": "ada"}).status_code == 200
    assert only(AuditAction.MEMBER_LIST_VIEWED).changes["query"] == "q=ada"


# --- The page -------------------------------------------------------------------------------


def test_only_national_staff_reach_the_trail(client, seeded, staff):
    url = reverse(AUDIT)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    for role in (Role.TRAINEE, Role.TRAINER, Role.REGIONAL_STAFF):
        client.force_login(UserFactory(role=role))
        assert client.get(url).status_code == 403, role
        assert client.get(url, {"format": "csv"}).status_code == 403, role
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200
    assert f'href="{url}"' in response.content.decode()  # in the menu
    assert not AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


def _seed_trail(staff, trainer, count=1):
    member = UserFactory(email=f"m{AuditEntry.objects.count()}@example.org")
    for _ in range(count):
        audit_record(
            actor=staff,
            action=AuditAction.CERTIFICATE_ISSUED,
            subject=member,
            obj=member,
            label="=HYPERLINK()",
        )
        audit_record(actor=trainer, action=AuditAction.MEMBER_LIST_VIEWED, label="Leeds spring")
    return member


def test_filters_take_only_their_keys(client, staff, trainer):
    ada = _seed_trail(staff, trainer)
    long_ago = AuditEntry(
        actor_label="old@example.org",
        action=AuditAction.TARGET_CHANGED,
        at=timezone.now() - dt.timedelta(days=40),
    )
    long_ago.save()
    client.force_login(staff)
    url = reverse(AUDIT)

    def labels(**params):
        response = client.get(url, params)
        assert response.status_code == 200, response.content.decode()[:500]
        return [row.record.pk for row in response.context["table"].paginated_rows]

    everything = labels()
    assert len(everything) == AuditEntry.objects.count()
    assert labels(action="member_list_viewed") == list(
        AuditEntry.objects.filter(action="member_list_viewed")
        .order_by("-at", "-pk")
        .values_list("pk", flat=True)
    )
    assert {AuditEntry.objects.get(pk=pk).actor_id for pk in labels(actor="TESS@example.org")} == {trainer.pk}
    assert {AuditEntry.objects.get(pk=pk).subject_id for pk in labels(subject=ada.email)} == {ada.pk}
    today = timezone.localdate().isoformat()
    assert long_ago.pk not in labels(since=today)
    assert labels(until=(timezone.localdate() - dt.timedelta(days=30)).isoformat()) == [long_ago.pk]
    assert labels(since=today, until=today, nonsense="x", sort="pk") == labels(since=today)


@pytest.mark.parametrize(
    "params",
    [
        {"action": "tea_made"},
        {"actor": "not an email"},
        {"subject": "x" * 300 + "@example.org"},
        {"since": "2026-13-45"},
        {"since": "2026-12-02", "until": "2026-12-01"},
        {"format": "xlsx"},
    ],
)
def test_bad_filters_are_a_400_with_the_reason(client, staff, params):
    client.force_login(staff)
    response = client.get(reverse(AUDIT), params)
    assert response.status_code == 400
    assert "could not be used" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


def test_csv_exports_the_filtered_entries_safely_and_is_audited(client, staff, trainer):
    member = _seed_trail(staff, trainer)
    client.force_login(staff)
    response = client.get(
        reverse(AUDIT), {"action": "certificate_issued", "format": "csv"}, REMOTE_ADDR="192.0.2.1"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:4] == ["When (UTC)", "Action", "Action (in words)", "By"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Object"] == "'=HYPERLINK()"  # a spreadsheet shows it, never runs it
    assert (row["Action"], row["By"], row["About"]) == ("certificate_issued", staff.email, member.email)
    export = only(AuditAction.AUDIT_EXPORTED)
    assert (export.actor, export.client_address) == (staff, "192.0.2.1")
    assert export.changes == {"filters": {"action": "certificate_issued"}}


def test_audit_entries_about_a_member_for_their_data_export(staff, trainer):
    ada = _seed_trail(staff, trainer)
    other = _seed_trail(staff, trainer)
    about = list(audit_entries_about(ada))
    assert about
    assert all(entry.subject_id == ada.pk for entry in about)
    assert other.pk not in {entry.subject_id for entry in about}
    exported = [audit_entry_as_dict(entry) for entry in about]
    assert exported[-1]["action"] == "certificate_issued"
    assert exported[-1]["about"] == ada.email


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


def test_page_and_csv_run_a_fixed_number_of_queries(client, staff, trainer):
    client.force_login(staff)
    url = reverse(AUDIT)
    _seed_trail(staff, trainer, 2)
    _count(client, url)
    small = (
        _count(client, url),
        _count(client, url, {"format": "csv"}),
        _count(client, url, {"subject": "m0@example.org"}),
    )
    _seed_trail(staff, trainer, 60)
    assert (
        _count(client, url),
        _count(client, url, {"format": "csv"}),
        _count(client, url, {"subject": "m0@example.org"}),
    ) == small
    assert small[0] <= 8  # 7 here: session, user, MFA and permissions, count, page
    response = client.get(url, {"page": 2})
    assert "Page 2 of 3" in response.content.decode()


def test_a_member_erasing_themselves_leaves_no_email_or_address_in_the_trail(client, seeded, staff):
    """The data-rights erasure pseudonymises the trail, and its own entry names no one."""
    from members.erasure import account_erase

    member = UserFactory(email="ada@example.org")
    audit_record(actor=staff, action=AuditAction.ROLE_CHANGED, obj=member, subject=member, label=member.email)
    certificate_issue_manually(enrolment=EnrolmentFactory(member=member), actor=staff, reason="Paper.")
    request = client.get("/").wsgi_request
    request.user = member  # as the view passes request.user, which still holds the old email
    request.META["REMOTE_ADDR"] = "203.0.113.7"
    account_erase(user=member, actor=member, request=request)
    erased = only(AuditAction.ACCOUNT_ERASED)
    assert (erased.actor_id, erased.subject_id) == (member.pk, member.pk)
    assert erased.client_address is None
    for entry in AuditEntry.objects.all():
        assert "ada@example.org" not in (entry.actor_label, entry.subject_label, entry.object_label), entry
    assert AuditEntry.objects.filter(subject=member).count() >= 3


def test_the_admin_shows_entries_and_changes_nothing(client, seeded, staff):
    admin = UserFactory(role=Role.NATIONAL_STAFF, is_staff=True, is_superuser=True)
    entry = audit_record(actor=staff, action=AuditAction.TARGET_CHANGED, label="North East")
    client.force_login(admin)
    assert "North East" in client.get(reverse("admin:audit_auditentry_changelist")).content.decode()
    page = client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert (
        client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_trail_sorts_by_time_only_and_keeps_the_filters(client, staff, trainer):
    """The one table component: "When" sorts (oldest first on request) and its link keeps the
    filters; other columns do not sort, and an unknown sort key leaves newest first."""
    _seed_trail(staff, trainer)
    client.force_login(staff)
    url = reverse(AUDIT)
    newest_first = list(AuditEntry.objects.order_by("-at", "-pk").values_list("pk", flat=True))

    def pks(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return [row.record.pk for row in response.context["table"].paginated_rows]

    assert pks(sort="at") == newest_first[::-1]
    assert pks(sort="action") == newest_first
    page = client.get(url, {"actor": "tess@example.org"}).content.decode()
    assert "?actor=tess%40example.org&amp;sort=at" in page
    assert 'scope="row"' in page
