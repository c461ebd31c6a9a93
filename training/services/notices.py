"""The notice ledger: write a row per message before sending, send in batches, record the outcome.

Exactly once towards the member:
- a notice is a row under a unique constraint (recipient, subject, kind, scheduled time),
  written before anything is sent, so a second sweep or a repeated call finds it and stops;
- a batch task claims its rows (pending -> sending, naming itself) in one UPDATE, so two
  tasks never send the same row; a task redelivered after its worker died (same task id)
  takes its claim back at once, and any other claim lapses after NOTICE_CLAIM_LEASE (a
  setting, 90 s), which a sending batch renews every NOTICE_CLAIM_RENEW_SECONDS while it
  still holds the claim, so that a live worker's claim is never taken and a dead one's is
  swept again within about a lease and a sweep interval;
- the moment the mail server accepts a message, one UPDATE marks that notice sent in the
  database, before the next message is handed over: a worker killed at any point leaves
  behind only rows that were not sent (the ledger cannot forget, as a cache may);
- the other outcomes (skipped, failed) are written when the batch ends, even in an error.
What remains is the instant between the server's acceptance and that UPDATE: at most one
duplicate per message in flight. The Message-ID is fixed per notice, so mail systems that
drop duplicates drop even that one.

Each kind of notice has a letter writer (registered at start-up, so certification can add
its own kinds) that loads fresh data for a batch and says what to send, or why not.
"""

import logging
import smtplib
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from config.celery import task_named
from config.emails import templated_email
from training.models import (
    MUTABLE_NOTICE_KINDS,
    EmailAddressProblem,
    Notice,
    NoticeKind,
    NoticeMute,
    NoticeStatus,
)

logger = logging.getLogger(__name__)

# A claim not renewed for this long is taken to belong to a dead worker (settings).
NOTICE_CLAIM_LEASE = timedelta(seconds=settings.NOTICE_CLAIM_LEASE_SECONDS)
# A sending batch renews its remaining claims this often, well inside the lease.
NOTICE_CLAIM_RENEW_EVERY = timedelta(seconds=settings.NOTICE_CLAIM_LEASE_SECONDS / 3)
# The sweep does not ask again for a notice it asked for this recently (the broker may have
# lost the request: Redis restarted empty).
NOTICE_REENQUEUE_AFTER = timedelta(seconds=settings.NOTICE_REENQUEUE_SECONDS)
# Tries before a notice is marked failed for staff to see, and the wait after each failed try.
NOTICE_MAX_ATTEMPTS = 5
NOTICE_BACKOFF = [timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2)]
# Messages per batch task: one connection to the mail server and a fixed number of queries.
NOTICE_BATCH_SIZE = 100

UNSUBSCRIBE_SALT = "training.notices.unsubscribe"
REPLY_SALT = "training.notices.session-reply"


@dataclass
class Letter:
    """What to send for one notice: templates/<template>_{subject.txt,body.txt,body.html}."""

    template: str
    context: dict
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)


# kind -> function(list of notices) -> {notice id: Letter, or the reason not to send}
LetterWriter = Callable[[list[Notice]], dict[int, "Letter | str"]]
_letter_writers: dict[str, LetterWriter] = {}


def letter_writer_register(kind: str, writer: LetterWriter) -> None:
    _letter_writers[kind] = writer


# --- Writing notices ------------------------------------------------------------------


def muted_member_ids(*, kind: str, member_ids: Iterable[int]) -> set[int]:
    if kind not in MUTABLE_NOTICE_KINDS:
        return set()
    return set(
        NoticeMute.objects.filter(kind=kind, member_id__in=member_ids).values_list("member_id", flat=True)
    )


def notices_create(
    *, kind: str, subject: str, recipient_ids: Iterable[int], scheduled_for: datetime | None = None
) -> list[int]:
    """Write one notice per recipient (not to those who muted the kind; never twice).

    Returns the ids of the rows waiting to be sent, so that the caller can ask for them
    to be sent once its transaction commits (notices_send_on_commit).
    """
    now = timezone.now()
    scheduled_for = scheduled_for or now
    recipient_ids = set(recipient_ids) - muted_member_ids(kind=kind, member_ids=set(recipient_ids))
    if not recipient_ids:
        return []
    Notice.objects.bulk_create(
        [
            Notice(
                recipient_id=recipient_id,
                kind=kind,
                subject=subject,
                scheduled_for=scheduled_for,
                next_attempt_at=scheduled_for,
                created_at=now,
            )
            for recipient_id in sorted(recipient_ids)
        ],
        ignore_conflicts=True,
    )
    return list(
        Notice.objects.filter(
            kind=kind,
            subject=subject,
            scheduled_for=scheduled_for,
            recipient_id__in=recipient_ids,
            status=NoticeStatus.PENDING,
        ).values_list("pk", flat=True)
    )


