from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    # National staff only; ?format=csv exports the filtered entries (and is itself audited).
    path("manage/audit/", views.AuditEntryListView.as_view(), name="entry-list"),
]
