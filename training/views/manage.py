"""Trainers run their cohorts; national staff open and edit any cohort.

Who may use each view is stated by its mixin; which cohort, session or enrolment a user
may touch is decided only in training.permissions (another trainer's objects are 404).
"""

from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from audit.services import audit_member_list_record
from config.tables import table_configure
from members.selectors import profile_get
from training import permissions
from training.forms.manage import (
    CohortFilterForm,
    CohortForm,
    DecisionForm,
    DueDatesForm,
    RegisterForm,
    SessionForm,
)
from training.models import AttendanceStatus, Cohort, EnrolmentStatus
from training.selectors.manage import (
    cohort_due_date_rows,
    cohort_enrolments_grouped,
    cohort_list_for_manage_page,
    cohort_session_list,
    cohort_trainer_list,
    session_register_rows,
)
from training.services.attendance import (
    checkin_is_open,
    checkin_opens_at,
    register_save,
    register_takes_presence,
)
from training.services.cohorts import (
    cohort_create,
    cohort_due_dates_set,
    cohort_update,
    session_cancel,
    session_create,
    session_update,
)
from training.services.enrolment import enrolment_decide
from training.tables import CohortTable
from training.views.base import (
    PAGE_SIZE,
    ManagesCohortsRequiredMixin,
    ReadsCohortsRequiredMixin,
    RunsCohortsRequiredMixin,
    cohort_page_render,
    form_errors_add,
)
from training.views.messages import message_history_page

# Everything a cohort form edits, apart from the trainers (a many-to-many) and the version.
COHORT_FIELDS = [
    "name",
    "region",
    "constituency",
    "capacity",
    "enrolment_opens_on",
    "enrolment_closes_on",
    "starts_on",
    "ends_on",
    "status",
    "reviews_applications",
]


def _cohort_initial(cohort: Cohort) -> dict:
    initial = {name: getattr(cohort, name) for name in [*COHORT_FIELDS, "status_follows_dates"]}
    initial["trainers"] = list(cohort.trainers.all())
    return initial


def _cohort_fields(form) -> dict:
    """The form's values for the cohort services. Whether the status follows the dates goes
    only when staff changed the box: left as it was, the services decide (a status chosen
    that the dates would not give unticks it)."""
    data = form.cleaned_data
    fields = {name: data[name] for name in COHORT_FIELDS}
    if "status_follows_dates" in form.changed_data:
        fields["status_follows_dates"] = data["status_follows_dates"]
    return fields


def _render(request, template: str, context: dict, *, status: int = 200):
    return cohort_page_render(request, f"training/manage/{template}", context, status=status)


# --- Cohorts ------------------------------------------------------------------------


class CohortManageListView(RunsCohortsRequiredMixin, View):
    """Trainers (their cohorts; this is their home page) and staff (every cohort)."""

    def get(self, request):
        filter_form = CohortFilterForm(request.GET)
        cohorts = cohort_list_for_manage_page(
            cohorts=permissions.cohort_list_manageable_by(user=request.user), **filter_form.filters()
        )
        table = table_configure(CohortTable(cohorts), request=request, per_page=PAGE_SIZE)
        is_filtered = any(filter_form.filters().values())
        count = table.paginator.count
        table.caption = ngettext("%(count)d cohort", "%(count)d cohorts", count) % {"count": count}
        if is_filtered:
            table.caption += " " + _("(filtered)")
        return _render(
            request,
            "cohort_list.html",
            {
                "table": table,
                "filter_form": filter_form,
                "is_filtered": is_filtered,
                "may_open_cohorts": permissions.user_manages_all_cohorts(request.user),
            },
        )


class CohortCreateView(ManagesCohortsRequiredMixin, View):
    """Staff: open a cohort of a published programme version."""

    template = "cohort_form.html"

    def get(self, request):
        return _render(request, self.template, {"form": CohortForm()})

    def post(self, request):
        form = CohortForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                cohort = cohort_create(
                    version=data["version"], trainers=list(data["trainers"]), **_cohort_fields(form)
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("Cohort “%(name)s” is open.") % {"name": cohort.name})
                return redirect("training:cohort-manage", pk=cohort.pk)
        return _render(request, self.template, {"form": form}, status=400)


