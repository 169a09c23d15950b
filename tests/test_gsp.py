"""SPARQL 1.1 Graph Store HTTP Protocol at /data: reads with the visibility of /sparql,
admin writes validated and applied whole, direct and indirect identification, the
store's default graph, multipart POST, dumps, and exact errors."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
PRODUCT = "urn:eti:graph:product:nav-pleiepenger"
CLOSED = "urn:eti:graph:content:flekkefjord-ppt"  # no open offer: agreement holders only
TTL = "text/turtle; charset=utf-8"


@pytest.fixture(scope="module")
def client(demo_app):  # type: ignore[no-untyped-def]
    return demo_app.client


@pytest.fixture(scope="module")
def admin(demo_app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return demo_app.as_("admin")


@pytest.fixture(scope="module")
def steward(demo_app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return demo_app.as_("steward", org="889640782")


def triples(response, media: str = "text/turtle") -> set[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data
    return {str(t) for t in ox.parse(response.data, FORMATS[media])}


def test_put_get_replace_delete(client, admin) -> None:
    url = "/data?graph=http://example.org/gsp/1"
    first = client.put(
        url,
        data="<http://example.org/a> <http://example.org/p> 1 .",
        content_type=TTL,
        headers=admin,
    )
    assert first.status_code == 201
    assert first.headers["Location"] == "http://example.org/gsp/1"
    assert triples(client.get(url, headers=admin)) == {
        '<http://example.org/a> <http://example.org/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer>'
    }
    again = client.put(
        url,
        data="<http://example.org/a> <http://example.org/p> 2 .",
        content_type=TTL,
        headers=admin,
    )
    assert again.status_code == 204
    assert len(triples(client.get(url, headers=admin))) == 1
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url, headers=admin).status_code == 404
    assert client.delete(url, headers=admin).status_code == 404


def test_post_merges_with_fresh_blank_nodes(client, admin) -> None:
    url = "/data?graph=http://example.org/gsp/merge"
    body = '_:b <http://example.org/name> "x" .'
    assert client.post(url, data=body, content_type=TTL, headers=admin).status_code == 201
    assert client.post(url, data=body, content_type=TTL, headers=admin).status_code == 204
    got = list(ox.parse(client.get(url, headers=admin).data, ox.RdfFormat.TURTLE))
    assert len(got) == 2 and len({t.subject for t in got}) == 2  # never merged with _:b
    client.delete(url, headers=admin)


def test_multipart_post_adds_every_file(client, admin) -> None:
    url = "/data?graph=http://example.org/gsp/multi"
    boundary = "a6fe4cd636164618814be9f8d3d1a0de"
    parts = [
        ("a.ttl", "text/turtle", '<http://example.org/s> <http://example.org/p> "turtle" .'),
        ("b.nt", "application/n-triples", '<http://example.org/s> <http://example.org/p> "nt" .'),
        (
            "c.jsonld",
            "application/ld+json",
            '{"@id": "http://example.org/s", "http://example.org/p": "jsonld"}',
        ),
    ]
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"; filename="{n}"\r\n'
            f"Content-Type: {t}\r\n\r\n{text}\r\n"
            for n, t, text in parts
        )
        + f"--{boundary}--\r\n"
    )
    response = client.post(
        url,
        data=body.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=admin,
    )
    assert response.status_code == 201, response.data
    values = {
        t.object.value for t in ox.parse(client.get(url, headers=admin).data, ox.RdfFormat.TURTLE)
    }
    assert values == {"turtle", "nt", "jsonld"}
    client.delete(url, headers=admin)


def test_direct_identification_and_post_to_the_store(client, admin) -> None:
    put = client.put(
        "/data/notes/a.ttl", data="<urn:x:s> <urn:x:p> <urn:x:o> .", content_type=TTL, headers=admin
    )
    assert put.status_code == 201
    assert put.headers["Location"] == "http://localhost/data/notes/a.ttl"
    direct = client.get("/data/notes/a.ttl", headers=admin)
    indirect = client.get("/data?graph=http://localhost/data/notes/a.ttl", headers=admin)
    assert triples(direct) == triples(indirect) == {"<urn:x:s> <urn:x:p> <urn:x:o>"}
    created = client.post("/data", data="<urn:x:s> <urn:x:p> 1 .", content_type=TTL, headers=admin)
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location.startswith("http://localhost/data/")
    assert client.get(location.removeprefix("http://localhost"), headers=admin).status_code == 200
    for graph in ("http://localhost/data/notes/a.ttl", location):
        assert client.delete("/data?graph=" + graph, headers=admin).status_code == 204


def test_the_default_graph_is_for_admins(client, admin) -> None:
    put = client.put(
        "/data?default", data="<urn:x:d> <urn:x:p> 1 .", content_type=TTL, headers=admin
    )
    assert put.status_code in (201, 204)
    assert triples(client.get("/data?default", headers=admin)) == {
        '<urn:x:d> <urn:x:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer>'
    }
    assert client.get("/data?default").status_code == 404
    assert client.delete("/data?default", headers=admin).status_code == 204
    assert client.get("/data?default", headers=admin).status_code == 404


def test_reads_have_the_visibility_of_sparql(client, admin) -> None:
    assert client.get("/data?graph=urn:eti:graph:agents").status_code == 200
    assert client.get("/data?graph=" + CLOSED).status_code == 404
    assert client.get("/data?graph=" + CLOSED, headers=admin).status_code == 200
    for who in ({}, admin):
        assert client.get("/data?graph=urn:eti:graph:system", headers=who).status_code == 404
        assert client.get("/data?graph=urn:x:nothing", headers=who).status_code == 404
        assert client.get("/data?graph=file:///etc/passwd", headers=who).status_code == 404
    head = client.head(
        "/data?graph=urn:eti:graph:agents", headers={"Accept": "application/n-triples"}
    )
    assert head.status_code == 200 and head.data == b""
    assert head.mimetype == "application/n-triples"
    assert client.head("/data?graph=" + CLOSED).status_code == 404


@pytest.mark.parametrize("media", list(FORMATS))
def test_a_graph_in_every_rdf_format(client, media) -> None:
    response = client.get("/data?graph=urn:eti:graph:agents", headers={"Accept": media})
    assert response.mimetype == media
    assert len(triples(response, media)) > 10


def test_negotiation_by_format_and_406(client) -> None:
    by_name = client.get("/data?graph=urn:eti:graph:agents&format=nt")
    assert by_name.mimetype == "application/n-triples"
    refused = client.get("/data?graph=urn:eti:graph:agents", headers={"Accept": "text/csv"})
    assert refused.status_code == 406
    assert set(refused.json) == {"error", "detail"}


def test_writes_need_an_admin(client, steward) -> None:
    url = "/data?graph=http://example.org/gsp/auth"
    for method in ("put", "post", "delete"):
        anonymous = getattr(client, method)(url, data="<urn:x:s> <urn:x:p> 1 .", content_type=TTL)
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        forbidden = getattr(client, method)(
            url, data="<urn:x:s> <urn:x:p> 1 .", content_type=TTL, headers=steward
        )
        assert forbidden.status_code == 403
        assert set(forbidden.json) == {"error", "detail"}


@pytest.mark.parametrize(
    ("url", "body", "content_type", "status"),
    [
        ("/data?graph=http://example.org/x", "<urn:x:s> <urn:x:p> 1 .", None, 415),
        ("/data?graph=http://example.org/x", "a,b\n1,2\n", "text/csv", 415),
        (
            "/data?graph=http://example.org/x",
            "<urn:x:s> <urn:x:p> 1 .".encode("utf-16"),
            "text/turtle; charset=utf-16",
            415,
        ),
        ("/data?graph=http://example.org/x", "<urn:x:s> <urn:x:p> .", TTL, 400),
        (
            "/data?graph=http://example.org/x",
            "GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> 1 }",
            "application/trig",
            400,
        ),
        ("/data?graph=not-an-iri", "<urn:x:s> <urn:x:p> 1 .", TTL, 400),
        ("/data?graph=urn:x:a&graph=urn:x:b", "<urn:x:s> <urn:x:p> 1 .", TTL, 400),
        ("/data?graph=urn:x:a&default", "<urn:x:s> <urn:x:p> 1 .", TTL, 400),
        ("/data?graph=urn:eti:graph:public", "<urn:x:s> <urn:x:p> 1 .", TTL, 403),
        ("/data?graph=urn:eti:graph:read", "<urn:x:s> <urn:x:p> 1 .", TTL, 403),
        ("/data?graph=urn:eti:graph:staged", "<urn:x:s> <urn:x:p> 1 .", TTL, 403),
        ("/data?graph=urn:eti:graph:system", "<urn:x:s> <urn:x:p> 1 .", TTL, 403),
        (
            "/data?graph=urn:eti:graph:history:nav-pleiepenger:1",
            "<urn:x:s> <urn:x:p> 1 .",
            TTL,
            403,
        ),
    ],
)
def test_bad_writes_are_refused_whole(client, admin, url, body, content_type, status) -> None:
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.put(url, data=body, headers=admin, **kwargs)
    assert response.status_code == status, response.data
    assert set(response.json) == {"error", "detail"}
    assert client.get("/data?graph=http://example.org/x", headers=admin).status_code == 404


def test_a_syntax_error_says_where(client, admin) -> None:
    response = client.put(
        "/data?graph=http://example.org/x",
        data="<urn:x:s> <urn:x:p> 1 .\n<urn:x:s> <urn:x:p> .\n",
        content_type=TTL,
        headers=admin,
    )
    assert response.status_code == 400
    assert response.json["detail"]["line"] == 2
    assert response.json["detail"]["column"]


def test_a_write_breaking_a_rule_is_422_and_changes_nothing(client, admin) -> None:
    url = "/data?graph=" + PRODUCT
    before = client.get(url, headers={**admin, "Accept": "application/n-triples"}).data
    kept = b"\n".join(x for x in before.splitlines() if b"/dc/terms/title>" not in x)
    response = client.put(url, data=kept, content_type="application/n-triples", headers=admin)
    assert response.status_code == 422
    assert response.json["detail"]["report"]["conforms"] is False
    as_turtle = client.put(
        url,
        data=kept,
        content_type="application/n-triples",
        headers={**admin, "Accept": "text/turtle"},
    )
    assert as_turtle.status_code == 422 and as_turtle.mimetype == "text/turtle"
    after = client.get(url, headers={**admin, "Accept": "application/n-triples"}).data
    assert sorted(after.splitlines()) == sorted(before.splitlines())


def test_a_valid_write_keeps_the_public_view_in_step(client, admin) -> None:
    url = "/data?graph=" + PRODUCT
    before = client.get(url, headers={**admin, "Accept": "application/n-triples"}).data
    title = '"Pleiepenger (GSP)"@en'
    lines = [x for x in before.decode().splitlines() if x.strip()]
    product = "<https://eti.example/products/nav-pleiepenger>"
    changed = [
        f"{product} <http://purl.org/dc/terms/title> {title} ."
        if x.startswith(product + " <http://purl.org/dc/terms/title>") and x.endswith("@en .")
        else x
        for x in lines
    ]
    assert changed != lines
    response = client.put(
        url, data="\n".join(changed), content_type="application/n-triples", headers=admin
    )
    assert response.status_code == 204, response.data
    query = f"ASK {{ GRAPH <urn:eti:graph:public> {{ {product} ?p {title} }} }}"
    assert client.get("/sparql", query_string={"query": query}).json["boolean"] is True
    restored = client.put(url, data=before, content_type="application/n-triples", headers=admin)
    assert restored.status_code == 204
    assert client.get("/sparql", query_string={"query": query}).json["boolean"] is False


def test_the_dump_is_the_callers_view(client, admin) -> None:
    anonymous = client.get("/data")
    assert anonymous.status_code == 200 and anonymous.mimetype == "application/n-quads"
    graphs = {q.graph_name.value for q in ox.parse(anonymous.data, ox.RdfFormat.N_QUADS)}
    assert "urn:eti:graph:public" in graphs
    assert CLOSED not in graphs and "urn:eti:graph:system" not in graphs
    everything = client.get("/data", headers={**admin, "Accept": "application/trig"})
    assert everything.mimetype == "application/trig"
    all_graphs = {q.graph_name.value for q in ox.parse(everything.data, ox.RdfFormat.TRIG)}
    assert CLOSED in all_graphs and "urn:eti:graph:system" not in all_graphs
    assert client.get("/data", headers={"Accept": "text/turtle"}).status_code == 406
