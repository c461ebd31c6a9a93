"""Writes of the imports app: checking a file (which writes only the import's own row),
confirming it (all rows in one transaction, or none), inviting the members it created, and
activating them once they have set a password and consented.

A file's rows are read by imports.parsing and each is checked by MemberImportRowForm against
what member_import_lookups read once for the whole file: the check costs a fixed number of
queries whatever the file's length, and the preview writes nothing but the import's own row."""

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from config.celery import task_named
from config.emails import templated_email
from imports.forms import COLUMN_LABELS, MemberImportRowForm, RowPlan
from imports.models import ImportedMember, MemberImport, MemberImportStatus
from imports.parsing import import_file_read
from imports.selectors import ImportLookups, member_import_lookups
from members.models import Profile, User
from members.permissions import Role
from members.selectors import member_onboarding_state
from members.services import user_assign_role
from members.signals import member_name_changed_announce, member_place_changed_announce
from training.models import Cohort
from training.services.enrolment import enrolment_apply

logger = logging.getLogger(__name__)

# How long a checked file waits for confirmation; then its rows are deleted.
IMPORT_EXPIRES_AFTER = timedelta(hours=24)

OUTCOME_NEW, OUTCOME_UPDATED, OUTCOME_UNCHANGED, OUTCOME_INVALID = "new", "updated", "unchanged", "invalid"


class ImportRefused(Exception):
    """Confirming found rows that no longer pass, or differ from what the check showed."""


@dataclass
class Checked:
    preview: list[dict]  # one entry a row, as the preview page shows it
    counts: dict[str, int]  # rows by outcome
    plans: dict[int, RowPlan]  # row number -> what confirming it does, for rows that change something

    def refuse_row(self, number: int, messages: list[str]) -> None:
        """A row that passed the check but could not be written: shown as invalid."""
        entry = self.preview[number - 1]
        self.counts[entry["outcome"]] -= 1
        self.counts[OUTCOME_INVALID] += 1
        entry.update(
            outcome=OUTCOME_INVALID, errors=[["", message] for message in messages], changes=[], notes=[]
        )


def _duplicates_find(rows: list[dict]) -> dict[int, dict[str, str]]:
    """Row number -> column -> message, for each row repeating an email or a membership
    number of an earlier row (ignoring case): each member once."""
    found: dict[int, dict[str, str]] = {}
    for column in ("email", "membership_number"):
        values = [str(row.get(column) or "").strip().lower() for row in rows]
        counts = Counter(value for value in values if value)
        first_seen: dict[str, int] = {}
        for number, value in enumerate(values, 1):
            if not value or counts[value] < 2:
                continue
            if value in first_seen:
                found.setdefault(number, {})[column] = _("Same as row %(row)s: each member once.") % {
                    "row": first_seen[value]
                }
            else:
                first_seen[value] = number
    return found


def _row_check(row: dict, *, lookups: ImportLookups, duplicates: dict[str, str]):
    """A row's plan (None if it has errors) and its errors by column."""
    try:
        member = lookups.member_match(row)
    except ValidationError as error:
        return None, error.message_dict  # two members named: nothing more to say about the row
    form = MemberImportRowForm(row, lookups=lookups, member=member)
    errors = {column: [message] for column, message in duplicates.items()}
    for column, messages in form.errors.items():
        errors.setdefault(column, []).extend(messages)
    return form.plan, errors


