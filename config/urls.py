from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from config.health import healthz, healthz_live, healthz_ready
from config.metrics import metrics

admin.site.site_header = "Future Leaders administration"
admin.site.site_title = "Future Leaders admin"
# One way in for everyone, with allauth's rate limits: the admin has no login form of its own.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", include("members.urls")),
    path("", include("training.urls")),
    # Before certification: its old names for the dashboard's paths are kept for a while.
    path("", include("reporting.urls")),
    path("", include("certification.urls")),
    path("", include("audit.urls")),
    path("", include("api.urls")),
    path("", include("webhooks.urls")),
    path("", include("imports.urls")),
    # allauth's sessions page with its list on the one table component (same name and path).
    path("accounts/sessions/", include("members.session_urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("healthz/live", healthz_live, name="healthz-live"),
    path("healthz/ready", healthz_ready, name="healthz-ready"),
    path("metrics", metrics, name="metrics"),
]

# JSON under /api/, the site's page elsewhere.
handler404 = "api.exceptions.not_found"
# The 500 page shows the request's id, for the member to quote (config.request_id).
handler500 = "config.errors.server_error"
