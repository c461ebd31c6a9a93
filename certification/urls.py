from django.urls import path

from certification import badge_views, registry_views, staff_views, views

app_name = "certification"

urlpatterns = [
    # Public: the short address printed on certificates and in their QR codes.
    path("c/<str:code>/", views.VerifyView.as_view(), name="verify"),
    # The holder's own certificates.
    path("certificates/", views.MyCertificatesView.as_view(), name="my-certificates"),
    path("certificates/<int:pk>/certificate.pdf", views.CertificatePdfView.as_view(), name="certificate-pdf"),
    path("certificates/<int:pk>/name/", views.CertificateNameDisplayView.as_view(), name="certificate-name"),
    path("certificates/<int:pk>/renew/", views.CertificateRenewView.as_view(), name="certificate-renew"),
    # Open Badges 3.0
    path(
        "certificates/<int:pk>/credential.jwt",
        badge_views.CredentialDownloadView.as_view(),
        name="certificate-credential",
    ),
    path(
        "certificates/<int:pk>/credential.json",
        badge_views.CredentialJsonDownloadView.as_view(),
        name="certificate-credential-json",
    ),
    path(".well-known/jwks.json", badge_views.JwksView.as_view(), name="jwks"),
    path(".well-known/did.json", badge_views.DidDocumentView.as_view(), name="did-document"),
    path("credentials/status/revocation/", badge_views.StatusListView.as_view(), name="status-list"),
    path("credentials/issuer/", badge_views.IssuerView.as_view(), name="issuer"),
    path("credentials/achievements/<int:pk>/", badge_views.AchievementView.as_view(), name="achievement"),
    path("credentials/badge.png", badge_views.BadgeImageView.as_view(), name="badge-image"),
    path("credentials/revocations/", badge_views.RevocationListView.as_view(), name="revocations"),
    path("credentials/verify/", badge_views.CredentialVerifyView.as_view(), name="credential-verify"),
    # The Future Leaders registry
    path("registry/", registry_views.RegistryListView.as_view(), name="registry"),
    path("registry/me/", registry_views.MyRegistryEntryView.as_view(), name="registry-me"),
    path("registry/lineage/", registry_views.LineageView.as_view(), name="registry-lineage"),
    path("registry/actions/", registry_views.LocalActionOverviewView.as_view(), name="registry-actions"),
    path(
        "registry/me/actions/", registry_views.LocalActionCreateView.as_view(), name="registry-action-create"
    ),
    path(
        "registry/me/actions/<int:pk>/edit/",
        registry_views.LocalActionUpdateView.as_view(),
        name="registry-action-update",
    ),
    path(
        "registry/me/actions/<int:pk>/delete/",
        registry_views.LocalActionDeleteView.as_view(),
        name="registry-action-delete",
    ),
    path("registry/<int:pk>/", registry_views.RegistryEntryView.as_view(), name="registry-entry"),
    path(
        "registry/<int:pk>/accredit/", registry_views.TrainerAccreditView.as_view(), name="registry-accredit"
    ),
    # National staff
    path("manage/certificates/", staff_views.CertificateOverviewView.as_view(), name="staff-overview"),
    path(
        "manage/certificates/<int:pk>/",
        staff_views.CertificateStaffDetailView.as_view(),
        name="staff-certificate",
    ),
    path(
        "manage/enrolments/<int:pk>/certificate/",
        staff_views.ManualIssueView.as_view(),
        name="staff-manual-issue",
    ),
]
