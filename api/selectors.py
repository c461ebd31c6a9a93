"""Reads of API tokens."""

import hmac

from django.db.models import QuerySet
from django.http import Http404

from api.models import ApiToken
from api.services import token_hash, token_split


def api_token_list_for_user(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_get_own(*, user, pk) -> ApiToken:
    token = api_token_list_for_user(user=user).filter(pk=pk).first()
    if token is None:
        raise Http404("Not found.")
    return token


def api_token_find(*, raw: str) -> ApiToken | None:
    """The token this text is, with its user (one query), whatever its state; None if none.
    Compared in constant time, so timing does not tell how much of a guess was right."""
    parts = token_split(raw)
    if parts is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[0]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, token_hash(raw)):
        return None
    return token
