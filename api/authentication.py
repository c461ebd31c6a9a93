"""Authentication for the API: a personal token (`Authorization: Bearer fl_…`), or the
browser session (DRF's SessionAuthentication, which enforces CSRF on unsafe methods)."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from api.permissions import user_may_hold_tokens
from api.selectors import api_token_find

KEYWORD = "Bearer"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A missing header lets the next authenticator try; a bad, expired or revoked token,
    or one whose holder may no longer hold tokens, is a 401 (never a fallback to anonymous)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Give the token after 'Bearer', with no spaces in it."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("That is not a token.")) from None
        token = api_token_find(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("That token is not known."))
        if token.is_revoked:
            raise exceptions.AuthenticationFailed(_("That token was revoked."))
        if token.is_expired:
            raise exceptions.AuthenticationFailed(_("That token has expired."))
        user = token.user
        # A holder who left staff, was deactivated or erased loses their tokens' use at once.
        if user.erased_at is not None or not user_may_hold_tokens(user):
            raise exceptions.AuthenticationFailed(_("That token's holder may no longer use the API."))
        return user, token

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="api"'
