"""The verification page's content, kept in the cache between checks.

A check is the platform's most public request (anyone, as often as they like), and the
certificate it shows changes rarely: revoked, its name shown another way, its holder's account
erased. So the part of the page about the certificate is rendered once per language and kept;
each such change forgets the kept copies once its transaction commits (the receivers in
certification.receivers; the erasure, which updates rows without signals, itself). A copy is
kept five minutes at most: a check that read the row just before a change committed may put
the old copy back, and it lives no longer than that.

The content has no form, script or nonce: the same HTML serves every visitor.
"""

import dataclasses
import datetime as dt
import json

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from certification.selectors.certificates import certificate_for_verification, code_normalise
from certification.standing import certificate_standing
from config.cache import UNREACHABLE, shared_redis, shared_redis_unreachable

KEPT_SECONDS = 5 * 60
CONTENT_TEMPLATE = "certification/_verify_content.html"


@dataclasses.dataclass(frozen=True)
class CheckedPage:
    certificate_id: int
    content: str  # HTML rendered from CONTENT_TEMPLATE

    @property
    def content_html(self) -> SafeString:
        return mark_safe(self.content)  # noqa: S308 - our own template's output, escaped when rendered


def checked_page_key(code: str) -> str:
    """The cache key of the page for this code (as people type it, or malformed) in the
    language of the request, today."""
    return _key(code_normalise(code) or "-", get_language(), timezone.localdate())


def _key(normalised_code: str, language: str, day: dt.date) -> str:
    # The day is part of the key: a certificate's standing changes at midnight by itself
    # (it expires), with no change to its row to forget the kept copy.
    return f"verify-page:{normalised_code}:{language}:{day.isoformat()}"


def checked_page_get(*, code: str, kept: str | None) -> CheckedPage | None:
    """The page's content for this code, or None for no such certificate: from `kept` (the
    text kept at checked_page_key(code), read by the caller with the rate limit), or rendered
    from the certificate (one query, certificate_for_verification) and kept. Unknown codes are
    not kept."""
    if kept is not None:
        return CheckedPage(**json.loads(kept))
    certificate = certificate_for_verification(code=code)
    if certificate is None:
        return None
    page = CheckedPage(
        certificate_id=certificate.pk,
        content=str(
            render_to_string(
                CONTENT_TEMPLATE,
                {"certificate": certificate, "standing": certificate_standing(certificate)},
            )
        ),
    )
    _keep(checked_page_key(code), json.dumps(dataclasses.asdict(page)))
    return page


def _keep(key: str, text: str) -> None:
    """As text: on Redis the check page's script reads it back raw (services.verification)."""
    client = shared_redis()
    if client is None:
        cache.set(key, text, KEPT_SECONDS)
        return
    try:
        client.set(cache.make_key(key), text, ex=KEPT_SECONDS)
    except UNREACHABLE as error:
        shared_redis_unreachable(error)


def checked_pages_forget(*, codes: list[str]) -> None:
    """Forget the kept pages of these certificates, in every language, when the change being
    made commits."""
    today = timezone.localdate()
    keys = [_key(code, language, today) for code in codes for language, _name in settings.LANGUAGES]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))
