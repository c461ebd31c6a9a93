"""Keeps signed-in members on the onboarding pages until they have consented and
filled in their profile: no one uses the platform past sign-up without consent."""

from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from members.selectors import member_onboarding_state

# Pages a member may reach before onboarding is complete.
ONBOARDING_EXEMPT_URL_NAMES = {
    "members:consent",
    "members:profile-edit",
    "healthz",
    # A member who will not agree to a new consent text may still take their data and go.
    "members:data-rights",
    "members:data-export-download",
    "members:account-erase",
    "members:account-erased",
}
ONBOARDING_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/")


class OnboardingRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        redirect_to = self._onboarding_redirect(request)
        return redirect(redirect_to) if redirect_to else self.get_response(request)

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
        state = member_onboarding_state(user=user)
        request.onboarding_state = state
        if not state.has_current_consent:
            return "members:consent"
        if not state.has_profile:
            return "members:profile-edit"
        return None
