"""What the site's menu needs from certification, without a query on every page.

Whether the signed-in member has a registry entry ("Your registry entry" in the menu) is
kept in their session: set at sign-in (receivers.py) and refreshed on their own entry's
page. A member certified while signed in finds the link on their certificates page at once,
and in the menu from their next visit to their entry or their next sign-in.
"""

from certification.selectors.registry import user_registry_entry_exists

REGISTRY_NAV_SESSION_KEY = "certification_in_registry"  # read by templates/base.html


def registry_nav_flag_remember(*, session, user, exists: bool | None = None) -> None:
    if exists is None:
        exists = user_registry_entry_exists(user=user)
    if session.get(REGISTRY_NAV_SESSION_KEY) != exists:
        session[REGISTRY_NAV_SESSION_KEY] = exists
