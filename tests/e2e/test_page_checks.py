"""The browser checks' memory (tests/e2e/conftest.py): a page the Nu checker and axe have
passed is not checked again when a second copy differs only in what each response makes anew
(the CSRF token, the script nonce, the security-key challenge), and is when its content
differs."""

import pytest

from members.permissions import Role
from tests.e2e.conftest import _digest, assert_axe_clean
from tests.factories import PASSWORD, UserFactory

# All of the browser checks' own, and under tests/e2e: the Nu checker starts for the first test
# here (a session fixture), so `make test-fast` leaves the module out with the journeys.
pytestmark = pytest.mark.e2e


def _authenticator_code_page(client, user) -> str:
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    response = client.get("/accounts/2fa/authenticate/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_two_copies_of_the_code_page_are_one_page_to_check(client):
    trainer = UserFactory(role=Role.TRAINER)
    first = _authenticator_code_page(client, trainer)
    client.logout()
    second = _authenticator_code_page(client, trainer)

    assert first != second  # the token, nonce and challenge are new in each
    assert '"challenge": ' in first
    assert _digest(first) == _digest(second)
    assert _digest(first) != _digest(first.replace("<h1", '<h1 class="other"', 1))


def test_axe_fails_a_page_on_a_serious_violation_and_names_the_rule_and_element(browser):
    page = browser.new_page()
    try:
        # Only moderate findings (no landmarks, no level-one heading): the page passes.
        page.set_content('<html lang="en"><title>Moderate</title><p>Text outside any landmark.</p></html>')
        assert_axe_clean(page)
        # A button with no name is critical, grey on white text serious.
        page.set_content(
            '<html lang="en"><title>Serious</title><main><h1>Serious</h1>'
            '<button id="nameless"></button><p id="faint" style="color:#ccc">Faint text</p></main></html>'
        )
        with pytest.raises(AssertionError) as failure:
            assert_axe_clean(page)
    finally:
        page.close()
    message = str(failure.value)
    assert 'button-name (critical): Buttons must have discernible text at ["#nameless"]' in message
    assert (
        'color-contrast (serious): Elements must meet minimum color contrast ratio thresholds at ["#faint"]'
        in message
    )


def test_the_nu_checker_finds_what_the_browser_would_repair(nu_checker):
    """The checker as the browser tests run it (tests/e2e/vnu: its own JVM options)."""
    head = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>T</title></head>'
    assert nu_checker.errors(head + "<body><main><p>Fine</p></main></body></html>") == []
    errors = nu_checker.errors(
        head + '<body><form action="/"><form action="/"></form></form><p id="a" id="b">x</p></body></html>'
    )
    messages = " ".join(error.message for error in errors)
    assert "Saw a “form” start tag, but there was already an active “form” element" in messages
    assert "Duplicate attribute “id”" in messages
