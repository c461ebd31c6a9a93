"""Gates for signed-in members: onboarding (no one uses the platform past sign-up without
consent and a profile) and, for trainers and staff, two-factor authentication; before them,
the state a member's requests keep (members.member_state), which both gates, the menu and
every permission check of the request read."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from members.member_state import member_onboarding, member_state_load
from members.mfa import mfa_setup_needed
from members.onboarding import return_to_keep

# Pages a member may reach before onboarding is complete.
ONBOARDING_EXEMPT_URL_NAMES = {
    "members:consent",
    "members:profile-edit",
    "healthz",
    "healthz-live",
    "healthz-ready",
    # A member who will not agree to a new consent text may still take their data and go.
    "members:data-rights",
    "members:data-export-download",
    "members:account-erase",
    "members:account-erased",
}
ONBOARDING_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/")


class MemberStateMiddleware:
    """After authentication: the signed-in member's kept state, once for the whole request
    (request.member_state). No query while it is current."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        member_state_load(request)
        return self.get_response(request)


class OnboardingRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        redirect_to = self._onboarding_redirect(request)
        if not redirect_to:
            return self.get_response(request)
        if request.method == "GET":
            # Where the member was going, to go there once onboarding is done.
            return_to_keep(request, request.get_full_path(), replace=False)
        return redirect(redirect_to)

    def _onboarding_redirect(self, request) -> str | None:
        user = request.user
        # Superusers are operators, not members, and may need the admin to fix things.
        if not user.is_authenticated or user.is_superuser:
            return None
        if request.path.startswith(ONBOARDING_EXEMPT_PREFIXES):
            return None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None  # the 404 page is shown to everyone
        if match.view_name in ONBOARDING_EXEMPT_URL_NAMES:
            return None
        state = member_onboarding(request, member_state_load(request))
        request.onboarding_state = state
        if not state.has_current_consent:
            return "members:consent"
        if not state.has_profile:
            return "members:profile-edit"
        return None


# Public pages (anyone may use them signed out, and they show a signed-in member nothing
# more) need no second factor. Everything under /accounts/ (sign-out, the MFA set-up,
# sessions, password) is open too: it is how a member gets through the gate.
MFA_EXEMPT_URL_NAMES = {
    "healthz",
    "healthz-live",
    "healthz-ready",
    "members:consent",
    "members:profile-edit",
    "certification:verify",
    "certification:jwks",
    "certification:issuer",
    "certification:achievement",
    "certification:badge-image",
    "certification:revocations",
    "certification:did-document",
    "certification:status-list",
    "certification:credential-verify",
    "api:certificate-verify",
    "training:notice-unsubscribe",
    "training:session-reply",
}
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/")


class MfaRequiredMiddleware:
    """Sends trainers and staff who have no authenticator yet to the MFA set-up page.

    Reads only the session (see members/mfa.py): no query per request. The registry is not
    exempt although it is public: staff see entries there that the public does not.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_set_up_first(request):
            messages.warning(
                request,
                _(
                    "Trainers and staff see other members' personal data, so your account needs "
                    "two-factor authentication. Set up an authenticator app to carry on."
                ),
                fail_silently=True,
            )
            return redirect("mfa_index")
        return self.get_response(request)

    def _must_set_up_first(self, request) -> bool:
        if not request.user.is_authenticated or request.path.startswith(MFA_EXEMPT_PREFIXES):
            return False
        if not mfa_setup_needed(request):
            return False
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False  # the 404 page is shown to everyone
        return match.view_name not in MFA_EXEMPT_URL_NAMES