def notices_send_on_commit(notice_ids: list[int]) -> None:
    """Ask a worker to send these once the transaction commits. If the broker is down the
    request still succeeds: the rows wait, and the next sweep sends them."""
    if not notice_ids:
        return
    transaction.on_commit(partial(notices_dispatch, notice_ids), robust=True)


def notices_dispatch(notice_ids: list[int]) -> int:
    """Enqueue batches of notices; returns how many were handed to the broker.

    If the broker cannot be reached the notices stay waiting and the next sweep asks
    again: a web request never fails because Redis is down.
    """
    notice_ids = list(notice_ids)
    # Marked before handing over (one UPDATE for all): a worker quick to fail a notice clears
    # the mark (so that its retry is not held back), and must not find it set again after.
    enqueued_at = timezone.now()
    notices_mark_enqueued(notice_ids, now=enqueued_at)
    handed = 0
    for start in range(0, len(notice_ids), NOTICE_BATCH_SIZE):
        batch = notice_ids[start : start + NOTICE_BATCH_SIZE]
        try:
            task_named("training.notices_send").delay(batch)
        except Exception as error:  # noqa: BLE001 - whatever the broker raised, the ledger keeps them
            logger.warning("Broker unreachable; %s notices wait for the next sweep: %s", len(batch), error)
            notices_unmark_enqueued(notice_ids[start:], enqueued_at=enqueued_at)
            return handed
        handed += len(batch)
    return handed


# Rows per UPDATE ... WHERE pk IN (...): within SQLite's limit on parameters.
MARK_CHUNK = 10_000


def notices_mark_enqueued(notice_ids: list[int], *, now: datetime | None = None) -> None:
    """Filtered by primary key only, so that the database uses it even with stale statistics
    just after the sweep's large insert (a status filter made it scan every pending row)."""
    now = now or timezone.now()
    for start in range(0, len(notice_ids), MARK_CHUNK):
        Notice.objects.filter(pk__in=notice_ids[start : start + MARK_CHUNK]).update(enqueued_at=now)


def notices_unmark_enqueued(notice_ids: list[int], *, enqueued_at: datetime) -> None:
    """The broker did not take them: the next sweep asks again."""
    for start in range(0, len(notice_ids), MARK_CHUNK):
        Notice.objects.filter(pk__in=notice_ids[start : start + MARK_CHUNK], enqueued_at=enqueued_at).update(
            enqueued_at=None
        )


