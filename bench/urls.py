"""The site's URLs plus the floor view, which exists only under bench.settings."""

from django.urls import path

from bench.floor import FloorView
from config.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    *site_urlpatterns,
    path("bench/floor/", FloorView.as_view(), name="bench-floor"),
]
