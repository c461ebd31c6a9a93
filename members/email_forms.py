"""The form behind allauth's "add an email address" page (/accounts/email/), set as
ACCOUNT_FORMS["add_email"], the documented way to replace one of allauth's forms.

allauth's own form lets a member add an address that belongs to another account whenever
enumeration prevention is on: it is stored, unverified, on the wrong account, and its
confirmation link goes to the other member, who might click it. Here such an address is
never added. What the member is told follows allauth's own rule for sign-up
(assess_unique_email): where verification is mandatory, enumeration can be hidden, so the
answer is the one a free address gets ("Confirmation email sent to ...") and the address's
owner is sent allauth's "account already exists" email instead, so only whoever reads that
inbox learns the address is in use; where it cannot be hidden (verification optional, as in
demo mode, or enumeration prevention off), allauth's "already registered" error says so.
"""

from allauth.account import app_settings
from allauth.account.adapter import get_adapter
from allauth.account.forms import AddEmailForm
from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import get_user_model


def _used_by_another_account(email: str, user) -> bool:
    """Any case, primary or secondary, verified or not."""
    addresses = EmailAddress.objects.filter(email__iexact=email).exclude(user=user)
    accounts = get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk)
    return addresses.exists() or accounts.exists()


def _enumeration_hidden() -> bool:
    return bool(app_settings.PREVENT_ENUMERATION) and (
        app_settings.EMAIL_VERIFICATION == app_settings.EmailVerificationMethod.MANDATORY
    )


class MemberAddEmailForm(AddEmailForm):
    used_elsewhere = False

    def clean_email(self) -> str:
        email = super().clean_email()
        if _used_by_another_account(email, self.user):
            if not _enumeration_hidden():
                raise get_adapter().validation_error("email_taken")
            self.used_elsewhere = True
        return email

    def save(self, request):
        if not self.used_elsewhere:
            return super().save(request)
        email = self.cleaned_data["email"]
        adapter = get_adapter(request)
        adapter.send_account_already_exists_mail(email)
        adapter.add_message(
            request,
            messages.INFO,
            "account/messages/email_confirmation_sent.txt",
            {"email": email, "login": True, "signup": False},
        )
        # Not saved: allauth's view records an added address only when it has a primary key.
        return EmailAddress(user=self.user, email=email)
