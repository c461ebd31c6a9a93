"""factory-boy factories, one per model."""

import datetime as dt
import time

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.models import Group
from django.utils import timezone

from members.models import ConsentRecord, ConsentText, Constituency, Profile, Region, User
from members.permissions import ROLE_GROUP_NAMES, Role
from members.selectors import consent_text_current
from members.services import user_assign_role
from training.models import (
    Assignment,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Module,
    Outcome,
    Programme,
    ProgrammeVersion,
    RubricCriterion,
    RubricLevel,
    Session,
    SessionMode,
    Submission,
    SubmissionStatus,
    VersionStatus,
)
from training.services.cohorts import checkin_code_new
from training.signals import enrolments_changed_announce

PASSWORD = "correct-horse-battery-staple"
# Every trainer and staff member made here has an authenticator app with this secret
# (base32), so that signing in through the form can answer the code (`totp_code`).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
MFA_ROLES = {Role.TRAINER, Role.REGIONAL_STAFF, Role.NATIONAL_STAFF}


def totp_code(secret: str = TOTP_SECRET, *, at: float | None = None) -> str:
    """The code an authenticator app with `secret` shows at time `at` (default now)."""
    moment = time.time() if at is None else at
    return format_hotp_value(hotp_value(secret, int(moment) // 30))


# The smallest bytes that content sniffing takes for each kind of file.
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["ons_code"]

    ons_code = factory.Sequence(lambda n: f"E12{n:06d}")
    name = factory.Sequence(lambda n: f"Region {n}")
    nation = "england"


class ConstituencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Constituency

    ons_code = factory.Sequence(lambda n: f"E14{n:06d}")
    name = factory.Sequence(lambda n: f"Constituency {n}")
    region = factory.SubFactory(RegionFactory)


class ConsentTextFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentText
        django_get_or_create = ["version"]

    version = "test-1"
    body = "We hold your data to run the training."
    published_at = factory.LazyFunction(timezone.now)


class UserFactory(factory.django.DjangoModelFactory):
    """A member who has finished onboarding: verified email, consent, profile, a role.

    `onboarding=False` leaves out the consent and the profile. Regional staff oversee their
    profile's region unless `staff_region=` says another. Trainers and staff (and
    superusers) get an authenticator app, as the site requires of them; `mfa=False` leaves
    it out, `mfa=True` gives one to anyone.
    """

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.org")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            user_assign_role(user=self, role=extracted or Role.TRAINEE)
            self._factory_role = extracted or Role.TRAINEE

    @factory.post_generation
    def mfa(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        if extracted or self._factory_role in MFA_ROLES or self.is_superuser:
            TOTP.activate(self, TOTP_SECRET)

    @factory.post_generation
    def onboarding(self, create, extracted, **kwargs):
        if not create:
            return
        self.save()
        EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
        if extracted is False:
            return
        text = consent_text_current() or ConsentTextFactory()
        ConsentRecord.objects.create(user=self, text=text, given_at=timezone.now())
        # profile_save would announce the new place; a member made this moment has no
        # enrolment or certificate whose copies could change (6 queries a user saved).
        Profile.objects.create(user=self, region=RegionFactory())

    @factory.post_generation
    def staff_region(self, create, extracted, **kwargs):
        """Regional staff oversee `staff_region=` if given, else the region of their profile
        (as the migration that separated the two gave existing staff)."""
        if not create or self._factory_role != Role.REGIONAL_STAFF:
            return
        region = extracted or getattr(Profile.objects.filter(user=self).first(), "region", None)
        if region is not None:
            User.objects.filter(pk=self.pk).update(staff_region=region)
            self.staff_region = region


# --- training ---------------------------------------------------------------------


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    slug = factory.Sequence(lambda n: f"programme-{n}")
    title = factory.Sequence(lambda n: f"Programme {n}")
    description = "Training in community organising."


class VersionFactory(factory.django.DjangoModelFactory):
    """A published version (pass status=VersionStatus.DRAFT, published_at=None for a draft)."""

    class Meta:
        model = ProgrammeVersion

    programme = factory.SubFactory(ProgrammeFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = VersionStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)
    min_attendance_percent = 75


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    version = factory.SubFactory(VersionFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Module {n}")
    summary = "What this module is about."
    learning_outcomes = "Explain the idea\nApply it locally"
    materials = "### Notes\n\nRead this before the session."


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    module = factory.SubFactory(ModuleFactory)
    title = factory.Sequence(lambda n: f"Assignment {n}")
    brief = "Write 500 words."
    due_offset_days = 14
    required_for_completion = True


class CohortFactory(factory.django.DjangoModelFactory):
    """An open cohort taking applications today, starting in a fortnight."""

    class Meta:
        model = Cohort
        skip_postgeneration_save = True

    version = factory.SubFactory(VersionFactory)
    name = factory.Sequence(lambda n: f"Cohort {n}")
    region = factory.SubFactory(RegionFactory)
    capacity = 10
    enrolment_opens_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=7))
    enrolment_closes_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=10))
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=84))
    status = CohortStatus.OPEN
    reviews_applications = False

    @factory.post_generation
    def trainers(self, create, extracted, **kwargs):
        if create and extracted:
            self.trainers.set(extracted)


