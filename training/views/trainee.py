"""What a trainee sees and does: their training, finding and applying to cohorts, modules,
apologies, check-in and calendars.

Who may use each view is stated by its mixin. Which cohort, session, enrolment or module a
user may reach is decided only in training.permissions and training.selectors.trainee
(someone else's object is a 404, never a hint that it exists).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from training import permissions
from training.forms.trainee import (
    ApologyForm,
    ApplyForm,
    CheckinForm,
    OfferResponseForm,
    WithdrawForm,
)
from training.models import Enrolment, EnrolmentStatus
from training.selectors.trainee import (
    calendar_feed_get,
    calendar_feed_get_by_token,
    calendar_feed_session_list,
    cohort_page_get,
    material_file_get_for_user,
    module_get_for_user,
    module_page_get,
    my_training_get,
)
from training.services.attendance import apology_send, checkin, session_confirm
from training.services.calendar import calendar_feed_rotate, sessions_ics
from training.services.enrolment import enrolment_apply, enrolment_offer_respond, enrolment_withdraw
from training.views.base import TraineeRequiredMixin, form_errors_add, safe_filename

TEMPLATES = "training/trainee/"


def _render(request, template: str, context: dict, *, status: int = 200):
    context.setdefault("now", timezone.now())
    context.setdefault("today", timezone.localdate())
    return render(request, TEMPLATES + template, context, status=status)


def _ics_response(content: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-cache"
    return response


# --- Home ----------------------------------------------------------------


class MyTrainingView(TraineeRequiredMixin, View):
    """Trainees: their home page, with offers, applications and each cohort's progress."""

    def get(self, request):
        now = timezone.now()
        context = {"training": my_training_get(user=request.user, now=now), "now": now}
        return _render(request, "my_training.html", context)


# --- One cohort, applying and withdrawing -------------------------------------------------


class CohortDetailView(TraineeRequiredMixin, View):
    """Trainees: a cohort they may see (open ones and their own), and their place in it."""

    def get(self, request, pk):
        cohort = permissions.cohort_get_visible(user=request.user, pk=pk)
        return _render(
            request, "cohort_detail.html", {"page": cohort_page_get(user=request.user, cohort=cohort)}
        )


class CohortApplyView(TraineeRequiredMixin, View):
    """Trainees: apply for a place in a cohort they may see."""

    template = "cohort_apply.html"

    def get(self, request, pk):
        cohort = permissions.cohort_get_visible(user=request.user, pk=pk)
        page = cohort_page_get(user=request.user, cohort=cohort)
        return _render(request, self.template, {"page": page, "cohort": cohort, "form": ApplyForm()})

    def post(self, request, pk):
        cohort = permissions.cohort_get_visible(user=request.user, pk=pk)
        form = ApplyForm(request.POST)
        if form.is_valid():
            try:
                enrolment = enrolment_apply(
                    cohort=cohort, member=request.user, motivation=form.cleaned_data["motivation"].strip()
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, self._outcome(enrolment))
                return redirect("training:my-training")
        page = cohort_page_get(user=request.user, cohort=cohort)
        return _render(request, self.template, {"page": page, "cohort": cohort, "form": form}, status=400)

    @staticmethod
    def _outcome(enrolment: Enrolment) -> str:
        name = enrolment.cohort.name
        if enrolment.status == EnrolmentStatus.ENROLLED:
            return _("You’re enrolled in %(cohort)s.") % {"cohort": name}
        if enrolment.status == EnrolmentStatus.WAITLISTED:
            return _(
                "%(cohort)s is full, so you’re on its waiting list. We’ll offer you a place if one frees up."
            ) % {"cohort": name}
        return _("Your application to %(cohort)s is sent. A trainer will review it.") % {"cohort": name}


class EnrolmentWithdrawView(TraineeRequiredMixin, View):
    """Trainees: confirm, then leave a cohort or its waiting list (their own enrolments only)."""

    template = "enrolment_withdraw.html"

    def get(self, request, pk):
        enrolment = permissions.enrolment_get_own(user=request.user, pk=pk)
        form = WithdrawForm() if enrolment.is_active else None
        return _render(request, self.template, {"enrolment": enrolment, "form": form})

    def post(self, request, pk):
        enrolment = permissions.enrolment_get_own(user=request.user, pk=pk)
        form = WithdrawForm(request.POST)
        if form.is_valid():
            try:
                enrolment_withdraw(
                    enrolment=enrolment, actor=request.user, note=form.cleaned_data["note"].strip()
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request, _("You have withdrawn from %(cohort)s.") % {"cohort": enrolment.cohort.name}
                )
                return redirect("training:my-training")
        return _render(request, self.template, {"enrolment": enrolment, "form": form}, status=400)


class EnrolmentOfferRespondView(TraineeRequiredMixin, View):
    """Trainees: take up or turn down a place offered to them (their own enrolments only)."""

    template = "enrolment_offer.html"

    def get(self, request, pk):
        enrolment = permissions.enrolment_get_own(user=request.user, pk=pk)
        return _render(request, self.template, {"enrolment": enrolment})

    def post(self, request, pk):
        enrolment = permissions.enrolment_get_own(user=request.user, pk=pk)
        form = OfferResponseForm(request.POST)
        if not form.is_valid():
            error = _("Choose whether to accept or decline the place.")
            return _render(request, self.template, {"enrolment": enrolment, "error": error}, status=400)
        try:
            enrolment_offer_respond(enrolment=enrolment, accept=form.accepted, actor=request.user)
        except ValidationError as error:
            context = {"enrolment": enrolment, "error": " ".join(error.messages)}
            return _render(request, self.template, context, status=400)
        name = enrolment.cohort.name
        if form.accepted:
            messages.success(request, _("You’ve accepted your place in %(cohort)s.") % {"cohort": name})
        else:
            messages.success(request, _("You’ve declined the place in %(cohort)s.") % {"cohort": name})
        return redirect("training:my-training")