def member_import_rows_check(*, rows: list[dict], cohort: Cohort | None) -> Checked:
    """Check every row of a file without writing anything: what each would do, or its errors."""
    lookups = member_import_lookups(rows=rows, cohort=cohort)
    duplicates = _duplicates_find(rows)
    preview: list[dict] = []
    counts = dict.fromkeys((OUTCOME_NEW, OUTCOME_UPDATED, OUTCOME_UNCHANGED, OUTCOME_INVALID), 0)
    plans: dict[int, RowPlan] = {}
    for number, row in enumerate(rows, 1):
        plan, errors = _row_check(row, lookups=lookups, duplicates=duplicates.get(number, {}))
        if errors:
            outcome = OUTCOME_INVALID
        elif plan.is_new:
            outcome = OUTCOME_NEW
        elif plan.changes:
            outcome = OUTCOME_UPDATED
        else:
            outcome = OUTCOME_UNCHANGED
        counts[outcome] += 1
        if outcome in (OUTCOME_NEW, OUTCOME_UPDATED):
            plans[number] = plan
        valid = outcome != OUTCOME_INVALID
        preview.append(
            {
                "n": number,
                "email": str(row.get("email") or "")[:254],
                "name": f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()[:300],
                "outcome": outcome,
                "errors": [
                    [str(COLUMN_LABELS.get(column, column)), str(message)]
                    for column, messages in errors.items()
                    for message in messages
                ],
                "changes": [str(COLUMN_LABELS.get(change, change)) for change in plan.changes]
                if valid
                else [],
                "notes": [str(note) for note in plan.notes] if valid else [],
            }
        )
    return Checked(preview=preview, counts=counts, plans=plans)


def member_imports_expire(*, now=None) -> int:
    """Delete the rows of checked files never confirmed in time: only the counts stay."""
    now = now or timezone.now()
    return MemberImport.objects.filter(status=MemberImportStatus.PREVIEWED, expires_at__lte=now).update(
        status=MemberImportStatus.EXPIRED, rows=[], preview=[]
    )


def member_import_check(*, actor: User, name: str, data: bytes, cohort: Cohort | None) -> MemberImport:
    """Read and check a file without changing any member: the result is kept privately on an
    import row for the preview. Raises ImportFileError when the file cannot be read at all."""
    member_imports_expire()
    parsed = import_file_read(name=name, data=data)
    checked = member_import_rows_check(rows=parsed.rows, cohort=cohort)
    now = timezone.now()
    return MemberImport.objects.create(
        created_by=actor,
        created_at=now,
        expires_at=now + IMPORT_EXPIRES_AFTER,
        file_name=name[:200],
        file_sha256=hashlib.sha256(data).hexdigest(),
        file_format=parsed.read_as,
        cohort=cohort,
        rows=parsed.rows,
        preview=checked.preview,
        rows_total=len(parsed.rows),
        rows_new=checked.counts[OUTCOME_NEW],
        rows_updated=checked.counts[OUTCOME_UPDATED],
        rows_unchanged=checked.counts[OUTCOME_UNCHANGED],
        rows_invalid=checked.counts[OUTCOME_INVALID],
    )


@transaction.atomic
def member_import_confirm(*, member_import: MemberImport, actor: User) -> MemberImport:
    """Staff confirm a checked file: the import is marked as being written, and a worker
    writes it (member_import_write) once this commits. A large file takes minutes to write,
    more than a web request should wait."""
    locked = MemberImport.objects.select_for_update(of=("self",)).get(pk=member_import.pk)
    if locked.status != MemberImportStatus.PREVIEWED or locked.expires_at <= timezone.now():
        raise ValidationError(_("This import can no longer be confirmed. Upload the file again."))
    if not locked.can_confirm:
        raise ValidationError(_("Correct the rows with errors and upload the file again."))
    locked.status = MemberImportStatus.CONFIRMING
    locked.confirmed_by = actor
    locked.write_enqueued_at = timezone.now()
    locked.save(update_fields=["status", "confirmed_by", "write_enqueued_at"])
    transaction.on_commit(partial(member_import_write_enqueue, member_import_id=locked.pk))
    return locked


def _write_lease() -> timedelta:
    return timedelta(seconds=settings.MEMBER_IMPORT_WRITE_LEASE_SECONDS)


