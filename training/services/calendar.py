"""Calendars: an .ics per session and a private, revocable feed of a member's sessions."""

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event

from training.models import CalendarFeed, Session, SessionMode


def calendar_uid_domain() -> str:
    """The site's host name (no scheme or port), read when asked: a UID is globally unique
    only under a domain the site owns (RFC 5545). Changing SITE_URL's host changes every
    UID, and subscribed calendars then see new events, so it is set once per deployment."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def session_uid(session: Session) -> str:
    return f"session-{session.pk}@{calendar_uid_domain()}"


def _event(session: Session, *, show_link: bool) -> Event:
    event = Event()
    # A stable UID plus a rising SEQUENCE: calendars update the event in place.
    event.add("uid", session_uid(session))
    event.add("sequence", session.sequence)
    event.add("dtstamp", session.updated_at or timezone.now())
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", f"{session.cohort.name}: {session.title}")
    if session.mode == SessionMode.ONLINE:
        event.add("location", session.online_link if show_link else "Online")
    else:
        event.add("location", ", ".join(part for part in [session.venue, session.address] if part))
    event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
    return event


def sessions_ics(sessions, *, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Future Leaders//Training calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for session in sessions:
        calendar.add_component(_event(session, show_link=True))
    return calendar.to_ical()


@transaction.atomic
def calendar_feed_rotate(*, member) -> CalendarFeed:
    """Create the member's feed address, or replace it (the old address stops working)."""
    feed, _created = CalendarFeed.objects.update_or_create(
        member=member,
        defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()},
    )
    return feed
