"""Admin views of certification data, for support. Day-to-day work happens in the site's
pages, which go through the services; here, what the services must record is read-only."""

from django.contrib import admin

from certification.models import LocalAction, RegistryEntry, TrainerAccreditation, VisibilityChange


class VisibilityChangeInline(admin.TabularInline):
    """Each opt-in and withdrawal, as the leader made it: history, never edited."""

    model = VisibilityChange
    fields = ["visibility", "actor", "at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class LocalActionInline(admin.TabularInline):
    model = LocalAction
    fields = ["issue", "started_on", "ended_on"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RegistryEntry)
class RegistryEntryAdmin(admin.ModelAdmin):
    """Entries are made by certification, and only the leader changes who sees them (the
    registry records it); so visibility is shown here, not edited."""

    list_display = ["member", "visibility", "joined_at"]
    list_filter = ["visibility"]
    list_select_related = ["member"]
    search_fields = ["member__email", "member__first_name", "member__last_name"]
    fields = ["member", "joined_at", "visibility", "bio"]
    readonly_fields = ["member", "joined_at", "visibility"]
    inlines = [VisibilityChangeInline, LocalActionInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LocalAction)
class LocalActionAdmin(admin.ModelAdmin):
    list_display = ["issue", "entry", "started_on", "ended_on", "created_at"]
    list_select_related = ["entry__member"]
    search_fields = ["issue", "entry__member__email", "entry__member__last_name"]
    date_hierarchy = "started_on"
    readonly_fields = ["entry", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(TrainerAccreditation)
class TrainerAccreditationAdmin(admin.ModelAdmin):
    """Accrediting gives the trainer role too, so it is done from the leader's registry page
    (or by the trainers' programme), never added here."""

    list_display = ["member", "accredited_at", "accredited_by", "via_certificate"]
    list_select_related = ["member", "accredited_by", "via_certificate"]
    search_fields = ["member__email", "member__first_name", "member__last_name"]
    readonly_fields = ["member", "accredited_at", "accredited_by", "via_certificate", "note"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