def member_import_write_enqueue(*, member_import_id: int) -> bool:
    """Hand the write of a confirmed import to a worker. If the broker cannot be reached the
    import stays confirming, marked as not handed over, and the sweep asks again: the staff
    member's request does not fail for it. Returns whether it was handed over."""
    MemberImport.objects.filter(pk=member_import_id, status=MemberImportStatus.CONFIRMING).update(
        write_enqueued_at=timezone.now()
    )
    try:
        task_named("imports.member_import_write").delay(member_import_id)
    except Exception as error:  # noqa: BLE001 - whatever the broker raised, the sweep retries
        logger.warning(
            "Member import %s not handed to a worker; the sweep retries: %r", member_import_id, error
        )
        MemberImport.objects.filter(pk=member_import_id, status=MemberImportStatus.CONFIRMING).update(
            write_enqueued_at=None
        )
        return False
    return True


def member_invitations_enqueue(*, member_import_id: int) -> None:
    """Hand the invitations of a written import to a worker. If the broker cannot be reached
    (or, with tasks run inline, the sending failed), the invitations stay owed and the sweep
    sends them (member_invitations_sweep): the write is done either way. Not a robust
    on_commit callback wrapped in partial: Django names a failing robust callback by its
    __qualname__, which a partial lacks."""
    try:
        task_named("imports.member_invitations_send").delay(member_import_id)
    except Exception as error:  # noqa: BLE001 - whatever the broker or the task raised, the sweep sends
        logger.warning("Invitations of member import %s left to the sweep: %r", member_import_id, error)


def member_imports_stuck(*, now=None):
    """Imports confirming with no worker on them for longer than the lease: never handed to
    the broker, or handed over that long ago (the message lost, say, in a Redis restart)."""
    now = now or timezone.now()
    return MemberImport.objects.filter(status=MemberImportStatus.CONFIRMING).filter(
        Q(write_enqueued_at__isnull=True) | Q(write_enqueued_at__lte=now - _write_lease())
    )


def member_imports_confirming_sweep(*, now=None) -> int:
    """Hand again to a worker each import confirming but not handed over, or handed over
    longer than the lease ago. An import a worker is writing right now is left alone: its
    row is locked for the whole write (member_import_write), and the sweep skips locked rows
    (on PostgreSQL; elsewhere a second write waits, then finds nothing to do). Writing twice
    is harmless anyway: only an import still confirming is written. Returns how many were
    handed over."""
    handed = 0
    for import_id in list(member_imports_stuck(now=now).order_by("pk").values_list("pk", flat=True)[:100]):
        with transaction.atomic():
            idle = (
                member_imports_stuck(now=now)
                .select_for_update(skip_locked=True)
                .filter(pk=import_id)
                .values_list("pk", flat=True)
                .first()
            )
        if idle is not None:
            handed += int(member_import_write_enqueue(member_import_id=import_id))
    return handed


