"""System checks for certification's settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def openbadges_signing_key_check(app_configs, **kwargs):
    """Production signs Open Badges with its own key. The development fallback, a key made in
    var/keys, differs per server and is lost with the disk, and every credential signed with it
    then fails to verify."""
    if not settings.OPENBADGES_SIGNING_KEY:
        return [
            Warning(
                "OPENBADGES_SIGNING_KEY is not set: Open Badges are signed with a development key "
                "kept in var/keys/.",
                hint="Set it to an Ed25519 private key in PEM "
                "(openssl genpkey -algorithm ed25519), kept secret and backed up.",
                id="certification.W001",
            )
        ]
    from certification.openbadges import signing_key

    try:
        signing_key()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="certification.E001")]
    return []
