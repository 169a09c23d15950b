"""The HTML pages with Flask's client: each page over the demo, languages, content
negotiation of product pages, sign-in and CSRF, and escaping."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, date, datetime

import pyoxigraph as ox
import pytest
from markupsafe import escape

from eti.catalogue import registry
from eti.catalogue.auth import Identity, TokenTable

APP = "https://eti.example/channels/familieapp"
NAV_NO = "https://eti.example/channels/nav-no"
FLEKKEFJORD = "964967369"
PPT_OFFER = "https://eti.example/offers/flekkefjord-ppt"
SERVICE = "https://w3id.org/dpv#ServiceProvision"
PAGES = ["/", "/products/nav-pleiepenger", "/query", "/validate", "/agreements", "/signin"]
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
BROKEN_TURTLE = "@prefix dct: <http://purl.org/dc/terms/> .\n<urn:x:a> dct:title 'oops\n"
PRODUCT_WITHOUT_TITLE = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dprod: <https://ekgf.github.io/dprod/> .
<https://example.org/products/x> a dprod:DataProduct ;
    dct:description "Et produkt uten tittel"@nb .
"""


@pytest.fixture
def tokens(as_) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "app": as_.token("channel", channel=APP),
        "flekkefjord": as_.token("steward", org=FLEKKEFJORD),
        "navno": as_.token("channel", channel=NAV_NO),
    }


def csrf(client, path: str = "/signin") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).data.decode()
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


def sign_in(client, token: str):  # type: ignore[no-untyped-def]
    return client.post("/signin", data={"csrf": csrf(client), "token": token})


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.data.decode())


def by_state(page: str) -> dict[str, str]:
    """The /agreements page's sections: state → its HTML."""
    return dict(
        re.findall(r'<section aria-labelledby="state-([a-z]+)">(.*?)</section>', page, re.S)
    )


def actions_of(part: str, ident: str) -> list[str] | None:
    """The action buttons on the table row of agreement ``ident`` (None: no such row)."""
    row = re.search(rf"<tr>(?:(?!</tr>).)*?>{re.escape(ident)}<(?:(?!</tr>).)*</tr>", part, re.S)
    return re.findall(r'name="action" value="([a-z]+)"', row[0]) if row else None


def your_agreements(page: str) -> str:
    """The product page's "your agreements" part (up to the end of its section)."""
    return page.split("Dine avtaler om produktet", 1)[1].split("</section>", 1)[0]


# --- every page ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_html_with_a_strict_policy(client, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    page = response.data.decode()
    assert '<html lang="nb">' in page
    assert "onclick=" not in page and "<script>" not in page and "style=" not in page
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_search_lists_products_with_owner_themes_freshness_and_status(client) -> None:
    page = text_of(client.get("/?q=pleiepenger"))
    assert "Pleiepenger for sykt barn" in page
    assert "Arbeids- og velferdsetaten (Nav)" in page  # owner
    assert "Ytelser ved sykdom i familien" in page  # a theme's label
    assert "ferdigstilt" in page  # status
    assert "Oppdatert" in page and "2. nov. 2026" in page
    assert 'href="/products/nav-pleiepenger"' in page


def test_search_facets_filter_like_the_api(client) -> None:
    flekkefjord = "https://data.brreg.no/enhetsregisteret/api/enheter/964967369"
    page = client.get("/", query_string={"publisher": flekkefjord}).data.decode()
    api = client.get("/api/products", query_string={"publisher": flekkefjord, "per_page": 100})
    ids = {item["id"] for item in api.json["results"]}
    assert ids and ids == set(re.findall(r'<h3><a href="/products/([a-z0-9-]+)"', page))
    assert f'value="{flekkefjord}" checked' in page


def test_search_pages(client) -> None:
    first = client.get("/").data.decode()
    assert "Side 1 av 2" in first and 'rel="next" href="/?page=2"' in first
    second = client.get("/?page=2").data.decode()
    assert len(re.findall(r"<li class=\"hit\">", second)) == 5


