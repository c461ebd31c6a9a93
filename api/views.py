"""The REST API, version 1. Thin: each view says who may use it, gets its objects from the
same permission functions and selectors as the pages, and writes through the services.

Every authenticated call is recorded in the audit trail (ApiView.finalize_response).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.serializers import ListSerializer
from rest_framework.views import APIView

from api import serializers
from api.models import ApiResource
from api.pagination import ApiPageNumberPagination
from api.permissions import TokenScope
from api.schema import ApiAutoSchema
from api.services import api_call_record
from certification import permissions as certificate_permissions
from certification.models import Target, VerificationChannel
from certification.selectors.certificates import certificate_for_verification
from certification.selectors.registry import registry_entry_get, registry_entry_place, registry_list
from certification.services.verification import (
    RATE_WINDOW_SECONDS,
    verification_rate_exceeded,
    verification_record,
)
from reporting.selectors.dashboard import (
    Scope,
    base_get,
    lapsed_leaders_count,
    leaders_count,
    target_list,
    target_main,
    targets_progress,
)
from training import permissions as training_permissions
from training.models import Cohort, Enrolment, Session
from training.selectors.manage import session_register_rows
from training.services.attendance import register_save
from training.services.cohorts import (
    cohort_create,
    cohort_update,
    session_cancel,
    session_create,
    session_update,
)
from training.services.enrolment import enrolment_apply, enrolment_decide, enrolment_withdraw


class ApiView(APIView):
    """What every API view shares: token scope on top of the view's own permission, and one
    audit entry per authenticated call."""

    api_resource: str | None = None
    schema = ApiAutoSchema()  # documents the error responses of every operation

    def get_permissions(self):
        return [TokenScope(), *super().get_permissions()]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        api_call_record(request=request, status_code=response.status_code)
        return response


def _get_or_404(queryset, pk):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise Http404("Not found.")
    return obj


def _has_perm(perm: str) -> type[BasePermission]:
    class HasPerm(BasePermission):
        message = "You do not have permission to use this resource."

        def has_permission(self, request, view) -> bool:
            return request.user.is_authenticated and request.user.has_perm(perm)

    return HasPerm


# --- Programmes ---------------------------------------------------------------------------


class ProgrammeBase(ApiView):
    """National staff who author programmes (as the programme pages): every programme."""

    api_resource = ApiResource.PROGRAMMES
    permission_classes = [IsAuthenticated, _has_perm("training.author_programmes")]
    serializer_class = serializers.ProgrammeSerializer
    filterset_fields = ["slug"]

    def get_queryset(self):
        return training_permissions.programme_list_for_author(user=self.request.user).prefetch_related(
            "versions"
        )


class ProgrammeListView(ProgrammeBase, generics.ListAPIView):
    pass


class ProgrammeDetailView(ProgrammeBase, generics.RetrieveAPIView):
    def get_object(self):
        programme = training_permissions.programme_get_for_author(
            user=self.request.user, pk=self.kwargs["pk"]
        )
        self.check_object_permissions(self.request, programme)
        return programme


# --- Cohorts and sessions -----------------------------------------------------------------


class ReadsCohorts(BasePermission):
    """Trainees (the cohorts they may see and apply to), and whoever reads cohort pages
    (trainers, regional and national staff). Writes: national staff who manage cohorts."""

    message = "You do not have permission to use this resource."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return user.has_perm(
                "members.access_trainee_area"
            ) or training_permissions.user_reads_cohort_pages(user)
        return training_permissions.user_manages_all_cohorts(user)


def cohorts_visible(user):
    """The cohorts a user reaches by either of the pages: the trainee's (cohort_list_visible_to)
    and the trainer's and staff's (cohort_list_readable_by). One queryset, no rule of its own."""
    wheres = Q(pk__in=[])
    if user.has_perm("members.access_trainee_area"):
        wheres |= Q(pk__in=training_permissions.cohort_list_visible_to(user=user).values("pk"))
    if training_permissions.user_reads_cohort_pages(user):
        wheres |= Q(pk__in=training_permissions.cohort_list_readable_by(user=user).values("pk"))
    return Cohort.objects.filter(wheres)


class CohortBase(ApiView):
    api_resource = ApiResource.COHORTS
    permission_classes = [IsAuthenticated, ReadsCohorts]
    serializer_class = serializers.CohortSerializer
    filterset_fields = ["status", "region", "version"]

    def get_queryset(self):
        return (
            cohorts_visible(self.request.user)
            .select_related("version__programme")
            .prefetch_related("trainers")
            .only(*COHORT_FIELDS)
        )


class CohortListView(CohortBase, generics.ListCreateAPIView):
    """GET: the cohorts the user may see. POST: national staff open a cohort."""

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        trainers = data.pop("trainers", [])
        serializer.instance = cohort_create(
            trainers=trainers, constituency=data.pop("constituency", None), **data
        )


# Loaded columns: the serializer's, and the programme's title.
COHORT_FIELDS = [
    "id",
    "name",
    "version__id",
    "version__number",
    "version__programme__id",
    "version__programme__title",
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
]


class CohortDetailView(CohortBase, generics.RetrieveUpdateAPIView):
    """GET: a cohort the user may see (404 otherwise, as on the pages). PATCH: national staff."""

    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        user, pk = self.request.user, self.kwargs["pk"]
        if self.request.method == "PATCH":
            cohort = training_permissions.cohort_get_manageable(user=user, pk=pk)
        else:
            cohort = _get_or_404(self.get_queryset(), pk)
        self.check_object_permissions(self.request, cohort)
        return cohort

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        trainers = data.pop("trainers", None)
        serializer.instance = cohort_update(
            cohort=serializer.instance, actor=self.request.user, trainers=trainers, **data
        )


class SessionBase(ApiView):
    """Sessions of the cohorts the user attends (trainees), runs or reads (trainers, staff).
    Writes: national staff, on the cohorts they manage (training.permissions), by the
    training services, as the session pages."""

    api_resource = ApiResource.COHORTS
    permission_classes = [IsAuthenticated, ReadsCohorts]
    serializer_class = serializers.SessionSerializer
    filterset_fields = ["cohort", "status", "mode"]
    http_method_names = ["get", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        wheres = Q(pk__in=[])
        if user.has_perm("members.access_trainee_area"):
            wheres |= Q(pk__in=training_permissions.session_list_for_member(user=user).values("pk"))
        if training_permissions.user_reads_cohort_pages(user):
            wheres |= Q(cohort__in=training_permissions.cohort_list_readable_by(user=user).values("pk"))
        return Session.objects.filter(wheres).prefetch_related("modules")

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if not isinstance(serializer, ListSerializer):
            # A session is scheduled only in a cohort the caller manages (as the pages).
            serializer.fields["cohort"].queryset = training_permissions.cohort_list_manageable_by(
                user=self.request.user
            )
        return serializer


class SessionListView(SessionBase, generics.ListCreateAPIView):
    """GET: the sessions the user may see. POST: national staff schedule a session."""

    http_method_names = ["get", "post", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        cohort = data.pop("cohort")
        serializer.instance = session_create(cohort=cohort, modules=data.pop("modules", None), **data)


class SessionDetailView(SessionBase, generics.RetrieveUpdateAPIView):
    """GET: a session the user may see. PATCH: national staff reschedule or change it
    (a cancelled session no longer changes; the people coming are told, by the service)."""

    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        user, pk = self.request.user, self.kwargs["pk"]
        if self.request.method == "PATCH":
            session = training_permissions.session_get_manageable(user=user, pk=pk)
        else:
            session = _get_or_404(self.get_queryset(), pk)
        self.check_object_permissions(self.request, session)
        return session

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("cohort", None)
        serializer.instance = session_update(
            session=serializer.instance, modules=data.pop("modules", None), **data
        )


class SessionCancelView(SessionBase, generics.GenericAPIView):
    """National staff: cancel a session (cancelling twice changes nothing). Takes no body."""

    http_method_names = ["post", "options"]

    @extend_schema(request=serializers.NoBodySerializer, responses={200: serializers.SessionSerializer})
    def post(self, request, pk):
        session = training_permissions.session_get_manageable(user=request.user, pk=pk)
        serializers.NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        cancelled = session_cancel(session=session)
        return Response(serializers.SessionSerializer(cancelled).data)


# --- Enrolments ---------------------------------------------------------------------------


class StaffEnrolments(BasePermission):
    """Enrolments are staff's (issue 10): national staff read every cohort's and write;
    regional staff read their region's cohorts' (as the cohort page lists them to them).
    Trainers decide their cohorts' applications on the pages, not through the API."""

    message = "Enrolments are for national and regional staff."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if training_permissions.user_manages_all_cohorts(user):
            return True
        return request.method in SAFE_METHODS and training_permissions.user_reads_region_cohorts(user)


