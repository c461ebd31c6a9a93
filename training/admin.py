"""Admin views of training data, for support. Day-to-day work happens in the site's pages,
which go through the services; here, most history is read-only."""

from django.contrib import admin

from training.models import (
    Apology,
    Assignment,
    Attendance,
    Cohort,
    EmailAddressProblem,
    Enrolment,
    EnrolmentEvent,
    Mark,
    MarkLevel,
    Module,
    Notice,
    Programme,
    ProgrammeVersion,
    RubricCriterion,
    RubricLevel,
    Session,
    Submission,
)
from training.signals import enrolments_changed_announce, training_offer_changed_announce


class TrainingOfferAdmin(admin.ModelAdmin):
    """Programmes, versions, cohorts and sessions changed here are announced as the
    services announce them: the dashboard shows them (decision 0024)."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # after the trainers are set
        training_offer_changed_announce()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        training_offer_changed_announce()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        training_offer_changed_announce()


class VersionInline(admin.TabularInline):
    model = ProgrammeVersion
    fields = ["number", "status", "published_at", "min_attendance_percent"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Programme)
class ProgrammeAdmin(TrainingOfferAdmin):
    list_display = ["title", "slug", "created_at"]
    search_fields = ["title", "slug"]
    inlines = [VersionInline]


class ModuleInline(admin.TabularInline):
    model = Module
    fields = ["position", "title"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(ProgrammeVersion)
class ProgrammeVersionAdmin(TrainingOfferAdmin):
    list_display = ["__str__", "status", "published_at"]
    list_filter = ["status"]
    list_select_related = ["programme"]
    readonly_fields = ["programme", "number", "status", "published_at"]
    inlines = [ModuleInline]


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "version", "position"]
    list_select_related = ["version__programme"]
    search_fields = ["title"]


class CriterionInline(admin.TabularInline):
    """An assignment's rubric; each criterion's levels are edited on its own page."""

    model = RubricCriterion
    fields = ["position", "title"]
    extra = 0
    show_change_link = True


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["title", "module", "due_offset_days", "required_for_completion", "max_attempts"]
    list_select_related = ["module"]
    inlines = [CriterionInline]


class LevelInline(admin.TabularInline):
    model = RubricLevel
    fields = ["position", "title", "outcome", "description"]
    extra = 0


@admin.register(RubricCriterion)
class RubricCriterionAdmin(admin.ModelAdmin):
    list_display = ["title", "assignment", "position"]
    list_select_related = ["assignment__module__version__programme"]
    search_fields = ["title", "assignment__title"]
    raw_id_fields = ["assignment"]
    inlines = [LevelInline]


class SessionInline(admin.TabularInline):
    model = Session
    fields = ["title", "starts_at", "ends_at", "mode", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Cohort)
class CohortAdmin(TrainingOfferAdmin):
    list_display = ["name", "version", "region", "starts_on", "status", "capacity"]
    list_filter = ["status", "region"]
    list_select_related = ["version__programme", "region"]
    search_fields = ["name"]
    autocomplete_fields = ["constituency"]
    filter_horizontal = ["trainers"]
    inlines = [SessionInline]


@admin.register(Session)
class SessionAdmin(TrainingOfferAdmin):
    list_display = ["title", "cohort", "starts_at", "mode", "status"]
    list_filter = ["status", "mode"]
    list_select_related = ["cohort"]
    readonly_fields = ["checkin_code", "sequence"]


class EnrolmentEventInline(admin.TabularInline):
    model = EnrolmentEvent
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    """Read-only: places change only through the services, which keep the waiting list fair."""

    list_display = ["member", "cohort", "status", "applied_at"]
    list_filter = ["status"]
    list_select_related = ["member", "cohort"]
    search_fields = ["member__email", "cohort__name"]
    inlines = [EnrolmentEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ["session", "enrolment", "status", "source", "recorded_at"]
    list_filter = ["status", "source"]
    list_select_related = ["session", "enrolment__member"]

    def has_change_permission(self, request, obj=None):
        return False

    # Added or removed here, attendance is announced as the registers announce it.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        enrolments_changed_announce(enrolment_ids=[obj.enrolment_id])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        enrolments_changed_announce(enrolment_ids=[obj.enrolment_id])

    def delete_queryset(self, request, queryset):
        enrolment_ids = list(queryset.values_list("enrolment_id", flat=True))
        super().delete_queryset(request, queryset)
        enrolments_changed_announce(enrolment_ids=enrolment_ids)


@admin.register(Apology)
class ApologyAdmin(admin.ModelAdmin):
    list_display = ["session", "enrolment", "created_at"]
    list_select_related = ["session", "enrolment__member"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """History that only the services write: support may look, never change."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MarkLevelInline(admin.TabularInline):
    model = MarkLevel
    fields = ["criterion", "level"]
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "enrolment", "attempt", "status", "submitted_at", "is_late", "outcome"]
    list_filter = ["status", "outcome", "is_late"]
    list_select_related = ["assignment", "enrolment__member", "enrolment__cohort"]
    search_fields = ["enrolment__member__email", "assignment__title"]
    exclude = ["text"]  # trainees' own words: read them on the marking page, where access is checked


@admin.register(Mark)
class MarkAdmin(ReadOnlyAdmin):
    """Marks are never edited: a correction is a new mark, made on the marking page."""

    list_display = ["submission", "kind", "outcome", "marker", "created_at"]
    list_filter = ["kind", "outcome"]
    list_select_related = ["submission__assignment", "marker"]
    search_fields = ["marker__email", "submission__enrolment__member__email"]
    inlines = [MarkLevelInline]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """The ledger of emails: support may look; failed ones are sent again from /manage/notices/."""

    list_display = ["kind", "recipient", "subject", "scheduled_for", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email", "subject"]
    date_hierarchy = "scheduled_for"


@admin.register(EmailAddressProblem)
class EmailAddressProblemAdmin(admin.ModelAdmin):
    """Addresses we stopped writing to. Delete a row once the member fixed their mailbox."""

    list_display = ["email", "reason", "recorded_at"]
    search_fields = ["email"]
    readonly_fields = ["email", "reason", "recorded_at"]

    def has_add_permission(self, request, obj=None):
        return False  # recorded by sending, when the mail server refuses an address