# --- Modules and materials ------------------------------------------------------------


class ModuleDetailView(LoginRequiredMixin, View):
    """Members of a cohort following the module's version, its trainers, and staff."""

    def get(self, request, pk):
        module = module_get_for_user(user=request.user, pk=pk)
        return _render(
            request, "module_detail.html", {"page": module_page_get(user=request.user, module=module)}
        )


class MaterialDownloadView(LoginRequiredMixin, View):
    """Whoever may read the module: its files, as downloads (links are shown on the page)."""

    def get(self, request, pk):
        material = material_file_get_for_user(user=request.user, pk=pk)
        try:
            handle = material.file.open("rb")
        except FileNotFoundError as error:
            raise Http404("Not found.") from error
        extension = material.file.name.rsplit(".", 1)[-1].lower() if "." in material.file.name else ""
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=safe_filename(material.title, extension=extension, fallback="material"),
            content_type=material.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-cache"
        return response


# --- Sessions: apologies, calendar files, check-in ------------------------------------------


class SessionConfirmView(TraineeRequiredMixin, View):
    """Trainees enrolled in the session's cohort: say they will come (POST only)."""

    def post(self, request, pk):
        session = permissions.session_get_for_member_or_manager(user=request.user, pk=pk)
        try:
            session_confirm(session=session, member=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Your trainer knows you are coming to “%(session)s”.") % {"session": session.title}
            )
        return redirect("training:my-training")


class SessionApologyView(TraineeRequiredMixin, View):
    """Trainees enrolled in the session's cohort: say in advance that they cannot come."""

    template = "session_apology.html"

    def get(self, request, pk):
        session = permissions.session_get_for_member_or_manager(user=request.user, pk=pk)
        return self._render(request, session, ApologyForm())

    def post(self, request, pk):
        session = permissions.session_get_for_member_or_manager(user=request.user, pk=pk)
        form = ApologyForm(request.POST)
        if form.is_valid():
            try:
                apology_send(session=session, member=request.user, note=form.cleaned_data["note"])
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request,
                    _("Your apologies for “%(session)s” are sent to your trainer.")
                    % {"session": session.title},
                )
                return redirect("training:my-training")
        return self._render(request, session, form, status=400)

    def _render(self, request, session, form, *, status=200):
        context = {
            "session": session,
            "form": form,
            "has_started": timezone.now() >= session.starts_at,
        }
        return _render(request, self.template, context, status=status)


class SessionIcsView(LoginRequiredMixin, View):
    """Members of the session's cohort, its trainers and staff: one session as an .ics file."""

    def get(self, request, pk):
        session = permissions.session_get_for_member_or_manager(user=request.user, pk=pk)
        content = sessions_ics([session], name=session.cohort.name)
        filename = safe_filename(
            f"{session.cohort.name} {session.title}", extension="ics", fallback="session"
        )
        return _ics_response(content, filename=filename)


class CheckinView(TraineeRequiredMixin, View):
    """Trainees: check themselves in with the session's code. Only a POST records anything."""

    template = "checkin.html"

    def get(self, request):
        # Prefilled from the QR code's link; nothing is recorded until the member confirms.
        form = CheckinForm(initial={"code": request.GET.get("code", "")[:20]})
        return _render(request, self.template, {"form": form})

    def post(self, request):
        form = CheckinForm(request.POST)
        if form.is_valid():
            try:
                attendance = checkin(member=request.user, code=form.cleaned_data["code"])
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                session = attendance.session
                messages.success(
                    request,
                    _("You’re checked in to %(session)s (%(cohort)s).")
                    % {"session": session.title, "cohort": session.cohort.name},
                )
                return redirect("training:my-training")
        return _render(request, self.template, {"form": form}, status=400)


# --- Calendar feed ------------------------------------------------------------------------


class CalendarFeedView(LoginRequiredMixin, View):
    """Every signed-in member (trainees, trainers, staff): their private calendar address, to
    create or replace. The feed holds the sessions they attend or run, so it may be empty."""

    def get(self, request):
        feed = calendar_feed_get(member=request.user)
        feed_url = (
            request.build_absolute_uri(reverse("training:calendar-feed", kwargs={"token": feed.token}))
            if feed
            else ""
        )
        # webcal:// opens the subscription straight in the device's calendar app.
        webcal_url = "webcal://" + feed_url.split("://", 1)[1] if feed_url else ""
        return _render(
            request, "calendar.html", {"feed": feed, "feed_url": feed_url, "webcal_url": webcal_url}
        )

    def post(self, request):
        existed = calendar_feed_get(member=request.user) is not None
        calendar_feed_rotate(member=request.user)
        if existed:
            messages.success(request, _("Your calendar link is replaced. The old link no longer works."))
        else:
            messages.success(request, _("Your calendar link is ready. Add it to your calendar app below."))
        return redirect("training:calendar")


class CalendarFeedIcsView(View):
    """Anyone holding the private token (calendar apps cannot sign in); 404 for others."""

    def get(self, request, token):
        feed = calendar_feed_get_by_token(token=token)
        content = sessions_ics(calendar_feed_session_list(feed=feed), name=_("Future Leaders training"))
        response = _ics_response(content, filename="future-leaders.ics")
        response["X-Robots-Tag"] = "noindex"
        return response
