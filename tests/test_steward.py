"""The steward pages: register by form, check, edit, withdraw, history, my products.

Flask's test client over the demo catalogue (a real on-disk store), and one scenario
against a live ``eti serve``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.compare import isomorphic

from eti.catalogue import clock, productform, registry
from eti.catalogue.auth import TokenTable
from eti.catalogue.namespaces import content_graph, product_graph
from eti.catalogue.rdfio import RdfInputError

NAV = "889640782"
HDIR = "983544622"
EU = "http://publications.europa.eu/resource/authority/"
SERVICE = "https://w3id.org/dpv#ServiceProvision"
CONTENT = b"""@prefix cpsv: <http://purl.org/vocab/cpsv#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix cv: <http://data.europa.eu/m8g/> .
<https://eti.example/products/nav-skjema/services/hjelp> a cpsv:PublicService ;
    dct:identifier "nav-skjema/hjelp" ;
    dct:title "Hjelp"@nb, "Hjelp"@nn, "Help"@en ;
    dct:description "Ei teneste."@nn, "En tjeneste."@nb, "A service."@en ;
    cv:hasCompetentAuthority <https://data.brreg.no/enhetsregisteret/api/enheter/889640782> ;
    cv:isGroupedBy <https://psi.norge.no/los/hendelse/alvorlig-sykt-barn> .
