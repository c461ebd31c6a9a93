"""Members choose their emails; links in emails answer a reminder or stop a kind of email;
staff see what failed and send it again."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from training.models import MUTABLE_NOTICE_KINDS, Notice, NoticeKind, NoticeMute, NoticeStatus, Session
from training.services.notices import (
    notice_mute,
    notice_preferences_set,
    notices_retry,
    reply_token_read,
    session_reply,
    unsubscribe_token_read,
)
from training.views.base import paginate

NOINDEX = {"X-Robots-Tag": "noindex, nofollow"}


class NoticePreferencesForm(forms.Form):
    receive = forms.MultipleChoiceField(
        label=gettext_lazy("Emails you can turn off"),
        choices=[(kind.value, kind.label) for kind in MUTABLE_NOTICE_KINDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Ticked: we send them. Untick what you do not want."),
    )


class NoticePreferencesView(LoginRequiredMixin, View):
    """Any signed-in member: which kinds of email they receive (their own settings only)."""

    template = "training/notices/preferences.html"

    def get(self, request):
        muted = set(NoticeMute.objects.filter(member=request.user).values_list("kind", flat=True))
        form = NoticePreferencesForm(initial={"receive": [k for k in MUTABLE_NOTICE_KINDS if k not in muted]})
        return self._render(request, form)

    def post(self, request):
        form = NoticePreferencesForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        receive = set(form.cleaned_data["receive"])
        notice_preferences_set(
            member=request.user, muted_kinds=[k for k in MUTABLE_NOTICE_KINDS if k not in receive]
        )
        messages.success(request, _("Your email choices are saved."))
        return redirect("training:notice-preferences")

    def _render(self, request, form, *, status=200):
        always = [kind.label for kind in NoticeKind if kind not in MUTABLE_NOTICE_KINDS]
        recent = Notice.objects.filter(recipient=request.user, status=NoticeStatus.SENT).order_by("-sent_at")[
            :10
        ]
        context = {"form": form, "always_sent": always, "recent": recent}
        return render(request, self.template, context, status=status)


@method_decorator(csrf_exempt, name="dispatch")
class NoticeUnsubscribeView(View):
    """Anyone holding the signed link from an email (no sign-in: the link is the proof).

    GET shows a button and changes nothing, because mail scanners open links; POST stops
    the kind. CSRF does not apply: RFC 8058 one-click unsubscribe POSTs without cookies,
    and the signed token only ever acts for the member it was made for.
    """

    template = "training/notices/unsubscribe.html"

    def get(self, request, token):
        found = unsubscribe_token_read(token)
        if found is None:
            return self._invalid(request)
        return render(request, self.template, {"kind_label": NoticeKind(found[1]).label}, headers=NOINDEX)

    def post(self, request, token):
        found = unsubscribe_token_read(token)
        if found is None:
            return self._invalid(request)
        member_id, kind = found
        try:
            notice_mute(member_id=member_id, kind=kind)
        except ValidationError:
            return self._invalid(request)
        context = {"kind_label": NoticeKind(kind).label, "done": True}
        return render(request, self.template, context, headers=NOINDEX)

    def _invalid(self, request):
        return render(request, "training/notices/link_invalid.html", status=404, headers=NOINDEX)


class SessionReplyForm(forms.Form):
    attending = forms.TypedChoiceField(
        label=gettext_lazy("Can you come?"),
        choices=[
            ("yes", gettext_lazy("Yes, I’ll be there")),
            ("no", gettext_lazy("No, I send my apologies")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose whether you can come.")},
    )
    note = forms.CharField(
        label=gettext_lazy("A note for your trainer (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SessionReplyView(View):
    """Anyone holding the signed link from a reminder (no sign-in); it works once.

    GET shows the question and changes nothing (mail scanners open links); POST answers.
    """

    template = "training/notices/session_reply.html"

    def _load(self, token):
        notice_id = reply_token_read(token)
        notice = (
            Notice.objects.select_related("recipient")
            .filter(pk=notice_id, kind=NoticeKind.SESSION_REMINDER)
            .first()
            if notice_id
            else None
        )
        if notice is None:
            return None, None
        session = (
            Session.objects.select_related("cohort").filter(pk=int(notice.subject.split(":")[1])).first()
        )
        return notice, session

    def get(self, request, token):
        notice, session = self._load(token)
        if notice is None or session is None:
            return render(request, "training/notices/link_invalid.html", status=404, headers=NOINDEX)
        return self._render(request, notice, session, SessionReplyForm(initial={"attending": "yes"}))

    def post(self, request, token):
        notice, session = self._load(token)
        if notice is None or session is None:
            return render(request, "training/notices/link_invalid.html", status=404, headers=NOINDEX)
        form = SessionReplyForm(request.POST)
        if form.is_valid():
            try:
                session_reply(
                    notice_id=notice.pk,
                    attending=form.cleaned_data["attending"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                context = {"session": session, "attending": form.cleaned_data["attending"], "done": True}
                return render(request, self.template, context, headers=NOINDEX)
        return self._render(request, notice, session, form, status=400)

    def _render(self, request, notice, session, form, *, status=200):
        context = {
            "session": session,
            "starts_at": timezone.localtime(session.starts_at),
            "form": form,
            "already_answered": notice.replied_at is not None,
        }
        return render(request, self.template, context, status=status, headers=NOINDEX)


class NoticeListView(PermissionRequiredMixin, View):
    """National staff (training.view_notices): notices by status; failed ones can be sent again.

    Shows who was written to and about what, never the message itself.
    """

    permission_required = "training.view_notices"
    template = "training/notices/notice_list.html"
    STATUSES = [
        NoticeStatus.FAILED,
        NoticeStatus.PENDING,
        NoticeStatus.SENDING,
        NoticeStatus.SKIPPED,
        NoticeStatus.SENT,
    ]

    def get(self, request):
        status = request.GET.get("status", NoticeStatus.FAILED)
        if status not in NoticeStatus.values:
            status = NoticeStatus.FAILED
        notices = (
            Notice.objects.filter(status=status).select_related("recipient").order_by("-scheduled_for", "pk")
        )
        context = {
            "page": paginate(request, notices, per_page=50),
            "status": status,
            "statuses": [(value, NoticeStatus(value).label) for value in self.STATUSES],
        }
        return render(request, self.template, context)

    def post(self, request):
        try:
            ids = [int(value) for value in request.POST.getlist("notice")]
        except ValueError:
            ids = []
        retried = notices_retry(notice_ids=ids) if ids else []
        if retried:
            messages.success(request, _("%(count)s notices will be sent again.") % {"count": len(retried)})
        else:
            messages.error(request, _("Choose failed notices to send again."))
        return redirect(f"{request.path}?status={NoticeStatus.FAILED}")
