"""The rule of decision 0024: no app acts on another app's models through their save and
delete signals. Copies kept for reading are fed by named events that services announce
(members/signals.py, training/signals.py, certification/signals.py).

Checked with Signal.has_listeners(sender) on every model of the project's apps (their
many-to-many tables too): a listener is allowed only where the allow-list below names it,
with the reason, and only the app that owns the model may be named there.
"""

import pytest
from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from certification.signals import certificate_standing_changed, targets_changed
from members.signals import consent_given, member_name_changed, member_place_changed, places_changed
from training.signals import enrolments_changed, standing_changed, training_offer_changed

PROJECT_APPS = {
    "members",
    "training",
    "certification",
    "reporting",
    "audit",
    "scale",
    "api",
    "imports",
    "webhooks",
}
MODEL_SIGNALS = {
    "pre_save": pre_save,
    "post_save": post_save,
    "pre_delete": pre_delete,
    "post_delete": post_delete,
    "m2m_changed": m2m_changed,
}

# (model label, signal name): (the app whose receiver listens, why a model signal is right here).
ALLOWED = {
    ("members.User_groups", "m2m_changed"): (
        "members",
        "a role given or taken moves the member's access_version; the admin's form saves groups itself",
    ),
    ("members.User_user_permissions", "m2m_changed"): (
        "members",
        "a permission given or taken moves the member's access_version, whoever changed it",
    ),
    # The kept member state (decision 0028): by any path, the admin's and a shell's too.
    ("members.ConsentRecord", "post_save"): (
        "members",
        "a consent withdrawn ends a complete onboarding: the member's access_version moves",
    ),
    ("members.ConsentRecord", "post_delete"): (
        "members",
        "a consent deleted ends a complete onboarding: the member's access_version moves",
    ),
    ("members.Profile", "post_delete"): (
        "members",
        "a profile deleted ends a complete onboarding: the member's access_version moves",
    ),
    ("members.ConsentText", "post_save"): (
        "members",
        "a consent text published replaces the cache's copy of the current text's id",
    ),
    ("members.ConsentText", "post_delete"): (
        "members",
        "a consent text removed replaces the cache's copy of the current text's id",
    ),
    ("certification.Certificate", "post_save"): (
        "certification",
        "the verification page's kept copy of its own certificate goes with any change to it",
    ),
    ("certification.Certificate", "post_delete"): (
        "certification",
        "the verification page's kept copy of its own certificate goes with it",
    ),
}


def project_models():
    return [
        model for model in apps.get_models(include_auto_created=True) if model._meta.app_label in PROJECT_APPS
    ]


def test_the_allow_list_names_only_each_models_own_app():
    for (label, _signal), (listener_app, reason) in ALLOWED.items():
        assert label.split(".")[0] == listener_app, f"{label}: a receiver from {listener_app} acts on it"
        assert reason


def test_no_model_signal_has_a_listener_outside_the_allow_list():
    """Every project model, every save/delete/m2m signal: no listener unless allowed above."""
    found = {
        (model._meta.label, name)
        for model in project_models()
        for name, signal in MODEL_SIGNALS.items()
        if signal.has_listeners(model)
    }
    assert found - set(ALLOWED) == set(), "receivers on models' signals outside the allow-list"
    assert set(ALLOWED) - found == set(), "allowed but no longer listened to: shorten the list"


@pytest.mark.parametrize(
    ("signal", "listener"),
    [
        (member_place_changed, "reporting"),
        (member_name_changed, "reporting"),
        (places_changed, "reporting"),
        (consent_given, "imports"),
        (enrolments_changed, "reporting"),
        (training_offer_changed, "reporting"),
        (standing_changed, "certification"),
        (certificate_standing_changed, "reporting"),
        (targets_changed, "reporting"),
    ],
)
def test_every_event_is_heard(signal, listener):
    """Each announced event has its listener connected at start-up (AppConfig.ready)."""
    assert signal.has_listeners(), f"nobody listens; expected {listener}"
