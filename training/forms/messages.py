"""Writing to a cohort, and replying in a thread. The rules (an audience with somebody in it,
how often) live in training.services.messages, whose errors the views show here."""

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from training.models import MESSAGE_BODY_MAX, MESSAGE_SUBJECT_MAX, REPLY_BODY_MAX, MessageAudience


def _helper(submit_label: str) -> FormHelper:
    helper = FormHelper()
    # The server's messages are clearer than the browser's, and the same everywhere.
    helper.attrs = {"novalidate": ""}
    helper.add_input(Submit("submit", submit_label))
    return helper


# Filled in by Django's length check.
TOO_LONG = _("Keep it to %(limit_value)d characters (it has %(show_value)d).")


class CohortMessageForm(forms.Form):
    audience = forms.ChoiceField(
        label=_("Send to"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who the message is for.")},
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=MESSAGE_SUBJECT_MAX,
        error_messages={
            "required": _("Give the message a subject."),
            "max_length": TOO_LONG,
        },
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Markdown works: *emphasis*, lists, links. Recipients read it by email and in the platform, "
            "and may reply to you there; they never see your email address."
        ),
        error_messages={
            "required": _("Write the message."),
            "max_length": TOO_LONG,
        },
    )
    # Sent back with the form: the same form sent twice sends the message once.
    send_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, audience_counts: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = [
            (value, f"{label} ({self._people(audience_counts.get(value, 0))})")
            for value, label in MessageAudience.choices
        ]
        self.helper = _helper(_("Send message"))

    @staticmethod
    def _people(count: int) -> str:
        return ngettext("%(count)s person", "%(count)s people", count) % {"count": count}


class MessageReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=REPLY_BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Write your reply."),
            "max_length": TOO_LONG,
        },
    )

    def __init__(self, *args, submit_label: str, label: str = "", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = label or self.fields["body"].label
        self.fields["body"].help_text = help_text
        self.helper = _helper(submit_label)