# --- languages ----------------------------------------------------------------------------


def test_language_from_accept_language_the_switch_and_the_cookie(client) -> None:
    assert "Søk i dataprodukter" in text_of(client.get("/"))
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.data.decode()
    assert "Search data products" in text_of(english)
    assert english.headers["Content-Language"] == "en"
    nynorsk = client.get("/", headers={"Accept-Language": "nn-NO"})
    assert '<html lang="nn">' in nynorsk.data.decode()  # a page language since issue 19
    assert "Søk i dataprodukt" in text_of(nynorsk)
    bokmal = client.get("/", headers={"Accept-Language": "no"})
    assert '<html lang="nb">' in bokmal.data.decode()

    switched = client.get("/products/nav-pleiepenger?lang=en")
    page = text_of(switched)
    assert "Care benefit for a sick child" in page and "Owner" in page
    assert "eti_lang=en" in switched.headers["Set-Cookie"]
    assert 'href="/products/nav-pleiepenger?lang=nb"' in switched.data.decode()
    later = client.get("/validate")  # the cookie remembers the choice
    assert "Validate a catalogue" in text_of(later)
    back = client.get("/validate?lang=nb")
    assert "Valider en katalog" in text_of(back)


# --- product pages and content negotiation ------------------------------------------------


def test_product_page_shows_what_a_person_needs(client) -> None:
    page = text_of(client.get("/products/flekkefjord-ppt", headers=BROWSER))
    for expected in (
        "PP-tjenesten i Flekkefjord",  # title
        "Flekkefjord kommune",  # owner and contact
        "https://www.flekkefjord.kommune.no/",
        "Skole og utdanning",  # theme
        "Å ha et alvorlig sykt barn",  # life event
        "Datasett",
        "SPARQL-endepunkt for PP-tjenesten i Flekkefjord",  # port
        "Krever avtale med eieren",  # the offer
        "Tjenesteyting",  # its purpose
        "Versjonshistorikk",
        "Følger de felles reglene",  # validation status
        "Kvalitetspoeng",  # quality score
        "Innholdet i dette produktet krever en avtale",  # content closed to anonymous
    ):
        assert expected in page, expected


