"""The certificate PDF, its safe rendering, and the holder's page."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError

from certification.pdf import certificate_html, certificate_pdf, certificate_pdf_filename
from certification.pdf_fetcher import FetchRefused, SafeURLFetcher
from certification.services.certificates import (
    certificate_issue_manually,
    certificate_name_display_set,
    certificate_revoke,
)
from members.erasure import account_erase
from members.permissions import Role
from tests.factories import EnrolmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def certificate(staff):
    return certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Evidence.")


class RecordingFetcher(SafeURLFetcher):
    """The real fetcher, noting each URL it is asked for."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.asked: list[str] = []

    def fetch(self, url, headers=None):
        self.asked.append(url)
        return super().fetch(url, headers)


STATIC = (django_settings.BASE_DIR / "static").resolve()


def test_member_text_is_escaped_and_nothing_outside_is_fetched(certificate):
    """A name carrying markup prints as text; the PDF asks for nothing outside the app."""
    certificate.holder_name = '<img src="http://example.org/x.png"><script>alert(1)</script> Ada'
    certificate.save()
    html = certificate_html(certificate)
    assert "&lt;img src=&quot;http://example.org/x.png&quot;&gt;" in html
    assert "<script>alert" not in html

    recording = RecordingFetcher()
    assert certificate_pdf(certificate, url_fetcher=recording).startswith(b"%PDF")
    # The one thing asked for is the mark from the app's own static files.
    assert recording.asked == [STATIC.joinpath("img/favicon.svg").as_uri()]


def test_markup_that_would_fetch_stops_the_render_before_any_request():
    """Were a template ever to ask for the outside world, rendering fails: nothing is fetched."""
    recording = RecordingFetcher()
    page = '<p>Hi</p><img src="http://example.org/x.png">'
    with pytest.raises(FatalURLFetchingError):
        HTML(string=page, base_url=STATIC.as_uri() + "/", url_fetcher=recording).write_pdf()
    assert recording.asked == ["http://example.org/x.png"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/x.png",
        "https://example.org/a.css",
        "ftp://example.org/a.css",
        "file:///etc/passwd",
        f"{STATIC.as_uri()}/../../../../etc/passwd",
        f"{STATIC.as_uri()}/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"file://example.org{STATIC}/css/site.css",
        f"{STATIC.as_uri()}x/css/site.css",
        f"{STATIC.as_uri()}/no-such-file.png",
        "DATA:text/plain,shouting",
    ],
)
def test_the_fetcher_refuses_the_outside_world(url):
    """Other schemes, other hosts, paths that climb out of static, and missing files."""
    with pytest.raises(FetchRefused):
        SafeURLFetcher().fetch(url)


def test_the_fetcher_refuses_uploads(settings):
    """Member uploads (MEDIA_ROOT) are not static files, wherever they live."""
    upload = Path(settings.MEDIA_ROOT) / "evidence.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"not a static file")
    with pytest.raises(FetchRefused):
        SafeURLFetcher().fetch(upload.as_uri())


@pytest.mark.parametrize("url", ["data:text/plain,hello", f"{STATIC.as_uri()}/css/site.css"])
def test_the_fetcher_serves_data_uris_and_the_apps_static_files(url):
    """What the certificate may use: inline data and the app's own static files."""
    assert SafeURLFetcher().fetch(url).read()


def test_the_pdf_is_a_pdf(certificate):
    """A real PDF (WeasyPrint compresses its text, so its content is checked in the HTML)."""
    pdf = certificate_pdf(certificate)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1024


def test_holder_and_staff_download_others_cannot(client, staff, certificate):
    """The holder and staff (issuing or only viewing) get the PDF; other members a 404."""
    url = reverse("certification:certificate-pdf", args=[certificate.pk])
    client.force_login(certificate.holder)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="certificate-')
    assert response["Cache-Control"] == "private, no-store"
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(role=Role.TRAINER))
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200
    looker = UserFactory(role=Role.TRAINER)
    looker.user_permissions.add(
        Permission.objects.get(content_type__app_label="certification", codename="view_certificate")
    )
    client.force_login(looker)
    assert client.get(url).status_code == 200
    client.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_an_unknown_certificate_is_a_404_for_staff_too(client, staff, certificate):
    """An id with no certificate is a 404, whoever asks."""
    client.force_login(staff)
    assert (
        client.get(reverse("certification:certificate-pdf", args=[certificate.pk + 1000])).status_code == 404
    )


