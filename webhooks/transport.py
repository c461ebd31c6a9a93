"""One HTTP POST to a vetted address: short timeouts, no redirects, no proxies, a bounded read.

urllib3 (not requests) because it lets the connection go to the address that
webhooks.addresses checked while TLS still checks the certificate against the host name
(server_hostname / assert_hostname): the name is never resolved a second time.
"""

from dataclasses import dataclass

import urllib3
from django.conf import settings

from webhooks.addresses import Target, port_allowed

# A receiver's answer is only read this far: its body is kept for the error column at most.
RESPONSE_READ_MAX = 1024


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _timeout() -> urllib3.Timeout:
    return urllib3.Timeout(
        connect=settings.WEBHOOKS_TIMEOUT_CONNECT,
        read=settings.WEBHOOKS_TIMEOUT_READ,
    )


def _pool(target: Target) -> urllib3.HTTPConnectionPool:
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=_timeout(),
            retries=False,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=_timeout(), retries=False)


def post(*, target: Target, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body`; any 2xx is success. Redirects are answers, not instructions: a 3xx fails."""
    if not port_allowed(host=target.host, port=target.port):  # url_resolve refuses it first
        return Outcome(status_code=None, error=f"Refused: port {target.port} is not 443.")
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    pool = _pool(target)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            snippet = response.read(RESPONSE_READ_MAX, decode_content=False)
        finally:
            response.release_conn()
        status = response.status
        error = "" if 200 <= status < 300 else f"HTTP {status}: {snippet[:200].decode('utf-8', 'replace')}"
        return Outcome(status_code=status, error=error)
    except urllib3.exceptions.HTTPError as error:
        return Outcome(status_code=None, error=f"{type(error).__name__}: {error}")
    except OSError as error:  # refused, reset, unreachable
        return Outcome(status_code=None, error=f"{type(error).__name__}: {error}")
    finally:
        pool.close()
