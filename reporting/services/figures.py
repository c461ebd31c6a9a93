"""The dashboard's figures, kept in the cache until the data behind them changes.

The figures are read far more often than the data under them changes, and reading them
scans every enrolment, certificate and register of the movement (decision 0009). So the
dashboard keeps each rendering of its figures (one per scope: national or a region, the
target asked for, and what the viewer's links may be) under a **generation**: a token that
every change to the data replaces. A page load after a change finds no figures under the new
token and counts afresh, so a change shows on the next load; every other load reads one
cache entry. The figures are also kept at most FIGURES_CACHE_SECONDS, for what changes with
the clock alone (sessions become "held", deadlines come nearer) and for a change made by SQL
or QuerySet.update(), which announces nothing.

What replaces the token (reporting/receivers.py): every event the other apps announce
(a member's place or name, the geography, enrolments, what training offers, a certificate's
standing, targets), and `manage.py dashboard_rebuild` after checking or correcting the kept
summaries. A change made by SQL or QuerySet.update() announces nothing: the time limit above
is the backstop for it.

The token is replaced at once (so a reader in the same transaction sees the change) and
again when the transaction commits: a reader that took the token before the commit and
counted the old rows kept its figures under a token that is already gone.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

GENERATION_KEY = "dashboard:figures:generation"
FIGURES_KEY_PREFIX = "dashboard:figures:"
FIGURES_CACHE_SECONDS = 300


@dataclass(frozen=True)
class KeptFigures:
    """A rendering of the figures, and when they were counted."""

    html: str
    counted_at: object  # an aware datetime
    fresh: bool = False  # counted for this request


def _generation_new() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:  # the change is saved; the figures' time limit bounds what is missed
        logger.exception("The dashboard's figures could not be marked out of date.")


def _generation_new_on_commit() -> None:
    _generation_new()


def dashboard_figures_changed() -> None:
    """The data behind the dashboard changed: its kept figures are out of date, now and
    once this transaction commits (once per transaction, however many rows changed)."""
    _generation_new()
    if connection.in_atomic_block:
        pending = any(func is _generation_new_on_commit for _sids, func, _robust in connection.run_on_commit)
        if not pending:
            transaction.on_commit(_generation_new_on_commit, robust=True)


def _generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        generation = cache.get(GENERATION_KEY)
    return generation


def dashboard_figures_get(*, key: str, build: Callable[[], str]) -> KeptFigures:
    """The figures kept under `key` (which names the scope, target, language and viewer's
    links) for the current generation; `build` renders them when none are kept. Two cache
    reads and no SQL when they are kept."""
    stored_key = f"{FIGURES_KEY_PREFIX}{_generation()}:{key}"
    kept = cache.get(stored_key)
    if kept is not None:
        html, counted_at = kept
        return KeptFigures(html=html, counted_at=counted_at)
    counted_at = timezone.now()
    html = build()
    cache.set(stored_key, (html, counted_at), FIGURES_CACHE_SECONDS)
    return KeptFigures(html=html, counted_at=counted_at, fresh=True)