def test_a_revoked_certificate_still_downloads_stamped_revoked(client, staff, certificate):
    """The holder keeps their record, marked so that no one mistakes it for a valid one."""
    certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    certificate.refresh_from_db()
    html = certificate_html(certificate)
    assert 'class="stamp">REVOKED<' in html
    assert "no longer valid" in html
    url = reverse("certification:certificate-pdf", args=[certificate.pk])
    for user in (certificate.holder, staff):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    page = client.get(reverse("certification:verify", args=[certificate.code])).content.decode()
    assert "Issued in error." in page


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Éducation populaire: l’été 2025 ✊", "certificate-education-populaire-lete-2025-{code}.pdf"),
        ("✊✊", "certificate-{code}.pdf"),
        ('A "quoted"; filename=evil.exe', "certificate-a-quoted-filenameevilexe-{code}.pdf"),
    ],
)
def test_the_download_filename_is_plain_ascii(certificate, title, expected):
    """Accents, symbols and quotes never reach the Content-Disposition header."""
    certificate.programme_title = title
    assert certificate_pdf_filename(certificate) == expected.format(code=certificate.code)


def test_holder_chooses_initials_for_the_check_page(client, certificate):
    """POST only; the check page then shows initials; another member gets a 404."""
    certificate.holder_name = "Aisha Khan"
    certificate.save()
    client.force_login(certificate.holder)
    url = reverse("certification:certificate-name", args=[certificate.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"shows": "initials"}).status_code == 302
    page = client.get(reverse("certification:verify", args=[certificate.code])).content.decode()
    assert "A. K." in page
    assert "Aisha Khan" not in page
    assert client.post(url, {"shows": "everything"}).status_code == 302
    certificate.refresh_from_db()
    assert not certificate.shows_full_name
    client.force_login(UserFactory(role=Role.TRAINEE))
    assert client.post(url, {"shows": "full"}).status_code == 404


def test_the_name_form_needs_its_csrf_token(certificate):
    """Without the page's CSRF token the choice is refused (403); with it, saved."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(certificate.holder)
    url = reverse("certification:certificate-name", args=[certificate.pk])
    assert browser.post(url, {"shows": "initials"}).status_code == 403
    page = browser.get(reverse("certification:my-certificates")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    assert browser.post(url, {"shows": "initials", "csrfmiddlewaretoken": token}).status_code == 302
    certificate.refresh_from_db()
    assert not certificate.shows_full_name


def test_only_the_holder_may_set_how_they_are_named(certificate):
    """The service refuses anyone but the holder, whatever view calls it."""
    with pytest.raises(PermissionDenied):
        certificate_name_display_set(
            certificate=certificate, holder=UserFactory(role=Role.TRAINEE), shows_full_name=False
        )
    certificate.refresh_from_db()
    assert certificate.shows_full_name


def test_the_holder_page_offers_download_check_page_and_the_name_choice(client, certificate):
    """Each certificate: the PDF, its public check page, its check count and the name form."""
    client.force_login(certificate.holder)
    page = client.get(reverse("certification:my-certificates")).content.decode()
    assert reverse("certification:certificate-pdf", args=[certificate.pk]) in page
    assert reverse("certification:verify", args=[certificate.code]) in page
    assert reverse("certification:certificate-name", args=[certificate.pk]) in page
    assert "Checked 0 times." in page


def test_trainees_see_certificates_in_the_menu(client, seeded):
    """Trainees find their certificates in the main menu."""
    client.force_login(UserFactory(role=Role.TRAINEE))
    page = client.get(reverse("members:home"), follow=True).content.decode()
    assert f'href="{reverse("certification:my-certificates")}"' in page


# --- the public check page ------------------------------------------------------------


def test_the_check_page_shows_only_what_the_certificate_states(client, certificate):
    """No email, no cohort (a cohort's name often says where the member lives)."""
    certificate.cohort_name = "Hartlepool spring"
    certificate.save()
    response = client.get(reverse("certification:verify", args=[certificate.code]))
    page = response.content.decode()
    assert escape(certificate.holder_name) in page  # O'Brien shows escaped
    assert certificate.holder.email not in page
    assert "Hartlepool" not in page
    assert '<meta name="robots" content="noindex">' in page


def test_malformed_and_unknown_codes_run_the_same_queries(client, certificate):
    """Same SQL, only the code differs: nothing in the work done tells the two apart."""

    def queries(code):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/c/{code}/").status_code == 404
        return [query["sql"].replace(code, "?").replace("0" * 16, "?") for query in captured]

    unknown, malformed = queries("AAAAAAAAAAAAAAAA"), queries("not-a-code")
    assert len(unknown) == 1
    assert unknown == malformed


def test_checks_from_one_ipv6_network_share_a_limit(client, seeded, settings):
    """Rotating addresses inside one /64 does not reset the limit; over it, a 429 with Retry-After."""
    settings.VERIFY_RATE_LIMIT = 2
    url = "/c/AAAAAAAAAAAAAAAA/"
    assert client.get(url, REMOTE_ADDR="2001:db8:1:1::1").status_code == 404
    assert client.get(url, REMOTE_ADDR="2001:db8:1:1::2").status_code == 404
    response = client.get(url, REMOTE_ADDR="2001:db8:1:1:ffff::3")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert client.get(url, REMOTE_ADDR="2001:db8:1:2::1").status_code == 404


def test_on_redis_the_window_starts_at_the_first_check_and_ends_a_minute_later(
    client, seeded, settings, redis_url
):
    """On Redis the count is one round trip (INCR, EXPIRE NX): later checks in the window do
    not push its end back, and the count is the one the cache API reads."""
    from django.core.cache import cache

    settings.VERIFY_RATE_LIMIT = 5
    url = "/c/AAAAAAAAAAAAAAAA/"
    assert client.get(url, REMOTE_ADDR="203.0.113.9").status_code == 404
    backend = caches["default"]
    full_key = backend.make_and_validate_key("verify-rate:203.0.113.9")
    redis = backend._cache.get_client(full_key, write=True)
    assert 0 < redis.ttl(full_key) <= 60
    redis.expire(full_key, 30)
    assert client.get(url, REMOTE_ADDR="203.0.113.9").status_code == 404
    assert 0 < redis.ttl(full_key) <= 30
    assert cache.get("verify-rate:203.0.113.9") == 2


def test_behind_a_trusted_proxy_the_limit_is_per_client(client, seeded, settings):
    """With allauth's proxy setting, the forwarded client address counts, not the proxy's."""
    settings.VERIFY_RATE_LIMIT = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    url = "/c/AAAAAAAAAAAAAAAA/"
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code == 404
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy).status_code == 404
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code == 429