def member_import_write(*, member_import_id: int) -> MemberImport | None:
    """Write every row of a confirmed file in one transaction, or none of them. Safe to run
    twice: only an import still marked as being written is written.

    The rows are checked again against the database as it is now; if any fails, or the counts
    differ from what the preview showed (someone signed up meanwhile, say), nothing is written
    and the import is marked refused with the new findings."""
    try:
        with transaction.atomic():
            # Only the import's row: PostgreSQL refuses FOR UPDATE across the outer join to the cohort.
            locked = (
                MemberImport.objects.select_for_update(of=("self",))
                .select_related("cohort__version", "confirmed_by")
                .filter(pk=member_import_id, status=MemberImportStatus.CONFIRMING)
                .first()
            )
            if locked is None:
                return None
            checked = member_import_rows_check(rows=locked.rows, cohort=locked.cohort)
            expected = {
                OUTCOME_NEW: locked.rows_new,
                OUTCOME_UPDATED: locked.rows_updated,
                OUTCOME_UNCHANGED: locked.rows_unchanged,
                OUTCOME_INVALID: 0,
            }
            if checked.counts != expected:
                raise ImportRefused(checked)
            invited_ids = _rows_write(checked=checked, member_import=locked)
            locked.status = MemberImportStatus.CONFIRMED
            locked.confirmed_at = timezone.now()
            locked.rows = []
            locked.preview = []
            locked.save(update_fields=["status", "confirmed_at", "rows", "preview"])
            audit_record(
                actor=locked.confirmed_by,
                action=AuditAction.MEMBERS_IMPORTED,
                obj=locked,
                label=f"Member import {locked.pk}",
                # Counts only: the members' own data stays out of the trail.
                changes={
                    "rows": locked.rows_total,
                    "new": locked.rows_new,
                    "updated": locked.rows_updated,
                    "unchanged": locked.rows_unchanged,
                    "cohort": locked.cohort_id,
                    "file_sha256": locked.file_sha256,
                },
            )
            if invited_ids:
                transaction.on_commit(partial(member_invitations_enqueue, member_import_id=locked.pk))
            return locked
    except ImportRefused as refused:
        checked = refused.args[0]
        MemberImport.objects.filter(pk=member_import_id, status=MemberImportStatus.CONFIRMING).update(
            status=MemberImportStatus.REFUSED,
            rows=[],
            preview=checked.preview,
            rows_new=checked.counts[OUTCOME_NEW],
            rows_updated=checked.counts[OUTCOME_UPDATED],
            rows_unchanged=checked.counts[OUTCOME_UNCHANGED],
            rows_invalid=checked.counts[OUTCOME_INVALID],
        )
        return MemberImport.objects.get(pk=member_import_id)
    except Exception:
        # Nothing was written (the transaction rolled back): staff may confirm again.
        logger.exception("Member import %s could not be written", member_import_id)
        MemberImport.objects.filter(pk=member_import_id, status=MemberImportStatus.CONFIRMING).update(
            status=MemberImportStatus.PREVIEWED
        )
        raise


def _rows_write(*, checked: Checked, member_import: MemberImport) -> list[int]:
    """Write the rows a check planned, inside the confirm's transaction, with no savepoint:
    a row that fails (a constraint another writer reached first) refuses the whole import.
    Accounts and profiles are saved one by one, since other apps act on their saving, and
    roles are given through members' service, which records them; the unverified addresses
    and the import's own records are written together. Returns the ids of the members to invite."""
    actor, cohort = member_import.confirmed_by, member_import.cohort
    created: list[ImportedMember] = []
    held: list[int] = []
    placed: list[int] = []  # members whose profile was made or moved
    for number, plan in checked.plans.items():
        try:
            if plan.is_new:
                user = _member_create(plan=plan, actor=actor)
                placed.append(user.pk)
                created.append(
                    ImportedMember(
                        user=user,
                        member_import=member_import,
                        consent_evidence_date=plan.consent_date,
                        consent_evidence_source=plan.consent_source,
                        cohort=cohort if "hold" in plan.changes else None,
                    )
                )
            else:
                if _member_update(plan=plan):
                    placed.append(plan.member.pk)
                if "hold" in plan.changes:
                    held.append(plan.member.pk)
                if "enrol" in plan.changes:
                    enrolment_apply(cohort=cohort, member=plan.member)
        except ValidationError as error:
            checked.refuse_row(number, error.messages)
            raise ImportRefused(checked) from error
        except IntegrityError as error:
            logger.warning("Member import %s row %s failed: %r", member_import.pk, number, error)
            checked.refuse_row(
                number, [_("This row could not be saved: %(error)s") % {"error": type(error).__name__}]
            )
            raise ImportRefused(checked) from error
    # Reporting's read model follows every place made or moved here, told once for them all.
    if placed:
        member_place_changed_announce(user_ids=placed)
    # The address waits for proof: using the invitation's link proves it.
    EmailAddress.objects.bulk_create(
        EmailAddress(user=imported.user, email=imported.user.email, primary=True, verified=False)
        for imported in created
    )
    ImportedMember.objects.bulk_create(created)
    if held:
        ImportedMember.objects.filter(
            user_id__in=held, activated_at__isnull=True, cohort__isnull=True
        ).update(cohort=cohort)
    return [imported.user_id for imported in created]


