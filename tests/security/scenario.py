"""One small world with every kind of object a URL can point at, and the people around it.

The objects a URL's arguments point at belong to cohort A (region A) and its trainee; the
"other" people belong to cohort B (region B), so that each may be tried against objects
that are not theirs.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from certification.models import RegistryEntry, TargetScope
from certification.services.certificates import certificate_issue_manually
from certification.services.registry import local_action_create
from certification.services.targets import target_create
from members.models import Constituency, Profile, Region
from members.permissions import Role
from tests.factories import (
    PDF,
    AssignmentFactory,
    CohortFactory,
    EnrolmentFactory,
    ModuleFactory,
    SessionFactory,
    SubmissionFactory,
    UserFactory,
    VersionFactory,
    levels_chosen,
    rubric_add,
)
from training.models import (
    CohortStatus,
    EnrolmentStatus,
    Material,
    MaterialKind,
    Notice,
    NoticeKind,
    Outcome,
    SubmissionFile,
    VersionStatus,
)
from training.services.calendar import calendar_feed_rotate
from training.services.marking import mark_save, moderation_request
from training.services.notices import notices_create, reply_token, unsubscribe_token
from webhooks.crypto import secret_encrypt, secret_new
from webhooks.models import Delivery, DeliveryStatus, Endpoint, EventType

# The roles every URL is tried as, in the order the table's columns use.
ROLES = (
    "anonymous",
    "trainee",
    "trainee_other",
    "trainer",
    "trainer_other",
    "regional",
    "regional_other",
    "national",
)


@dataclass
class Scenario:
    users: dict = field(default_factory=dict)  # role name -> User (no entry for anonymous)
    objects: dict = field(default_factory=dict)  # name -> object a URL points at

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None


def _member(role: Role, region: Region, constituency: Constituency | None = None, **kwargs):
    user = UserFactory(role=role, staff_region=region, **kwargs)
    Profile.objects.filter(user=user).update(region=region, constituency=constituency)
    return user


def scenario_build() -> Scenario:
    """Everything the URLconf's arguments need (about 60 rows; a fraction of a second)."""
    call_command("load_seeds", verbosity=0)
    s = Scenario()
    region_a, region_b = Region.objects.order_by("pk")[:2]
    seat_a = Constituency.objects.filter(region=region_a).first()

    users = s.users
    users["trainee"] = _member(Role.TRAINEE, region_a, seat_a, first_name="Ada", last_name="Trainee")
    users["trainee_other"] = _member(Role.TRAINEE, region_b, first_name="Ben", last_name="Other")
    users["trainer"] = _member(Role.TRAINER, region_a, first_name="Tia", last_name="Trainer")
    users["trainer_other"] = _member(Role.TRAINER, region_b, first_name="Tom", last_name="Other")
    users["regional"] = _member(Role.REGIONAL_STAFF, region_a, first_name="Rae", last_name="Regional")
    users["regional_other"] = _member(Role.REGIONAL_STAFF, region_b, first_name="Rob", last_name="Other")
    users["national"] = _member(Role.NATIONAL_STAFF, region_a, first_name="Nia", last_name="National")
    national = users["national"]

    # Cohort A (region A): the one the URLs point at. Cohort B: the others'.
    version = VersionFactory()
    module = ModuleFactory(version=version)
    assignment = AssignmentFactory(module=module)
    rubric_add(assignment, criteria=2)
    second_assignment = AssignmentFactory(module=module)
    rubric_add(second_assignment, criteria=2)
    # Nothing handed in yet: the trainee may write and upload a draft.
    open_assignment = AssignmentFactory(module=module, accepted_file_types="pdf,png")
    cohort = CohortFactory(
        version=version, region=region_a, trainers=[users["trainer"]], status=CohortStatus.RUNNING
    )
    cohort_other = CohortFactory(
        region=region_b, trainers=[users["trainer_other"]], status=CohortStatus.RUNNING
    )
    enrolment = EnrolmentFactory(cohort=cohort, member=users["trainee"])
    enrolment_other = EnrolmentFactory(cohort=cohort_other, member=users["trainee_other"])
    applicant = EnrolmentFactory(cohort=cohort, status=EnrolmentStatus.APPLIED, first_enrolled_at=None)
    session = SessionFactory(cohort=cohort)
    SessionFactory(cohort=cohort_other)
    # Cohort B's own work, so that its trainer has something to mark (not cohort A's).
    SubmissionFactory(enrolment=enrolment_other)

    # Handed-in work with a file, waiting to be marked; and marked work sent for a second look.
    submission = SubmissionFactory(enrolment=enrolment, assignment=assignment)
    submission_file = SubmissionFile.objects.create(
        submission=submission,
        file=ContentFile(PDF, name="essay.pdf"),
        original_name="essay.pdf",
        content_type="application/pdf",
        size=len(PDF),
    )
    marked = SubmissionFactory(enrolment=enrolment, assignment=second_assignment)
    first_mark = mark_save(
        submission=marked,
        marker=national,
        levels=levels_chosen(second_assignment, [Outcome.PASS, Outcome.PASS]),
        feedback="First mark.",
        seen_version=0,
    )
    (moderation,) = moderation_request(marks=[first_mark], second_marker=users["trainer"], actor=national)
    material = Material.objects.create(
        module=module,
        kind=MaterialKind.FILE,
        title="Notes",
        file=ContentFile(PDF, name="notes.pdf"),
        content_type="application/pdf",
        size=len(PDF),
    )

    # A draft version for the authoring pages (published content cannot be edited).
    draft = VersionFactory(programme=version.programme, status=VersionStatus.DRAFT, published_at=None)
    draft_module = ModuleFactory(version=draft)
    draft_assignment = AssignmentFactory(module=draft_module)
    (draft_criterion,) = rubric_add(draft_assignment, criteria=1)
    draft_material = Material.objects.create(
        module=draft_module, kind=MaterialKind.LINK, title="Reading", url="https://example.org/reading"
    )

    # The trainee's certificate from an earlier, finished programme: a registry entry with an action.
    finished = CohortFactory(
        region=region_a,
        status=CohortStatus.FINISHED,
        starts_on=timezone.localdate() - dt.timedelta(days=120),
        ends_on=timezone.localdate() - dt.timedelta(days=30),
    )
    completed = EnrolmentFactory(cohort=finished, member=users["trainee"], status=EnrolmentStatus.COMPLETED)
    certificate = certificate_issue_manually(enrolment=completed, actor=national, reason="Evidence.")
    entry = RegistryEntry.objects.get(member=users["trainee"])
    action = local_action_create(
        entry=entry,
        actor=users["trainee"],
        issue="Bus routes",
        organised_with="Tenants",
        what_happened="A petition.",
        outcome="",
        started_on=timezone.localdate() - dt.timedelta(days=10),
        ended_on=None,
    )

    target = target_create(
        scope=TargetScope.REGION,
        region=region_a,
        leaders=50,
        deadline=timezone.localdate() + dt.timedelta(days=365),
        actor=national,
    )
    (notice_id,) = notices_create(
        kind=NoticeKind.SESSION_REMINDER, subject=f"session:{session.pk}", recipient_ids=[users["trainee"].pk]
    )
    feed = calendar_feed_rotate(member=users["trainee"])

    s.objects.update(
        region=region_a,
        region_other=region_b,
        programme=version.programme,
        version=version,
        module=module,
        assignment=assignment,
        open_assignment=open_assignment,
        cohort=cohort,
        cohort_other=cohort_other,
        enrolment=enrolment,
        applicant=applicant,
        session=session,
        submission=submission,
        submission_file=submission_file,
        moderation=moderation,
        material=material,
        draft=draft,
        draft_module=draft_module,
        draft_assignment=draft_assignment,
        draft_criterion=draft_criterion,
        draft_material=draft_material,
        certificate=certificate,
        entry=entry,
        action=action,
        target=target,
        notice=Notice.objects.get(pk=notice_id),
        reply_token=reply_token(notice_id=notice_id),
        unsubscribe_token=unsubscribe_token(member_id=users["trainee"].pk, kind=NoticeKind.SESSION_REMINDER),
        feed_token=feed.token,
    )
    # A webhook endpoint taking no events (so nothing the tests do writes deliveries to it),
    # with one given-up test delivery that staff may send again.
    webhook_endpoint = Endpoint.objects.create(
        url="https://hooks.example.org/fl", events=[], secret_encrypted=secret_encrypt(secret_new())
    )
    webhook_delivery = Delivery.objects.create(
        endpoint=webhook_endpoint,
        event_type=EventType.PING,
        payload={},
        status=DeliveryStatus.GAVE_UP,
        attempts=6,
        next_attempt_at=timezone.now(),
    )
    s.objects.update(webhook_endpoint=webhook_endpoint, webhook_delivery=webhook_delivery)
    s.objects.update(**_cohort_message_objects(s))
    return s


def _cohort_message_objects(s: Scenario) -> dict:
    """Cohort A's trainer wrote to those enrolled; the trainee replied in their thread."""
    from training.models import MessageAudience
    from training.services.messages import cohort_message_send, message_reply_add

    trainee = s.users["trainee"]
    message = cohort_message_send(
        cohort=s.cohort,
        author=s.users["trainer"],
        audience=MessageAudience.ENROLLED,
        subject="Week two",
        body="Bring a pen.",
        send_key=uuid.uuid4(),
    )
    thread = message.recipients.get(member=trainee)
    message_reply_add(thread=thread, author=trainee, body="Which pen?")
    return {"cohort_message": message, "message_thread": thread}
