"""Making and revoking API tokens; recording API calls in the audit trail."""

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiResource, ApiToken, TokenAccess
from api.permissions import user_may_hold_tokens
from audit.models import AuditAction
from audit.services import audit_record

TOKEN_PREFIX = "fl"  # noqa: S105 - a label, not a secret
PREFIX_CHARS = 8
EXPIRY_DAYS_MAX = 365
QUERY_MAX = 500


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_split(raw: str) -> tuple[str, str] | None:
    """('prefix', raw) for a well-formed token, None for anything else."""
    parts = raw.split("_", 2)  # the secret itself may hold "_"
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != PREFIX_CHARS or not parts[2]:
        return None
    return parts[1], raw


@transaction.atomic
def api_token_create(
    *, user, name: str, access: str, resources: list[str], expires_in_days: int
) -> tuple[ApiToken, str]:
    """A new token for `user` and its one and only plain-text copy (shown once, never stored)."""
    if not user_may_hold_tokens(user):
        raise PermissionDenied(_("Only national staff may create API tokens."))
    errors = {}
    if access not in TokenAccess.values:
        errors["access"] = _("Choose read only, or read and write.")
    unknown = sorted(set(resources) - set(ApiResource.values))
    if not resources or unknown:
        errors["resources"] = _("Choose at least one resource from the list.")
    if not 1 <= expires_in_days <= EXPIRY_DAYS_MAX:
        errors["expires_in_days"] = _("A token lasts from 1 to %(max)s days.") % {"max": EXPIRY_DAYS_MAX}
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(PREFIX_CHARS // 2)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = ApiToken(
        user=user,
        name=name,
        prefix=prefix,
        secret_hash=token_hash(raw),
        access=access,
        resources=sorted(set(resources)),
        created_at=now,
        expires_at=now + dt.timedelta(days=expires_in_days),
    )
    token.full_clean()
    token.save()
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoked at once and for good (a revoked token is never made usable again)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_call_record(*, request, status_code: int) -> None:
    """One audit entry per authenticated API call (one INSERT): who, with which token, what.
    Anonymous calls (the public certificate check) are counted by the verification log."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    token = request.auth if isinstance(request.auth, ApiToken) else None
    audit_record(
        actor=user,
        action=AuditAction.API_CALL,
        obj=token,
        label=token.name if token else "",
        changes={
            "method": request.method,
            "path": request.path,
            "query": request.META.get("QUERY_STRING", "")[:QUERY_MAX],
            "status": status_code,
            "via": "token" if token else "session",
        },
        request=request,
    )