def notices_waiting_ids(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Notices due now that no task is sending: never asked for, asked long ago, or whose
    claim has lapsed (a worker died)."""
    now = now or timezone.now()
    waiting = Q(status=NoticeStatus.PENDING, next_attempt_at__lte=now) & (
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - NOTICE_REENQUEUE_AFTER)
    )
    lapsed = Q(status=NoticeStatus.SENDING, claimed_at__lt=now - NOTICE_CLAIM_LEASE)
    queryset = Notice.objects.filter(waiting | lapsed).order_by("next_attempt_at", "pk")
    return list(queryset.values_list("pk", flat=True)[:limit])


# --- Sending ----------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)


def _claim(notice_ids: list[int], *, claimant: str, now: datetime) -> list[Notice]:
    claimable = Q(status=NoticeStatus.PENDING, next_attempt_at__lte=now) | Q(
        Q(claimed_by=claimant) | Q(claimed_at__lt=now - NOTICE_CLAIM_LEASE), status=NoticeStatus.SENDING
    )
    Notice.objects.filter(claimable, pk__in=notice_ids).update(
        status=NoticeStatus.SENDING, claimed_by=claimant, claimed_at=now, attempts=F("attempts") + 1
    )
    return list(
        Notice.objects.filter(pk__in=notice_ids, status=NoticeStatus.SENDING, claimed_by=claimant)
        .select_related("recipient")
        .order_by("pk")
    )


def _undeliverable_reasons(notices: list[Notice]) -> dict[int, str]:
    """Recipients we must not or cannot write to, decided afresh at send time."""
    reasons: dict[int, str] = {}
    emails = {notice.recipient.email.lower() for notice in notices if notice.recipient.email}
    bounced = set(EmailAddressProblem.objects.filter(email__in=emails).values_list("email", flat=True))
    mutes = set(
        NoticeMute.objects.filter(member_id__in={notice.recipient_id for notice in notices}).values_list(
            "member_id", "kind"
        )
    )
    for notice in notices:
        email = notice.recipient.email
        if not notice.recipient.is_active:
            reasons[notice.pk] = "The account is closed."
        elif not email:
            reasons[notice.pk] = "No email address."
        elif email.lower() in bounced:
            reasons[notice.pk] = "The address is marked undeliverable."
        elif (notice.recipient_id, notice.kind) in mutes:
            reasons[notice.pk] = "The member turned this kind of message off."
        else:
            try:
                validate_email(email)
            except ValidationError:
                reasons[notice.pk] = "The email address is not valid."
    return reasons


def unsubscribe_token(*, member_id: int, kind: str) -> str:
    if kind not in MUTABLE_NOTICE_KINDS:
        raise ValueError(f"{kind} notices cannot be turned off, so they carry no unsubscribe link.")
    return signing.dumps({"m": member_id, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[int, str] | None:
    """(member id, kind) from an unsubscribe link, or None if it was not made by us."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if (
        not isinstance(data, dict)
        or data.get("k") not in MUTABLE_NOTICE_KINDS
        or not isinstance(data.get("m"), int)
    ):
        return None
    return data["m"], data["k"]


def reply_token(*, notice_id: int) -> str:
    return signing.dumps(notice_id, salt=REPLY_SALT)


def reply_token_read(token: str) -> int | None:
    """The notice id from a confirm-or-apologise link, or None if it was not made by us."""
    try:
        notice_id = signing.loads(token, salt=REPLY_SALT)
    except signing.BadSignature:
        return None
    return notice_id if isinstance(notice_id, int) else None


def _message(notice: Notice, letter: Letter, *, connection) -> EmailMultiAlternatives:
    context = {
        **letter.context,
        "notice": notice,
        "recipient": notice.recipient,
        "site_url": settings.SITE_URL,
        "preferences_url": settings.SITE_URL + reverse("training:notice-preferences"),
        "unsubscribe_url": "",
    }
    headers = {"Message-ID": f"<notice-{notice.pk}@{settings.NOTICE_MESSAGE_ID_DOMAIN}>"}
    if notice.kind in MUTABLE_NOTICE_KINDS:
        url = settings.SITE_URL + reverse(
            "training:notice-unsubscribe",
            args=[unsubscribe_token(member_id=notice.recipient_id, kind=notice.kind)],
        )
        context["unsubscribe_url"] = url
        context["kind_label"] = NoticeKind(notice.kind).label
        # RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this address.
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = templated_email(
        letter.template, context, to=[notice.recipient.email], headers=headers, connection=connection
    )
    for filename, content, mimetype in letter.attachments:
        message.attach(filename, content, mimetype)
    return message


REFUSED = "The mail server refused the address; it is marked undeliverable."


def _permanently_refused(error: smtplib.SMTPRecipientsRefused) -> bool:
    """A 5xx reply for every recipient is final (no such mailbox); a 4xx is worth a retry."""
    codes = [reply[0] for reply in error.recipients.values() if isinstance(reply, tuple) and reply]
    return bool(codes) and all(isinstance(code, int) and code >= 500 for code in codes)


def _letters(notices: list[Notice]) -> dict[int, "Letter | str"]:
    by_kind: dict[str, list[Notice]] = defaultdict(list)
    for notice in notices:
        by_kind[notice.kind].append(notice)
    letters: dict[int, Letter | str] = {}
    for kind, group in by_kind.items():
        writer = _letter_writers.get(kind)
        if writer is None:
            letters.update({notice.pk: f"Nothing knows how to write a {kind} notice." for notice in group})
            continue
        letters.update(writer(group))
    return letters


