"""Which addresses a webhook may be sent to (SSRF): HTTPS on port 443 to public hosts only.

Checked when staff register an endpoint and again before every send, since DNS can change
between the two. The send then connects to the very address checked here (webhooks.http
pins it), so a name that resolves differently a moment later (DNS rebinding) cannot steer
the request inside the network.

WEBHOOKS_ALLOW_LOCAL_HTTP (default False; tests and local development turn it on) lets
http:// and loopback addresses (127.0.0.0/8, ::1), on any port, through, and nothing else
private.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

URL_MAX = 500
# HTTPS on its standard port only: another port on a public host is most often some other
# service (SSH, a database, an admin console) that a POST should not reach.
ALLOWED_PORTS = (443,)
LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (an address already vetted) and what to ask for."""

    scheme: str
    host: str  # the name, for the Host header and TLS (SNI and certificate check)
    port: int
    path: str  # path and query
    address: str  # the vetted IP address to connect to


def _local_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOCAL_HTTP", False))


def _address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address may not be sent to, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if address.is_loopback:
        return None if _local_allowed() else _("it is this machine (loopback)")
    if address.is_link_local:
        return _("it is a link-local address")
    if address.is_private or address.is_reserved or address.is_multicast or address.is_unspecified:
        return _("it is a private or reserved address")
    if not address.is_global:
        return _("it is not a public address")
    return None


def url_check(url: str) -> tuple[str, str, int, str]:
    """The URL's form alone (no DNS): (scheme, host, port, path). ValidationError if refused."""
    url = (url or "").strip()
    if len(url) > URL_MAX:
        raise ValidationError(_("Keep the address under %(max)s characters.") % {"max": URL_MAX})
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationError(_("This is not a valid address.")) from error
    allowed_schemes = ("https", "http") if _local_allowed() else ("https",)
    if parts.scheme not in allowed_schemes:
        raise ValidationError(_("Use an https:// address: deliveries carry signed data."))
    if not parts.hostname:
        raise ValidationError(_("The address needs a host name."))
    if parts.username or parts.password:
        raise ValidationError(
            _("Leave user names and passwords out of the address; the signature authenticates.")
        )
    if parts.fragment:
        raise ValidationError(_("Leave the #fragment out of the address."))
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        raise ValidationError(_("Plain http:// is allowed only to this machine, for tests."))
    port = port or (443 if parts.scheme == "https" else 80)
    if not port_allowed(host=parts.hostname, port=port):
        raise ValidationError(
            _("Use the standard HTTPS port (443): deliveries are not sent to port %(port)s.") % {"port": port}
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def port_allowed(*, host: str, port: int) -> bool:
    """443 only; any port on this machine while WEBHOOKS_ALLOW_LOCAL_HTTP is on (tests)."""
    return port in ALLOWED_PORTS or (_local_allowed() and host in LOOPBACK_NAMES)


def url_resolve(url: str) -> Target:
    """Check the URL and resolve its host; every address it resolves to must be allowed
    (one private address among public ones is refused: which one is used is not ours to
    choose). ValidationError, with the reason, if not."""
    scheme, host, port, path = url_check(url)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise ValidationError(
                _("The host name %(host)s could not be resolved.") % {"host": host}
            ) from error
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    if not addresses:
        raise ValidationError(_("The host name %(host)s could not be resolved.") % {"host": host})
    for address in addresses:
        reason = _address_refusal(address)
        if reason:
            raise ValidationError(
                _("Deliveries cannot go to %(host)s: %(reason)s.") % {"host": host, "reason": reason}
            )
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
