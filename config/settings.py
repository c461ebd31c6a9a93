"""
Settings for Future Leaders, one module, read from the environment.

Every value has a default that runs anywhere (SQLite, in-process cache and tasks,
email to the console); production only hardens. See README.md for the variables.
https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; a missing file is ignored

# --- Core --------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# The default key is for development only; `check --deploy` flags it in production.
SECRET_KEY = env(
    "SECRET_KEY",
    default="django-insecure-development-only-key-do-not-use-in-production",
)
# Old keys, newest first, kept while what they signed (sessions, links) and encrypted
# (authenticator and webhook secrets: config/crypto.py) is still in use. Comma-separated.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# DEMO_MODE: demo logins exist (their password and TOTP secret are published: `check --deploy`
# refuses it with DEBUG off, config.checks). Owner: foundation.
DEMO_MODE = env.bool("DEMO_MODE", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's security-key and sessions pages load it
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "django_celery_beat",
    "csp",
    "members",
    "training",
    "certification",
    "reporting",  # the read model and the dashboard: kept from the other apps' events
    "audit",
    "scale",  # generate_scale: data in bulk for benchmarks; no models
    "rest_framework",
    "django_filters",
    "django_tables2",  # the one table component (config/tables.py, decision 0023)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "imports",  # staff import members from CSV/XLSX (own parser, a form a row, own pages)
    "webhooks",
    "dbbackup",  # backups of the database and the stored files (README: Backups and restore)
]

MIDDLEWARE = [
    # First: every response carries X-Request-ID and every log line of the request names it;
    # then the timing of everything below (docs/decisions/0026-observability.md).
    "config.request_id.RequestIdMiddleware",
    "config.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Text responses gzipped (static files come precompressed from WhiteNoise above); before
    # anything below that could read or rewrite the body.
    "config.middleware.TextGZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # NUL and other control characters in the path or query string: a 400 before any view.
    "config.middleware.RejectControlCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # What a signed-in member's requests keep between them (roles, onboarding, MFA), read
    # by the two gates, the menu and every permission check (docs/decisions/0028).
    "members.middleware.MemberStateMiddleware",
    "members.middleware.MfaRequiredMiddleware",
    "members.middleware.OnboardingRequiredMiddleware",
    # After the gates above, which load request.user anyway: the member's pseudonym for logs.
    "config.request_id.MemberPseudonymMiddleware",
    "audit.middleware.AuditRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "members.context_processors.roles",
                "members.context_processors.support",
            ],
        },
    },
]

# The one table markup every django-tables2 table renders with (decision 0023).
# https://django-tables2.readthedocs.io/en/latest/pages/custom-rendering.html
DJANGO_TABLES2_TEMPLATE = "tables/table.html"

# --- Database and cache ------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A persistent connection the server dropped (a restart, pg_terminate_backend, a proxy's
# timeout) is checked before a request reuses it and replaced, instead of failing that
# request (issue 18). Celery's Django fix-up closes a worker's connections around every task.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# REDIS_URL switches on Redis for the cache (shared rate limits) and Celery.
REDIS_URL = env("REDIS_URL", default="")


def _redis_database_next(url: str) -> str:
    """The same server, the next database number: clearing the cache (FLUSHDB) must never
    wipe Celery's queued and unacknowledged tasks."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return parts._replace(path=f"/{(number + 1) % 16}").geturl()


REDIS_CACHE_URL = env("REDIS_CACHE_URL", default=_redis_database_next(REDIS_URL) if REDIS_URL else "")
if REDIS_URL:
    # Redis down or paused is a cache miss, not an error; each limit counted in the cache
    # lets requests through meanwhile (docs/decisions/0021-redis-down.md). A quarter second
    # to connect or answer bounds what a paused Redis costs a request; after a failure this
    # process skips Redis for CACHE_REDIS_DOWN_SECONDS.
    CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSafeRedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "KEY_PREFIX": "fl",
            "OPTIONS": {
                "socket_connect_timeout": env.float("CACHE_REDIS_TIMEOUT", default=0.25),
                "socket_timeout": env.float("CACHE_REDIS_TIMEOUT", default=0.25),
                "DOWN_SECONDS": env.float("CACHE_REDIS_DOWN_SECONDS", default=5.0),
            },
        }
    }
