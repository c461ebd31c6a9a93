"""Rate limits: per token for token calls, per member for session calls, per client address
for anonymous ones; counted in the shared cache (Redis when configured), so they hold across
processes. Rates are settings (API_RATE_TOKEN, API_RATE_USER, API_RATE_ANON)."""

from allauth.account.adapter import get_adapter
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken


class ApiRateThrottle(SimpleRateThrottle):
    scope = "anon"  # chosen per request in allow_request

    def get_rate(self):
        # Read at each call (not at import), so settings changed in tests take effect.
        rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        return rates[self.scope]

    def allow_request(self, request, view):
        if isinstance(request.auth, ApiToken):
            self.scope = "token"
        elif request.user and request.user.is_authenticated:
            self.scope = "user"
        else:
            self.scope = "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if self.scope == "token":
            ident = f"t{request.auth.pk}"
        elif self.scope == "user":
            ident = f"u{request.user.pk}"
        else:
            # The address as allauth's limits see it (trusted proxies and header honoured).
            ident = f"a{get_adapter(request._request).get_client_ip(request._request)}"
        return f"api-throttle:{ident}"
