"""Fetching a URL on a user's behalf (the validator's URL input, harvesting), safely.

Only http(s); every hop of a redirect is checked; addresses on loopback, private,
link-local, multicast or reserved networks are refused unless the setting
``allow_private_urls`` says otherwise (tests on loopback); a size limit and a timeout
bound the work. Nothing else in the catalogue fetches anything.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

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


def check_address(
    url: str, *, allow_private: bool = False, allow_hosts: frozenset[str] = frozenset()
) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to a non-public address.

    ``allow_hosts`` ("host:port") exempts named endpoints, e.g. a test server."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be fetched, not {parts.scheme or 'none'}:")
    if not parts.hostname:
        raise FetchError(f"the URL {url!r} has no host")
    if allow_private or f"{parts.hostname}:{parts.port}" in allow_hosts:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"the host {parts.hostname} does not resolve: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise FetchError(
                f"the host {parts.hostname} is on a private, loopback or reserved "
                f"address ({address}); such URLs are refused"
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
    """GET ``url`` within the limits; raises FetchError with the reason."""
    session = requests.Session()
    session.trust_env = False
    current = url
    for _ in range(max_redirects + 1):
        check_address(current, allow_private=allow_private, allow_hosts=allow_hosts)
        try:
            response = session.get(
                current,
                headers={"Accept": accept, "User-Agent": "eti-catalogue"},
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise FetchError(f"{current} does not answer: {type(exc).__name__}") from None
        if response.is_redirect:
            location = response.headers.get("Location", "")
            response.close()
            current = urljoin(current, location)
            continue
        if response.status_code != 200:
            response.close()
            raise FetchError(f"{current} answered {response.status_code}")
        body = bytearray()
        for chunk in response.iter_content(65536):
            body += chunk
            if len(body) > max_bytes:
                response.close()
                raise FetchError(f"{current} sent more than {max_bytes} bytes")
        media = response.headers.get("Content-Type")
        return Fetched(current, media.split(";")[0].strip().lower() if media else None, bytes(body))
    raise FetchError(f"{url} redirects more than {max_redirects} times")