else:
    # Without Redis, a cache every process of this machine shares (web workers, beat, the
    # shell): a revocation forgotten by one is forgotten by all. One machine only: `check
    # --deploy` says so (config.checks).
    # https://docs.djangoproject.com/en/5.2/topics/cache/#filesystem-caching
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env("CACHE_DIR", default=str(BASE_DIR / "var" / "cache")),
        }
    }

# --- Celery ------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# Without Redis, tasks run in-process so that nothing needs a server.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
# A task is acknowledged when done, and handed back if its worker dies: the notice ledger
# makes running it again harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Europe/London"
# If Redis is down or paused, enqueueing from a web request gives up within a quarter second
# (one try) instead of holding the request; what was not enqueued waits in the database for
# the next sweep (docs/decisions/0021-redis-down.md). Workers wait longer (config.celery).
CELERY_BROKER_CONNECTION_TIMEOUT = 0.25
# A task taken by a worker and not acknowledged (the worker died) is handed out again after
# this long: shorter than an hour, longer than the longest task's hard time limit (imports'
# write, 1,860 s), so that a live worker's task is never handed to a second one.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=2000)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 0.25,
    "socket_timeout": 0.25,
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 0,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes this into its database schedule at start; staff may change it in the admin.
NOTICE_SWEEP_SECONDS = env.int("NOTICE_SWEEP_SECONDS", default=30)
# The notice ledger (docs/decisions/0008): a sending batch's claim lapses if not renewed for
# this long (the batch renews it every third of it), and the sweep asks the broker again for
# a notice asked for this long ago and still waiting (the broker lost it). A killed worker's
# notices go again within about lease + sweep (2 minutes); a lost request within
# re-enqueue + sweep (90 s).
NOTICE_CLAIM_LEASE_SECONDS = env.int("NOTICE_CLAIM_LEASE_SECONDS", default=90)
NOTICE_REENQUEUE_SECONDS = env.int("NOTICE_REENQUEUE_SECONDS", default=60)
# Work owed after a commit, recovered from the database within 2 minutes of a fault ending
# (docs/decisions/0022): lease (or re-ask) + sweep interval <= 120 s for each kind.
CERTIFICATES_OWED_SWEEP_SECONDS = env.int("CERTIFICATES_OWED_SWEEP_SECONDS", default=60)
MEMBER_IMPORT_SWEEP_SECONDS = env.int("MEMBER_IMPORT_SWEEP_SECONDS", default=30)
# An invitation claimed this long ago and not marked sent is claimed again by the sweep (the
# sending task renews its claims every third of it).
MEMBER_INVITATION_CLAIM_LEASE_SECONDS = env.int("MEMBER_INVITATION_CLAIM_LEASE_SECONDS", default=90)
# A data export handed to the broker this long ago and not being built is asked again.
DATA_EXPORT_SWEEP_SECONDS = env.int("DATA_EXPORT_SWEEP_SECONDS", default=30)
DATA_EXPORT_REENQUEUE_SECONDS = env.int("DATA_EXPORT_REENQUEUE_SECONDS", default=90)
CELERY_BEAT_SCHEDULE = {
    "notices-sweep": {"task": "training.notices_sweep", "schedule": float(NOTICE_SWEEP_SECONDS)},
    # Members' data rights: expired export ZIPs deleted; files past retention removed.
    # Builds never handed over, or lost, asked again (docs/decisions/0022).
    "data-exports-sweep": {
        "task": "members.data_exports_sweep",
        "schedule": float(DATA_EXPORT_SWEEP_SECONDS),
    },
    "retention-files": {"task": "training.retention_files", "schedule": 24 * 60 * 60.0},
    # Applications waiting for a decision: one digest a day to each person who may decide
    # them, at 8 a.m. in London (CELERY_TIMEZONE). A run missed while beat was down runs when
    # it starts; a second run the same day sends nothing more (training.services.application_notices).
    "applications-waiting-digest": {
        "task": "training.applications_waiting_digest",
        "schedule": crontab(hour=8, minute=0),
    },
    # Member imports checked but never confirmed: their rows (members' data) deleted.
    "member-imports-expire": {"task": "imports.member_imports_expire", "schedule": 60 * 60.0},
    # Webhooks: first tries the broker missed, and retries now due (docs/decisions/0015).
    "webhooks-sweep": {"task": "webhooks.deliveries_sweep", "schedule": 60.0},
    # The verification page's checks, queued in Redis, counted (certification.services.verification).
    "verification-checks-flush": {"task": "certification.verification_checks_flush", "schedule": 60.0},
    # Certificates owed (the rule holds, none issued) that the after-commit receiver failed to
    # issue (Redis down, a worker killed): issued by the normal service (docs/decisions/0022).
    "certificates-owed-sweep": {
        "task": "certification.certificates_owed_sweep",
        "schedule": float(CERTIFICATES_OWED_SWEEP_SECONDS),
    },
    # Member imports confirming with no worker on them: handed to a worker again.
    "member-imports-confirming-sweep": {
        "task": "imports.member_imports_confirming_sweep",
        "schedule": float(MEMBER_IMPORT_SWEEP_SECONDS),
    },
    # Imported members not yet invited (the task lost, its worker killed): invited.
    "member-invitations-sweep": {
        "task": "imports.member_invitations_sweep",
        "schedule": float(MEMBER_IMPORT_SWEEP_SECONDS),
    },
    # Cohorts open -> running -> finished by their dates (training.services.cohort_lifecycle).
    # Hourly, not daily: an interval counts from beat's start, not from midnight, so a cohort
    # moves within the hour its day begins (London time, either side of a clock change), and a
    # run missed while beat was down is made up within the hour. A run that finds nothing due
    # is three small indexed queries.
    "cohorts-move-by-dates": {"task": "training.cohorts_move_by_dates", "schedule": 60 * 60.0},
}
# Every task beat runs goes to the "sweeps" queue, the rest (notice batches, webhook
# deliveries, exports, PDFs, imports) to the default one ("celery"): a backlog of sends never
# delays a sweep. Every worker consumes both: `celery -A config worker -Q celery,sweeps`.
CELERY_TASK_DEFAULT_QUEUE = "celery"
SWEEPS_QUEUE = "sweeps"
CELERY_TASK_ROUTES = {entry["task"]: {"queue": SWEEPS_QUEUE} for entry in CELERY_BEAT_SCHEDULE.values()}
# A member import confirming, handed to the broker this long ago and not being written (its
# row not locked by a worker), is handed over again by the sweep above.
# The write holds the import's row lock for its whole transaction and the sweep skips locked
# rows, so the lock is the renewal: the lease only covers a message lost before any worker.
MEMBER_IMPORT_WRITE_LEASE_SECONDS = env.int("MEMBER_IMPORT_WRITE_LEASE_SECONDS", default=90)
# Members' data rights (UK GDPR). Owner: members. See docs/decisions/0012-data-rights.md.
# How long the link to a member's data export works, and its ZIP is kept.
DATA_EXPORT_LINK_DAYS = env.int("DATA_EXPORT_LINK_DAYS", default=7)
# Files handed in with submissions are deleted this many days after their cohort ended.
SUBMISSION_FILE_RETENTION_DAYS = env.int("SUBMISSION_FILE_RETENTION_DAYS", default=730)
# Owner: training (marking). A resubmission is due this many days after the mark that asks for
# it (or on the assignment's own date, if later) unless the marker sets another date.
RESUBMIT_DAYS = env.int("RESUBMIT_DAYS", default=14)