@pytest.mark.parametrize(
    ("accept", "media", "fmt"),
    [
        ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
        ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/rdf+xml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
    ],
)
def test_product_iri_dereferences_to_rdf(client, accept: str, media: str, fmt) -> None:
    response = client.get("/products/nav-pleiepenger", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == media
    assert "Accept" in response.headers["Vary"]
    triples = list(ox.parse(response.data, fmt))
    product = ox.NamedNode("https://eti.example/products/nav-pleiepenger")
    assert any(t.subject == product for t in triples)
    links = response.headers["Link"]
    assert '</products/nav-pleiepenger>; rel="canonical"' in links
    assert '</products/nav-pleiepenger?format=ttl>; rel="alternate"; type="text/turtle"' in links


def test_browsers_get_html_and_format_parameter_wins(client) -> None:
    page = client.get("/products/nav-pleiepenger", headers=BROWSER)
    assert page.mimetype == "text/html" and "Accept" in page.headers["Vary"]
    assert 'rel="canonical"' in page.headers["Link"]
    assert '<link rel="alternate" type="text/turtle"' in page.data.decode()
    turtle = client.get("/products/nav-pleiepenger?format=ttl", headers=BROWSER)
    assert turtle.mimetype == "text/turtle"
    plain = client.get("/products/nav-pleiepenger", headers={"Accept": "*/*"})
    assert plain.mimetype == "text/html"


def test_content_is_in_the_rdf_only_for_who_may_read_it(client, tokens) -> None:
    service = (
        "<https://eti.example/products/flekkefjord-parorendestotte/services/avlastning> "
        "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://purl.org/vocab/cpsv#PublicService>"
    )
    anonymous = client.get(
        "/products/flekkefjord-parorendestotte", headers={"Accept": "application/n-triples"}
    )
    assert service not in anonymous.data.decode()
    sign_in(client, tokens["app"])  # the family app holds an agreement on it
    signed = client.get(
        "/products/flekkefjord-parorendestotte", headers={"Accept": "application/n-triples"}
    )
    assert service in signed.data.decode()
    assert signed.headers["Cache-Control"] == "private, no-store"


def test_unknown_and_withdrawn_products(client, catalogue) -> None:
    missing = client.get("/products/no-such-product", headers=BROWSER)
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert (
        client.get("/products/no-such-product", headers={"Accept": "text/turtle"}).status_code
        == 404
    )
    assert client.get("/products/..%2Fetc", headers=BROWSER).status_code == 404
    registry.withdraw(catalogue.store, "nav-grunnstonad", who=Identity(role="admin", name="t"))
    gone = client.get("/products/nav-grunnstonad", headers=BROWSER)
    assert gone.status_code == 410 and "trukket tilbake" in text_of(gone)
    rdf = client.get("/products/nav-grunnstonad", headers={"Accept": "text/turtle"})
    assert rdf.status_code == 410


# --- sign-in and CSRF ---------------------------------------------------------------------


def test_bad_token_is_an_error_on_the_page(client) -> None:
    response = client.post("/signin", data={"csrf": csrf(client), "token": "eti_nonsense"})
    assert response.status_code == 401
    assert "Innloggingen mislyktes" in text_of(response)
    empty = client.post("/signin", data={"csrf": csrf(client), "token": "  "})
    assert empty.status_code == 401 and "Lim inn et token" in text_of(empty)


def test_sign_in_keeps_the_token_in_a_strict_session_cookie(client, tokens) -> None:
    response = sign_in(client, tokens["flekkefjord"])
    assert response.status_code == 303 and response.headers["Location"] == "/agreements"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "eti_session=" in c)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    page = text_of(client.get("/agreements"))
    assert "Innlogget som forvalter for Flekkefjord kommune" in page
    out = client.post("/signout", data={"csrf": csrf(client, "/agreements")})
    assert out.status_code == 303
    assert "Logg inn som informasjonskanal eller forvalter" in text_of(client.get("/agreements"))


def test_session_cookie_is_secure_over_https(client, tokens) -> None:
    page = client.get("/signin", base_url="https://eti.example")
    token = re.search(r'name="csrf" value="([^"]+)"', page.data.decode())[1]
    response = client.post(
        "/signin",
        data={"csrf": token, "token": tokens["app"]},
        base_url="https://eti.example",
    )
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "eti_session=" in c)
    assert "Secure" in cookie


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/signin", {"token": "x"}),
        ("/signout", {}),
        ("/agreements", {"action": "accept", "agreement": "x"}),
        ("/validate", {"text": "<urn:x:a> <urn:x:b> <urn:x:c> ."}),
    ],
)
def test_posts_without_the_csrf_token_are_refused(client, tokens, path: str, data: dict) -> None:
    sign_in(client, tokens["flekkefjord"])
    missing = client.post(path, data=data)
    assert missing.status_code == 400 and "Skjemaet er utløpt" in text_of(missing)
    wrong = client.post(path, data={**data, "csrf": "forged"})
    assert wrong.status_code == 400


def test_a_forged_form_changes_no_agreement(client, tokens, catalogue) -> None:
    from eti.catalogue import agreements

    who = TokenTable(catalogue.store).authenticate(tokens["app"])
    made = agreements.request(
        catalogue.store, who, offer=PPT_OFFER, purpose=SERVICE, start="2026-12-01", end="2027-11-30"
    )
    sign_in(client, tokens["flekkefjord"])
    client.post("/agreements", data={"action": "accept", "agreement": made.ident})
    assert agreements.get(catalogue.store, made.ident).status == "requested"


# --- agreements ---------------------------------------------------------------------------


