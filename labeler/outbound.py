"""Outbound HTTP to URLs that users configure (an ML backend today; webhooks and an LLM judge later), safe
against server-side request forgery.

A URL is checked where it is saved and again on every request: http or https, and every address its host
resolves to is public (not loopback, private, link-local, multicast, reserved or unspecified), unless the host
is listed in LABELER_OUTBOUND_ALLOWED_HOSTS. A request connects to the very address that was checked, so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot move it, and each redirect is
checked the same way before it is followed.
"""
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

MAX_REDIRECTS = 3
REDIRECTS = {301, 302, 303, 307, 308}
DEFAULT_PORTS = {"http": 80, "https": 443}
ALLOW_SETTING = "LABELER_OUTBOUND_ALLOWED_HOSTS"


class URLRefused(ValueError):
    """The URL may not be called; the message says why (it never holds a response body)."""


@dataclass(frozen=True)
class CheckedURL:
    scheme: str
    host: str  # as the URL names it: the Host header and the TLS server name
    port: int
    address: str  # the checked IP the request connects to
    path: str  # path and query


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    url: str  # after redirects


def refusal(url: str) -> str | None:
    """Why a URL cannot be saved as a target, or None when it can: the check of `check_url`, for forms."""
    try:
        check_url(url)
    except URLRefused as exc:
        return str(exc)
    except OSError:
        return f"the host of {url} cannot be resolved"
    return None


def check_url(url: str) -> CheckedURL:
    """The URL's parts and the address to connect to. URLRefused when it is not allowed; OSError (socket.gaierror)
    when its host does not resolve."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise URLRefused(f"{url} must start with http:// or https://")
    if parts.username or parts.password:
        raise URLRefused(f"{parts.scheme}://{parts.hostname}... must not carry a user name or password")
    host = parts.hostname
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        port = None
    if not host or port is None:
        raise URLRefused(f"{url} has no valid host and port")
    addresses = resolve(host, port)
    if not is_allowed(host, port):
        for address in addresses:
            kind = internal_kind(ipaddress.ip_address(address))
            if kind:
                article = "an" if kind[0] in "aeiou" else "a"
                raise URLRefused(
                    f"{host} {'is' if _is_ip(host) else 'resolves to'} {article} {kind} address; list the host in "
                    f"{ALLOW_SETTING} to allow it"
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CheckedURL(parts.scheme, host, port, addresses[0], path)


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (IPv4 and IPv6), in the order the resolver gives them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def internal_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What makes an address internal ("loopback", "private"...), or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip.sixtofour):
        ip = ip.ipv4_mapped or ip.sixtofour  # ::ffff:127.0.0.1 and 2002:7f00:1:: reach IPv4 addresses
    checks = (
        ("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast), ("reserved", ip.is_reserved), ("private", ip.is_private),
    )
    for kind, applies in checks:
        if applies:
            return kind
    return None if ip.is_global else "non-public"  # shared address space 100.64.0.0/10, for one


def is_allowed(host: str, port: int) -> bool:
    """Listed in LABELER_OUTBOUND_ALLOWED_HOSTS as `host` (any port) or `host:port`; IPv6 as `[::1]:8000` or `::1`."""
    host = host.lower()
    for entry in settings.LABELER_OUTBOUND_ALLOWED_HOSTS:
        listed_host, listed_port = _split_entry(entry.strip().lower())
        if listed_host == host and listed_port in (None, port):
            return True
    return False


def _split_entry(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, int(port) if port.isdigit() else None
    return entry, None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def request(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None, timeout: float,
            max_bytes: int) -> Answer:
    """Send one request, following at most MAX_REDIRECTS redirects, each checked like the first URL. The body read
    is at most max_bytes + 1 bytes (the caller tells a too-long answer by its length). Raises URLRefused,
    TimeoutError, or OSError / http.client.HTTPException when no answer came."""
    for _ in range(MAX_REDIRECTS + 1):
        target = check_url(url)
        status, location, answer_body = _send(target, method, body, headers or {}, timeout, max_bytes)
        if status not in REDIRECTS or not location:
            return Answer(status, answer_body, url)
        url = urljoin(url, location)
        if status in (301, 302, 303):
            method, body = "GET", None  # as browsers do; 307 and 308 repeat the request as it was
    raise URLRefused(f"more than {MAX_REDIRECTS} redirects")


def _send(target: CheckedURL, method: str, body: bytes | None, headers: dict, timeout: float, max_bytes: int):
    connection = _pinned_connection(target, timeout)
    try:
        connection.request(method, target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Location"), response.read(max_bytes + 1)
    finally:
        connection.close()


def _pinned_connection(target: CheckedURL, timeout: float) -> http.client.HTTPConnection:
    """A connection that keeps the URL's host name for the Host header and TLS, but connects to the checked
    address: http.client opens its socket through `_create_connection`, which is given the host to resolve."""
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def connect_to_checked_address(address, *args, **kwargs):
        return socket.create_connection((target.address, address[1]), *args, **kwargs)

    connection._create_connection = connect_to_checked_address
    return connection