def test_holder_page_runs_a_fixed_number_of_queries(client, staff):
    """One certificate or four: the same queries."""
    member = UserFactory(role=Role.TRAINEE)
    client.force_login(member)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("certification:my-certificates")).status_code == 200
        return len(queries)

    certificate_issue_manually(enrolment=EnrolmentFactory(member=member), actor=staff, reason="Evidence.")
    few = count()
    for _ in range(3):
        # One active enrolment per programme: each certificate is for another programme.
        certificate_issue_manually(enrolment=EnrolmentFactory(member=member), actor=staff, reason="Evidence.")
    assert count() == few


def verify_page(client, certificate) -> str:
    response = client.get(reverse("certification:verify", args=[certificate.code]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_check_page_keeps_its_certificate_and_still_counts_every_check(client, certificate, time_machine):
    """The second check reads the certificate from the cache (one query: the count), shows
    the same, and is counted like the first."""
    # At noon: the page is kept under the day's date, and a midnight between the two checks
    # would have the second read the certificate again (test_standing.py).
    time_machine.move_to(timezone.localtime().replace(hour=12, minute=0), tick=True)
    with CaptureQueriesContext(connection) as first:
        first_page = verify_page(client, certificate)
    with CaptureQueriesContext(connection) as second:
        second_page = verify_page(client, certificate)
    # Every check is written at once, on Redis too (decision 0016): a queue in Redis lost its
    # counts on a restart.
    assert (len(first), len(second)) == (2, 1)
    assert first_page.count(certificate.code) == second_page.count(certificate.code)
    assert "Valid" in second_page
    assert escape(certificate.holder_name) in second_page
    assert certificate.verifications.count() == 2


def test_a_revocation_shows_on_the_next_check(client, staff, certificate, django_capture_on_commit_callbacks):
    assert "Valid" in verify_page(client, certificate)
    with django_capture_on_commit_callbacks(execute=True):
        certificate_revoke(certificate=certificate, actor=staff, public_reason="Issued in error.")
    page = verify_page(client, certificate)
    assert "Revoked" in page
    assert "Issued in error." in page


def test_the_holders_name_choice_shows_on_the_next_check(
    client, certificate, django_capture_on_commit_callbacks
):
    certificate.holder_name = "Aisha Khan"
    certificate.save()
    assert "Aisha Khan" in verify_page(client, certificate)
    with django_capture_on_commit_callbacks(execute=True):
        certificate_name_display_set(
            certificate=certificate, holder=certificate.holder, shows_full_name=False
        )
    page = verify_page(client, certificate)
    assert "A. K." in page
    assert "Aisha Khan" not in page


def test_an_erased_holders_certificate_shows_withdrawn_on_the_next_check(
    client, staff, certificate, django_capture_on_commit_callbacks
):
    """The erasure updates rows without signals; it forgets the kept copy itself."""
    name = certificate.holder_name
    assert escape(name) in verify_page(client, certificate)
    with django_capture_on_commit_callbacks(execute=True):
        account_erase(user=certificate.holder, actor=staff, reason="Asked by email.")
    page = verify_page(client, certificate)
    assert "Withdrawn" in page
    assert escape(name) not in page
