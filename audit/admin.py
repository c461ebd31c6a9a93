from django.contrib import admin

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the services and never edited (see models.py)."""

    list_display = ["at", "action", "actor_label", "object_label", "subject_label", "client_address"]
    list_filter = ["action"]
    list_select_related = ["object_type"]
    search_fields = ["actor_label", "subject_label", "object_label"]
    date_hierarchy = "at"
    show_full_result_count = False  # counting a long trail on every page is slow
    fields = [
        "at",
        "action",
        "actor",
        "actor_label",
        "object_type",
        "object_id",
        "object_label",
        "subject",
        "subject_label",
        "changes",
        "client_address",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