def test_channel_requests_and_steward_accepts_through_the_pages(client, tokens) -> None:
    sign_in(client, tokens["app"])
    product = client.get("/products/flekkefjord-ppt").data.decode()
    assert "Be om avtale" in product
    token = re.search(r'name="csrf" value="([^"]+)"', product)[1]
    asked = client.post(
        "/agreements",
        data={
            "csrf": token,
            "action": "request",
            "offer": PPT_OFFER,
            "purpose": SERVICE,
            "start": "2026-12-01",
            "end": "2027-11-30",
            "next": "/products/flekkefjord-ppt",
        },
    )
    assert asked.status_code == 303 and asked.headers["Location"] == "/products/flekkefjord-ppt"
    page = text_of(client.get("/products/flekkefjord-ppt"))
    assert "er opprettet med status «forespurt»" in page
    ident = re.search(r"Avtalen (flekkefjord-ppt-[0-9a-f]+) er opprettet", page)[1]

    client.post("/signout", data={"csrf": csrf(client, "/agreements")})
    sign_in(client, tokens["flekkefjord"])
    listing = client.get("/agreements").data.decode()
    assert f'name="agreement" value="{ident}"' in listing
    assert 'value="accept"' in listing and 'value="refuse"' in listing
    accepted = client.post(
        "/agreements",
        data={"csrf": csrf(client, "/agreements"), "action": "accept", "agreement": ident},
    )
    assert accepted.status_code == 303
    after = text_of(client.get("/agreements"))
    assert f"Avtalen {ident} er godtatt." in after
    again = client.post(
        "/agreements",
        data={"csrf": csrf(client, "/agreements"), "action": "accept", "agreement": ident},
    )
    assert again.status_code == 303
    assert "cannot be accepted" in text_of(client.get("/agreements"))


def test_steward_sees_agreements_by_state(client, tokens) -> None:
    sign_in(client, tokens["flekkefjord"])
    page = text_of(client.get("/agreements"))
    for heading in ("Forespørsler", "Aktive", "Utløpte", "Avsluttede", "Avslåtte"):
        assert heading in page
    assert "Avslutt" in page  # active agreements can be terminated


def test_channel_sees_its_agreements_by_state_with_only_its_actions(
    client, tokens, catalogue, monkeypatch
) -> None:
    from eti.catalogue import agreements
    from eti.server import pages

    # the demo's agreements run 2026-09-01 to 2027-08-31 (the family app's, active) and
    # to 2026-08-31 (expired): the page's "today" is fixed inside both
    monkeypatch.setattr(pages, "today", lambda: date(2026, 11, 22))
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    app = TokenTable(catalogue.store).authenticate(tokens["app"])
    asked = agreements.request(
        catalogue.store,
        app,
        offer=PPT_OFFER,
        purpose=SERVICE,
        start="2026-12-01",
        end="2027-11-30",
        now=now,
    )
    ended = agreements.request(
        catalogue.store,
        app,
        offer=PPT_OFFER,
        purpose=SERVICE,
        start="2028-01-01",
        end="2028-06-30",
        now=now,
    )
    agreements.transition(catalogue.store, app, ended.ident, "terminate", now=now)
    sign_in(client, tokens["app"])
    page = client.get("/agreements").data.decode()
    assert "Innlogget som kanal " in html.unescape(page)
    assert "Be om en ny avtale fra produktsiden" in html.unescape(page)
    parts = by_state(page)
    assert actions_of(parts["requested"], asked.ident) == ["terminate"]
    assert actions_of(parts["active"], "familieapp-flekkefjord-parorendestotte") == ["terminate"]
    assert actions_of(parts["expired"], "familieapp-statped-tjenester") == []
    assert actions_of(parts["terminated"], ended.ident) == []
    assert "Ingen avtaler her." in parts["refused"]
    # no owner's actions, and no other channel's agreements
    assert 'value="accept"' not in page and 'value="refuse"' not in page
    assert "flekkefjord-kommune-no-parorendestotte" not in page
    assert "nav-no-nav-pleiepenger" not in page

    # the server holds the line too: accepting its own request is refused, terminating works
    token = csrf(client, "/agreements")
    client.post("/agreements", data={"csrf": token, "action": "accept", "agreement": asked.ident})
    assert agreements.get(catalogue.store, asked.ident).status == "requested"
    refused = client.get("/agreements").data.decode()
    assert "only the owner may accept it" in html.unescape(refused)
    # the catalogue's message is English on a Bokmål page: marked so (WCAG 3.1.2)
    assert re.search(
        r'<div class="notice notice-error" role="alert" lang="en">[^<]*only the owner', refused
    )
    done = client.post(
        "/agreements", data={"csrf": token, "action": "terminate", "agreement": asked.ident}
    )
    assert done.status_code == 303 and done.headers["Location"] == "/agreements"
    after = client.get("/agreements").data.decode()
    assert f"Avtalen {asked.ident} er avsluttet." in html.unescape(after)
    assert actions_of(by_state(after)["terminated"], asked.ident) == []
    assert actions_of(by_state(after)["requested"], asked.ident) is None


