"""WeasyPrint's URL fetcher for certificates: data: URIs and the app's own static files only.

Its own module because it subclasses WeasyPrint's URLFetcher, so importing it loads WeasyPrint
(half a second): certification.pdf imports it where a PDF is rendered, not at start-up.
"""

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from weasyprint.urls import URLFetcher


class FetchRefused(ValueError):
    """The certificate asked for something outside the app's own static files."""


def _static_roots() -> list[Path]:
    """The project's static folders and the collected static root; never MEDIA_ROOT."""
    folders = [entry[1] if isinstance(entry, list | tuple) else entry for entry in settings.STATICFILES_DIRS]
    return [Path(folder).resolve() for folder in [*folders, settings.STATIC_ROOT]]


class SafeURLFetcher(URLFetcher):
    """WeasyPrint's fetcher, allowed only data: URIs and files in the app's static folders.

    fail_on_errors: WeasyPrint otherwise swallows a fetcher's error and renders without the
    resource; a refusal should stop the render, so that a template asking for the outside
    world fails its tests instead of printing certificates with holes.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("fail_on_errors", True)
        kwargs["allow_redirects"] = False
        super().__init__(**kwargs)

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            # resolve() folds "..", "%2e%2e" (decoded by url2pathname) and symlinks first.
            path = Path(url2pathname(parts.path)).resolve()
            if path.is_file() and any(path.is_relative_to(root) for root in _static_roots()):
                return super().fetch(path.as_uri(), headers)
        raise FetchRefused(f"Refused to fetch {url!r} for a certificate.")