def _member_create(*, plan: RowPlan, actor: User) -> User:
    """A new member's account, trainee role and profile (its address: _rows_write)."""
    user = User(email=plan.email, first_name=plan.first_name, last_name=plan.last_name)
    user.set_unusable_password()  # they choose their own, from the invitation
    # The row was checked against the database in this transaction (member_import_lookups);
    # the database's own constraints stand behind it. No lookups per row here.
    user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    user.save(force_insert=True)
    user_assign_role(user=user, role=Role.TRAINEE, actor=actor)
    _profile_write(user=user, plan=plan, profile=None)
    return user


def _member_update(*, plan: RowPlan) -> bool:
    """An existing member: only the blanks the check planned to fill. Returns whether their
    profile was made or moved (announced by _rows_write for all rows at once)."""
    member = plan.member
    filled = [column for column in ("first_name", "last_name") if column in plan.changes]
    for column in filled:
        setattr(member, column, getattr(plan, column))
    if filled:
        member.save(update_fields=filled)
        member_name_changed_announce(user_ids=[member.pk])
    if {"profile", "constituency", "membership_number"} & set(plan.changes):
        _profile_write(user=member, plan=plan, profile=getattr(member, "profile", None))
        return True
    return False


def _profile_write(*, user: User, plan: RowPlan, profile: Profile | None) -> None:
    fields = []
    if profile is None:
        profile = Profile(user=user, region=plan.constituency.region, constituency=plan.constituency)
        profile.membership_number = plan.membership_number
    else:
        if "constituency" in plan.changes:
            profile.constituency = plan.constituency
            fields.append("constituency")
        if "membership_number" in plan.changes:
            profile.membership_number = plan.membership_number
            fields.append("membership_number")
    # The fields' own rules only: the foreign keys and uniqueness were checked with the row, and
    # the database enforces them (four lookups a member fewer).
    profile.full_clean(
        exclude=["user", "region", "constituency"], validate_unique=False, validate_constraints=False
    )
    if fields:
        profile.save(update_fields=[*fields, "updated_at"])
    else:
        profile.save()


# --- Invitations ------------------------------------------------------------------------


def invitation_link(*, user: User) -> str:
    """allauth's password-reset link: signed, it expires after PASSWORD_RESET_TIMEOUT and
    stops working once a password is set (the token hashes the password)."""
    key = default_token_generator.make_token(user)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key})
    return settings.SITE_URL + path


def _invitation_message(imported: ImportedMember, *, connection) -> EmailMultiAlternatives:
    user = imported.user
    context = {
        "recipient": user,
        "set_password_url": invitation_link(user=user),
        "consent_url": settings.SITE_URL + reverse("members:consent"),
        "reset_url": settings.SITE_URL + reverse("account_reset_password"),
        "link_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "cohort": imported.cohort,
        "site_url": settings.SITE_URL,
        "preferences_url": settings.SITE_URL + reverse("training:notice-preferences"),
        "unsubscribe_url": "",
    }
    return templated_email(
        "imports/email/invitation",
        context,
        to=[user.email],
        headers={"Message-ID": f"<invitation-{imported.pk}@{settings.NOTICE_MESSAGE_ID_DOMAIN}>"},
        connection=connection,
    )


def _invitation_lease() -> timedelta:
    """A claim on an invitation older than this belongs to a worker that died: send again."""
    return timedelta(seconds=settings.MEMBER_INVITATION_CLAIM_LEASE_SECONDS)


