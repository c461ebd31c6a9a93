"""Who may hold API tokens, and what a token lets its holder reach.

What the holder may see through a token is never decided here: every API view asks the
same permission functions and selectors as the pages (training.permissions,
certification.permissions, certification.selectors). A token can only narrow that: to the
resources it names, and to reading if it is read-only.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.models import ApiToken


def user_may_hold_tokens(user) -> bool:
    """National staff (the page that makes tokens, and every call made with one)."""
    return user.is_authenticated and user.is_active and user.has_perm("api.add_apitoken")


class TokenScope(BasePermission):
    """A call made with a token: the view's resource must be among the token's, and a
    read-only token may only read. Session calls are not narrowed here."""

    message = "This token does not reach this resource."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        resource = getattr(view, "api_resource", None)
        if resource is None or not token.reaches(resource):
            self.message = f"This token does not reach the resource '{resource}'."
            return False
        if request.method not in SAFE_METHODS and not token.may_write:
            self.message = "This token is read-only."
            return False
        return True
