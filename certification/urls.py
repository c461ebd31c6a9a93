from django.urls import path

from certification import staff_views, views

app_name = "certification"

urlpatterns = [
    # Public: the short address printed on certificates and in their QR codes.
    path("c/<str:code>/", views.VerifyView.as_view(), name="verify"),
    # The holder's own certificates.
    path("certificates/", views.MyCertificatesView.as_view(), name="my-certificates"),
    path("certificates/<int:pk>/certificate.pdf", views.CertificatePdfView.as_view(), name="certificate-pdf"),
    path("certificates/<int:pk>/name/", views.CertificateNameDisplayView.as_view(), name="certificate-name"),
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
