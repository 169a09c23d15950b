"""Issue 14, part 4: the declared purpose on every read route, links made only from safe
URL schemes, the same security headers on every HTML answer."""

from __future__ import annotations

import pytest

from eti.catalogue.auth import TokenTable

APP = "https://eti.example/channels/familieapp"
SERVICE = "https://w3id.org/dpv#ServiceProvision"  # the purpose of the app's agreement
RESEARCH = "https://w3id.org/dpv#ResearchAndDevelopment"
PRODUCT = "flekkefjord-parorendestotte"  # closed content, opened to the app for SERVICE
CONTENT = f"https://eti.example/products/{PRODUCT}/services/"  # typed only in the content
LEGAL = "LOV-2011-06-24-30"  # an identifier only the content states
LISTING = "SELECT ?s WHERE { ?s a <http://purl.org/vocab/cpsv#PublicService> }"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def app_token(catalogue) -> str:  # type: ignore[no-untyped-def]
    return TokenTable(catalogue.store).create("channel", channel=APP)[1]


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
    client, catalogue, address: str
) -> None:  # type: ignore[no-untyped-def]
    """Regression: a stored ``javascript:`` (or ``data:``, ``vbscript:``) vcard:hasURL was
    rendered as a link on the product page; registration said nothing."""
    admin = {"Authorization": f"Bearer {TokenTable(catalogue.store).create('admin')[1]}"}
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