def _sent_record(notice_id: int) -> None:
    """The mail server accepted it: recorded at once (one UPDATE, committed), whoever holds
    the claim now, so that no later claimant sends it again.

    On PostgreSQL, outside any other transaction, in one round trip and without waiting for
    the disk (synchronous_commit off for this one transaction, as verification_record):
    the row is visible to every other session at once, which is what stops a second send
    after a worker is killed; only a crash of the database server itself can lose the last
    moment's records (about 0.6 s: those messages would go twice, same Message-ID).
    Waiting for the flush cost several times the rest of the message's work.
    """
    now = timezone.now()
    if not _may_commit_without_flush():
        Notice.objects.filter(pk=notice_id).exclude(status=NoticeStatus.SENT).update(
            status=NoticeStatus.SENT, sent_at=now, outcome=""
        )
        return
    meta = Notice._meta
    quote = connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column) for name in ("status", "sent_at", "outcome", "id")}
    # The names are the model's own, quoted; the values go as parameters.
    update = (
        f"UPDATE {quote(meta.db_table)} SET {column['status']} = %s, {column['sent_at']} = %s, "  # noqa: S608
        f"{column['outcome']} = '' WHERE {column['id']} = %s AND {column['status']} <> %s"
    )
    with connection.cursor() as cursor:
        try:
            cursor.execute(
                f"BEGIN; SET LOCAL synchronous_commit TO OFF; {update}; COMMIT",
                [NoticeStatus.SENT, now, notice_id, NoticeStatus.SENT],
            )
        except DatabaseError:
            # The BEGIN above left a failed transaction open that Django does not know of.
            cursor.execute("ROLLBACK")
            raise


def _may_commit_without_flush() -> bool:
    options = connection.settings_dict.get("OPTIONS") or {}
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and not options.get("server_side_binding")
    )


def _claims_renew(notice_ids: list[int], *, claimant: str) -> set[int]:
    """claimed_at = now on the rows this batch still holds; returns them (a claim that lapsed
    while this worker was stalled may have been taken, and is then not sent from here)."""
    mine = Notice.objects.filter(pk__in=notice_ids, status=NoticeStatus.SENDING, claimed_by=claimant)
    mine.update(claimed_at=timezone.now())
    return set(mine.values_list("pk", flat=True))


def notices_send(notice_ids: list[int], *, claimant: str | None = None) -> SendReport:
    """Send what is claimable among these notices. Safe to call twice, or from two workers."""
    claimant = claimant or uuid.uuid4().hex
    now = timezone.now()
    report = SendReport()
    notices = _claim(list(notice_ids), claimant=claimant, now=now)
    if not notices:
        return report
    try:
        report.skipped.update(_undeliverable_reasons(notices))
        deliverable = [notice for notice in notices if notice.pk not in report.skipped]
        letters = _letters(deliverable) if deliverable else {}
        renewed_at = time.monotonic()
        renew_every = NOTICE_CLAIM_RENEW_EVERY.total_seconds()
        held: set[int] | None = None  # None: all of them, as claimed
        connection = get_connection()
        with connection:
            for position, notice in enumerate(deliverable):
                if time.monotonic() - renewed_at >= renew_every:
                    held = _claims_renew([n.pk for n in deliverable[position:]], claimant=claimant)
                    renewed_at = time.monotonic()
                if held is not None and notice.pk not in held:
                    continue  # taken by another claimant after this batch's lease lapsed
                letter = letters.get(notice.pk, "Nothing to send.")
                if isinstance(letter, str):
                    report.skipped[notice.pk] = letter
                    continue
                try:
                    _message(notice, letter, connection=connection).send()
                except SoftTimeLimitExceeded:
                    raise  # out of time: stop here, so that what was sent is recorded
                except smtplib.SMTPRecipientsRefused as error:
                    if not _permanently_refused(error):
                        report.failed[notice.pk] = f"{type(error).__name__}: {error}"[:300]
                        continue
                    # Trying again will not help, and nothing more should go there.
                    email_address_problem_record(email=notice.recipient.email, reason=str(error.recipients))
                    report.skipped[notice.pk] = REFUSED
                except Exception as error:  # one bad message must not stop the batch
                    logger.warning("Notice %s not sent: %s", notice.pk, error)
                    report.failed[notice.pk] = f"{type(error).__name__}: {error}"[:300]
                else:
                    report.sent.append(notice.pk)
                    _sent_record(notice.pk)
    except Exception as error:
        # The mail server could not be reached, or the task ran out of time: what was not
        # sent is tried again later.
        logger.exception("Notice batch stopped: %s", error)
        unfinished = {notice.pk for notice in notices} - set(report.sent) - set(report.skipped)
        report.failed.update(
            {pk: f"{type(error).__name__}: {error}"[:300] for pk in unfinished if pk not in report.failed}
        )
    finally:
        _outcomes_record(report, notices=notices, claimant=claimant)
    return report