def _service_error_on_field(error: DjangoValidationError, fields: dict[str, str]) -> DjangoValidationError:
    """Put a service's error beside the field it is about, by its code (the words are the service's)."""
    if not hasattr(error, "error_dict") and getattr(error, "code", None) in fields:
        return DjangoValidationError({fields[error.code]: error.messages})
    return error


class EnrolmentBase(ApiView):
    api_resource = ApiResource.ENROLMENTS
    permission_classes = [IsAuthenticated, StaffEnrolments]
    serializer_class = serializers.EnrolmentSerializer
    filterset_fields = ["cohort", "status"]

    def get_queryset(self):
        # The enrolments of the cohorts whose page the user reads (training.permissions).
        readable = training_permissions.cohort_list_readable_by(user=self.request.user)
        return Enrolment.objects.filter(cohort__in=readable.values("pk")).select_related("member")


class EnrolmentListView(EnrolmentBase, generics.ListCreateAPIView):
    """GET: staff list enrolments (by cohort, by status). POST: national staff enrol a trainee
    by the apply page's service: the cohort must take applications, one active place per
    programme, the waiting list when it is full, an application when it reviews them."""

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if not isinstance(serializer, ListSerializer):
            serializer.fields["cohort"].queryset = training_permissions.cohort_list_manageable_by(
                user=self.request.user
            )
        return serializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = enrolment_apply(
                cohort=data["cohort"],
                member=data["member"],
                motivation=data.get("motivation", "").strip(),
                actor=self.request.user,
            )
        except DjangoValidationError as error:
            raise _service_error_on_field(error, {"closed": "cohort", "duplicate": "member"}) from error


