"""Stewards register, update and withdraw products over HTTP: validated, scoped, atomic,
with history. Every refusal leaves the store byte-for-byte as it was."""

from __future__ import annotations

import io
from importlib.resources import files

import pyoxigraph as ox
import pytest

from eti.catalogue.auth import TokenTable

NAV, HDIR = "889640782", "983544622"
TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text("utf-8")
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { <https://eti.example/products/nav-testprodukt> ?p ?o }"


def product(name: str = "nav-testprodukt", *, title: str = "Pleiepenger for sykt barn") -> bytes:
    text = TEMPLATE.replace("nav-pleiepenger", name)
    return text.replace(f'"{"Pleiepenger for sykt barn"}"@nb', f'"{title}"@nb', 1).encode()


def dump(catalogue) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    catalogue.store.dump(out)
    return out.getvalue()


@pytest.fixture
def tokens(as_) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "nav": as_.token("steward", org=NAV),
        "hdir": as_.token("steward", org=HDIR),
        "admin": as_.token("admin"),
        "channel": as_.token("channel", channel="https://eti.example/channels/nav-no"),
    }


def auth(token: str, media: str = "application/trig") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": media}


def sparql_count(client) -> int:  # type: ignore[no-untyped-def]
    doc = client.get("/sparql", query_string={"query": COUNT}).json
    return int(doc["results"]["bindings"][0]["n"]["value"])


