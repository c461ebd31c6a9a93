"""The menu bar's main links are rendered once per combination of what they show and kept
by each process (members/templatetags/layout_tags.py main_menu): each viewer still sees their
own links, and each page marks its own section."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from members.permissions import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


MAIN_LINKS = re.compile(r'<ul class="navbar-nav me-auto">.*?</ul>\s*<ul class="navbar-nav">', re.S)


def _menu(client, url) -> str:
    return MAIN_LINKS.search(client.get(url).content.decode()).group(0)


def _signed_in(role) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def test_each_page_marks_its_own_section(seeded):
    trainee = _signed_in(Role.TRAINEE)
    on_training = _menu(trainee, reverse("training:my-training"))
    on_registry = _menu(trainee, reverse("certification:registry"))
    current = re.compile(r'href="([^"]+)" aria-current="page"')
    assert current.findall(on_training) == [reverse("training:my-training")]
    assert current.findall(on_registry) == [reverse("certification:registry")]


def test_each_viewer_sees_the_links_of_their_roles_and_permissions(seeded):
    page = reverse("members:profile-edit")
    national = _menu(_signed_in(Role.NATIONAL_STAFF), page)
    trainee = _menu(_signed_in(Role.TRAINEE), page)
    visitor = _menu(Client(), reverse("certification:registry"))
    assert reverse("audit:entry-list") in national
    assert reverse("training:programme-list") in national
    assert reverse("training:my-training") not in national
    assert reverse("training:my-training") in trainee
    assert reverse("audit:entry-list") not in trainee
    assert reverse("training:my-training") not in visitor
    assert reverse("certification:registry") in visitor
