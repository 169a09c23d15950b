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
def tokens(catalogue) -> dict[str, str]:  # type: ignore[no-untyped-def]
    table = TokenTable(catalogue.store)
    return {
        "nav": table.create("steward", org=NAV)[1],
        "hdir": table.create("steward", org=HDIR)[1],
        "admin": table.create("admin")[1],
        "channel": table.create("channel", channel="https://eti.example/channels/nav-no")[1],
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
        if "eti:OpenOffer" in sparql and not landed:
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