def test_register_update_withdraw_with_history(client, tokens) -> None:
    created = client.post("/api/products", data=product(), headers=auth(tokens["nav"]))
    assert created.status_code == 201, created.json
    assert created.headers["Location"] == "/api/products/nav-testprodukt"
    assert created.json["version"] == 1
    assert sparql_count(client) > 10

    read = client.get("/api/products/nav-testprodukt")
    assert read.status_code == 200 and read.json["orgnr"] == NAV
    turtle = client.get("/api/products/nav-testprodukt", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle"
    assert b"Pleiepenger for sykt barn" in turtle.data

    again = client.post("/api/products", data=product(), headers=auth(tokens["nav"]))
    assert again.status_code == 409

    changed = client.put(
        "/api/products/nav-testprodukt",
        data=product(title="Pleiepenger når barnet er sykt"),
        headers=auth(tokens["nav"]),
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["version"] == 2

    history = client.get("/api/products/nav-testprodukt/history").json["versions"]
    assert [v["version"] for v in history] == [1, 2]
    assert any("Pleiepenger når barnet er sykt" in t for t in history[1]["added"])
    assert any('"Pleiepenger for sykt barn"@nb' in t for t in history[1]["removed"])
    assert len(history[1]["added"]) == 1 and len(history[1]["removed"]) == 1

    first = client.get(
        "/api/products/nav-testprodukt/versions/1",
        headers={"Authorization": f"Bearer {tokens['nav']}", "Accept": "application/n-triples"},
    )
    assert first.status_code == 200
    assert '"Pleiepenger for sykt barn"@nb' in first.data.decode()

    gone = client.delete("/api/products/nav-testprodukt", headers=auth(tokens["nav"]))
    assert gone.status_code == 200 and gone.json["status"] == "withdrawn"
    assert client.get("/api/products/nav-testprodukt").status_code == 410
    assert sparql_count(client) == 0
    history = client.get("/api/products/nav-testprodukt/history").json["versions"]
    assert [v["status"] for v in history] == ["COMPLETED", "COMPLETED", "WITHDRAWN"]
    # a withdrawn product can be registered again
    back = client.post("/api/products", data=product(), headers=auth(tokens["nav"]))
    assert back.status_code == 201 and back.json["version"] == 4


def test_turtle_without_named_graphs_is_split_into_description_and_content(
    client, tokens, catalogue
) -> None:
    ds = ox.Dataset(ox.parse(product(), ox.RdfFormat.TRIG))
    flat = io.BytesIO()
    ox.serialize(
        [ox.Triple(q.subject, q.predicate, q.object) for q in ds], flat, ox.RdfFormat.TURTLE
    )
    created = client.post(
        "/api/products", data=flat.getvalue(), headers=auth(tokens["nav"], "text/turtle")
    )
    assert created.status_code == 201, created.json
    content = catalogue.store.triples("urn:eti:graph:content:nav-testprodukt")
    description = catalogue.store.triples("urn:eti:graph:product:nav-testprodukt")
    types = {t.object.value for t in content if t.predicate.value.endswith("#type")}
    assert "http://purl.org/vocab/cpsv#PublicService" in types
    assert not any(
        t.object.value == "http://purl.org/vocab/cpsv#PublicService" for t in description
    )


REFUSALS = [
    ("no token", lambda t: {"Content-Type": "application/trig"}, product(), 401),
    ("channel token", lambda t: auth(t["channel"]), product(), 403),
    ("another organisation", lambda t: auth(t["hdir"]), product(), 403),
    (
        "revoked scheme spelling",
        lambda t: {"Authorization": f"Token {t['nav']}", "Content-Type": "application/trig"},
        product(),
        401,
    ),
    ("unknown token", lambda t: auth("eti_000000000000_" + "x" * 43), product(), 401),
    ("missing content type", lambda t: {"Authorization": f"Bearer {t['nav']}"}, product(), 415),
    ("not RDF", lambda t: auth(t["nav"], "application/pdf"), product(), 415),
    ("empty body", lambda t: auth(t["nav"]), b"", 400),
    ("unparsable", lambda t: auth(t["nav"]), product()[:-200] + b" <<< }", 400),
    (
        "two products",
        lambda t: auth(t["nav"]),
        product() + product("nav-annet").replace(b"@prefix", b"#"),
        400,
    ),
    (
        "breaks a rule",
        lambda t: auth(t["nav"]),
        product().replace(b'"Pleiepengar for sjukt barn"@nn,', b"", 1),
        422,
    ),
]


@pytest.mark.parametrize(
    ("case", "headers", "body", "status"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_refused_registrations_change_nothing(
    client, tokens, catalogue, case, headers, body, status
) -> None:
    before = dump(catalogue)
    response = client.post("/api/products", data=body, headers=headers(tokens))
    assert response.status_code == status, response.json
    assert set(response.json) == {"error", "detail"}
    assert dump(catalogue) == before


def test_syntax_error_says_line_and_column(client, tokens) -> None:
    body = b'@prefix dct: <http://purl.org/dc/terms/> .\n<http://e/a> dct:title "open .\n'
    response = client.post("/api/products", data=body, headers=auth(tokens["nav"], "text/turtle"))
    assert response.status_code == 400
    assert response.json["detail"]["line"] == 2
    assert response.json["detail"]["column"] is not None


def test_rule_broken_returns_the_report(client, tokens) -> None:
    body = product().replace(b'"Pleiepengar for sjukt barn"@nn,', b"", 1)
    response = client.post("/api/products", data=body, headers=auth(tokens["nav"]))
    assert response.status_code == 422
    report = response.json["detail"]["report"]
    assert report["conforms"] is False
    assert any(r["severity"] == "Violation" for r in report["results"])
    as_turtle = client.post(
        "/api/products", data=body, headers={**auth(tokens["nav"]), "Accept": "text/turtle"}
    )
    assert as_turtle.status_code == 422 and b"ValidationReport" in as_turtle.data


def test_updates_of_others_and_unknown_products_are_refused(client, tokens, catalogue) -> None:
    before = dump(catalogue)
    other = client.put(
        "/api/products/nav-pleiepenger",
        data=product("nav-pleiepenger"),
        headers=auth(tokens["hdir"]),
    )
    assert other.status_code == 403
    unknown = client.put(
        "/api/products/nav-finnes-ikke",
        data=product("nav-finnes-ikke"),
        headers=auth(tokens["nav"]),
    )
    assert unknown.status_code == 404
    withdraw_other = client.delete("/api/products/nav-pleiepenger", headers=auth(tokens["hdir"]))
    assert withdraw_other.status_code == 403
    assert dump(catalogue) == before


def test_an_iri_registered_under_another_id_is_a_conflict(client, tokens, catalogue) -> None:
    before = dump(catalogue)
    body = product("nav-pleiepenger").replace(
        b'dct:identifier "nav-pleiepenger"', b'dct:identifier "nav-kopi"', 1
    )
    response = client.post("/api/products", data=body, headers=auth(tokens["nav"]))
    assert response.status_code == 409
    assert "nav-pleiepenger" in response.json["detail"]
    assert dump(catalogue) == before


def test_oversize_body_is_413_and_changes_nothing(app, client, tokens, catalogue) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    before = dump(catalogue)
    response = client.post("/api/products", data=product(), headers=auth(tokens["nav"]))
    assert response.status_code == 413
    assert dump(catalogue) == before


def test_admin_may_register_for_any_organisation(client, tokens) -> None:
    response = client.post("/api/products", data=product(), headers=auth(tokens["admin"]))
    assert response.status_code == 201


def test_token_in_the_query_string_is_refused(client, tokens) -> None:
    response = client.post(
        f"/api/products?access_token={tokens['nav']}",
        data=product(),
        headers={"Content-Type": "application/trig"},
    )
    assert response.status_code == 400


def test_a_product_reads_whole_for_everyone_when_its_offer_is_open(client, tokens) -> None:
    for headers in (
        {},
        {"Authorization": f"Bearer {tokens['nav']}"},
        {"Authorization": f"Bearer {tokens['channel']}"},
    ):
        r = client.get(
            "/api/products/nav-pleiepenger", headers={**headers, "Accept": "application/n-triples"}
        )
        assert "http://purl.org/vocab/cpsv#PublicService" in r.data.decode(), headers


def test_open_cache_not_stale_when_a_write_lands_during_its_query(catalogue, monkeypatch) -> None:
    """CI load run: a steward read its new open product without the content (115 of 171
    triples). The cache of open content was keyed to the generation read *after* its query,
    so a write landing during the query left the older answer under the newer key."""
    from eti.catalogue import registry
    from eti.catalogue.auth import Identity
    from eti.catalogue.namespaces import content_graph

    nav = Identity(role="steward", org=NAV)
    real_query = catalogue.store.query
    landed: list[str] = []

    def query_then_write(sparql: str, **kw):  # type: ignore[no-untyped-def]
        rows = list(real_query(sparql, **kw))
        if "<urn:eti:sys:OpenContent>" in sparql and not landed:  # open-content-graphs.rq
            landed.append("nav-samtidig")
            quads = list(ox.parse(product("nav-samtidig"), ox.RdfFormat.TRIG))
            registry.register(catalogue.store, quads, who=nav)
        return rows

    monkeypatch.setattr(catalogue.store, "query", query_then_write)
    catalogue.open_content()  # its query runs while the product is registered
    assert landed
    monkeypatch.setattr(catalogue.store, "query", real_query)
    assert content_graph("nav-samtidig") in catalogue.open_content()
    whole = len(list(ox.parse(product("nav-samtidig"), ox.RdfFormat.TRIG)))
    assert len(catalogue.product_triples("nav-samtidig", nav)) == whole


FLEKKEFJORD = "964967369"
ENHET = "https://data.brreg.no/enhetsregisteret/api/enheter/"


def as_organisation(body: bytes, orgnr: str, claim: str) -> bytes:
    """``body`` with Nav's organisation replaced by ``orgnr``, and a default-graph triple
    giving that organisation the number ``claim``."""
    text = body.decode().replace("enhet:889640782", f"enhet:{orgnr}")
    return (text + f'\nenhet:{orgnr} dct:identifier "{claim}" .\n').encode()


SPOOFS = [
    ("a registered organisation restated with Nav's number", HDIR, NAV),
    ("an unregistered Enhetsregisteret IRI given Nav's number", "999999999", NAV),
]


@pytest.mark.parametrize(("case", "orgnr", "claim"), SPOOFS, ids=[s[0] for s in SPOOFS])
def test_steward_cannot_register_as_another_organisation_by_restating_its_identifier(
    client, tokens, catalogue, case, orgnr, claim
) -> None:
    """Audit: Nav's token POSTed a product owned and published by Helsedirektoratet, whose
    body said ``enhet:983544622 dct:identifier "889640782"``, and got 201: the scope check
    trusted the number in the body over the agents graph."""
    before = dump(catalogue)
    body = as_organisation(product("nav-forkledd"), orgnr, claim)
    response = client.post("/api/products", data=body, headers=auth(tokens["nav"]))
    assert response.status_code == 403, response.json
    assert f"{ENHET}{orgnr}" in response.json["detail"]
    assert dump(catalogue) == before


def test_restating_an_organisation_as_the_agents_graph_has_it_is_accepted(client, tokens) -> None:
    body = as_organisation(product(), NAV, NAV)
    response = client.post("/api/products", data=body, headers=auth(tokens["nav"]))
    assert response.status_code == 201, response.json


def history_triples(client, ident: str, token: str | None = None) -> set[str]:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(f"/api/products/{ident}/history", headers=headers)
    assert response.status_code == 200, response.json
    return {t for v in response.json["versions"] for t in v["added"] + v["removed"]}


def test_history_of_a_closed_product_shows_content_only_to_those_who_may_read_it(
    client, tokens, catalogue
) -> None:
    """Audit: anonymous GET /api/products/<id>/history listed the triples of a closed
    product's content graph (the version snapshots hold description and content)."""
    ident = "flekkefjord-ppt"
    content = {str(t) for t in catalogue.store.triples(f"urn:eti:graph:content:{ident}")}
    description = {str(t) for t in catalogue.store.triples(f"urn:eti:graph:product:{ident}")}
    secret = {t for t in content - description if "_:" not in t}
    assert secret and any("PublicService" in t for t in secret)
    owner = TokenTable(catalogue.store).create("steward", org=FLEKKEFJORD)[1]
    assert secret <= history_triples(client, ident, owner)
    assert secret <= history_triples(client, ident, tokens["admin"])
    for who in (None, tokens["nav"], tokens["channel"]):
        seen = history_triples(client, ident, who)
        assert not seen & secret, who
        assert any("PPT" in t or "pedagogisk" in t.lower() for t in seen), who
    # an open product's content is everyone's, in its history too
    open_content = {
        str(t) for t in catalogue.store.triples("urn:eti:graph:content:nav-pleiepenger")
    }
    opened = {t for t in open_content if "_:" not in t}
    assert opened <= history_triples(client, "nav-pleiepenger")


def test_history_written_before_descriptions_were_kept_apart_hides_content(
    client, catalogue
) -> None:
    """A store whose versions have only the whole snapshot (description and content in one
    graph) still shows no content to anonymous callers."""
    ident = "flekkefjord-ppt"
    catalogue.store.update(f"DROP GRAPH <urn:eti:graph:history:{ident}:description-1>")
    content = {str(t) for t in catalogue.store.triples(f"urn:eti:graph:content:{ident}")}
    description = {str(t) for t in catalogue.store.triples(f"urn:eti:graph:product:{ident}")}
    seen = history_triples(client, ident)
    assert not seen & (content - description)
    title = next(t for t in description if "/title>" in t and "@nb" in t)
    assert title in seen


def test_posting_a_registered_product_again_is_409_and_changes_nothing(
    client, tokens, catalogue
) -> None:
    before = dump(catalogue)
    again = client.post(
        "/api/products", data=product("nav-pleiepenger"), headers=auth(tokens["nav"])
    )
    assert again.status_code == 409
    assert "PUT" in again.json["detail"]
    assert dump(catalogue) == before


def test_a_product_iri_of_another_organisation_is_a_conflict(client, tokens, catalogue) -> None:
    """Nav's steward names Helsedirektoratet's product IRI, under its own id or under
    Helsedirektoratet's: 409 either way, nothing written."""
    before = dump(catalogue)
    theirs = product("helsedir-habilitering")
    for body in (
        theirs.replace(b'dct:identifier "helsedir-habilitering"', b'dct:identifier "nav-kopi"', 1),
        theirs,
    ):
        response = client.post("/api/products", data=body, headers=auth(tokens["nav"]))
        assert response.status_code == 409, response.json
        assert "helsedir-habilitering" in response.json["detail"]
    assert dump(catalogue) == before


def test_unknown_products_are_404_to_read_withdraw_and_history(client, tokens, catalogue) -> None:
    before = dump(catalogue)
    assert client.get("/api/products/nav-finnes-ikke").status_code == 404
    assert client.get("/api/products/nav-finnes-ikke/history").status_code == 404
    gone = client.delete("/api/products/nav-finnes-ikke", headers=auth(tokens["nav"]))
    assert gone.status_code == 404 and "nav-finnes-ikke" in gone.json["detail"]
    assert dump(catalogue) == before


def test_a_registration_with_a_warning_returns_it(client, tokens) -> None:
    body = product().replace(b"lang:ENG", b"lang:XYZ")
    response = client.post("/api/products", data=body, headers=auth(tokens["nav"]))
    assert response.status_code == 201, response.json
    warnings = response.json["warnings"]
    assert warnings and {w["severity"] for w in warnings} == {"Warning"}
    assert any("language" in w["message"]["en"] for w in warnings)
    assert (
        client.post("/api/products", data=product("nav-annet"), headers=auth(tokens["nav"])).json[
            "warnings"
        ]
        == []
    )


def test_an_update_keeps_the_catalogue_record_and_links_the_previous_version(
    client, tokens, catalogue
) -> None:
    from eti.catalogue.namespaces import RECORDS

    client.post("/api/products", data=product(), headers=auth(tokens["nav"]))
    changed = client.put(
        "/api/products/nav-testprodukt",
        data=product(title="Pleiepenger når barnet er sykt"),
        headers=auth(tokens["nav"]),
    )
    assert changed.status_code == 200, changed.json

    def about(subject: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for t in catalogue.store.triples(RECORDS):
            if t.subject.value == subject:
                out.setdefault(t.predicate.value.rsplit("/", 1)[-1], []).append(t.object.value)
        return out

    record = about("urn:eti:record:nav-testprodukt")
    v1, v2 = about("urn:eti:record:nav-testprodukt:v1"), about("urn:eti:record:nav-testprodukt:v2")
    catalog_record = "http://www.w3.org/ns/dcat#CatalogRecord"
    assert record["22-rdf-syntax-ns#type"] == [catalog_record]
    assert v2["22-rdf-syntax-ns#type"] == [catalog_record]
    assert record["issued"] == v1["issued"]  # issued stays the first registration's
    assert record["modified"] == v2["issued"] and len(record["modified"]) == 1
    agent = record["prov#wasAttributedTo"]
    assert len(agent) == 1 and agent[0].startswith("urn:eti:agent:steward:")
    assert v2["dcat#previousVersion"] == ["urn:eti:record:nav-testprodukt:v1"]
    assert "dcat#previousVersion" not in v1
    assert record["dcat#hasCurrentVersion"] == ["urn:eti:record:nav-testprodukt:v2"]
    assert record["primaryTopic"] == ["https://eti.example/products/nav-testprodukt"]


def test_rdfxml_syntax_error_says_line_and_column(client, tokens) -> None:
    """Audit: an RDF/XML body that does not parse got line and column None in the 400."""
    body = (
        b'<?xml version="1.0"?>\n'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        b'  <rdf:Description rdf:about="http://e/a">\n'
        b"  </rdf:Descriptio>\n"
        b"</rdf:RDF>\n"
    )
    headers = auth(tokens["nav"], "application/rdf+xml")
    response = client.post("/api/products", data=body, headers=headers)
    assert response.status_code == 400
    assert (response.json["detail"]["line"], response.json["detail"]["column"]) == (4, 5)
    unqualified = body.replace(b"  </rdf:Descriptio>\n", b"  <title>x</title></rdf:Description>\n")
    response = client.post("/api/products", data=unqualified, headers=headers)
    assert response.status_code == 400
    assert (response.json["detail"]["line"], response.json["detail"]["column"]) == (4, 3)