# --- Accounts ----------------------------------------------------------------
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    # ModelBackend answering the request's permission checks from the member's kept state
    # (docs/decisions/0028); ModelBackend stays listed for sessions signed in through it.
    "members.backends.KeptPermissionsBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "members:home"

# https://docs.allauth.org/en/latest/account/configuration.html
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# Mandatory in demo mode too: with optional verification a new address signs in at once and a
# taken one is refused, so sign-up would tell anyone which addresses have accounts. Demo
# sign-ups confirm by the link printed on the console (`make run`); the demo logins are verified.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# Shared with the platform's own emails (config/emails.py): one sender, one look.
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Future Leaders] "
# A member is told when their password, addresses or second factor change, and what to do
# if it was not them (templates/account/email/base_notification.*).
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, stated so that they are visibly on.
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
# An address of another account is never added to this one (members/email_forms.py).
# The other three only put their labels in the site's voice (members/account_forms.py).
ACCOUNT_FORMS = {
    "add_email": "members.email_forms.MemberAddEmailForm",
    "login": "members.account_forms.MemberLoginForm",
    "change_password": "members.account_forms.MemberChangePasswordForm",
    "reset_password_from_key": "members.account_forms.MemberResetPasswordKeyForm",
}

# The client's address for rate limits (allauth's and the certificate check's): behind N
# proxies of ours, the Nth address from the right of X-Forwarded-For; or a header that the
# proxy sets (e.g. X-Real-IP). Unset: REMOTE_ADDR, and X-Forwarded-For is ignored.
# https://docs.allauth.org/en/latest/common/configuration.html
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env("TRUSTED_CLIENT_IP_HEADER", default=None)

