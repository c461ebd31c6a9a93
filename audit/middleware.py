"""Keeps the current request within reach of `audit_record`, for the client's address.

Services that write audit entries (marks, certificates, roles, targets) take no request;
this lets their entries carry the address of the request that caused them. Nothing is read
or computed here: the address is worked out only when an entry is written.
"""

from contextvars import ContextVar

_current_request: ContextVar = ContextVar("audit_current_request", default=None)


def current_request():
    return _current_request.get()


class AuditRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            # A streamed CSV writes its rows after this returns; its entry is written before.
            _current_request.reset(token)