class CohortEditView(ManagesCohortsRequiredMixin, View):
    """Staff: change a cohort's details and trainers (never its programme version)."""

    template = "cohort_form.html"

    def get(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        form = CohortForm(cohort=cohort, initial=_cohort_initial(cohort))
        return _render(request, self.template, {"form": form, "cohort": cohort})

    def post(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        # With its initial values, so that the form knows what staff changed.
        form = CohortForm(request.POST, cohort=cohort, initial=_cohort_initial(cohort))
        if form.is_valid():
            data = form.cleaned_data
            try:
                cohort_update(
                    cohort=cohort, actor=request.user, trainers=list(data["trainers"]), **_cohort_fields(form)
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("The cohort’s details are saved."))
                return redirect("training:cohort-manage", pk=cohort.pk)
        return _render(request, self.template, {"form": form, "cohort": cohort}, status=400)


class CohortManageView(ReadsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: its facts, sessions and people, with their actions.
    Regional staff read it for their region's cohorts, without the actions."""

    def get(self, request, pk):
        cohort = permissions.cohort_get_readable(user=request.user, pk=pk)
        enrolments = cohort_enrolments_grouped(cohort=cohort)
        audit_member_list_record(request=request, obj=cohort, label=cohort.name)
        return _render(
            request,
            "cohort_manage.html",
            {
                "cohort": cohort,
                "sessions": cohort_session_list(cohort=cohort),
                "enrolments": enrolments,
                "trainers": cohort_trainer_list(cohort=cohort),
                "may_change": cohort.may_change,
                "may_edit_cohort": permissions.user_manages_all_cohorts(request.user),
                "message_history": message_history_page(request, cohort) if cohort.may_change else None,
            },
        )


class CohortDueDatesView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: move assignments' due dates for this cohort only."""

    def get(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        form = DueDatesForm(rows=cohort_due_date_rows(cohort=cohort))
        return _render(request, "cohort_due_dates.html", {"cohort": cohort, "form": form})

    def post(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        form = DueDatesForm(request.POST, rows=cohort_due_date_rows(cohort=cohort))
        if form.is_valid():
            try:
                changed = cohort_due_dates_set(cohort=cohort, due_dates=form.due_dates())
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request,
                    _("Due dates saved (%(count)s changed).") % {"count": changed}
                    if changed
                    else _("No due dates changed."),
                )
                return redirect("training:cohort-manage", pk=cohort.pk)
        return _render(request, "cohort_due_dates.html", {"cohort": cohort, "form": form}, status=400)


# --- Sessions -----------------------------------------------------------------------


class SessionCreateView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: schedule a session."""

    template = "session_form.html"

    def get(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        return _render(request, self.template, {"form": SessionForm(cohort=cohort), "cohort": cohort})

    def post(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        form = SessionForm(request.POST, cohort=cohort)
        if form.is_valid():
            try:
                session = session_create(cohort=cohort, **form.service_arguments())
            except ValidationError as error:
                form_errors_add(form, form.service_error_on_fields(error))
            else:
                messages.success(request, _("Session “%(title)s” added.") % {"title": session.title})
                return redirect("training:cohort-manage", pk=cohort.pk)
        return _render(request, self.template, {"form": form, "cohort": cohort}, status=400)


class SessionEditView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: reschedule or change a session."""

    template = "session_form.html"

    def get(self, request, pk):
        session = permissions.session_get_manageable(user=request.user, pk=pk)
        form = None if session.is_cancelled else SessionForm(cohort=session.cohort, session=session)
        return _render(request, self.template, {"form": form, "cohort": session.cohort, "session": session})

    def post(self, request, pk):
        session = permissions.session_get_manageable(user=request.user, pk=pk)
        context = {"cohort": session.cohort, "session": session, "form": None}
        if session.is_cancelled:
            return _render(request, self.template, context, status=400)
        form = SessionForm(request.POST, cohort=session.cohort, session=session)
        context["form"] = form
        if form.is_valid():
            try:
                session_update(session=session, **form.service_arguments())
            except ValidationError as error:
                form_errors_add(form, form.service_error_on_fields(error))
            else:
                title = form.cleaned_data["title"]
                messages.success(request, _("Session “%(title)s” saved.") % {"title": title})
                return redirect("training:cohort-manage", pk=session.cohort_id)
        return _render(request, self.template, context, status=400)


class SessionCancelView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: confirm, then cancel a session."""

    template = "session_cancel.html"

    def get(self, request, pk):
        session = permissions.session_get_manageable(user=request.user, pk=pk)
        return _render(request, self.template, {"session": session, "cohort": session.cohort})

    def post(self, request, pk):
        session = permissions.session_get_manageable(user=request.user, pk=pk)
        session_cancel(session=session)
        messages.success(request, _("Session “%(title)s” is cancelled.") % {"title": session.title})
        return redirect("training:cohort-manage", pk=session.cohort_id)


class RegisterView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: take the register, often on a phone, in one POST."""

    template = "session_register.html"

    def get(self, request, pk):
        session = permissions.session_get_manageable(user=request.user, pk=pk)
        form = None if session.is_cancelled else RegisterForm(rows=session_register_rows(session=session))
        if form is not None:
            label = _("Register: %(session)s, %(cohort)s") % {
                "session": session.title,
                "cohort": session.cohort.name,
            }
            audit_member_list_record(request=request, obj=session, label=label)
        return self._render(request, session, form)

    def post(self, request, pk):
        session = permissions.session_get_manageable(user=request.user, pk=pk)
        if session.is_cancelled:
            return self._render(request, session, None, status=400)
        rows = session_register_rows(session=session)
        form = RegisterForm(request.POST, rows=rows)
        if "fill_present" in request.POST or "fill_undo" in request.POST:
            return self._fill(request, session, form)
        if form.is_valid():
            marks = form.marks()
            try:
                register_save(session=session, marks=marks, actor=request.user)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                counts = {status: list(marks.values()).count(status) for status in AttendanceStatus.values}
                saved = _("Register saved: %(present)s present, %(absent)s absent, %(excused)s excused.")
                messages.success(request, saved % counts)
                return redirect("training:session-register", pk=session.pk)
        return self._render(request, session, form, status=400)

    def _fill(self, request, session, form):
        """Mark everyone not yet marked present, or undo that: the form again, nothing saved."""
        if not register_takes_presence(session=session, now=timezone.now()):
            form.add_error(None, _("Present can be recorded once the session has started."))
            return self._render(request, session, form, status=400)
        if "fill_undo" in request.POST:
            form = RegisterForm(form.data_with_fill_undone(), rows=form.rows, undone=True)
        else:
            data, filled = form.data_with_present_filled()
            form = RegisterForm(data, rows=form.rows, filled=filled)
        return self._render(request, session, form)

    def _render(self, request, session, form, *, status=200):
        context = {
            "session": session,
            "cohort": session.cohort,
            "form": form,
            # Before the start only excused can be recorded (the service's rule); the page
            # says when the register opens and offers no present/absent until then.
            "takes_presence": register_takes_presence(session=session, now=timezone.now()),
        }
        if form is not None:
            context["entries"] = form.entries()
            context["apology_count"] = sum(1 for row in form.rows if row.apology)
            context["confirmed_count"] = sum(1 for row in form.rows if row.confirmation)
        return _render(request, self.template, context, status=status)


class SessionCheckinCodeView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: the code (and QR code) trainees check in with."""

    def get(self, request, pk):
        session = permissions.session_get_manageable(user=request.user, pk=pk)
        checkin_url = request.build_absolute_uri(
            reverse("training:checkin") + "?" + urlencode({"code": session.checkin_code})
        )
        # segno's inline SVG has no style attribute (the CSP refuses those) and escapes
        # nothing of ours but the title, which is our own text.
        qr_svg = segno.make(checkin_url, error="m").svg_inline(
            scale=8,
            border=4,
            light="#fff",
            omitsize=True,
            svgclass="img-fluid",
            title=_("QR code for checking in to this session"),
        )
        now = timezone.now()
        opens_at = checkin_opens_at(session)
        return _render(
            request,
            "session_checkin_code.html",
            {
                "session": session,
                "cohort": session.cohort,
                "checkin_url": checkin_url,
                "qr_svg": mark_safe(qr_svg),  # noqa: S308 - generated by segno from our own URL
                "opens_at": opens_at,
                "closes_at": session.ends_at,
                "has_ended": now > session.ends_at,
                "is_open": checkin_is_open(session=session, now=now),
            },
        )


# --- Applications -------------------------------------------------------------------


class EnrolmentDecideView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: accept or decline an application."""

    template = "enrolment_decide.html"

    def get(self, request, pk):
        enrolment = permissions.enrolment_get_manageable(user=request.user, pk=pk)
        form = DecisionForm() if enrolment.status == EnrolmentStatus.APPLIED else None
        return self._render(request, enrolment, form)

    def post(self, request, pk):
        enrolment = permissions.enrolment_get_manageable(user=request.user, pk=pk)
        if enrolment.status != EnrolmentStatus.APPLIED:
            return self._render(request, enrolment, None, status=400)
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                decided = enrolment_decide(
                    enrolment=enrolment,
                    accept=form.accept,
                    message=form.cleaned_data["message"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, self._outcome(decided))
                return redirect("training:cohort-manage", pk=enrolment.cohort_id)
        return self._render(request, enrolment, form, status=400)

    @staticmethod
    def _outcome(enrolment) -> str:
        name = str(enrolment.member)
        if enrolment.status == EnrolmentStatus.ENROLLED:
            return _("%(name)s is enrolled.") % {"name": name}
        if enrolment.status == EnrolmentStatus.WAITLISTED:
            full = _("%(name)s is accepted; the cohort is full, so they are on the waiting list.")
            return full % {"name": name}
        return _("%(name)s’s application is declined.") % {"name": name}

    def _render(self, request, enrolment, form, *, status=200):
        cohort: Cohort = enrolment.cohort
        return _render(
            request,
            self.template,
            {
                "enrolment": enrolment,
                "cohort": cohort,
                "profile": profile_get(user=enrolment.member),
                "form": form,
            },
            status=status,
        )
