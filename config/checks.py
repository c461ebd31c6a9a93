"""System checks for the platform as a whole (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Info, Tags, register
from django.db import connection

from config import crypto

# Caches that each process keeps for itself: with several web processes, one would go on
# showing what another has forgotten (a revoked certificate as valid, an erased name).
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}
ONE_MACHINE_CACHES = {"django.core.cache.backends.filebased.FileBasedCache"}


@register(Tags.caches, deploy=True)
def shared_cache_check(app_configs, **kwargs):
    """Production needs one cache that every process reads and writes."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PER_PROCESS_CACHES:
        return [
            Error(
                f"The cache ({backend}) is not shared between processes: pages kept by one web "
                "process would go on showing what another has changed.",
                hint="Set REDIS_URL.",
                id="config.E001",
            )
        ]
    if backend in ONE_MACHINE_CACHES:
        return [
            Info(
                "The cache is a folder on this machine: every process here shares it, but web "
                "servers on other machines would not.",
                hint="Set REDIS_URL before running on more than one machine.",
                id="config.I001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def demo_mode_check(app_configs, **kwargs):
    """Demo mode publishes its logins (README: the password and the TOTP secret): never with
    production settings."""
    if settings.DEMO_MODE and not settings.DEBUG:
        return [
            Error(
                "DEMO_MODE is on with DEBUG off: the demo logins' password and two-factor secret are "
                "published in the README, so anyone could sign in as staff.",
                hint="Unset DEMO_MODE in production (and delete any demo accounts it created).",
                id="config.E002",
            )
        ]
    return []


@register(Tags.database)
def encrypted_secrets_readable_check(app_configs, databases=None, **kwargs):
    """Run by `check --database default` (and `migrate`): a SECRET_KEY changed without the old
    one in SECRET_KEY_FALLBACKS leaves stored secrets unreadable, and every sign-in with an
    authenticator would fail. Say so before anyone tries."""
    if not databases:
        return []
    errors = []
    tables = connection.introspection.table_names()
    for store in crypto.stores():
        if store.table not in tables:  # not migrated yet (`migrate` runs this check first)
            continue
        unreadable = store.unreadable_count()
        if unreadable:
            errors.append(
                Error(
                    f"{unreadable} of the stored {store.name} cannot be decrypted with SECRET_KEY "
                    "or any key in SECRET_KEY_FALLBACKS.",
                    hint="Put the previous SECRET_KEY back into SECRET_KEY_FALLBACKS (comma-separated), "
                    "then run `manage.py secrets_reencrypt` before removing it.",
                    id="config.E003",
                )
            )
    return errors
