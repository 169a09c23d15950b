"""Issue 14, part 4: the declared purpose on every read route, links made only from safe
URL schemes, the same security headers on every HTML answer, and the validator's URL
input checking every address form and connecting to the address it checked."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from conftest import RecordingServer

from eti.catalogue import fetch as fetch_module
from eti.catalogue.fetch import FetchError, fetch

APP = "https://eti.example/channels/familieapp"
SERVICE = "https://w3id.org/dpv#ServiceProvision"  # the purpose of the app's agreement
RESEARCH = "https://w3id.org/dpv#ResearchAndDevelopment"
PRODUCT = "flekkefjord-parorendestotte"  # closed content, opened to the app for SERVICE
CONTENT = f"https://eti.example/products/{PRODUCT}/services/"  # typed only in the content
LEGAL = "LOV-2011-06-24-30"  # an identifier only the content states
LISTING = "SELECT ?s WHERE { ?s a <http://purl.org/vocab/cpsv#PublicService> }"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def app_token(as_) -> str:  # type: ignore[no-untyped-def]
    return as_.token("channel", channel=APP)


ROUTES = {
    "product RDF": (f"/products/{PRODUCT}", {"Accept": "text/turtle"}),
    "product history": (f"/api/products/{PRODUCT}/history", {}),
    "query page": ("/query", BROWSER),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("how", ["header", "parameter"])
def test_a_channel_reads_content_only_for_its_agreements_purpose_on_every_route(
    client, app_token: str, route: str, how: str
) -> None:
    """Regression: the product's RDF, its history and the query page ignored the declared
    purpose: a channel whose agreement is for service provision read the content while
    declaring research."""
    path, headers = ROUTES[route]
    params = {"query": LISTING} if route == "query page" else {}
    if route == "product RDF":
        params = {"format": "ttl"}

    def body(purpose: str) -> str:
        sent = {**headers, "Authorization": f"Bearer {app_token}"}
        query = dict(params)
        if how == "header":
            sent["ETI-Purpose"] = purpose
        else:
            query["purpose"] = purpose
        response = client.get(path, query_string=query, headers=sent)
        assert response.status_code == 200, response.data[:300]
        return response.get_data(as_text=True)

    marker = CONTENT if route == "query page" else LEGAL
    assert marker in body(SERVICE)
    assert marker not in body(RESEARCH)


def test_every_html_answer_carries_the_same_security_headers(client) -> None:
    """Regression: /ontology and the HTML report of /api/validate had no
    Content-Security-Policy, frame-ancestors nor nosniff."""
    turtle = "@prefix dcat: <http://www.w3.org/ns/dcat#> . <http://e/x> a dcat:Dataset ."
    answers = {
        "/ontology": client.get("/ontology", headers=BROWSER),
        "/api/validate": client.post(
            "/api/validate",
            data=turtle,
            headers={"Content-Type": "text/turtle", "Accept": "text/html"},
        ),
        "404 page": client.get("/products/no-such-product", headers=BROWSER),
    }
    rules = [r for r in client.application.url_map.iter_rules() if "GET" in (r.methods or ())]
    for rule in rules:
        if not rule.arguments:
            answers[rule.rule] = client.get(rule.rule, headers=BROWSER)
    html = {path: r for path, r in answers.items() if r.mimetype == "text/html"}
    assert {"/ontology", "/api/validate", "/", "/query", "/validate"} <= set(html)
    for path, response in html.items():
        policy = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, path
        assert "frame-ancestors 'none'" in policy, path
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path


@pytest.mark.parametrize(
    "address", ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "vbscript:x"]
)
def test_a_stored_script_address_is_shown_as_text_and_warned_about(
    client, as_, address: str
) -> None:  # type: ignore[no-untyped-def]
    """Regression: a stored ``javascript:`` (or ``data:``, ``vbscript:``) vcard:hasURL was
    rendered as a link on the product page; registration said nothing."""
    admin = as_("admin")
    contact = "<https://eti.example/products/flekkefjord-ppt/contact>"
    graph = "<urn:eti:graph:product:flekkefjord-ppt>"
    url = "<http://www.w3.org/2006/vcard/ns#hasURL>"
    response = client.post(
        "/update",
        data=f"DELETE {{ GRAPH {graph} {{ {contact} {url} ?u }} }} "
        f"INSERT {{ GRAPH {graph} {{ {contact} {url} <{address}> }} }} "
        f"WHERE {{ GRAPH {graph} {{ {contact} {url} ?u }} }}",
        content_type="application/sparql-update",
        headers=admin,
    )
    assert response.status_code == 204, response.data
    assert "vcard:hasURL" in response.headers["ETI-Warnings"]
    page = client.get("/products/flekkefjord-ppt", headers=BROWSER).get_data(as_text=True)
    assert address in page  # shown, as text
    assert f'href="{address}' not in page


# --- the validator's URL input: every address form, one lookup --------------------------------


@pytest.fixture
def loopback() -> Iterator[RecordingServer]:
    server = RecordingServer(b"<http://e/s> <http://e/p> 1 .", "text/turtle")
    yield server
    server.close()


FORMS = [
    "[::127.0.0.1]",  # IPv4-compatible IPv6
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:7f00:1]",
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[64:ff9b::127.0.0.1]",  # NAT64 well-known prefix
    "[64:ff9b::10.0.0.1]",
    "[64:ff9b:1::a00:1]",  # NAT64 local-use prefix
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0177.0.0.1",  # octal
    "127.1",
    "0.0.0.0",
    "[::]",
    "[::1]",
    "169.254.169.254",  # link-local (cloud metadata)
    "[fe80::1]",
    "[fd12:3456::1]",  # unique-local
    "[fec0::1]",  # site-local
    "224.0.0.1",  # multicast
    "[ff02::1]",
    "100.64.0.1",  # shared address space
    "localhost",
]


@pytest.mark.parametrize("host", FORMS)
def test_every_address_form_of_a_private_host_is_refused_before_connecting(
    loopback: RecordingServer, host: str
) -> None:
    """Regression: ``http://[::127.0.0.1]/`` (IPv4-compatible IPv6) passed the check."""
    with pytest.raises(FetchError, match="private, loopback or reserved"):
        fetch(f"http://{host}:{loopback.port}/x.ttl", timeout=2)
    assert loopback.paths == []