def _outcomes_record(report: SendReport, *, notices: list[Notice], claimant: str) -> None:
    now = timezone.now()
    mine = Notice.objects.filter(status=NoticeStatus.SENDING, claimed_by=claimant)
    # What was sent is already recorded, message by message (_sent_record).
    skipped_by_reason: dict[str, list[int]] = defaultdict(list)
    for pk, reason in report.skipped.items():
        skipped_by_reason[reason].append(pk)
    for reason, pks in skipped_by_reason.items():
        logger.info("Notices %s skipped: %s", pks, reason)
        mine.filter(pk__in=pks).update(status=NoticeStatus.SKIPPED, outcome=reason[:300])
    attempts = {notice.pk: notice.attempts for notice in notices}
    # One update per (tries so far, error): each row keeps its own error.
    failed_by_attempts: dict[tuple[int, str], list[int]] = defaultdict(list)
    for pk, outcome in report.failed.items():
        failed_by_attempts[attempts[pk], outcome[:300]].append(pk)
    for (attempt, outcome), pks in failed_by_attempts.items():
        if attempt >= NOTICE_MAX_ATTEMPTS:
            logger.error("Notices %s failed after %s tries: %s", pks, attempt, outcome)
            mine.filter(pk__in=pks).update(status=NoticeStatus.FAILED, outcome=outcome)
        else:
            wait = NOTICE_BACKOFF[min(attempt, len(NOTICE_BACKOFF)) - 1]
            mine.filter(pk__in=pks).update(
                status=NoticeStatus.PENDING,
                next_attempt_at=now + wait,
                enqueued_at=None,
                claimed_by="",
                outcome=outcome,
            )


# --- Staff and members -------------------------------------------------------------------


@transaction.atomic
def notices_retry(*, notice_ids: list[int]) -> list[int]:
    """Staff send failed notices again (from a fresh count of tries)."""
    ids = list(
        Notice.objects.filter(pk__in=notice_ids, status=NoticeStatus.FAILED).values_list("pk", flat=True)
    )
    Notice.objects.filter(pk__in=ids).update(
        status=NoticeStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        enqueued_at=None,
        claimed_by="",
    )
    notices_send_on_commit(ids)
    return ids


@transaction.atomic
def notice_preferences_set(*, member, muted_kinds: Iterable[str]) -> None:
    muted_kinds = set(muted_kinds)
    if not muted_kinds <= set(MUTABLE_NOTICE_KINDS):
        raise ValidationError("Some of those messages cannot be turned off.")
    NoticeMute.objects.filter(member=member).exclude(kind__in=muted_kinds).delete()
    now = timezone.now()
    NoticeMute.objects.bulk_create(
        [NoticeMute(member=member, kind=kind, created_at=now) for kind in sorted(muted_kinds)],
        ignore_conflicts=True,
    )


def notice_mute(*, member_id: int, kind: str) -> None:
    """Turn one kind off (from an unsubscribe link). Doing it twice changes nothing."""
    if kind not in MUTABLE_NOTICE_KINDS:
        raise ValidationError("That kind of message cannot be turned off.")
    if not get_user_model().objects.filter(pk=member_id).exists():
        raise ValidationError("There is no such member.")
    NoticeMute.objects.get_or_create(member_id=member_id, kind=kind, defaults={"created_at": timezone.now()})


def email_address_problem_record(*, email: str, reason: str) -> None:
    """A bounce or a refusal: stop writing to this address until the member changes it."""
    EmailAddressProblem.objects.update_or_create(
        email=email.lower(), defaults={"reason": reason[:300], "recorded_at": timezone.now()}
    )
