from django.urls import path

from certification import views

app_name = "certification"

urlpatterns = [
    # Public: the short address printed on certificates and in their QR codes.
    path("c/<str:code>/", views.VerifyView.as_view(), name="verify"),
    # The holder's own certificates.
    path("certificates/", views.MyCertificatesView.as_view(), name="my-certificates"),
]