# https://docs.allauth.org/en/latest/mfa/configuration.html
# Open to everyone; required of trainers and staff (members/mfa.py). Security keys need a
# secure context (HTTPS, or http://localhost in development).
MFA_ADAPTER = "members.mfa.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# The security-key forms read their JSON within a size and a depth (members/mfa_forms.py).
MFA_FORMS = {
    "add_webauthn": "members.mfa_forms.AddWebAuthnForm",
    "signup_webauthn": "members.mfa_forms.SignupWebAuthnForm",
    "authenticate_webauthn": "members.mfa_forms.AuthenticateWebAuthnForm",
    "login_webauthn": "members.mfa_forms.LoginWebAuthnForm",
    "reauthenticate_webauthn": "members.mfa_forms.ReauthenticateWebAuthnForm",
}
# https://docs.allauth.org/en/latest/usersessions/configuration.html
# Not tracking activity: it would cost a write on every request.
USERSESSIONS_TRACK_ACTIVITY = False

# --- Email -------------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
# Default: messages are printed to the console of `make run`.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Future Leaders <noreply@futureleaders.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people write when they are stuck (no confirmation email, no way in): shown on the
# sign-in, verification and password pages and in every account email.
SUPPORT_EMAIL = env("SUPPORT_EMAIL", default="help@futureleaders.example")

# --- Certificates --------------------------------------------------------------
# The address printed on certificates and QR codes, and used in emails and credentials.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The right-hand side of the fixed Message-ID each notice carries.
NOTICE_MESSAGE_ID_DOMAIN = env("NOTICE_MESSAGE_ID_DOMAIN", default=urlsplit(SITE_URL).hostname or "localhost")
CERTIFICATE_ISSUER_NAME = env("CERTIFICATE_ISSUER_NAME", default="Movement for Change")
# The Ed25519 private key (PEM) that signs Open Badges; unset: a development key in var/keys.
# multiline: "\n" in the variable becomes a newline, so the PEM fits on one line of an env file.
# https://django-environ.readthedocs.io/en/latest/tips.html#multiline-value
OPENBADGES_SIGNING_KEY = env.str("OPENBADGES_SIGNING_KEY", default="", multiline=True)
# Several signing keys (Ed25519 and P-256, current and retired), each PEM after a line
# "Created: <ISO 8601>"; see certification/signing_keys.py and `manage.py openbadges_key_rotate`.
OPENBADGES_SIGNING_KEYS = env.str("OPENBADGES_SIGNING_KEYS", default="", multiline=True)
# Where development keys are made and kept when the environment holds none.
OPENBADGES_KEY_DIR = env.path("OPENBADGES_KEY_DIR", default=BASE_DIR / "var" / "keys")
# A certificate of the programme with this short name accredits its holder as a trainer.
TRAINER_PROGRAMME_SLUG = env("TRAINER_PROGRAMME_SLUG", default="training-the-trainers")
# Checks of the public certificate page allowed per client address per minute.
VERIFY_RATE_LIMIT = env.int("VERIFY_RATE_LIMIT", default=30)