def test_product_page_lists_the_channels_own_agreements_on_it(client, tokens, monkeypatch) -> None:
    from eti.server import pages

    monkeypatch.setattr(pages, "today", lambda: date(2026, 11, 22))  # the demo's is active
    anonymous = text_of(client.get("/products/flekkefjord-parorendestotte"))
    assert "Dine avtaler om produktet" not in anonymous
    sign_in(client, tokens["app"])  # the family app holds an agreement on it
    page = client.get("/products/flekkefjord-parorendestotte").data.decode()
    mine = your_agreements(page)
    assert actions_of(mine, "familieapp-flekkefjord-parorendestotte") == ["terminate"]
    assert 'name="next" value="/products/flekkefjord-parorendestotte"' in mine
    assert "Du har ingen avtaler om dette produktet." not in html.unescape(mine)
    # another channel's agreement on the same product, and its own on another, stay out
    assert "flekkefjord-kommune-no-parorendestotte" not in page
    assert "familieapp-statped-tjenester" not in page
    other = your_agreements(client.get("/products/nav-pleiepenger").data.decode())
    assert "Du har ingen avtaler om dette produktet." in html.unescape(other)
    assert "<table" not in other

    client.post("/signout", data={"csrf": csrf(client, "/agreements")})
    sign_in(client, tokens["navno"])  # nav.no has none on this product
    page = client.get("/products/flekkefjord-parorendestotte").data.decode()
    mine = your_agreements(page)
    assert "Du har ingen avtaler om dette produktet." in html.unescape(mine)
    assert "<table" not in mine and "familieapp-flekkefjord-parorendestotte" not in page


# --- the query page -----------------------------------------------------------------------


def test_query_page_runs_a_query_without_javascript(client) -> None:
    query = "SELECT ?p WHERE { ?p a <https://ekgf.github.io/dprod/DataProduct> } ORDER BY ?p"
    response = client.get("/query", query_string={"query": query})
    page = response.data.decode()
    assert response.status_code == 200
    assert "15 rader" in page
    assert 'href="/products/nav-pleiepenger"' in page
    for name in ("json", "xml", "csv", "tsv"):
        assert f"format={name}" in page
    assert "/sparql?query=" in page  # downloads go through the endpoint


