"""Registers, self check-in and apologies."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from training.models import (
    Apology,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Enrolment,
    EnrolmentStatus,
    Notice,
    NoticeKind,
    Session,
    SessionConfirmation,
)
from training.services.milestones import milestones_refresh
from training.services.reminders import absence_warnings_write
from training.signals import enrolments_changed_announce, standing_changed_announce

# Who is on a session's register: a place held, or ended by the cohort's end (completed or
# not). Checking in stays for sessions under way, so only the enrolled reach it in practice.
REGISTER_STATUSES = [EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE]

# Trainees may check themselves in from shortly before a session until it ends. The pages
# (My training, the trainer's check-in code) read the window from the functions below.
CHECKIN_OPENS_BEFORE = timedelta(minutes=30)

# Marks that say whether someone came: recorded only once the session has started. Excused
# may come earlier, since apologies are sent in advance.
MARKS_AFTER_START = {AttendanceStatus.PRESENT, AttendanceStatus.ABSENT}


def checkin_opens_at(session: Session) -> datetime:
    return session.starts_at - CHECKIN_OPENS_BEFORE


def checkin_is_open(*, session: Session, now: datetime) -> bool:
    """Whether a trainee may check in to the session now."""
    return not session.is_cancelled and checkin_opens_at(session) <= now <= session.ends_at


def register_takes_presence(*, session: Session, now: datetime) -> bool:
    """Whether present or absent may be recorded for the session now: once it has started."""
    return now >= session.starts_at


def _local_time(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "j F Y, H:i")


def _on_register(session: Session):
    # Also those the cohort's end settled: its registers may still be corrected afterwards.
    return Enrolment.objects.filter(cohort_id=session.cohort_id, status__in=REGISTER_STATUSES)


def _enrolled(session: Session):
    # Checking in, apologising and confirming are for those who hold a place now.
    return Enrolment.objects.filter(cohort_id=session.cohort_id, status=EnrolmentStatus.ENROLLED)


def _upsert(*, session: Session, enrolment_id: int, status: str, source: str, actor, now) -> None:
    Attendance.objects.update_or_create(
        session=session,
        enrolment_id=enrolment_id,
        defaults={"status": status, "source": source, "recorded_by": actor, "recorded_at": now},
    )


@transaction.atomic
def register_save(*, session: Session, marks: dict[int, str], actor, now: datetime | None = None) -> int:
    """Record present/absent/excused for enrolled trainees of the session, in one go.

    Present and absent only once the session has started (a tap weeks early must not count
    towards a certificate); excused at any time."""
    now = now or timezone.now()
    if session.is_cancelled:
        raise ValidationError(_("This session was cancelled; there is no register to take."))
    allowed = set(_on_register(session).values_list("pk", flat=True))
    unknown = set(marks) - allowed
    if unknown:
        raise ValidationError(_("Some of those people are not enrolled in this cohort."))
    if any(status not in AttendanceStatus.values for status in marks.values()):
        raise ValidationError(_("Choose present, absent or excused for each person."))
    if not register_takes_presence(session=session, now=now) and set(marks.values()) & MARKS_AFTER_START:
        raise ValidationError(
            _(
                "This session has not started yet. You can take the register from %(start)s; "
                "until then only apologies (excused) can be recorded."
            )
            % {"start": _local_time(session.starts_at)}
        )
    existing = {
        row.enrolment_id: row for row in Attendance.objects.filter(session=session, enrolment_id__in=marks)
    }
    to_create, to_update = [], []
    for enrolment_id, status in marks.items():
        row = existing.get(enrolment_id)
        if row is None:
            to_create.append(
                Attendance(
                    session=session,
                    enrolment_id=enrolment_id,
                    status=status,
                    source=AttendanceSource.REGISTER,
                    recorded_by=actor,
                    recorded_at=now,
                )
            )
        elif row.status != status:
            row.status, row.source, row.recorded_by, row.recorded_at = (
                status,
                AttendanceSource.REGISTER,
                actor,
                now,
            )
            to_update.append(row)
    Attendance.objects.bulk_create(to_create)
    Attendance.objects.bulk_update(to_update, ["status", "source", "recorded_by", "recorded_at"])
    changed = [row.enrolment_id for row in to_create + to_update]
    if changed:
        milestones_refresh(enrolment_ids=changed)
        enrolments_changed_announce(enrolment_ids=changed)
        standing_changed_announce(sender=Attendance, enrolment_ids=changed, cause="attendance")
        absent = [row.enrolment_id for row in to_create + to_update if row.status == AttendanceStatus.ABSENT]
        absence_warnings_write(session=session, enrolment_ids=absent)
    return len(changed)


@transaction.atomic
def checkin(*, member, code: str, now=None) -> Attendance:
    """A trainee marks themselves present with the session's code, during the session."""
    now = now or timezone.now()
    normalised = code.strip().upper().replace(" ", "")
    session = Session.objects.filter(checkin_code=normalised).select_related("cohort").first()
    if session is None:
        raise ValidationError({"code": _("That code does not match any session. Check it and try again.")})
    enrolment = _enrolled(session).filter(member=member).first()
    if enrolment is None:
        raise ValidationError({"code": _("You are not enrolled in the cohort this session belongs to.")})
    if session.is_cancelled:
        raise ValidationError({"code": _("This session was cancelled.")})
    if now < checkin_opens_at(session):
        minutes = int(CHECKIN_OPENS_BEFORE.total_seconds() // 60)
        raise ValidationError(
            {
                "code": _("Check-in opens %(minutes)s minutes before the session starts. Try again then.")
                % {"minutes": minutes}
            }
        )
    if now > session.ends_at:
        raise ValidationError({"code": _("This session has ended, so check-in is closed. Ask your trainer.")})
    _upsert(
        session=session,
        enrolment_id=enrolment.pk,
        status=AttendanceStatus.PRESENT,
        source=AttendanceSource.CHECK_IN,
        actor=member,
        now=now,
    )
    standing_changed_announce(sender=Attendance, enrolment_ids=[enrolment.pk], cause="attendance")
    milestones_refresh(enrolment_ids=[enrolment.pk])
    enrolments_changed_announce(enrolment_ids=[enrolment.pk])
    return Attendance.objects.get(session=session, enrolment=enrolment)


@transaction.atomic
def apology_send(*, session: Session, member, note: str = "") -> Apology:
    """Tell the trainer in advance that you cannot come. Sending again updates the note."""
    enrolment = _enrolled(session).filter(member=member).first()
    if enrolment is None:
        raise ValidationError(_("You are not enrolled in the cohort this session belongs to."))
    if session.is_cancelled:
        raise ValidationError(_("This session was cancelled; no apology is needed."))
    now = timezone.now()
    if now >= session.starts_at:
        raise ValidationError(_("The session has started; tell your trainer directly."))
    apology, _created = Apology.objects.update_or_create(
        session=session, enrolment=enrolment, defaults={"note": note.strip(), "created_at": now}
    )
    SessionConfirmation.objects.filter(session=session, enrolment=enrolment).delete()
    # Excused unless the trainer has already recorded something for this session.
    _attendance, excused = Attendance.objects.get_or_create(
        session=session,
        enrolment=enrolment,
        defaults={
            "status": AttendanceStatus.EXCUSED,
            "source": AttendanceSource.APOLOGY,
            "recorded_by": member,
            "recorded_at": now,
        },
    )
    if excused:
        enrolments_changed_announce(enrolment_ids=[enrolment.pk])
    return apology


@transaction.atomic
def session_confirm(*, session: Session, member) -> SessionConfirmation:
    """A trainee says they will come. It replaces an apology they sent before."""
    enrolment = _enrolled(session).filter(member=member).first()
    if enrolment is None:
        raise ValidationError(_("You are not enrolled in the cohort this session belongs to."))
    if session.is_cancelled:
        raise ValidationError(_("This session was cancelled."))
    now = timezone.now()
    if now >= session.starts_at:
        raise ValidationError(_("The session has started; tell your trainer directly."))
    Apology.objects.filter(session=session, enrolment=enrolment).delete()
    deleted, _by_model = Attendance.objects.filter(
        session=session, enrolment=enrolment, source=AttendanceSource.APOLOGY
    ).delete()
    if deleted:
        enrolments_changed_announce(enrolment_ids=[enrolment.pk])
    confirmation, _created = SessionConfirmation.objects.get_or_create(
        session=session, enrolment=enrolment, defaults={"created_at": now}
    )
    return confirmation


@transaction.atomic
def session_reply(*, notice_id: int, attending: bool, note: str = "") -> Notice:
    """The one-click answer to a reminder: confirm, or send apologies. Each link works once."""
    notice = (
        Notice.objects.select_related("recipient")
        .filter(pk=notice_id, kind=NoticeKind.SESSION_REMINDER)
        .first()
    )
    if notice is None:
        raise ValidationError("This link is not valid.", code="invalid")
    claimed = Notice.objects.filter(pk=notice.pk, replied_at__isnull=True).update(replied_at=timezone.now())
    if not claimed:
        raise ValidationError("You have already answered this reminder.", code="used")
    session = Session.objects.filter(pk=int(notice.subject.split(":")[1])).first()
    if session is None:
        raise ValidationError("This session no longer exists.", code="gone")
    if attending:
        session_confirm(session=session, member=notice.recipient)
    else:
        apology_send(session=session, member=notice.recipient, note=note)
    return notice