class EnrolmentDetailView(EnrolmentBase, generics.RetrieveAPIView):
    def get_object(self):
        enrolment = _get_or_404(self.get_queryset(), self.kwargs["pk"])
        self.check_object_permissions(self.request, enrolment)
        return enrolment


class EnrolmentDecideView(EnrolmentBase, generics.GenericAPIView):
    """National staff: accept or decline an application (enrolment_decide, as the decision
    page): accepted into a free place, or onto the waiting list when the cohort is full."""

    http_method_names = ["post", "options"]

    @extend_schema(
        request=serializers.EnrolmentDecisionSerializer, responses={200: serializers.EnrolmentSerializer}
    )
    def post(self, request, pk):
        enrolment = training_permissions.enrolment_get_manageable(user=request.user, pk=pk)
        body = serializers.EnrolmentDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decided = enrolment_decide(
            enrolment=enrolment,
            accept=body.validated_data["accept"],
            message=body.validated_data["message"],
            actor=request.user,
        )
        return Response(serializers.EnrolmentSerializer(decided).data)


class EnrolmentWithdrawView(EnrolmentBase, generics.GenericAPIView):
    """National staff: withdraw a member from a cohort or its waiting list (enrolment_withdraw:
    the member is told, and a freed place goes to the next in line)."""

    http_method_names = ["post", "options"]

    @extend_schema(
        request=serializers.EnrolmentWithdrawSerializer, responses={200: serializers.EnrolmentSerializer}
    )
    def post(self, request, pk):
        enrolment = training_permissions.enrolment_get_manageable(user=request.user, pk=pk)
        body = serializers.EnrolmentWithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        withdrawn = enrolment_withdraw(
            enrolment=enrolment, actor=request.user, note=body.validated_data["note"].strip()
        )
        return Response(serializers.EnrolmentSerializer(withdrawn).data)


# --- Attendance ---------------------------------------------------------------------------


class TakesRegisters(BasePermission):
    """As the register page: those who run cohorts; which sessions, training.permissions."""

    message = "Registers are taken by the cohort's trainers and national staff."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("training.run_cohorts")


class SessionAttendanceView(ApiView, generics.GenericAPIView):
    """The cohort's trainers and national staff (session_get_manageable, as the register page).

    GET: the register (every enrolled trainee, with what is recorded, any apology and any
    confirmation). POST: record a register in one call (register_save): every line is checked
    first, and all are saved or none."""

    api_resource = ApiResource.ATTENDANCE
    permission_classes = [IsAuthenticated, TakesRegisters]
    serializer_class = serializers.RegisterSerializer
    http_method_names = ["get", "post", "head", "options"]

    def _session(self):
        return training_permissions.session_get_manageable(user=self.request.user, pk=self.kwargs["pk"])

    @staticmethod
    def _register(session, **extra):
        rows = [] if session.is_cancelled else session_register_rows(session=session)
        return serializers.RegisterSerializer({"session": session, "rows": rows, **extra}).data

    def get(self, request, pk):
        return Response(self._register(self._session()))

    @extend_schema(
        request=serializers.AttendanceRecordSerializer, responses={200: serializers.RegisterSerializer}
    )
    def post(self, request, pk):
        session = self._session()
        enrolments = {
            row.enrolment.member_id: row.enrolment.pk for row in session_register_rows(session=session)
        }
        body = serializers.AttendanceRecordSerializer(
            data=request.data,
            context={"register_members": enrolments, "register_enrolments": set(enrolments.values())},
        )
        body.is_valid(raise_exception=True)
        changed = register_save(session=session, marks=body.validated_data["marks"], actor=request.user)
        return Response(self._register(session, changed=changed))


# --- Certificates -------------------------------------------------------------------------


class CertificateBase(ApiView):
    """Signed-in members: their own certificates; national staff: every one (as the PDF page)."""

    api_resource = ApiResource.CERTIFICATES
    permission_classes = [IsAuthenticated]
    serializer_class = serializers.CertificateSerializer
    filterset_fields = ["status", "version"]

    def get_queryset(self):
        return certificate_permissions.certificate_list_for_holder_or_staff(user=self.request.user)


