"""What the API shows and accepts. Serializers only shape data: who may see an object is
decided before one is built (views.py), and writes go through the apps' services."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from certification.models import Certificate, RegistryEntry, Target
from certification.standing import Standing, certificate_standing
from members.models import Constituency, Region
from training.models import (
    AttendanceStatus,
    Cohort,
    Enrolment,
    Module,
    Programme,
    ProgrammeVersion,
    Session,
    VersionStatus,
)

User = get_user_model()

# The largest id a row can have (BigAutoField); a larger one is a 400, not a database overflow.
ID_MAX = 2**63 - 1


class StrictFieldsMixin:
    """A write naming a field the serializer does not take is refused (400, naming it),
    rather than silently ignored: a typo must not look like success."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: this resource does not take it."] for name in unknown}
                )
        return super().to_internal_value(data)


class ProgrammeRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


# --- Programmes ---------------------------------------------------------------------------


class ProgrammeVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProgrammeVersion
        fields = ["id", "number", "status", "summary", "min_attendance_percent", "published_at"]


class ProgrammeSerializer(serializers.ModelSerializer):
    versions = ProgrammeVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Programme
        fields = ["id", "slug", "title", "description", "versions"]


# --- Cohorts and sessions -----------------------------------------------------------------


class CohortSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Read: a cohort as its pages show it. Write (national staff): the fields of the cohort
    form; the version is fixed once the cohort exists (training.services.cohort_update)."""

    programme = serializers.SerializerMethodField()
    version = serializers.PrimaryKeyRelatedField(
        queryset=ProgrammeVersion.objects.filter(status=VersionStatus.PUBLISHED)
    )
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all())
    constituency = serializers.PrimaryKeyRelatedField(
        queryset=Constituency.objects.all(), allow_null=True, required=False
    )
    trainers = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)

    class Meta:
        model = Cohort
        fields = [
            "id",
            "name",
            "programme",
            "version",
            "version_number",
            "region",
            "constituency",
            "trainers",
            "capacity",
            "enrolment_opens_on",
            "enrolment_closes_on",
            "starts_on",
            "ends_on",
            "status",
            "status_follows_dates",
            "reviews_applications",
        ]
        extra_kwargs = {
            "status_follows_dates": {
                "help_text": (
                    "Whether the status moves by the dates (open, running, finished). Setting a "
                    "status the dates would not give turns it off, unless the same request sets it."
                )
            }
        }

    @extend_schema_field(ProgrammeRefSerializer)
    def get_programme(self, cohort) -> dict:
        programme = cohort.version.programme
        return {"id": programme.pk, "title": programme.title}

    def validate(self, attrs):
        if self.instance is not None and "version" in attrs and attrs["version"] != self.instance.version:
            raise serializers.ValidationError({"version": ["A cohort's programme version never changes."]})
        return attrs


class SessionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A session, without its check-in code (trainers show that in the room).

    Write (national staff): the fields of the session form, checked by the training services
    (session_create, session_update). The cohort is chosen once; cancelling is its own call.
    The view narrows `cohort` to the cohorts the caller manages (training.permissions)."""

    cohort = serializers.PrimaryKeyRelatedField(queryset=Cohort.objects.none())
    modules = serializers.PrimaryKeyRelatedField(
        queryset=Module.objects.all(),
        many=True,
        required=False,
        help_text="Modules of the cohort's programme version that the session covers.",
    )

    class Meta:
        model = Session
        fields = [
            "id",
            "cohort",
            "title",
            "starts_at",
            "ends_at",
            "mode",
            "venue",
            "address",
            "online_link",
            "preparation",
            "modules",
            "status",
        ]
        read_only_fields = ["status"]

    def validate(self, attrs):
        if self.instance is not None and "cohort" in attrs and attrs["cohort"] != self.instance.cohort:
            raise serializers.ValidationError({"cohort": ["A session's cohort never changes."]})
        return attrs


class NoBodySerializer(StrictFieldsMixin, serializers.Serializer):
    """An action that takes nothing (cancelling a session): any field sent is refused by name."""


# --- Enrolments ---------------------------------------------------------------------------


class EnrolmentSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Read (staff): a place or an application as the cohort's page lists it. Write (national
    staff): enrol a trainee in a cohort, by the same service as the apply page (open
    cohort, one active place per programme, the waiting list when full, review when the
    cohort reviews applications). The view narrows `cohort` to the cohorts the caller manages."""

    cohort = serializers.PrimaryKeyRelatedField(queryset=Cohort.objects.none())
    member = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, erased_at__isnull=True)
    )
    member_name = serializers.CharField(source="member.__str__", read_only=True)
    motivation = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=4000, default=""
    )

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "cohort",
            "member",
            "member_name",
            "status",
            "applied_at",
            "status_changed_at",
            "waitlisted_at",
            "motivation",
        ]
        read_only_fields = ["status", "applied_at", "status_changed_at", "waitlisted_at"]

    def validate_member(self, member):
        # The apply page's own gate (TraineeRequiredMixin): only trainees take places.
        if not member.has_perm("members.access_trainee_area"):
            raise serializers.ValidationError("This member is not a trainee: only trainees take places.")
        return member


class EnrolmentDecisionSerializer(StrictFieldsMixin, serializers.Serializer):
    """Accept or decline an application (the decision page's form)."""

    accept = serializers.BooleanField()
    message = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=4000, help_text="Needed to decline."
    )


class EnrolmentWithdrawSerializer(StrictFieldsMixin, serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


# --- Attendance ---------------------------------------------------------------------------


class RegisterRowSerializer(serializers.Serializer):
    """One enrolled trainee on a session's register, as the register page lists them."""

    enrolment = serializers.IntegerField(source="enrolment.pk")
    member = serializers.IntegerField(source="enrolment.member_id")
    name = serializers.CharField()
    status = serializers.ChoiceField(
        choices=AttendanceStatus.choices,
        source="attendance.status",
        allow_null=True,
        help_text="What is recorded; null when nothing is.",
    )
    source = serializers.CharField(source="attendance.source", allow_null=True)
    recorded_at = serializers.DateTimeField(source="attendance.recorded_at", allow_null=True)
    apology = serializers.SerializerMethodField()
    confirmed = serializers.SerializerMethodField()

    def get_apology(self, row) -> bool:
        return row.apology is not None

    def get_confirmed(self, row) -> bool:
        return row.confirmation is not None


class RegisterSerializer(serializers.Serializer):
    session = serializers.IntegerField(source="session.pk")
    cancelled = serializers.BooleanField(source="session.is_cancelled")
    rows = RegisterRowSerializer(many=True, help_text="Empty for a cancelled session, as on the page.")
    changed = serializers.IntegerField(
        required=False, help_text="After recording: how many records were made or changed."
    )


class AttendanceMarkSerializer(StrictFieldsMixin, serializers.Serializer):
    """One line of a register: a trainee (by enrolment or by member) and what they were."""

    enrolment = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    member = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)

    def validate(self, attrs):
        if ("enrolment" in attrs) == ("member" in attrs):
            raise serializers.ValidationError(
                {"enrolment": ["Name the trainee by enrolment or by member (one of them)."]}
            )
        # The register's own rows (session_register_rows, as the page): nobody else is marked.
        if "enrolment" in attrs:
            field, enrolment_id = "enrolment", attrs["enrolment"]
            found = enrolment_id in self.context["register_enrolments"]
        else:
            field, enrolment_id = "member", self.context["register_members"].get(attrs["member"])
            found = enrolment_id is not None
        if not found:
            raise serializers.ValidationError(
                {field: ["Not on this session's register: only trainees enrolled in the cohort are."]}
            )
        return {"enrolment": enrolment_id, "status": attrs["status"]}


class AttendanceRecordSerializer(StrictFieldsMixin, serializers.Serializer):
    """A register taken in one call: every line is checked first, then all are saved or none.
    Errors name the line: `errors.marks` holds one object per line (empty when it was right)."""

    marks = AttendanceMarkSerializer(many=True, allow_empty=False)

    def validate_marks(self, marks):
        seen, errors = set(), []
        for mark in marks:
            twice = mark["enrolment"] in seen
            seen.add(mark["enrolment"])
            errors.append({"enrolment": ["This trainee is already on an earlier line."]} if twice else {})
        if any(errors):
            raise serializers.ValidationError(errors)
        return {mark["enrolment"]: mark["status"] for mark in marks}


# --- Errors -------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """Every error's shape (api.exceptions)."""

    detail = serializers.CharField(help_text="What went wrong, in words.")
    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text=(
            "Each field that was wrong, with its messages (a list of strings); for a list of "
            "items, one object per item, empty where the item was right. `non_field_errors` "
            "for what belongs to no field. Empty when no field is to blame."
        ),
    )


# --- Certificates -------------------------------------------------------------------------


