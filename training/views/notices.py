"""Members choose their emails; links in emails answer a reminder or stop a kind of email;
staff see what failed and send it again.

The two kinds of link (unsubscribe, reply) work without signing in: the signed token is the
proof, and it only ever acts for the member or the notice it was made for. Their pages are
never indexed, and a GET never changes anything, because mail scanners open links.
"""

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from config.tables import table_configure
from training.models import MUTABLE_NOTICE_KINDS, NoticeKind, NoticeStatus
from training.selectors.notices import (
    notice_failed_ids,
    notice_list_by_status,
    notice_list_recent_for_member,
    notice_member_exists,
    notice_muted_kinds,
    notice_status_counts,
    notice_subject_labels,
    session_reply_target_get,
)
from training.services.attendance import session_reply
from training.services.notices import (
    notice_mute,
    notice_preferences_set,
    notices_retry,
    reply_token_read,
    unsubscribe_token_read,
)
from training.tables import NoticeTable

# A notice id as staff's retry form sends it: a few ASCII digits (a bigint at most).
NOTICE_ID = re.compile(r"[0-9]{1,18}")

# What each kind that can be turned off is, in the member's words.
NOTICE_KIND_HELP = {
    NoticeKind.SESSION_REMINDER: gettext_lazy(
        "Before each of your sessions: when and where, what to prepare, and a calendar invitation."
    ),
    NoticeKind.ABSENCE_WARNING: gettext_lazy("A word of support if you miss several sessions in a row."),
    NoticeKind.ASSIGNMENT_DUE: gettext_lazy(
        "A few days before an assignment is due, if you have not handed it in yet."
    ),
    NoticeKind.ABSENCE_NUDGE: gettext_lazy(
        "When a trainee in a cohort you train misses several sessions in a row."
    ),
    NoticeKind.MARKING_BACKLOG: gettext_lazy(
        "When work in your cohorts has waited longer than the programme’s marking target."
    ),
}
# Only people who run cohorts receive these, so only they are asked about them.
TRAINER_NOTICE_KINDS = {
    NoticeKind.ABSENCE_NUDGE,
    NoticeKind.MARKING_BACKLOG,
    NoticeKind.APPLICATIONS_WAITING,
    NoticeKind.SECOND_MARKING,
    NoticeKind.MODERATION_OUTCOME,
}


