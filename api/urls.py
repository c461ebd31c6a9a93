from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import page_views, views

app_name = "api"

V1 = "api/v1/"

urlpatterns = [
    # The contract (OpenAPI 3) and its documentation page: public, like the API's own docs.
    path(f"{V1}schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    # The split view serves its start-up script as a file (?script), never inline.
    path(
        f"{V1}docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    path(f"{V1}programmes/", views.ProgrammeListView.as_view(), name="programme-list"),
    path(f"{V1}programmes/<int:pk>/", views.ProgrammeDetailView.as_view(), name="programme-detail"),
    path(f"{V1}cohorts/", views.CohortListView.as_view(), name="cohort-list"),
    path(f"{V1}cohorts/<int:pk>/", views.CohortDetailView.as_view(), name="cohort-detail"),
    path(f"{V1}sessions/", views.SessionListView.as_view(), name="session-list"),
    path(f"{V1}sessions/<int:pk>/", views.SessionDetailView.as_view(), name="session-detail"),
    path(f"{V1}sessions/<int:pk>/cancel/", views.SessionCancelView.as_view(), name="session-cancel"),
    path(
        f"{V1}sessions/<int:pk>/attendance/", views.SessionAttendanceView.as_view(), name="session-attendance"
    ),
    path(f"{V1}enrolments/", views.EnrolmentListView.as_view(), name="enrolment-list"),
    path(f"{V1}enrolments/<int:pk>/", views.EnrolmentDetailView.as_view(), name="enrolment-detail"),
    path(f"{V1}enrolments/<int:pk>/decide/", views.EnrolmentDecideView.as_view(), name="enrolment-decide"),
    path(
        f"{V1}enrolments/<int:pk>/withdraw/", views.EnrolmentWithdrawView.as_view(), name="enrolment-withdraw"
    ),
    path(f"{V1}certificates/", views.CertificateListView.as_view(), name="certificate-list"),
    path(f"{V1}certificates/<int:pk>/", views.CertificateDetailView.as_view(), name="certificate-detail"),
    # Public: anyone may check a code, without a token.
    path(
        f"{V1}certificates/verify/<str:code>/",
        views.CertificateVerifyView.as_view(),
        name="certificate-verify",
    ),
    path(f"{V1}registry/", views.RegistryListView.as_view(), name="registry-list"),
    path(f"{V1}registry/<int:pk>/", views.RegistryDetailView.as_view(), name="registry-detail"),
    path(f"{V1}targets/", views.TargetListView.as_view(), name="target-list"),
    path(f"{V1}dashboard/", views.DashboardView.as_view(), name="dashboard"),
    # National staff: their personal tokens.
    path("manage/api-tokens/", page_views.ApiTokenListView.as_view(), name="token-list"),
    path("manage/api-tokens/<int:pk>/revoke/", page_views.ApiTokenRevokeView.as_view(), name="token-revoke"),
]
