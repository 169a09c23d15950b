"""Fetching a URL on a user's behalf (the validator's URL input, harvesting), safely.

Only http(s); every hop of a redirect is checked; addresses on loopback, private,
link-local, multicast or reserved networks — in every form, IPv6 ones that embed an
IPv4 address included — are refused unless the setting ``allow_private_urls`` says
otherwise (tests on loopback). A host name is resolved once per hop and the connection
goes to the address that was checked (no DNS-rebinding window). A size limit and a
timeout bound the work. Nothing else in the catalogue fetches anything.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3

ACCEPT_RDF = (
    "text/turtle, application/trig;q=0.95, application/ld+json;q=0.9, "
    "application/rdf+xml;q=0.9, application/n-triples;q=0.8, "
    "application/n-quads;q=0.8"
)


class FetchError(ValueError):
    """A URL that cannot or may not be fetched; says why."""


@dataclass
class Fetched:
    """What a URL answered."""

    url: str
    media_type: str | None
    content: bytes


# networks whose addresses carry an IPv4 address in their last 32 bits: IPv4-compatible
# (::a.b.c.d, deprecated but still routed by some stacks) and NAT64 (RFC 6052, RFC 8215)
_EMBEDDING = tuple(ipaddress.ip_network(n) for n in ("::/96", "64:ff9b::/96", "64:ff9b:1::/48"))
_REDIRECTS = (301, 302, 303, 307, 308)


def _embedded(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for or tunnels to."""
    out = [v4 for v4 in (address.ipv4_mapped, address.sixtofour) if v4 is not None]
    if address.teredo is not None:
        out.extend(address.teredo)
    if any(address in net for net in _EMBEDDING):
        out.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return out


def forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a connection to ``address`` is refused (None: it is a public unicast address).

    Every form counts: an IPv6 address is judged also by the IPv4 address it maps,
    embeds or tunnels to (IPv4-mapped and -compatible, 6to4, Teredo, NAT64)."""
    candidates = [address]
    if isinstance(address, ipaddress.IPv6Address):
        candidates += _embedded(address)
    for a in candidates:
        if (
            not a.is_global
            or a.is_multicast
            or a.is_unspecified
            or a.is_loopback
            or a.is_link_local
            or a.is_private
            or a.is_reserved
            or (isinstance(a, ipaddress.IPv6Address) and a.is_site_local)
        ):
            shown = str(address) if a is address else f"{address}, that is {a}"
            return f"a private, loopback or reserved address ({shown})"
    return None


def check_address(
    url: str, *, allow_private: bool = False, allow_hosts: frozenset[str] = frozenset()
) -> str:
    """The address to connect to for ``url``: its host resolved once, every address it
    resolves to checked (a name that also resolves to a private address is refused).
    The caller connects to exactly this address, so a second lookup (DNS rebinding)
    cannot move the connection. Refuses a URL that is not http(s).

    ``allow_hosts`` ("host:port") exempts named endpoints, e.g. a test server."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be fetched, not {parts.scheme or 'none'}:")
    try:
        host, port = parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise FetchError(f"the URL {url!r} has a bad port") from None
    if not host:
        raise FetchError(f"the URL {url!r} has no host")
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"the host {host} does not resolve: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise FetchError(f"the host {host} does not resolve")
    if not (allow_private or f"{host}:{parts.port}" in allow_hosts):
        for address in addresses:
            reason = forbidden(address)
            if reason is not None:
                raise FetchError(f"the host {host} is on {reason}; such URLs are refused")
    return str(addresses[0])


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _get(url: str, address: str, *, accept: str, timeout: float) -> urllib3.BaseHTTPResponse:
    """GET ``url`` from exactly ``address``: the URL's host is sent as ``Host`` and, over
    https, as the TLS server name whose certificate is verified."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    shown = f"[{host}]" if ":" in host else host
    headers = {
        "Host": shown if parts.port is None else f"{shown}:{parts.port}",
        "Accept": accept,
        "User-Agent": "eti-catalogue",
    }
    options: dict[str, Any] = {"timeout": urllib3.Timeout(timeout), "retries": False}
    if parts.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return pool.urlopen(
        "GET", target, headers=headers, redirect=False, preload_content=False, retries=False
    )


def fetch(
    url: str,
    *,
    accept: str = ACCEPT_RDF,
    allow_private: bool = False,
    timeout: float = 20.0,
    max_bytes: int = 10 * 1024 * 1024,
    max_redirects: int = 5,
    allow_hosts: frozenset[str] = frozenset(),
) -> Fetched:
    """GET ``url`` within the limits; raises FetchError with the reason. Every hop (the
    first and each redirect) is checked and connected to at the address checked."""
    current = url
    for _ in range(max_redirects + 1):
        address = check_address(current, allow_private=allow_private, allow_hosts=allow_hosts)
        try:
            response = _get(current, address, accept=accept, timeout=timeout)
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError(f"{current} does not answer: {type(exc).__name__}") from None
        try:
            if response.status in _REDIRECTS:
                current = urljoin(current, response.headers.get("Location", ""))
                continue
            if response.status != 200:
                raise FetchError(f"{current} answered {response.status}")
            body = bytearray()
            try:
                for chunk in response.stream(65536):
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchError(f"{current} sent more than {max_bytes} bytes")
            except urllib3.exceptions.HTTPError as exc:
                raise FetchError(f"{current} broke off: {type(exc).__name__}") from None
            media = response.headers.get("Content-Type")
            kind = media.split(";")[0].strip().lower() if media else None
            return Fetched(current, kind, bytes(body))
        finally:
            response.release_conn()
            response.close()
    raise FetchError(f"{url} redirects more than {max_redirects} times")
