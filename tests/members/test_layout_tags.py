"""The layout's shared pieces: the menu marks the section a page is in, times are written as
HTML's <time datetime> takes them, and crispy forms' radio groups stay valid HTML."""

import datetime as dt
import re
from collections import Counter
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from certification.models import RegistryEntry
from certification.services.certificates import certificate_issue_manually
from members.permissions import Role
from members.templatetags.layout_tags import html_datetime, nav_section
from tests.factories import EnrolmentFactory, UserFactory

# HTML's valid global date and time string: seconds may have at most three decimals.
HTML_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)$")


def test_a_time_is_written_to_the_second_with_its_offset():
    """Python's isoformat gives microseconds, which the Nu checker refuses in <time datetime>."""
    at = dt.datetime(2026, 7, 1, 9, 30, 5, 123456, tzinfo=dt.UTC)
    written = html_datetime(at)
    assert written == "2026-07-01T10:30:05+01:00"  # London summer time, the site's zone
    assert HTML_DATETIME.match(written)
    assert html_datetime(dt.datetime(2026, 1, 1, 12, tzinfo=ZoneInfo("Europe/London"))).endswith("+00:00")
    assert html_datetime(dt.date(2026, 7, 1)) == "2026-07-01"
    assert html_datetime(None) == ""


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/manage/programmes/", "programmes"),
        ("/manage/versions/4/edit/", "programmes"),
        ("/manage/cohorts/3/", "cohorts"),
        ("/manage/sessions/9/register/", "cohorts"),
        ("/cohorts/3/", "find-a-cohort"),
        ("/manage/targets/", "dashboard"),
        ("/manage/audit/", "staff"),
        ("/accounts/login/", "sign-in"),
        ("/accounts/2fa/", "account"),
        ("/", None),
    ],
)
def test_each_page_belongs_to_one_section_of_the_menu(path, section):
    assert nav_section(path) == section


def test_the_menu_link_of_the_current_section_says_so():
    template = Template(
        '{% load layout_tags %}<a{% nav_current "cohorts" %}><a{% nav_current "staff" "true" %}>'
    )
    request = RequestFactory().get("/manage/cohorts/7/edit/")
    assert template.render(Context({"request": request})) == '<a aria-current="page"><a>'
    request = RequestFactory().get("/manage/webhooks/")
    assert template.render(Context({"request": request})) == '<a><a aria-current="true">'


@pytest.mark.django_db
def test_the_menu_on_a_page_marks_its_section_once(client, seeded):
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF))
    html = client.get(reverse("training:programme-list")).content.decode()
    marked = re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]*)<', html)
    assert marked == ["Programmes"]


@pytest.mark.django_db
def test_the_registry_page_has_valid_forms(client, seeded):
    """The registry page holds two crispy forms: the radio group of the first no longer
    copies the form tag's novalidate onto a div, and the two buttons have their own ids."""
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    member = UserFactory(role=Role.TRAINEE)
    certificate_issue_manually(enrolment=EnrolmentFactory(member=member), actor=staff, reason="Evidence.")
    assert RegistryEntry.objects.filter(member=member).exists()
    client.force_login(member)
    html = client.get(reverse("certification:registry-me")).content.decode()
    assert not re.search(r"<(?!form\b)\w+[^>]*\snovalidate", html)
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    assert 'id="submit-id-save-visibility"' in html


class _FormNesting(HTMLParser):
    """The deepest nesting of <form> elements in a document, as written (not as parsed)."""

    def __init__(self):
        super().__init__()
        self.depth = self.deepest = 0

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


@pytest.mark.django_db
def test_the_target_pages_have_no_form_inside_a_form(client, seeded):
    """The template writes the form tag; crispy wrote a second one inside it, which browsers
    drop (with the novalidate on it) and the Nu checker refuses."""
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF))
    html = client.get(reverse("reporting:target-create")).content.decode()
    nesting = _FormNesting()
    nesting.feed(html)
    assert nesting.deepest == 1
    assert 'value="Set the target"' in html
