"""Writing the planned movement: one COPY (or batch of INSERTs) per table, parents first,
with the columns in the order of each row's tuple."""

import datetime as dt
import secrets
import time
from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password

from certification.models import (
    Certificate,
    CertificateEvent,
    LocalAction,
    RegistryEntry,
    TrainerAccreditation,
    Verification,
    VisibilityChange,
)
from members.models import ConsentRecord, Profile, User
from reporting.models import LeaderTally
from training.models import (
    Attendance,
    Cohort,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    Mark,
    MarkLevel,
    Notice,
    Session,
    SessionMode,
    SessionStatus,
    Submission,
)
from training.services.cohorts import CHECKIN_ALPHABET, CHECKIN_CODE_LENGTH

if TYPE_CHECKING:
    from scale.generator import MovementGenerator


def movement_write(gen: "MovementGenerator") -> None:
    """Write every planned row, table by table, parents first."""
    w, people = gen.writer, gen.people
    no_password = make_password(None)
    trainee_group, trainer_group = gen.trainee_group, gen.trainer_group
    domain = "scale.example"
    if User.objects.filter(email__endswith="@scale.example").exists():
        domain = f"{secrets.token_hex(3)}.scale.example"  # a second run beside the first
    emails = {p.id: f"{p.first}.{p.last}.{p.id}@{domain}".lower() for p in people}
    _table(
        gen,
        User,
        [
            "id",
            "password",
            "last_login",
            "is_superuser",
            "first_name",
            "last_name",
            "is_staff",
            "is_active",
            "date_joined",
            "email",
            "erased_at",
            "access_version",
        ],
        (
            (p.id, no_password, None, False, p.first, p.last, False, True, p.joined, emails[p.id], None, 0)
            for p in people
        ),
    )
    group_rows = [(p.id, trainee_group) for p in people if not p.founder]
    group_rows += [(p.id, trainer_group) for p in people if p.trainer]
    Through = User.groups.through
    group_ids = iter(w.ids(Through, len(group_rows)))
    _table(gen, Through, ["id", "user_id", "group_id"], ((next(group_ids), *row) for row in group_rows))

    address_ids = iter(w.ids(EmailAddress, len(people)))
    _table(
        gen,
        EmailAddress,
        ["id", "user_id", "email", "verified", "primary"],
        ((next(address_ids), p.id, emails[p.id], True, True) for p in people),
    )
    consent_ids = iter(w.ids(ConsentRecord, len(people)))
    text_id = gen.consent_text.pk
    _table(
        gen,
        ConsentRecord,
        ["id", "user_id", "text_id", "given_at", "withdrawn_at"],
        ((next(consent_ids), p.id, text_id, p.joined, None) for p in people),
    )
    profile_ids = iter(w.ids(Profile, len(people)))
    _table(
        gen,
        Profile,
        ["id", "user_id", "region_id", "constituency_id", "phone", "membership_number", "updated_at"],
        ((next(profile_ids), p.id, p.region_id, p.constituency_id, "", "", p.joined) for p in people),
    )
    _table(
        gen,
        Cohort,
        [
            "id",
            "version_id",
            "name",
            "region_id",
            "constituency_id",
            "capacity",
            "enrolment_opens_on",
            "enrolment_closes_on",
            "starts_on",
            "ends_on",
            "status",
            "status_follows_dates",
            "reviews_applications",
            "created_at",
        ],
        (
            (
                c.id,
                c.version.id,
                c.name,
                c.region_id,
                c.constituency_id,
                c.capacity,
                c.opens_on,
                c.closes_on,
                c.starts_on,
                c.ends_on,
                c.status,
                True,
                c.reviews,
                gen._local(c.opens_on, dt.time(9)) - dt.timedelta(days=14),
            )
            for c in gen.cohorts
        ),
    )
    CohortTrainers = Cohort.trainers.through
    links = [(c.id, trainer) for c in gen.cohorts for trainer in c.trainer_ids]
    link_ids = iter(w.ids(CohortTrainers, len(links)))
    _table(gen, CohortTrainers, ["id", "cohort_id", "user_id"], ((next(link_ids), *link) for link in links))
    codes = set(Session.objects.values_list("checkin_code", flat=True))
    rng = gen.rng

    def code() -> str:
        while True:
            value = "".join(rng.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_CODE_LENGTH))
            if value not in codes:
                codes.add(value)
                return value

    def session_rows():
        for c in gen.cohorts:
            for number, s in enumerate(c.sessions, start=1):
                title = next((t for pk, t in c.version.modules if pk == s.module_id), "Review and reflection")
                yield (
                    s.id,
                    c.id,
                    f"Session {number}: {title}",
                    s.starts_at,
                    s.ends_at,
                    SessionMode.ONLINE if c.online else SessionMode.IN_PERSON,
                    "" if c.online else "Community Centre",
                    "" if c.online else "1 High Street",
                    f"https://meet.example.org/cohort-{c.id}" if c.online else "",
                    "",
                    SessionStatus.CANCELLED if s.cancelled else SessionStatus.SCHEDULED,
                    code(),
                    0,
                    s.starts_at - dt.timedelta(days=60),
                )

    _table(
        gen,
        Session,
        [
            "id",
            "cohort_id",
            "title",
            "starts_at",
            "ends_at",
            "mode",
            "venue",
            "address",
            "online_link",
            "preparation",
            "status",
            "checkin_code",
            "sequence",
            "updated_at",
        ],
        session_rows(),
    )
    SessionModules = Session.modules.through
    module_links = [(s.id, s.module_id) for c in gen.cohorts for s in c.sessions if s.module_id]
    module_link_ids = iter(w.ids(SessionModules, len(module_links)))
    _table(
        gen,
        SessionModules,
        ["id", "session_id", "module_id"],
        ((next(module_link_ids), *link) for link in module_links),
    )
    programme_id = gen.programme.pk

    def enrolment_rows():
        for e in gen.enrolments:
            enrolled = next((at for _f, to, _a, at in e.events if to == EnrolmentStatus.ENROLLED), None)
            first_attended = min((starts for starts, _r in e.present_times), default=None)
            required = e.cohort.version.required_ids
            work = (
                max(e.handed_in[pk] for pk in required) if required and required <= set(e.handed_in) else None
            )
            certified = e.certified_at if e.certificate_stands else None
            yield (
                e.id,
                e.cohort.id,
                e.person.id,
                programme_id,
                e.status,
                e.applied_at,
                e.waitlisted_at,
                e.status_changed_at,
                "",
                "",
                e.completion_note,
                enrolled,
                first_attended,
                work,
                certified,
                e.person.region_id,
                e.person.constituency_id,
            )

    _table(
        gen,
        Enrolment,
        [
            "id",
            "cohort_id",
            "member_id",
            "programme_id",
            "status",
            "applied_at",
            "waitlisted_at",
            "status_changed_at",
            "motivation",
            "decision_message",
            "completion_note",
            "first_enrolled_at",
            "first_attended_at",
            "work_submitted_at",
            "certified_at",
            "member_region_id",
            "member_constituency_id",
        ],
        enrolment_rows(),
    )
    events = [(e.id, *event) for e in gen.enrolments for event in e.events]
    event_ids = iter(w.ids(EnrolmentEvent, len(events)))
    _table(
        gen,
        EnrolmentEvent,
        ["id", "enrolment_id", "from_status", "to_status", "actor_id", "note", "at"],
        (
            (next(event_ids), enrolment_id, before, after, actor, "", at)
            for enrolment_id, before, after, actor, at in events
        ),
    )
    _table(
        gen,
        Attendance,
        ["id", "session_id", "enrolment_id", "status", "source", "recorded_by_id", "recorded_at"],
        gen.rows.pop(Attendance),
    )
    _table(
        gen,
        Submission,
        [
            "id",
            "enrolment_id",
            "assignment_id",
            "attempt",
            "status",
            "text",
            "created_at",
            "submitted_at",
            "is_late",
            "withdrawn_at",
            "outcome",
            "marked_at",
            "mark_version",
        ],
        gen.rows.pop(Submission),
    )
    _table(
        gen,
        Mark,
        ["id", "submission_id", "marker_id", "kind", "outcome", "feedback", "reason", "created_at"],
        gen.rows.pop(Mark),
    )
    _table(gen, MarkLevel, ["id", "mark_id", "criterion_id", "level_id"], gen.rows.pop(MarkLevel))
    _table(
        gen,
        Certificate,
        [
            "id",
            "enrolment_id",
            "holder_id",
            "version_id",
            "code",
            "holder_name",
            "programme_title",
            "version_number",
            "cohort_name",
            "issuer_name",
            "issued_at",
            "issued_manually",
            "expires_on",
            "status",
            "revoked_at",
            "revoked_reason",
            "shows_full_name",
            "needs_review",
            "review_note",
            "status_list_index",
        ],
        gen.rows[Certificate],
    )
    _table(
        gen,
        CertificateEvent,
        ["id", "certificate_id", "kind", "actor_id", "reason", "at"],
        gen.rows[CertificateEvent],
    )
    _table(gen, Verification, ["id", "certificate_id", "channel", "at"], gen.rows[Verification])
    _table(gen, RegistryEntry, ["id", "member_id", "joined_at", "visibility", "bio"], gen.rows[RegistryEntry])
    _table(
        gen, VisibilityChange, ["id", "entry_id", "visibility", "actor_id", "at"], gen.rows[VisibilityChange]
    )
    _table(
        gen,
        LocalAction,
        [
            "id",
            "entry_id",
            "issue",
            "organised_with",
            "what_happened",
            "outcome",
            "started_on",
            "ended_on",
            "created_at",
        ],
        gen.rows[LocalAction],
    )
    accreditations = gen.rows[TrainerAccreditation]
    accreditation_ids = iter(w.ids(TrainerAccreditation, len(accreditations)))
    _table(
        gen,
        TrainerAccreditation,
        ["id", "member_id", "accredited_at", "accredited_by_id", "via_certificate_id", "note"],
        ((next(accreditation_ids), *row) for row in accreditations),
    )
    _table(
        gen,
        LeaderTally,
        [
            "user_id",
            "has_profile",
            "region_id",
            "constituency_id",
            "first_certified_at",
            "first_certified_month",
            "in_date_until",
        ],
        gen.rows[LeaderTally],
    )
    _table(
        gen,
        Notice,
        [
            "id",
            "recipient_id",
            "kind",
            "subject",
            "scheduled_for",
            "status",
            "attempts",
            "next_attempt_at",
            "enqueued_at",
            "claimed_by",
            "claimed_at",
            "sent_at",
            "outcome",
            "replied_at",
            "created_at",
        ],
        gen.rows.pop(Notice),
    )


def _table(gen: "MovementGenerator", model, fields, rows) -> None:
    started = time.perf_counter()
    count = gen.writer.write(model, fields, rows)
    gen.counts[model._meta.label] = count
    gen.say(f"{model._meta.label}: {count:,} rows in {time.perf_counter() - started:.1f}s")
