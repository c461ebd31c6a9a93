"""Messages to a cohort and the threads under them.

Those who run a cohort (its trainers, staff who manage cohorts) write to it and read every
thread; any signed-in member reads the messages sent to them and their own thread. Which
message or thread a user may reach is decided only in training.selectors.messages (anything
else is a 404).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from audit.services import audit_member_list_record
from training import permissions
from training.forms.messages import CohortMessageForm, MessageReplyForm
from training.selectors.messages import (
    audience_counts,
    cohort_message_history,
    inbox_list,
    message_get_manageable,
    message_thread_list,
    thread_get_manageable,
    thread_get_own,
    thread_replies,
)
from training.services.messages import cohort_message_send, message_reply_add
from training.views.base import RunsCohortsRequiredMixin, cohort_page_render, form_errors_add, paginate

TEMPLATES = "training/messages/"
HISTORY_PAGE_SIZE = 10
# The manage page has its own query string; the history's pages use this key.
HISTORY_PAGE_PARAM = "messages"


def message_history_page(request, cohort):
    """A page of the cohort's messages for its manage page (newest first)."""
    paginator = Paginator(cohort_message_history(cohort=cohort), HISTORY_PAGE_SIZE)
    return paginator.get_page(request.GET.get(HISTORY_PAGE_PARAM))


def _manage_render(request, template: str, context: dict, *, status: int = 200):
    return cohort_page_render(request, TEMPLATES + template, context, status=status)


def _reply_add(request, thread, form, *, success: str, thread_url: str):
    """Add the reply a valid form holds to the thread, say `success` and go to the thread's latest
    reply. None when the form or the service refused it (their errors are on the form)."""
    if not form.is_valid():
        return None
    try:
        message_reply_add(thread=thread, author=request.user, body=form.cleaned_data["body"])
    except ValidationError as error:
        form_errors_add(form, error)
        return None
    messages.success(request, success)
    return redirect(thread_url + "#latest")


# --- Those who run the cohort ----------------------------------------------------------------


class CohortMessageCreateView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: write to everyone, those enrolled or the waiting list."""

    def get(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        form = CohortMessageForm(audience_counts=audience_counts(cohort=cohort))
        return self._render(request, cohort, form)

    def post(self, request, pk):
        cohort = permissions.cohort_get_manageable(user=request.user, pk=pk)
        form = CohortMessageForm(request.POST, audience_counts=audience_counts(cohort=cohort))
        if form.is_valid():
            data = form.cleaned_data
            try:
                message = cohort_message_send(
                    cohort=cohort,
                    author=request.user,
                    audience=data["audience"],
                    subject=data["subject"],
                    body=data["body"],
                    send_key=data["send_key"],
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                count = message.recipient_count
                messages.success(
                    request,
                    ngettext(
                        "Your message is sent to %(count)s person.",
                        "Your message is sent to %(count)s people.",
                        count,
                    )
                    % {"count": count},
                )
                return redirect(reverse("training:cohort-manage", args=[cohort.pk]) + "#messages-heading")
        return self._render(request, cohort, form, status=400)

    @staticmethod
    def _render(request, cohort, form, *, status=200):
        return _manage_render(request, "message_create.html", {"cohort": cohort, "form": form}, status=status)


class CohortMessageDetailView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: a message sent, and the threads with replies."""

    def get(self, request, pk):
        message = message_get_manageable(user=request.user, pk=pk)
        page = paginate(request, message_thread_list(message=message))
        # It lists members (those who replied), as the cohort's page does.
        audit_member_list_record(request=request, obj=message, label=message.subject)
        return _manage_render(
            request, "message_detail.html", {"message": message, "cohort": message.cohort, "page_obj": page}
        )


class MessageThreadManageView(RunsCohortsRequiredMixin, View):
    """The cohort's trainers and staff: one recipient's thread, and an answer to them."""

    def get(self, request, pk):
        thread = thread_get_manageable(user=request.user, pk=pk)
        return self._render(request, thread, self._form())

    def post(self, request, pk):
        thread = thread_get_manageable(user=request.user, pk=pk)
        form = self._form(request.POST)
        thread_url = reverse("training:message-thread-manage", args=[thread.pk])
        done = _reply_add(request, thread, form, success=_("Your answer is sent."), thread_url=thread_url)
        return done or self._render(request, thread, form, status=400)

    @staticmethod
    def _form(data=None):
        return MessageReplyForm(
            data,
            submit_label=_("Send answer"),
            label=_("Your answer"),
            help_text=_("Only this trainee and those running the cohort see it."),
        )

    @staticmethod
    def _render(request, thread, form, *, status=200):
        context = {
            "thread": thread,
            "message": thread.message,
            "cohort": thread.message.cohort,
            "replies": thread_replies(thread=thread),
            "form": form,
            "for_trainer": True,
        }
        return _manage_render(request, "thread.html", context, status=status)


# --- The members they were sent to -----------------------------------------------------------


class InboxView(LoginRequiredMixin, View):
    """Any signed-in member: the messages their trainers sent them, newest first."""

    def get(self, request):
        page = paginate(request, inbox_list(user=request.user))
        return render(request, TEMPLATES + "inbox.html", {"page_obj": page})


class MessageThreadView(LoginRequiredMixin, View):
    """A member a message was sent to: read it, and reply to the trainers (only they and
    those running the cohort see the reply)."""

    def get(self, request, pk):
        thread = thread_get_own(user=request.user, message_pk=pk)
        return self._render(request, thread, self._form())

    def post(self, request, pk):
        thread = thread_get_own(user=request.user, message_pk=pk)
        form = self._form(request.POST)
        thread_url = reverse("training:message-thread", args=[pk])
        done = _reply_add(
            request, thread, form, success=_("Your reply is sent to your trainers."), thread_url=thread_url
        )
        return done or self._render(request, thread, form, status=400)

    @staticmethod
    def _form(data=None):
        return MessageReplyForm(
            data,
            submit_label=_("Send reply"),
            help_text=_(
                "Only your trainers see your reply, not the others in the cohort. "
                "Your email address is not shown to them."
            ),
        )

    @staticmethod
    def _render(request, thread, form, *, status=200):
        context = {
            "thread": thread,
            "message": thread.message,
            "cohort": thread.message.cohort,
            "replies": thread_replies(thread=thread),
            "form": form,
            "for_trainer": False,
        }
        return render(request, TEMPLATES + "thread.html", context, status=status)