class SessionFactory(factory.django.DjangoModelFactory):
    """An in-person session on the cohort's first day, 18:30-20:30 London time."""

    class Meta:
        model = Session

    cohort = factory.SubFactory(CohortFactory)
    title = factory.Sequence(lambda n: f"Session {n}")
    starts_at = factory.LazyAttribute(
        lambda o: timezone.make_aware(dt.datetime.combine(o.cohort.starts_on, dt.time(18, 30)))
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=2))
    mode = SessionMode.IN_PERSON
    venue = "Community Centre"
    address = "1 High Street"
    checkin_code = factory.LazyFunction(checkin_code_new)


class EnrolmentFactory(factory.django.DjangoModelFactory):
    """An enrolled trainee, announced as enrolment_apply announces it: reporting copies the
    member's place onto it."""

    class Meta:
        model = Enrolment
        skip_postgeneration_save = True

    cohort = factory.SubFactory(CohortFactory)
    member = factory.SubFactory(UserFactory)
    programme = factory.LazyAttribute(lambda o: o.cohort.version.programme)
    status = EnrolmentStatus.ENROLLED
    applied_at = factory.LazyFunction(timezone.now)
    status_changed_at = factory.LazyFunction(timezone.now)
    first_enrolled_at = factory.LazyAttribute(
        lambda o: (
            o.status_changed_at if o.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED) else None
        )
    )

    @factory.post_generation
    def announced(self, create, extracted, **kwargs):
        if create:
            enrolments_changed_announce(enrolment_ids=[self.pk], made=True)
            self.refresh_from_db(fields=["member_region", "member_constituency"])


def trainees_enrolled(cohort: Cohort, count: int) -> list[Enrolment]:
    """`count` trainees enrolled on `cohort`, as EnrolmentFactory makes them (a verified
    address, the consent, a profile, the trainee role, the enrolment and its copies of the
    member's place) but in a fixed number of queries: for the tests that need hundreds (the
    chaos runs: 299 one by one took 5 s of each run). Unlike the factory's, they share one
    region, and their role is given without an audit entry."""
    region = RegionFactory()
    text = consent_text_current() or ConsentTextFactory()
    now = timezone.now()
    users = User.objects.bulk_create(UserFactory.build_batch(count))  # names and password set
    trainee = Group.objects.get(name=ROLE_GROUP_NAMES[Role.TRAINEE])
    User.groups.through.objects.bulk_create(User.groups.through(user=user, group=trainee) for user in users)
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
    )
    ConsentRecord.objects.bulk_create(ConsentRecord(user=user, text=text, given_at=now) for user in users)
    Profile.objects.bulk_create(Profile(user=user, region=region) for user in users)
    enrolments = Enrolment.objects.bulk_create(
        Enrolment(
            cohort=cohort,
            member=user,
            programme_id=cohort.version.programme_id,
            status=EnrolmentStatus.ENROLLED,
            applied_at=now,
            status_changed_at=now,
            first_enrolled_at=now,
        )
        for user in users
    )
    enrolments_changed_announce(enrolment_ids=[enrolment.pk for enrolment in enrolments], made=True)
    return enrolments


# --- assessment -------------------------------------------------------------------

# Each criterion gets these levels, lowest first.
RUBRIC_LEVELS = [
    ("Missing", Outcome.FAIL),
    ("Not yet", Outcome.RESUBMIT),
    ("Meets the standard", Outcome.PASS),
]


class CriterionFactory(factory.django.DjangoModelFactory):
    """A criterion with the three RUBRIC_LEVELS."""

    class Meta:
        model = RubricCriterion
        skip_postgeneration_save = True

    assignment = factory.SubFactory(AssignmentFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Criterion {n}")
    description = "What good looks like."

    @factory.post_generation
    def levels(self, create, extracted, **kwargs):
        if create:
            RubricLevel.objects.bulk_create(
                RubricLevel(criterion=self, position=i, title=title, description=f"{title}.", outcome=outcome)
                for i, (title, outcome) in enumerate(RUBRIC_LEVELS)
            )


def rubric_add(assignment, criteria: int = 2) -> list[RubricCriterion]:
    """Give an assignment a rubric of `criteria` criteria, each with RUBRIC_LEVELS."""
    return [CriterionFactory(assignment=assignment, position=i + 1) for i in range(criteria)]


def levels_chosen(assignment, outcome_per_criterion) -> dict[int, int]:
    """{criterion id: level id} choosing, per criterion in order, the level with that outcome."""
    chosen = {}
    for criterion, outcome in zip(
        assignment.criteria.order_by("position"), outcome_per_criterion, strict=True
    ):
        chosen[criterion.pk] = criterion.levels.get(outcome=outcome).pk
    return chosen


class SubmissionFactory(factory.django.DjangoModelFactory):
    """A handed-in first attempt, waiting to be marked."""

    class Meta:
        model = Submission

    enrolment = factory.SubFactory(EnrolmentFactory)
    assignment = factory.LazyAttribute(
        lambda o: AssignmentFactory(module__version=o.enrolment.cohort.version)
    )
    attempt = 1
    status = SubmissionStatus.SUBMITTED
    text = "I held ten one-to-ones and learnt what people care about."
    submitted_at = factory.LazyFunction(timezone.now)