def test_query_page_shows_graphs_booleans_and_errors(client) -> None:
    construct = client.get(
        "/query",
        query_string={"query": "CONSTRUCT { ?p a ?t } WHERE { ?p a ?t } LIMIT 2"},
    ).data.decode()
    assert "2 tripler" in construct and "format=ttl" in construct and "format=jsonld" in construct
    ask = client.get("/query", query_string={"query": "ASK {}"}).data.decode()
    assert "Ja (true)" in ask
    broken = client.get("/query", query_string={"query": "SELECT WHERE {"})
    assert broken.status_code == 400 and "Spørringen kunne ikke kjøres" in text_of(broken)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_query_examples_mark_their_english_descriptions(client, lang: str) -> None:
    """WCAG 3.1.2: the examples' ``# description:`` lines are English and their titles in
    the page's language (``# title:`` Bokmål, ``# title-en:`` English): each sits in an
    element whose lang says so."""
    from eti.catalogue import demo

    page = client.get("/query", query_string={"lang": lang}).data.decode()
    assert f'<html lang="{lang}">' in page
    for name, text in demo.example_queries().items():
        head = dict(re.findall(r"^#\s*(title|title-en|description):\s*(.*)$", text, re.M))
        assert head["title"] and head["title-en"] and head["description"], name
        title = escape(head["title-en" if lang == "en" else "title"])
        description = escape(head["description"])
        assert re.search(
            rf'data-example="{re.escape(name)}" lang="{lang}">{re.escape(title)}</a>', page
        )
        assert f'<p class="muted small" lang="en">{description}</p>' in page, name


def test_query_page_lists_the_readme_examples(client) -> None:
    page = text_of(client.get("/query"))
    from eti.catalogue import demo

    for name in demo.example_queries():
        assert f'data-example="{name}"' in page


def test_query_page_answers_the_protocol_for_the_signed_in_caller(client, tokens) -> None:
    query = (
        "ASK { ?s a <http://purl.org/vocab/cpsv#PublicService> "
        'FILTER(STRSTARTS(STR(?s), "https://eti.example/products/flekkefjord-parorendestotte/")) }'
    )
    anonymous = client.get("/query", query_string={"query": query, "format": "json"})
    assert anonymous.mimetype == "application/sparql-results+json"
    assert anonymous.json["boolean"] is False
    sign_in(client, tokens["app"])
    signed = client.get("/query", query_string={"query": query, "format": "json"})
    assert signed.json["boolean"] is True
    csv = client.get(
        "/query", query_string={"query": "SELECT ?x WHERE { BIND(1 AS ?x) }", "format": "csv"}
    )
    assert csv.mimetype == "text/csv" and csv.data.decode().splitlines()[0] == "x"
    page = client.get("/query", query_string={"query": query}).data.decode()
    assert "Ja (true)" in page and "/query?query=" in page


# --- the validator page -------------------------------------------------------------------