"""


def fields(ident: str = "nav-skjema", **changes: Any) -> dict[str, Any]:
    """A complete form, as a browser posts it."""
    form = {
        "id": ident,
        "title_nb": "Skjemahjelp for familier",
        "title_nn": "Skjemahjelp for familiar",
        "title_en": "Form help for families",
        "description_nb": "Hjelp med skjemaer for familier med alvorlig syke barn.",
        "description_nn": "Hjelp med skjema for familiar med alvorleg sjuke born.",
        "description_en": "Help with forms for families of seriously ill children.",
        "keywords_nb": "skjema, hjelp",
        "keywords_nn": "skjema",
        "keywords_en": "forms",
        "themes": [EU + "data-theme/SOCI", "https://psi.norge.no/los/tema/avlastning-og-stotte"],
        "frequency": EU + "frequency/MONTHLY",
        "spatial": "http://publications.europa.eu/resource/authority/country/NOR",
        "contact_name": "Nav kontaktsenter",
        "contact_email": "kontakt@nav.example",
        "contact_url": "https://www.nav.no/",
        "access": EU + "access-right/PUBLIC",
        "licence": EU + "licence/NLOD_2_0",
        "status": EU + "distribution-status/COMPLETED",
        "version": "1.0.0",
        "offer": "agreement",
        "purposes": [SERVICE],
        "duty_attribute": "on",
        "duty_refresh": "P7D",
    }
    form.update(changes)
    return form


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found[1]


class Steward:
    """A signed-in browser session of the Flask test client."""

    def __init__(self, app: Any, org: str | None, role: str = "steward") -> None:
        self.client = app.test_client()
        self.store = app.extensions["eti"].store
        self.csrf = csrf_of(self.client.get("/signin").get_data(as_text=True))
        if org is not None or role != "steward":
            token = TokenTable(self.store).create(role, org=org)[1]
            signed = self.client.post("/signin", data={"token": token, "csrf": self.csrf})
            assert signed.status_code == 303, signed.get_data(as_text=True)
            self.csrf = csrf_of(self.client.get("/products/new?lang=nb").get_data(as_text=True))

    def post(self, path: str, data: dict[str, Any], upload: bytes | None = None, name="c.ttl"):
        body = {**data, "csrf": self.csrf}
        if upload is not None:
            body["content"] = (__import__("io").BytesIO(upload), name)
        return self.client.post(path, data=body, content_type="multipart/form-data")


def graph_of(store: Any, graph: str) -> rdflib.Graph:
    g = rdflib.Graph()
    for t in store.triples(graph):
        g.add(tuple(rdflib.term.URIRef(x.value) if isinstance(x, ox.NamedNode) else
                    rdflib.BNode(x.value) if isinstance(x, ox.BlankNode) else
                    rdflib.Literal(x.value, lang=x.language,
                                   datatype=None if x.language else x.datatype.value)
                    for x in (t.subject, t.predicate, t.object)))  # fmt: skip
    return g


def test_form_registers_exactly_what_the_api_registers(app: Any) -> None:
    """The same description through POST /api/products and through the form: the same
    description and content graphs (up to blank-node names)."""
    store = app.extensions["eti"].store
    nav = Steward(app, NAV)
    form = productform.from_fields(fields())
    content = productform.read_content(CONTENT, "c.ttl")
    description = productform.build(
        form,
        base="https://eti.example/",
        orgnr=NAV,
        today=clock.today(),
        items=productform.services(content),
    )
    body = ox.serialize(
        productform.submission(description, content, "nav-skjema"), format=ox.RdfFormat.TRIG
    )
    token = TokenTable(store).create("steward", org=NAV)[1]
    api = app.test_client().post(
        "/api/products",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/trig"},
    )
    assert api.status_code == 201, api.get_data(as_text=True)
    by_api = [
        graph_of(store, g) for g in (product_graph("nav-skjema"), content_graph("nav-skjema"))
    ]
    assert len(by_api[0]) > 60 and len(by_api[1]) == 10
    registry.withdraw(store, "nav-skjema", who=registry.Identity(role="admin", name="t"))
    assert graph_of(store, product_graph("nav-skjema")).__len__() == 0
    page = nav.post("/products/new", {**fields(), "action": "register"}, CONTENT)
    assert page.status_code == 303, page.get_data(as_text=True)
    assert page.headers["Location"].endswith("/products/nav-skjema")
    by_form = [
        graph_of(store, g) for g in (product_graph("nav-skjema"), content_graph("nav-skjema"))
    ]
    assert isomorphic(by_api[0], by_form[0]) and isomorphic(by_api[1], by_form[1])
    record = registry.get_record(store, "nav-skjema")
    assert record is not None and record.version == 3 and not record.withdrawn


def test_check_shows_the_error_next_to_its_field_and_writes_nothing(app: Any) -> None:
    nav = Steward(app, NAV)
    store = app.extensions["eti"].store
    page = nav.post("/products/new", {**fields(title_nn="", description_nn=""), "action": "check"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="error-summary"' in html
    assert 'href="#title_nn"' in html and 'href="#description_nn"' in html
    # the message sits next to the field, and the field points at it
    assert re.search(r'id="title_nn-finding-1"[^>]*>.*nynorsk', html)
    assert re.search(
        r'id="title_nn"[^>]*aria-describedby="title_nn-finding-1"[^>]*aria-invalid', html
    )
    assert registry.get_record(store, "nav-skjema") is None
    # fixed: the check passes, still nothing written
    fixed = nav.post("/products/new", {**fields(), "action": "check"})
    assert 'id="check-ok"' in fixed.get_data(as_text=True)
    assert registry.get_record(store, "nav-skjema") is None
    # register with a broken rule: 422 and the same report, nothing written
    broken = nav.post("/products/new", {**fields(title_nn=""), "action": "register"})
    assert broken.status_code == 422
    assert 'href="#title_nn"' in broken.get_data(as_text=True)
    assert registry.get_record(store, "nav-skjema") is None


def test_check_keeps_the_uploaded_content_for_register(app: Any) -> None:
    """A browser cannot keep a chosen file across pages: the checked content rides along."""
    nav = Steward(app, NAV)
    store = app.extensions["eti"].store
    checked = nav.post("/products/new", {**fields(), "action": "check"}, CONTENT)
    html = checked.get_data(as_text=True)
    kept = re.search(r'name="content_kept" value="([^"]*)"', html)
    assert kept and "PublicService" in kept[1]
    import html as html_lib

    page = nav.post(
        "/products/new",
        {**fields(), "action": "register", "content_kept": html_lib.unescape(kept[1])},
    )
    assert page.status_code == 303
    assert len(store.triples(content_graph("nav-skjema"))) == 10


def test_bad_upload_gets_a_clear_400_on_the_page_and_nothing_written(app: Any) -> None:
    nav = Steward(app, NAV)
    store = app.extensions["eti"].store
    page = nav.post(
        "/products/new", {**fields(), "action": "register"}, b"<a> <b> 'oops\n", "x.ttl"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "x.ttl:1:" in html and 'href="#content"' in html
    other = nav.post("/products/new", {**fields(), "action": "register"}, b"hi", "x.pdf")
    assert other.status_code == 400 and "TriG (.trig), Turtle (.ttl) or JSON-LD" in other.get_data(
        as_text=True
    )
    assert registry.get_record(store, "nav-skjema") is None


def test_edit_saves_a_new_version_and_the_history_reads_as_rows(app: Any) -> None:
    nav = Steward(app, NAV)
    store = app.extensions["eti"].store
    assert nav.post("/products/new", {**fields(), "action": "register"}, CONTENT).status_code == 303
    page = nav.client.get("/products/nav-skjema/edit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="Skjemahjelp for familier"' in html
    assert "readonly" in re.search(r'<input[^>]*id="id"[^>]*>', html)[0]
    checked = nav.post("/products/nav-skjema/edit", {**fields(), "action": "check"})
    html = checked.get_data(as_text=True)
    # test_check_on_edit_carried_the_stored_content_in_the_page: only uploads ride along
    assert 'name="content_kept"' not in html and "lagrede innholdet (10 utsagn)" in html
    saved = nav.post(
        "/products/nav-skjema/edit", {**fields(title_nb="Ny skjemahjelp"), "action": "save"}
    )
    assert saved.status_code == 303
    record = registry.get_record(store, "nav-skjema")
    assert record is not None and record.version == 2
    # the content was kept without a new upload
    assert len(store.triples(content_graph("nav-skjema"))) == 10
    changes = nav.client.get("/products/nav-skjema/changes").get_data(as_text=True)
    row = re.search(
        r'<tr class="diff-added"><td>Lagt til</td><td>Produktet</td><td>Tittel</td><td[^>]*>Ny skjemahjelp',
        changes,
    )
    assert row, changes
    assert re.search(
        r'<tr class="diff-removed"><td>Fjernet</td><td>Produktet</td><td>Tittel</td><td[^>]*>Skjemahjelp for familier',
        changes,
    )
    assert "&lt;http" not in changes  # no raw Turtle


def test_withdraw_needs_a_confirmation(app: Any) -> None:
    nav = Steward(app, NAV)
    store = app.extensions["eti"].store
    asked = nav.post("/products/nav-pleiepenger/edit", {"action": "withdraw"})
    assert asked.status_code == 200 and 'value="withdraw-confirmed"' in asked.get_data(as_text=True)
    assert not registry.get_record(store, "nav-pleiepenger").withdrawn
    done = nav.post("/products/nav-pleiepenger/edit", {"action": "withdraw-confirmed"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/my/products")
    assert registry.get_record(store, "nav-pleiepenger").withdrawn


def test_other_organisations_steward_gets_403_and_anonymous_signs_in(app: Any) -> None:
    hdir = Steward(app, HDIR)
    store = app.extensions["eti"].store
    assert hdir.client.get("/products/nav-pleiepenger/edit").status_code == 403
    saved = hdir.post(
        "/products/nav-pleiepenger/edit", {**fields("nav-pleiepenger"), "action": "save"}
    )
    assert saved.status_code == 403
    refused = hdir.post("/products/nav-pleiepenger/edit", {"action": "withdraw-confirmed"})
    assert refused.status_code == 403
    assert registry.get_record(store, "nav-pleiepenger").version == 1
    anonymous = app.test_client()
    for path in ("/products/new", "/products/nav-pleiepenger/edit", "/my/products"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["Location"].endswith("/signin")
    admin = Steward(app, None, role="admin")
    assert admin.client.get("/products/new").status_code == 403


def test_csrf_refused_without_the_token(app: Any) -> None:
    nav = Steward(app, NAV)
    store = app.extensions["eti"].store
    page = nav.client.post("/products/new", data={**fields(), "action": "register"})
    assert page.status_code == 400
    assert registry.get_record(store, "nav-skjema") is None
    page = nav.client.post("/products/nav-pleiepenger/edit", data={"action": "withdraw-confirmed"})
    assert page.status_code == 400 and not registry.get_record(store, "nav-pleiepenger").withdrawn


def test_my_products_overdue_first_and_requests_answered(app: Any) -> None:
    store = app.extensions["eti"].store
    from eti.catalogue import agreements
    from eti.catalogue.auth import Identity

    channel = Identity(role="channel", channel="https://eti.example/channels/nav-no")
    asked = agreements.request(
        store,
        channel,
        offer="https://eti.example/offers/flekkefjord-ppt",
        purpose=SERVICE,
        start=clock.today().isoformat(),
        end=(clock.today() + timedelta(days=300)).isoformat(),
        base="https://eti.example/",
    )
    flekkefjord = Steward(app, "964967369")
    html = flekkefjord.client.get("/my/products").get_data(as_text=True)
    assert asked.ident in html and "flekkefjord-ppt" in html
    clock.use((clock.today() + timedelta(days=60)).isoformat())
    try:
        later = flekkefjord.client.get("/my/products").get_data(as_text=True)
    finally:
        clock.use("2026-12-01")
    rows = re.findall(r"<tr( class=\"overdue\")?>\s*<td><a href=\"/products/([a-z0-9-]+)\"", later)
    flags = [bool(overdue) for overdue, _ in rows]
    assert any(flags) and flags == sorted(flags, reverse=True), rows
    done = flekkefjord.post("/my/products", {"action": "accept", "agreement": asked.ident})
    assert done.status_code == 303
    assert agreements.get(store, asked.ident).status == "active"


def test_every_page_word_has_bokmal_nynorsk_and_english(client: Any) -> None:
    from eti.server import i18n

    assert i18n.LANGUAGES == ("nb", "nn", "en")
    keys = {lang: {m.id for m in i18n.read(lang) if m.id and m.string} for lang in i18n.LANGUAGES}
    assert keys["nb"] and keys["nb"] == keys["nn"] == keys["en"]
    page = client.get("/?lang=nn")
    assert page.headers["Content-Language"] == "nn"
    assert "Søk i dataprodukt" in page.get_data(as_text=True)
    assert client.get("/", headers={"Accept-Language": "nn"}).headers["Content-Language"] == "nn"


def test_live_server_registers_by_form(live_server: Any) -> None:
    s = requests.Session()
    csrf = csrf_of(s.get(live_server.url + "/signin", timeout=30).text)
    s.post(
        live_server.url + "/signin",
        data={"token": live_server.tokens["nav"], "csrf": csrf},
        timeout=30,
    )
    csrf = csrf_of(s.get(live_server.url + "/products/new", timeout=30).text)
    page = s.post(
        live_server.url + "/products/new",
        data={**fields(), "action": "register", "csrf": csrf},
        files={"content": ("c.ttl", CONTENT, "text/turtle")},
        allow_redirects=False,
        timeout=60,
    )
    assert page.status_code == 303, page.text
    read = requests.get(live_server.url + "/api/products/nav-skjema", timeout=30)
    assert read.status_code == 200 and read.json()["version"] == 1
    assert read.json()["orgnr"] == NAV


def test_demo_products_go_through_the_form_unchanged(catalogue: Any) -> None:
    """Read into the form and made again, every demo product's description is the same
    but for the day of its last change (so editing one by form loses nothing)."""
    from importlib.resources import files

    store = catalogue.store
    names = [p.name[:-5] for p in (files("eti.catalogue.demo") / "products").iterdir()]
    assert len(names) >= 15
    for ident in names:
        record = registry.get_record(store, ident)
        stored = store.triples(product_graph(ident))
        form = productform.to_form(stored, record.iri)
        again = productform.build(
            form,
            base="https://eti.example/",
            orgnr=registry.owner_of(store, record),
            today=clock.today(),
            items=productform.services(store.triples(content_graph(ident))),
        )
        assert productform.lost_statements(stored, again) == [], ident
        assert len(again) == len(stored), ident


def test_edit_warns_of_statements_the_form_cannot_keep(app: Any) -> None:
    store = app.extensions["eti"].store
    nav = Steward(app, NAV)
    record = registry.get_record(store, "nav-pleiepenger")
    extra = ox.Triple(
        ox.NamedNode(record.iri),
        ox.NamedNode("http://www.w3.org/ns/dcat#landingPage"),
        ox.NamedNode("https://www.nav.no/pleiepenger-barn"),
    )
    quads = productform.submission(
        [*store.triples(product_graph("nav-pleiepenger")), extra],
        store.triples(content_graph("nav-pleiepenger")),
        "nav-pleiepenger",
    )
    from eti.catalogue.auth import Identity

    registry.register(
        store, quads, who=Identity(role="steward", org=NAV), ident="nav-pleiepenger", create=False
    )
    html = nav.client.get("/products/nav-pleiepenger/edit").get_data(as_text=True)
    dropped = re.search(r'<section class="notice notice-warning".*?</section>', html, re.S)
    assert dropped and "1 utsagn har ikke noe felt" in dropped[0]
    assert "dcat:landingPage" in dropped[0] and "https://www.nav.no/pleiepenger-barn" in dropped[0]
    plain = nav.client.get("/products/nav-omsorgspenger/edit").get_data(as_text=True)
    assert "notice-warning" not in plain


def test_registering_a_taken_id_is_a_409_on_the_page(app: Any) -> None:
    nav = Steward(app, NAV)
    page = nav.post("/products/new", {**fields("nav-pleiepenger"), "action": "register"})
    html = page.get_data(as_text=True)
    assert page.status_code == 409
    assert 'href="#general"' in html and "already registered" in html
    assert registry.get_record(app.extensions["eti"].store, "nav-pleiepenger").version == 1


def test_content_is_read_from_trig_turtle_and_json_ld_whatever_graph() -> None:
    trig = b"<urn:g> { " + CONTENT.split(b"\n", 3)[3] + b" }"
    prefixes = b"\n".join(CONTENT.split(b"\n")[:3]) + b"\n"
    from_trig = productform.read_content(prefixes + trig, "innhold.trig")
    jsonld = b"""{"@id": "https://eti.example/products/x/services/s",
      "@type": "http://purl.org/vocab/cpsv#PublicService",
      "http://purl.org/dc/terms/title": {"@value": "S", "@language": "nb"}}"""
    from_jsonld = productform.read_content(jsonld, "innhold.jsonld")
    assert len(from_trig) == 10 and len(from_jsonld) == 2
    assert productform.services(from_jsonld) == ["https://eti.example/products/x/services/s"]
    with pytest.raises(RdfInputError) as raised:
        productform.read_content(b"<a> a <b> .", "product.nt")
    assert "TriG (.trig), Turtle (.ttl) or JSON-LD" in str(raised.value)
    description = b"<urn:p> a <https://ekgf.github.io/dprod/DataProduct> ."
    with pytest.raises(RdfInputError) as raised:
        productform.read_content(description, "p.ttl")
    assert "upload only the content" in str(raised.value)


def test_live_check_answers_json_with_findings_per_field(app: Any) -> None:
    nav = Steward(app, NAV)
    answer = nav.post("/products/new", {**fields(title_nn=""), "action": "check", "live": "1"})
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    doc = answer.get_json()
    assert any("nynorsk" in row["message"] for row in doc["fields"]["title_nn"])
    assert doc["summary"] and doc["status"].startswith("Det er")
    fixed = nav.post("/products/new", {**fields(), "action": "check", "live": "1"}).get_json()
    assert not fixed["summary"] and fixed["status"].startswith("Beskrivelsen følger")
    assert registry.get_record(app.extensions["eti"].store, "nav-skjema") is None
