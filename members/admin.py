from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction
from audit.services import audit_record
from members.models import ConsentRecord, ConsentText, Constituency, Profile, Region, User
from members.services import user_access_version_bump
from members.signals import (
    member_name_changed_announce,
    member_place_changed_announce,
    places_changed_announce,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("first_name", "last_name")}),
        (
            _("Roles and permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "staff_region")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]

    # A member deleted here takes their profile with them: announced as erasure announces it.
    def delete_model(self, request, obj):
        user_id = obj.pk
        super().delete_model(request, obj)
        member_place_changed_announce(user_ids=[user_id])

    def delete_queryset(self, request, queryset):
        user_ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        member_place_changed_announce(user_ids=user_ids)

    def save_related(self, request, form, formsets, change):
        """Roles (groups), the region a regional staff member oversees and the admin flags
        changed here go into the audit trail, as the services' role changes do. A change of
        groups moves the member's access_version by itself (members.receivers); the
        superuser flag is moved here, so their sessions take the second factor's gate at once."""
        before = {
            "groups": sorted(group.name for group in form.initial.get("groups", [])),
            "staff_region": form.initial.get("staff_region"),
            "is_staff": form.initial.get("is_staff"),
            "is_superuser": form.initial.get("is_superuser"),
        }
        super().save_related(request, form, formsets, change)
        user = form.instance
        if {"first_name", "last_name"} & set(form.changed_data):
            member_name_changed_announce(user_ids=[user.pk])
        after = {
            "groups": sorted(group.name for group in form.cleaned_data.get("groups", [])),
            "staff_region": user.staff_region_id,
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
        }
        changes = {
            key: {"before": before[key], "after": after[key]}
            for key in after
            if (before[key] != after[key] if change else after[key])
        }
        if "is_superuser" in changes:
            user_access_version_bump(user_ids=[user.pk])
        if changes:
            audit_record(
                actor=request.user,
                action=AuditAction.ROLE_CHANGED,
                obj=user,
                subject=user,
                label=user.email,
                changes=changes,
                request=request,
            )


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "region", "constituency", "updated_at"]
    list_filter = ["region"]
    list_select_related = ["user", "region", "constituency"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["constituency"]

    # A place changed here is announced as profile_save announces it (reporting keeps copies).
    def save_model(self, request, obj, form, change):
        before = form.initial.get("user") if change else None
        super().save_model(request, obj, form, change)
        member_place_changed_announce(user_ids=[obj.user_id, *([before] if before else [])])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        member_place_changed_announce(user_ids=[obj.user_id])

    def delete_queryset(self, request, queryset):
        user_ids = list(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        member_place_changed_announce(user_ids=user_ids)


class PlacesAdmin(admin.ModelAdmin):
    """The geography is on the dashboard: edits here are announced as the ONS import's are."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        places_changed_announce()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        places_changed_announce()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        places_changed_announce()


@admin.register(Region)
class RegionAdmin(PlacesAdmin):
    list_display = ["name", "ons_code", "nation"]
    list_filter = ["nation"]
    search_fields = ["name", "ons_code"]


@admin.register(Constituency)
class ConstituencyAdmin(PlacesAdmin):
    list_display = ["name", "ons_code", "region", "is_target_seat"]
    list_editable = ["is_target_seat"]
    list_filter = ["is_target_seat", "region"]
    list_select_related = ["region"]
    search_fields = ["name", "ons_code"]
    actions = ["flag_as_target_seat", "unflag_as_target_seat"]

    def get_readonly_fields(self, request, obj=None):
        # Codes and names come from the ONS import; staff only flag target seats.
        return ["ons_code", "name", "region"] if obj else []

    @admin.action(description=_("Flag as target seats"), permissions=["change"])
    def flag_as_target_seat(self, request, queryset):
        queryset.update(is_target_seat=True)
        places_changed_announce()

    @admin.action(description=_("Remove the target seat flag"), permissions=["change"])
    def unflag_as_target_seat(self, request, queryset):
        queryset.update(is_target_seat=False)
        places_changed_announce()


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ["version", "published_at"]

    def get_readonly_fields(self, request, obj=None):
        # A text members have agreed to is evidence: it is never edited.
        return ["version", "body", "published_at"] if obj else []


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ["user", "text", "given_at", "withdrawn_at"]
    list_select_related = ["user", "text"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "text", "given_at", "withdrawn_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