def test_the_connection_goes_to_the_address_that_was_checked(
    loopback: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: the host name was resolved once to check it and again to connect, so a
    name that answered a public address first and 127.0.0.1 next (DNS rebinding) reached
    the loopback server."""
    real = socket.getaddrinfo
    answers = iter(["127.0.0.2", "127.0.0.1", "127.0.0.1"])  # "public", then rebound
    asked: list[str] = []

    def rebinding(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "rebind.example":
            asked.append(host)
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    def public_but_127_0_0_1(address):  # type: ignore[no-untyped-def]
        return None if str(address) == "127.0.0.2" else "a private address"

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(fetch_module, "forbidden", public_but_127_0_0_1)
    with pytest.raises(FetchError, match="does not answer"):  # 127.0.0.2 has no server
        fetch(f"http://rebind.example:{loopback.port}/x.ttl", timeout=2)
    assert asked == ["rebind.example"]
    assert loopback.paths == []


def test_a_public_host_is_fetched_with_its_name_as_host(
    loopback: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pinned connection still sends the URL's host name (virtual hosts work)."""
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: real(
            "127.0.0.1" if host == "data.example" else host, port, *a, **k
        ),
    )
    monkeypatch.setattr(fetch_module, "forbidden", lambda address: None)
    got = fetch(f"http://data.example:{loopback.port}/x.ttl?a=1", timeout=5)
    assert got.media_type == "text/turtle" and got.content.startswith(b"<http://e/s>")
    assert loopback.paths == ["/x.ttl?a=1"]
