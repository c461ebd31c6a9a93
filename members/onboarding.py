"""Where a member was going when onboarding stopped them, so that they get there after it.

A visitor who finds a cohort and signs up to apply must land back on the cohort, through
email verification and the onboarding gate (consent, then profile: decision 0002). allauth
carries the sign-up's `next` through verification only in the same browser session and
within ACCOUNT_LOGIN_TIMEOUT (15 minutes by default); after that the link signs nobody in,
and the member signs in from the login page with no `next`. The gate then sends them to
pages that know nothing of where they were going. So the page is kept in the session:

- at sign-up, the form's `next` (allauth's user_signed_up signal), replacing any kept;
- by the gate, the page it turned a member away from, unless one is kept already;

and taken back (once) when the consent or the profile page is done. Only a path on this
site is kept. A different browser has a different session: there the member signs in and
finds the cohort again.
"""

from django.utils.http import url_has_allowed_host_and_scheme

RETURN_TO_SESSION_KEY = "members_onboarding_return_to"


def _is_our_path(request, url: str) -> bool:
    return (
        url.startswith("/")
        and not url.startswith("//")
        and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()})
    )


def return_to_keep(request, url: str, *, replace: bool) -> None:
    """Keep `url` (a path on this site) to go to once onboarding is done."""
    if not url or not _is_our_path(request, url):
        return
    if replace or RETURN_TO_SESSION_KEY not in request.session:
        request.session[RETURN_TO_SESSION_KEY] = url


def return_to_pop(request) -> str | None:
    """The page kept, forgotten as it is given; None when none is kept."""
    url = request.session.pop(RETURN_TO_SESSION_KEY, None)
    return url if isinstance(url, str) and _is_our_path(request, url) else None


def on_user_signed_up(sender, request, user, **kwargs) -> None:
    """allauth's user_signed_up: keep the sign-up form's `next` (a hidden field, or the query)."""
    if request is None:
        return
    url = request.POST.get("next") or request.GET.get("next") or ""
    return_to_keep(request, url, replace=True)