class CertificateSerializer(serializers.ModelSerializer):
    verify_url = serializers.SerializerMethodField()
    standing = serializers.ChoiceField(
        choices=Standing.choices,
        source="standing.state",
        read_only=True,
        help_text="Its standing now, as the public check states it (status alone never says expired).",
    )

    class Meta:
        model = Certificate
        fields = [
            "id",
            "code",
            "holder",
            "holder_name",
            "programme_title",
            "version_number",
            "cohort_name",
            "issuer_name",
            "issued_at",
            "expires_on",
            "status",
            "standing",
            "revoked_at",
            "revoked_reason",
            "shows_full_name",
            "verify_url",
        ]

    def get_verify_url(self, certificate) -> str:
        return reverse("api:certificate-verify", kwargs={"code": certificate.code})


class VerificationSerializer(serializers.Serializer):
    """The public check: exactly what the verification page shows, nothing more. The status
    is the certificate's standing (certification.standing), as the page states it."""

    code = serializers.CharField()
    status = serializers.ChoiceField(choices=Standing.choices)
    status_label = serializers.CharField(help_text="The status in words, as the check page shows it.")
    awarded_to = serializers.CharField(allow_null=True, help_text="Null once withdrawn.")
    programme = serializers.CharField()
    awarded_on = serializers.DateField()
    issued_by = serializers.CharField()
    valid_until = serializers.DateField(
        allow_null=True,
        help_text="The last day it is (or was) valid; null if it never expires, or once withdrawn.",
    )
    revoked_on = serializers.DateField(allow_null=True)
    revoked_reason = serializers.CharField(allow_blank=True)

    @staticmethod
    def facts(certificate: Certificate) -> dict:
        standing = certificate_standing(certificate)
        withdrawn = standing.state == Standing.WITHDRAWN
        revoked = standing.state == Standing.REVOKED
        if withdrawn:
            name = None
        else:
            name = certificate.holder_name if certificate.shows_full_name else certificate.holder_initials
        return {
            "code": certificate.code,
            "status": standing.state.value,
            "status_label": standing.label,
            "awarded_to": name,
            "programme": certificate.programme_title,
            "awarded_on": timezone.localdate(certificate.issued_at),
            "issued_by": certificate.issuer_name,
            "valid_until": None if withdrawn else certificate.expires_on,
            "revoked_on": standing.on if revoked else None,
            "revoked_reason": standing.reason if revoked else "",
        }


# --- Registry -----------------------------------------------------------------------------


class RegistryEntrySerializer(serializers.ModelSerializer):
    """An entry as the registry list shows it (the selector has annotated place and activity)."""

    name = serializers.SerializerMethodField()
    region = serializers.CharField(source="region_name", allow_null=True, read_only=True)
    constituency = serializers.CharField(source="constituency_name", allow_null=True, read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = RegistryEntry
        fields = ["id", "name", "region", "constituency", "is_active", "joined_at", "visibility", "bio"]

    def get_name(self, entry) -> str:
        return entry.member.get_full_name() or ""


class RegistryFilterSerializer(serializers.Serializer):
    """The registry's filters (the page's, by the same names); nothing else is read."""

    name = serializers.CharField(required=False, max_length=100, allow_blank=True)
    region = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    constituency = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    target_seats = serializers.BooleanField(required=False, default=False)
    programme = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)

    def filters(self) -> dict:
        data = self.validated_data
        return {
            "name": data.get("name", ""),
            "region_id": data.get("region"),
            "constituency_id": data.get("constituency"),
            "target_seats": data.get("target_seats", False),
            "programme_id": data.get("programme"),
        }


# --- Targets and the dashboard ---------------------------------------------------------------


class TargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Target
        fields = ["id", "scope", "region", "constituency", "programme", "leaders", "deadline"]


class TargetProgressSerializer(serializers.Serializer):
    target = TargetSerializer()
    certified = serializers.IntegerField()
    gap = serializers.IntegerField()
    days_left = serializers.IntegerField()
    in_pipeline = serializers.IntegerField()
    open_places = serializers.IntegerField()
    verdict = serializers.CharField()
    forecast_expected = serializers.FloatField(source="forecast.expected")
    forecast_low = serializers.FloatField(source="forecast.low")
    forecast_high = serializers.FloatField(source="forecast.high")


class DashboardSerializer(serializers.Serializer):
    region = serializers.IntegerField(allow_null=True, help_text="Null: every region (national staff).")
    leaders_total = serializers.IntegerField()
    training_total = serializers.IntegerField()
    lapsed = serializers.IntegerField()
    main_target = TargetProgressSerializer(allow_null=True)
