"""System checks for certification's settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from certification import signing_keys


@register(Tags.security, deploy=True)
def openbadges_signing_key_check(app_configs, **kwargs):
    """Production signs Open Badges with its own keys, one of each curve at least. The
    development fallback, keys made in OPENBADGES_KEY_DIR, differs per server and is lost with
    the disk, and every credential signed with it then fails to verify."""
    hint = (
        "Run `manage.py openbadges_key_rotate --print` and add what it prints to "
        "OPENBADGES_SIGNING_KEYS (keep the keys secret and backed up); see README."
    )
    if not signing_keys.keys_configured():
        return [
            Warning(
                "OPENBADGES_SIGNING_KEYS is not set: Open Badges are signed with development keys "
                f"kept in {settings.OPENBADGES_KEY_DIR}.",
                hint=hint,
                id="certification.W001",
            )
        ]
    try:
        curves = signing_keys.configured_curves()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="certification.E001")]
    missing = [curve for curve in signing_keys.CURVES if curve not in curves]
    if missing:
        return [
            Warning(
                f"The environment holds no {' or '.join(missing)} signing key: "
                f"{' and '.join(missing)} signatures use a development key kept in "
                f"{settings.OPENBADGES_KEY_DIR}.",
                hint=hint,
                id="certification.W002",
            )
        ]
    return []