# --- REST API ----------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/ . Owner: api. See
# docs/decisions/0013-rest-api.md. Rates are per token (token calls), per member (session
# calls) and per client address (anonymous calls), counted in the shared cache.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # enforces CSRF on writes
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env("API_RATE_TOKEN", default="600/min"),
        "user": env("API_RATE_USER", default="300/min"),
        "anon": env("API_RATE_ANON", default="60/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON within a size and a depth (config.json_bounded): deep nesting is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
# Swagger UI's files come from drf-spectacular-sidecar, served by this site (the CSP allows
# no other origin).
SPECTACULAR_SETTINGS = {
    "TITLE": "Future Leaders API",
    "DESCRIPTION": (
        "Programmes, cohorts, sessions, certificates, the registry, targets and dashboard "
        "figures. Authenticate with a personal token (Authorization: Bearer fl_…) made by "
        "national staff at /manage/api-tokens/, or with a browser session (CSRF on writes)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One name for the attendance choices a register shows and takes (both fields are "status").
    # One name for a certificate's standing (the public check's status, a record's standing).
    "ENUM_NAME_OVERRIDES": {
        "AttendanceStatusEnum": "training.models.AttendanceStatus",
        "CertificateStandingEnum": "certification.standing.Standing",
    },
}

# --- Webhooks ------------------------------------------------------------------
# Outbound deliveries to endpoints staff register. Owner: webhooks. See
# docs/decisions/0015-webhooks.md. Timeouts in seconds; the backoff is the wait after each
# failed try (then the delivery is given up); an endpoint failing this many times in a row
# is paused. WEBHOOKS_ALLOW_LOCAL_HTTP lets http:// and loopback addresses through: for
# tests and local development only, never in production.
WEBHOOKS_TIMEOUT_CONNECT = env.float("WEBHOOKS_TIMEOUT_CONNECT", default=3.0)
WEBHOOKS_TIMEOUT_READ = env.float("WEBHOOKS_TIMEOUT_READ", default=5.0)
WEBHOOKS_BACKOFF_SECONDS = [60, 5 * 60, 30 * 60, 2 * 60 * 60, 12 * 60 * 60]
WEBHOOKS_PAUSE_AFTER_FAILURES = env.int("WEBHOOKS_PAUSE_AFTER_FAILURES", default=10)
WEBHOOKS_DELIVERY_RETENTION_DAYS = env.int("WEBHOOKS_DELIVERY_RETENTION_DAYS", default=30)
WEBHOOKS_ALLOW_LOCAL_HTTP = env.bool("WEBHOOKS_ALLOW_LOCAL_HTTP", default=False)

# --- Language, time ----------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = "GB"

# --- Static and media --------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
# Member uploads live outside the static root and are served only through views.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Uploads, certificate PDFs and data exports: the local disk, or with STORAGE_URL an
# S3-compatible object store every web server and worker shares (config/storage.py).
# https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
from config.storage import storage_from_url  # noqa: E402 - kept beside the block it serves

STORAGE_URL = env.str("STORAGE_URL", default="")
STORAGES = {
    "default": storage_from_url(STORAGE_URL),
    # Where `manage.py dbbackup` and `mediabackup` write (and `dbrestore`, `mediarestore`
    # read): a folder to copy off the machine. Never the media store itself.
    "dbbackup": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.path("BACKUP_DIR", default=BASE_DIR / "var" / "backups")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Source maps (16 MB of the 29 MB collected; only a browser's developer tools fetch them) are
# served as they are: compressing them with Brotli took 28 of collectstatic's 50 CPU-seconds.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# --- Forms -------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security ----------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# HTTPS is on whenever DEBUG is off, unless turned off explicitly (tests speak plain HTTP).
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
# No script reads the CSRF cookie (forms carry the token), so script may not read it at all.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# https://github.com/adamchainz/django-permissions-policy
# Nothing here uses the camera, location and the like; security keys are used by this site only.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
    "browsing-topics": [],
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
}

# https://django-csp.readthedocs.io/en/latest/configuration.html
# Everything comes from this site: no inline script, no third-party origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Bootstrap draws form icons as data: SVGs
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- Logging, errors and metrics -------------------------------------------------
# docs/decisions/0026-observability.md. LOG_FORMAT=json: one JSON object a line (production,
# for a log collector); otherwise readable text. Every line names its request id, member
# (a pseudonym) and Celery task; none names a person (config.logging).
from config.logging import logging_config  # noqa: E402

LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env("LOG_LEVEL", default="INFO"))
# Workers log through the LOGGING above, not Celery's own format (which drops the filter).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Errors reported to Sentry (or a server speaking its protocol) when SENTRY_DSN is set, with
# members' data scrubbed (config.sentry). Release: SENTRY_RELEASE, else the SDK's guess (git).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        release=env("SENTRY_RELEASE", default=""),
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# /metrics (Prometheus) answers only these client addresses or networks (comma-separated),
# or a request bearing METRICS_TOKEN; with neither set, nobody (config.metrics).
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
METRICS_TOKEN = env("METRICS_TOKEN", default="")
