from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from members.permissions import user_roles


def roles(request) -> dict:
    """The signed-in user's roles, for the navigation.

    An error page for a request refused before the middleware ran (a bad Host header, say)
    has no user: it shows the navigation of someone signed out.
    """
    return {"user_roles": [role.value for role in user_roles(getattr(request, "user", AnonymousUser()))]}


def support(request) -> dict:
    """The address people write to when stuck, for the sign-in pages and account emails."""
    return {"support_email": settings.SUPPORT_EMAIL}