def member_invitations_send(*, member_import_id: int) -> int:
    """Invite the members an import created. Safe to run twice or in two workers: each
    invitation is claimed in one UPDATE before it is sent, and marked sent after; the
    claims still unsent are renewed every third of the lease, so a long import is never
    taken over by the sweep while its worker lives."""
    now = timezone.now()
    lease = _invitation_lease()
    claimable = Q(invited_at__isnull=True) & (
        Q(invitation_claimed_at__isnull=True) | Q(invitation_claimed_at__lt=now - lease)
    )
    ids = list(
        ImportedMember.objects.filter(claimable, member_import_id=member_import_id).values_list(
            "pk", flat=True
        )
    )
    claimed = []
    for pk in ids:  # one UPDATE each: a row another worker took in between is left to it
        if ImportedMember.objects.filter(claimable, pk=pk).update(invitation_claimed_at=now):
            claimed.append(pk)
    sent = 0
    renewed_at = now
    try:
        connection = get_connection()
        with connection:
            for imported in ImportedMember.objects.filter(pk__in=claimed).select_related("user", "cohort"):
                if timezone.now() - renewed_at > lease / 3:
                    renewed_at = timezone.now()
                    ImportedMember.objects.filter(pk__in=claimed, invited_at__isnull=True).update(
                        invitation_claimed_at=renewed_at
                    )
                if not imported.user.is_active or imported.user.has_usable_password():
                    # Closed, or already in (a password set some other way): nothing to invite to.
                    ImportedMember.objects.filter(pk=imported.pk).update(invited_at=timezone.now())
                    continue
                _invitation_message(imported, connection=connection).send()
                ImportedMember.objects.filter(pk=imported.pk).update(invited_at=timezone.now())
                sent += 1
    except Exception:
        # Give back what was not sent, so that the task's retry (or the hourly sweep) sends it.
        ImportedMember.objects.filter(pk__in=claimed, invited_at__isnull=True).update(
            invitation_claimed_at=None
        )
        raise
    return sent


def member_invitations_stuck(*, now=None):
    """Invitations still owed a lease after their import was written, and not claimed by a
    live worker: what the sweep has not finished (integrity_check)."""
    now = now or timezone.now()
    lapsed = now - _invitation_lease()
    return ImportedMember.objects.filter(
        Q(invitation_claimed_at__isnull=True) | Q(invitation_claimed_at__lt=lapsed),
        invited_at__isnull=True,
        user__is_active=True,
        member_import__confirmed_at__lte=lapsed,
    )


def member_invitations_sweep() -> int:
    """Send invitations a task never finished (the task lost with the broker, the mail server
    down past its retries, or its worker killed): beat runs it every
    MEMBER_IMPORT_SWEEP_SECONDS. The imported member without `invited_at` is the owed state.
    Returns how many were sent."""
    lapsed = timezone.now() - _invitation_lease()
    import_ids = set(
        ImportedMember.objects.filter(invited_at__isnull=True, user__is_active=True)
        .filter(Q(invitation_claimed_at__isnull=True) | Q(invitation_claimed_at__lt=lapsed))
        .values_list("member_import_id", flat=True)
    )
    return sum(member_invitations_send(member_import_id=pk) for pk in sorted(import_ids))


# --- Activation ---------------------------------------------------------------------------


@transaction.atomic
def imported_member_activate(*, user: User) -> ImportedMember | None:
    """Once an imported member has set a password and agreed to the consent text themselves,
    they are active: the cohort place the import held for them is applied for now (enrolled,
    waitlisted or left for review by the cohort's own rules). Safe to call any number of times."""
    imported = ImportedMember.objects.select_for_update().filter(user=user, activated_at__isnull=True).first()
    if imported is None:
        return None
    user = User.objects.get(pk=user.pk)
    if not user.has_usable_password() or not member_onboarding_state(user=user).has_current_consent:
        return None
    imported.activated_at = timezone.now()
    fields = ["activated_at"]
    if imported.cohort_id:
        cohort = Cohort.objects.get(pk=imported.cohort_id)
        try:
            with transaction.atomic():
                enrolment = enrolment_apply(cohort=cohort, member=user)
        except ValidationError as error:
            # The cohort closed or the member applied elsewhere: their consent still stands.
            imported.placement_outcome = "; ".join(error.messages)[:200]
        else:
            imported.placement_outcome = enrolment.get_status_display()[:200]
        fields.append("placement_outcome")
    imported.save(update_fields=fields)
    return imported


def imported_member_email_verified(*, user: User) -> None:
    """The invitation reached the member's address and they used its link: the address is
    proven, as allauth's own confirmation would prove it."""
    if ImportedMember.objects.filter(user=user).exists():
        EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