def test_validate_pasted_text_with_a_syntax_error(client) -> None:
    response = client.post(
        "/validate", data={"csrf": csrf(client, "/validate"), "text": BROKEN_TURTLE}
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "Kunne ikke lese inndata" in page and "text:2:21" in page
    assert "oops" in page  # the text is kept in the form


def test_validate_an_uploaded_file_groups_the_report(client) -> None:
    response = client.post(
        "/validate",
        data={
            "csrf": csrf(client, "/validate"),
            "file": (io.BytesIO(PRODUCT_WITHOUT_TITLE.encode()), "product.ttl"),
            "profile": ["dprod", "dcat-ap-no"],
            "as_of": "2026-11-22",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "Ikke i samsvar med reglene" in page
    assert "https://example.org/products/x" in page
    assert "Feil" in page and "dct:title" in page
    assert "Vurdert per 2026-11-22" in page
    assert 'name="filename" value="product.ttl"' in page  # downloads re-send the text


@pytest.mark.slow
def test_validate_report_downloads(client) -> None:
    token = csrf(client, "/validate")
    for kind, media in (
        ("json", "application/json"),
        ("turtle", "text/turtle"),
        ("text", "text/plain"),
        ("junit", "application/xml"),
    ):
        response = client.post(
            "/validate",
            data={"csrf": token, "text": PRODUCT_WITHOUT_TITLE, "download": kind},
        )
        assert response.status_code == 200 and response.mimetype == media
        assert "attachment" in response.headers["Content-Disposition"]
    doc = json.loads(
        client.post(
            "/validate", data={"csrf": token, "text": PRODUCT_WITHOUT_TITLE, "download": "json"}
        ).data
    )
    assert doc["conforms"] is False


def test_validate_refuses_private_urls_and_asks_for_input(client) -> None:
    token = csrf(client, "/validate")
    private = client.post("/validate", data={"csrf": token, "url": "http://127.0.0.1:1/x.ttl"})
    assert private.status_code == 400 and "Kunne ikke lese inndata" in text_of(private)
    nothing = client.post("/validate", data={"csrf": token})
    assert nothing.status_code == 400 and "Lim inn tekst" in text_of(nothing)
    bad_date = client.post(
        "/validate", data={"csrf": token, "text": PRODUCT_WITHOUT_TITLE, "as_of": "soon"}
    )
    assert bad_date.status_code == 400


# --- escaping -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/?q=<script>alert(1)</script>",
        "/?theme=<script>alert(1)</script>",
        "/query?query=SELECT <script>alert(1)</script>",
        "/products/<script>alert(1)</script>",
    ],
)
def test_hostile_input_is_escaped(client, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code < 500
    body = response.data.decode()
    assert "<script>alert(1)" not in body
    assert "<script" not in body.replace('<script src="/static/query.js" defer></script>', "")


def test_hostile_validation_text_is_escaped(client) -> None:
    text = '<urn:x:a> <http://purl.org/dc/terms/title> "</textarea><script>alert(1)</script>" .'
    page = client.post(
        "/validate", data={"csrf": csrf(client, "/validate"), "text": text, "format": "ntriples"}
    ).data.decode()
    assert "<script>alert(1)" not in page and "&lt;/textarea&gt;" in page


def test_static_assets_are_shipped(client) -> None:
    script = client.get("/static/query.js")
    assert script.status_code == 200 and len(script.data) > 50_000
    assert client.get("/static/eti.css").status_code == 200
    assert b"MIT" in client.get("/static/query.js.LICENSES.txt").data


def test_language_switch_keeps_the_page_and_its_arguments(client) -> None:
    page = client.get("/products/nav-pleiepenger?ident=x&q=1").data.decode()
    assert 'href="/products/nav-pleiepenger?q=1&amp;lang=en"' in page
    search = client.get("/?q=pleie&theme=a&theme=b").data.decode()
    assert 'href="/?q=pleie&amp;theme=a&amp;theme=b&amp;lang=en"' in search


def test_history_counts_on_the_product_page_leave_out_closed_content(client, tokens) -> None:
    """Regression: the product page counted the closed content's triples in each version's
    "triples added" for anyone, while /history already left them out."""

    def added(page: str) -> int:
        return int(re.findall(r"(\d+) tripler lagt til", page)[-1])  # the first version

    anonymous = added(text_of(client.get("/products/flekkefjord-parorendestotte")))
    sign_in(client, tokens["flekkefjord"])  # the owner's steward reads the content
    owner = added(text_of(client.get("/products/flekkefjord-parorendestotte")))
    assert 0 < anonymous < owner


def test_product_page_rdf_lacked_the_duties_the_api_sends(client, tokens) -> None:
    """/products/<id> in RDF is the description /api/products/<id> gives (one function):
    content an agreement opens comes with that agreement's ETI-Duties and Link, after
    the page's own canonical and alternate links."""
    bearer = {"Authorization": f"Bearer {tokens['app']}", "Accept": "text/turtle"}
    ident = "flekkefjord-parorendestotte"  # the family app's agreement opens its content
    api = client.get(f"/api/products/{ident}", headers=bearer)
    page = client.get(f"/products/{ident}", headers=bearer)
    assert api.status_code == page.status_code == 200
    assert api.headers["ETI-Duties"] and page.headers["ETI-Duties"] == api.headers["ETI-Duties"]
    links = page.headers["Link"]
    assert links.startswith(f'</products/{ident}>; rel="canonical"')
    assert api.headers["Link"] in links and "hasPolicy" in links
    content = ox.NamedNode("https://eti.example/products/" + ident)
    described = [list(ox.parse(r.data, ox.RdfFormat.TURTLE)) for r in (page, api)]
    assert len(described[0]) == len(described[1]) > 0
    assert any(t.subject == content for t in described[0])