def _noindex(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _link_invalid(request):
    return _noindex(render(request, "training/notices/link_invalid.html", status=404))


# --- A member's choices --------------------------------------------------------------------


class NoticePreferencesForm(forms.Form):
    receive = forms.MultipleChoiceField(
        label=gettext_lazy("Emails you can turn off"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": gettext_lazy("Choose only from the emails listed.")},
    )

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        self.fields["receive"].choices = [(kind.value, kind.label) for kind in kinds]

    def options(self):
        """(checkbox, description) pairs, for a template that describes each kind."""
        return [(box, NOTICE_KIND_HELP.get(box.data["value"], "")) for box in self["receive"]]


class NoticePreferencesView(LoginRequiredMixin, View):
    """Any signed-in member: which kinds of email they receive. Only ever their own."""

    template = "training/notices/preferences.html"

    @staticmethod
    def _kinds(user) -> list[NoticeKind]:
        runs_cohorts = user.has_perm("training.run_cohorts")
        return [kind for kind in MUTABLE_NOTICE_KINDS if runs_cohorts or kind not in TRAINER_NOTICE_KINDS]

    def get(self, request):
        kinds = self._kinds(request.user)
        muted = notice_muted_kinds(member_id=request.user.pk)
        form = NoticePreferencesForm(
            initial={"receive": [k.value for k in kinds if k not in muted]}, kinds=kinds
        )
        return self._render(request, form)

    def post(self, request):
        kinds = self._kinds(request.user)
        form = NoticePreferencesForm(request.POST, kinds=kinds)
        if not form.is_valid():
            return self._render(request, form, status=400)
        receive = set(form.cleaned_data["receive"])
        # Kinds not on the form (a trainer's, for a trainee) keep their setting.
        kept = notice_muted_kinds(member_id=request.user.pk) - set(kinds)
        notice_preferences_set(
            member=request.user, muted_kinds=kept | {kind for kind in kinds if kind not in receive}
        )
        messages.success(request, _("Your email choices are saved."))
        return redirect("training:notice-preferences")

    def _render(self, request, form, *, status=200):
        recent = notice_list_recent_for_member(member=request.user)
        labels = notice_subject_labels(notices=recent)
        context = {
            "form": form,
            "always_sent": [kind.label for kind in NoticeKind if kind not in MUTABLE_NOTICE_KINDS],
            "recent": [(notice, labels.get(notice.pk, "")) for notice in recent],
        }
        return render(request, self.template, context, status=status)


# --- The unsubscribe link ---------------------------------------------------------------------


@method_decorator(csrf_exempt, name="dispatch")
class NoticeUnsubscribeView(View):
    """Anyone holding the signed link from an email (no sign-in: the link is the proof).

    GET asks and changes nothing; POST stops the kind, and again changes nothing more.
    CSRF does not apply: RFC 8058 one-click unsubscribe POSTs without cookies, and the
    token only ever acts for the member it was made for, on the one kind it names.
    """

    template = "training/notices/unsubscribe.html"

    def _read(self, token):
        found = unsubscribe_token_read(token)
        if found is None or not notice_member_exists(member_id=found[0]):
            return None
        return found

    def get(self, request, token):
        found = self._read(token)
        if found is None:
            return _link_invalid(request)
        member_id, kind = found
        done = kind in notice_muted_kinds(member_id=member_id)
        return self._render(request, kind, done=done, already=done)

    def post(self, request, token):
        found = self._read(token)
        if found is None:
            return _link_invalid(request)
        member_id, kind = found
        try:
            notice_mute(member_id=member_id, kind=kind)
        except ValidationError:
            return _link_invalid(request)
        return self._render(request, kind, done=True)

    def _render(self, request, kind, *, done, already=False):
        context = {"kind_label": NoticeKind(kind).label, "done": done, "already": already}
        return _noindex(render(request, self.template, context))


# --- The reply link in a session reminder ------------------------------------------------------


class SessionReplyForm(forms.Form):
    """The answer comes from the button pressed: "yes" or "no"."""

    attending = forms.TypedChoiceField(
        choices=[("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))],
        coerce=lambda value: value == "yes",
        error_messages={
            "required": gettext_lazy("Choose whether you can come."),
            "invalid_choice": gettext_lazy("Choose whether you can come."),
        },
    )
    note = forms.CharField(
        label=gettext_lazy("A note for your trainer (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("For example, why you cannot come or how you will catch up."),
        error_messages={"max_length": gettext_lazy("Keep the note to %(limit_value)d characters or fewer.")},
    )


class SessionReplyView(View):
    """Anyone holding the signed link from a reminder (no sign-in); it works once.

    GET shows the question and changes nothing; POST answers. A link whose session was
    cancelled or has started, or that was already used, says so (a 400 on POST).
    """

    template = "training/notices/session_reply.html"

    def _target(self, token):
        return session_reply_target_get(notice_id=reply_token_read(token))

    @staticmethod
    def _closed_reason(target) -> str:
        """Why this link can no longer answer, or "" if it can."""
        if target.notice.replied_at is not None:
            return _(
                "You have already answered this reminder. To change your answer, sign in and open "
                "the session on your training page."
            )
        if target.session.is_cancelled:
            return _("This session was cancelled, so there is nothing to answer.")
        if target.session.starts_at <= timezone.now():
            return _("This session has started. If you could not come, tell your trainer directly.")
        return ""

    def get(self, request, token):
        target = self._target(token)
        if target is None:
            return _link_invalid(request)
        return self._render(request, target, SessionReplyForm(), closed=self._closed_reason(target))

    def post(self, request, token):
        target = self._target(token)
        if target is None:
            return _link_invalid(request)
        form = SessionReplyForm(request.POST)
        closed = self._closed_reason(target)
        if closed:
            return self._render(request, target, form, closed=closed, status=400)
        if form.is_valid():
            attending = form.cleaned_data["attending"]
            try:
                session_reply(notice_id=target.notice.pk, attending=attending, note=form.cleaned_data["note"])
            except ValidationError as error:
                if getattr(error, "code", None) == "used":  # answered in another tab a moment ago
                    return self._render(request, target, form, closed=error.messages[0], status=400)
                form.add_error(None, error.messages)
            else:
                return self._render(request, target, None, answered="yes" if attending else "no")
        return self._render(request, target, form, status=400)

    def _render(self, request, target, form, *, closed="", answered="", status=200):
        context = {
            "session": target.session,
            "form": form,
            "closed": closed,
            "answered": answered,
            "signed_in_as_recipient": request.user.is_authenticated
            and request.user.pk == target.notice.recipient_id,
        }
        return _noindex(render(request, self.template, context, status=status))


# --- Staff ------------------------------------------------------------------------------------


class NoticeListView(PermissionRequiredMixin, View):
    """National staff (training.view_notices): emails by status; failed ones can be sent again.

    Shows who was written to and about what, never the message itself.
    """

    permission_required = "training.view_notices"
    template = "training/notices/notice_list.html"
    PER_PAGE = 50
    # The tabs, in the order staff need them; only these values are accepted.
    STATUSES = [
        NoticeStatus.FAILED,
        NoticeStatus.PENDING,
        NoticeStatus.SENDING,
        NoticeStatus.SKIPPED,
        NoticeStatus.SENT,
    ]

    def get(self, request):
        status = request.GET.get("status")
        if status not in self.STATUSES:
            status = NoticeStatus.FAILED
        table = table_configure(
            NoticeTable(notice_list_by_status(status=status), status=status),
            request=request,
            per_page=self.PER_PAGE,
        )
        table.about_labels = notice_subject_labels(notices=[row.record for row in table.page.object_list])
        count = table.paginator.count
        status_label = NoticeStatus(status).label
        table.caption = ngettext("%(status)s: %(count)d email", "%(status)s: %(count)d emails", count) % {
            "status": status_label,
            "count": count,
        }
        counts = notice_status_counts()
        context = {
            "table": table,
            "status": status,
            "status_label": status_label,
            "statuses": [(value, NoticeStatus(value).label, counts[value]) for value in self.STATUSES],
            "failed_count": counts[NoticeStatus.FAILED],
        }
        return render(request, self.template, context)

    def post(self, request):
        if request.POST.get("scope") == "all":
            ids = notice_failed_ids()
        else:
            # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
            ids = [int(value) for value in request.POST.getlist("notice") if NOTICE_ID.fullmatch(value)]
        retried = notices_retry(notice_ids=ids) if ids else []
        if retried:
            messages.success(
                request,
                ngettext(
                    "%(count)s email will be sent again in the next few minutes.",
                    "%(count)s emails will be sent again in the next few minutes.",
                    len(retried),
                )
                % {"count": len(retried)},
            )
        else:
            messages.error(request, _("Tick the failed emails to send again."))
        return redirect(reverse("training:notice-list") + f"?status={NoticeStatus.FAILED}")