class CertificateListView(CertificateBase, generics.ListAPIView):
    pass


class CertificateDetailView(CertificateBase, generics.RetrieveAPIView):
    def get_object(self):
        certificate = certificate_permissions.certificate_get_for_holder_or_staff(
            user=self.request.user, pk=self.kwargs["pk"]
        )
        self.check_object_permissions(self.request, certificate)
        return certificate


class CertificateVerifyView(ApiView):
    """Anyone, without a token or a session: is this certificate real, and still valid? The
    same facts as the public verification page, counted and rate limited the same way."""

    authentication_classes = []  # public: a stray session or token changes nothing
    permission_classes = [AllowAny]
    throttle_classes = []  # the page's own per-address limit applies instead

    @extend_schema(
        responses={
            200: serializers.VerificationSerializer,
            400: OpenApiResponse(
                serializers.ErrorSerializer,
                description="The code holds a control character (refused by config.middleware).",
            ),
            404: OpenApiResponse(serializers.ErrorSerializer, description="No certificate has this code."),
        },
        auth=[],
    )
    def get(self, request, code):
        if verification_rate_exceeded(request._request):
            raise Throttled(wait=RATE_WINDOW_SECONDS)
        certificate = certificate_for_verification(code=code)
        if certificate is None:
            return Response(
                {"detail": "No certificate has this code.", "errors": {}}, status=status.HTTP_404_NOT_FOUND
            )
        verification_record(certificate_id=certificate.pk, channel=VerificationChannel.API)
        return Response(
            serializers.VerificationSerializer(serializers.VerificationSerializer.facts(certificate)).data
        )


# --- Registry -----------------------------------------------------------------------------


class RegistryListView(ApiView, generics.ListAPIView):
    """Anyone: the leaders they may see, at each entry's visibility (certification.selectors)."""

    api_resource = ApiResource.REGISTRY
    permission_classes = [AllowAny]
    serializer_class = serializers.RegistryEntrySerializer

    @extend_schema(parameters=[serializers.RegistryFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = serializers.RegistryFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return registry_list(user=self.request.user, **query.filters())


class RegistryDetailView(ApiView, generics.RetrieveAPIView):
    api_resource = ApiResource.REGISTRY
    permission_classes = [AllowAny]
    serializer_class = serializers.RegistryEntrySerializer

    def get_object(self):
        entry = registry_entry_get(user=self.request.user, pk=self.kwargs["pk"])
        # The place the entry's page shows, by the same selector.
        profile = registry_entry_place(entry=entry)
        entry.region_name = profile.region.name if profile and profile.region else None
        entry.constituency_name = profile.constituency.name if profile and profile.constituency else None
        return entry


# --- Targets and the dashboard --------------------------------------------------------------


class ViewsDashboard(BasePermission):
    message = "The dashboard is for national and regional staff."

    def has_permission(self, request, view) -> bool:
        if not request.user.has_perm("certification.view_dashboard"):
            return False
        # Regional staff without a region are refused with the page's reason.
        view.viewer = certificate_permissions.dashboard_viewer_get(user=request.user)
        return True


class TargetListView(ApiView, generics.ListAPIView):
    """National staff: every target; regional staff: their region's and its seats' (as the
    dashboard). Each with leaders now, pipeline, forecast and verdict."""

    api_resource = ApiResource.DASHBOARD
    permission_classes = [IsAuthenticated, ViewsDashboard]
    serializer_class = serializers.TargetProgressSerializer
    pagination_class = ApiPageNumberPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is drawn without a viewer
            return Target.objects.none()
        region_id = self.viewer.region_id
        targets = target_list(region_id=region_id)
        return targets_progress(targets=targets, region_id=region_id)


class DashboardView(ApiView):
    """The dashboard's headline figures, for the viewer's scope (every region, or theirs)."""

    api_resource = ApiResource.DASHBOARD
    permission_classes = [IsAuthenticated, ViewsDashboard]

    @extend_schema(responses=serializers.DashboardSerializer)
    def get(self, request):
        region_id = self.viewer.region_id
        targets = target_list(region_id=region_id)
        base = base_get(region_id=region_id, targets=targets)
        progress = targets_progress(targets=targets, base=base)
        main_target = target_main(targets, today=base.today)
        main = next((item for item in progress if main_target and item.target.pk == main_target.pk), None)
        figures = {
            "region": region_id,
            "leaders_total": leaders_count(base.leaders, scope=Scope()),
            "training_total": base.training_total,
            "lapsed": lapsed_leaders_count(region_id=region_id),
            "main_target": main,
        }
        return Response(serializers.DashboardSerializer(figures).data)
