"""SPARQL 1.1 Protocol on /sparql and /update through Flask's test client: the three
ways to send a query, content negotiation (Accept, format=, 406), exact errors,
relative IRIs, truncation, logs, and updates (admin only, validated, whole)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging

import pyoxigraph as ox
import pytest
import requests

from eti.catalogue.core import QueryRefused
from eti.catalogue.sparqltext import inspect

SELECT = "SELECT ?s ?o WHERE { ?s a ?o } ORDER BY ?s ?o LIMIT 5"
CONSTRUCT = "CONSTRUCT { ?s a ?o } WHERE { ?s a ?o } ORDER BY ?s LIMIT 5"
RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPHS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
PRODUCT = "urn:eti:graph:product:nav-pleiepenger"


@pytest.fixture(scope="module")
def client(demo_app):  # type: ignore[no-untyped-def]
    return demo_app.client


@pytest.fixture(scope="module")
def catalogue(demo_app):  # type: ignore[no-untyped-def]
    return demo_app.catalogue


def rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    media = response.mimetype
    if media == "text/csv":  # lossy: plain values
        table = list(csv.reader(io.StringIO(response.data.decode())))
        return [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    parsed = ox.parse_query_results(response.data, RESULTS[media])
    return [{v.value: str(row[v]) for v in parsed.variables} for row in parsed]


# --- how a query is sent ------------------------------------------------------------------


def test_get_post_form_and_post_direct_give_the_same_rows(client) -> None:
    by_get = client.get("/sparql", query_string={"query": SELECT})
    by_form = client.post("/sparql", data={"query": SELECT})
    by_direct = client.post(
        "/sparql", data=SELECT.encode(), content_type="application/sparql-query; charset=utf-8"
    )
    assert by_get.status_code == by_form.status_code == by_direct.status_code == 200
    assert rows(by_get) == rows(by_form) == rows(by_direct)
    assert len(rows(by_get)) == 5


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"query_string": "query=ASK%7B%7D&query=ASK%7B%7D"}, 400),  # two queries
        (
            {
                "method": "POST",
                "data": "query=ASK%7B%7D&query=ASK%7B%7D",
                "content_type": "application/x-www-form-urlencoded",
            },
            400,
        ),
        ({"method": "POST", "data": "ASK {}", "content_type": "text/plain"}, 415),
        ({"method": "POST", "data": "query=ASK%7B%7D"}, 415),  # no Content-Type
        (
            {
                "method": "POST",
                "data": "ASK {}".encode("utf-16"),
                "content_type": "application/sparql-query; charset=UTF-16",
            },
            415,
        ),
        (
            {"method": "POST", "data": b"ASK { \xff }", "content_type": "application/sparql-query"},
            400,
        ),  # not UTF-8
        ({"method": "POST", "data": "", "content_type": "application/sparql-query"}, 400),
        ({"method": "PUT", "query_string": {"query": "ASK {}"}}, 405),
        ({"query_string": {"update": "CLEAR ALL"}}, 400),
        ({"method": "POST", "data": {"update": "CLEAR ALL"}}, 400),
        ({"query_string": {"default-graph-uri": "urn:x:g"}}, 400),  # no query
    ],
)
def test_malformed_requests_are_4xx_plain_text(client, request_args, status) -> None:
    args = {"method": "GET", **request_args}
    response = client.open("/sparql", **args)
    assert response.status_code == status, response.data
    assert response.mimetype == "text/plain"


def test_a_syntax_error_says_where(client) -> None:
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE {\n  ?s ?p }"})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    text = response.data.decode()
    assert text.startswith("Query syntax error: error at 2:")


def test_relative_iris_resolve_against_the_endpoint(client) -> None:
    response = client.get(
        "/sparql",
        query_string={"query": "SELECT (<thing> AS ?x) WHERE {}"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    assert response.json["results"]["bindings"][0]["x"]["value"] == "http://localhost/thing"
    # and an error after the added BASE still names the query's own line
    wrong = client.get("/sparql", query_string={"query": "SELECT (<thing> AS ?x)\nWHERE { ?s }"})
    assert wrong.status_code == 400
    assert "error at 2:" in wrong.data.decode()


# --- content negotiation ------------------------------------------------------------------


@pytest.mark.parametrize("media", list(RESULTS))
def test_select_and_ask_in_every_results_format(client, media) -> None:
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": media})
    assert response.status_code == 200 and response.mimetype == media
    assert len(rows(response)) == 5
    assert "Accept" in response.headers["Vary"]
    ask = client.get(
        "/sparql", query_string={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": media}
    )
    assert ask.status_code == 200 and ask.mimetype == media
    if media in ("text/csv", "text/tab-separated-values"):
        assert ask.data.decode().split() == [
            "_askResult" if media == "text/csv" else "?_askResult",
            "true",
        ]
    else:
        assert bool(ox.parse_query_results(ask.data, RESULTS[media])) is True


@pytest.mark.parametrize("media", list(GRAPHS))
def test_construct_and_describe_in_every_rdf_format(client, media) -> None:
    for query in (CONSTRUCT, "DESCRIBE <https://eti.example/products/nav-pleiepenger>"):
        response = client.get("/sparql", query_string={"query": query}, headers={"Accept": media})
        assert response.status_code == 200 and response.mimetype == media
        triples = list(ox.parse(response.data, GRAPHS[media]))
        assert triples, query


@pytest.mark.parametrize(
    ("query", "formats", "media"),
    [
        (SELECT, ["json"], "application/sparql-results+json"),
        (SELECT, ["xml"], "application/sparql-results+xml"),
        (SELECT, ["csv"], "text/csv"),
        (SELECT, ["tsv", "text/tab-separated-values"], "text/tab-separated-values"),
        (CONSTRUCT, ["turtle"], "text/turtle"),
        (CONSTRUCT, ["n3"], "text/turtle"),
        (CONSTRUCT, ["nt"], "application/n-triples"),
        (CONSTRUCT, ["xml"], "application/rdf+xml"),
        (CONSTRUCT, ["rdf+xml", "application/rdf+xml"], "application/rdf+xml"),
        (CONSTRUCT, ["json-ld", "application/ld+json"], "application/ld+json"),
        (CONSTRUCT, ["trig"], "application/trig"),
        (CONSTRUCT, ["nquads"], "application/n-quads"),
    ],
)
def test_format_parameter_as_browsers_and_sparqlwrapper_send_it(
    client, query, formats, media
) -> None:
    response = client.get(
        "/sparql",
        query_string=[("query", query), *(("format", f) for f in formats), ("output", formats[0])],
        headers={"Accept": "text/html"},  # format= wins over Accept
    )
    assert response.status_code == 200, response.data
    assert response.mimetype == media


def test_accept_with_qualities_wildcards_and_aliases(client) -> None:
    def media(query: str, accept: str) -> str:
        response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200, (accept, response.data)
        return response.mimetype

    assert media(SELECT, "text/csv;q=0.5, application/sparql-results+xml") == (
        "application/sparql-results+xml"
    )
    assert media(SELECT, "application/json") == "application/sparql-results+json"
    assert media(SELECT, "*/*") == "application/sparql-results+json"
    assert media(SELECT, "text/*") == "text/csv"
    assert media(CONSTRUCT, "application/rdf+xml;q=0.9, text/turtle") == "text/turtle"
    assert media(CONSTRUCT, "text/turtle; charset=utf-8") == "text/turtle"
    assert media(CONSTRUCT, "application/json") == "application/ld+json"
    assert media(CONSTRUCT, "*/*") == "text/turtle"
    # browsers: application/xml (q=0.9) wins over */* (q=0.8)
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert media(SELECT, browser) == "application/sparql-results+xml"
    assert media(CONSTRUCT, browser) == "application/rdf+xml"


@pytest.mark.parametrize(
    ("query", "headers", "params"),
    [
        (SELECT, {"Accept": "text/turtle"}, {}),
        (SELECT, {"Accept": "image/png"}, {}),
        (CONSTRUCT, {"Accept": "text/csv"}, {}),
        (CONSTRUCT, {"Accept": "application/sparql-results+json"}, {}),
        ("ASK {}", {}, {"format": "png"}),
    ],
)
def test_unsatisfiable_accept_is_406(client, query, headers, params) -> None:
    response = client.get("/sparql", query_string={"query": query, **params}, headers=headers)
    assert response.status_code == 406
    assert response.mimetype == "text/plain"
    assert "offered" in response.data.decode()


def test_results_stream(client) -> None:
    response = client.get("/sparql", query_string={"query": SELECT})
    assert response.is_streamed
    assert "Content-Length" not in response.headers


def test_truncation_is_never_silent(client, catalogue) -> None:
    limit, catalogue.settings.max_rows = catalogue.settings.max_rows, 3
    try:
        check_truncation(client)
    finally:
        catalogue.settings.max_rows = limit


def check_truncation(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 200
    assert response.headers["ETI-Truncated"] == "true; limit=3"
    assert "truncated" in response.headers["Warning"]
    assert len(rows(response)) == 3
    graph = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    assert graph.headers["ETI-Truncated"] == "true; limit=3"
    assert len(list(ox.parse(graph.data, ox.RdfFormat.TURTLE))) == 3
    small = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"})
    assert "ETI-Truncated" not in small.headers


def test_logs_carry_the_request_id_and_the_query_hash(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="eti.server")
    response = client.get(
        "/sparql", query_string={"query": SELECT}, headers={"X-Request-Id": "req-123"}
    )
    assert response.headers["X-Request-Id"] == "req-123"
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "eti.server"]
    (record,) = [r for r in records if r["request_id"] == "req-123"]
    assert record["query_hash"] == hashlib.sha256(SELECT.encode()).hexdigest()[:16]
    assert record["form"] == "SELECT"
    assert SELECT not in json.dumps(record)


# --- updates ------------------------------------------------------------------------------

INSERT = 'INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> "o" } }'
ASK_INSERTED = 'ASK { GRAPH <http://example.org/g> { ?s ?p "o" } }'


def ask(client, query: str, caller: dict[str, str]) -> bool:  # type: ignore[no-untyped-def]
    response = client.get("/sparql", query_string={"query": query}, headers=caller)
    assert response.status_code == 200, response.data
    return response.json["boolean"]


def test_update_needs_an_admin(client, as_) -> None:
    anonymous = client.post("/update", data=INSERT, content_type="application/sparql-update")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.mimetype == "text/plain"
    steward = client.post(
        "/update",
        data=INSERT,
        content_type="application/sparql-update",
        headers=as_("steward", org="889640782"),
    )
    assert steward.status_code == 403
    assert not ask(client, ASK_INSERTED, as_("admin"))
    assert client.get("/update", query_string={"update": "CLEAR ALL"}).status_code == 405


def test_update_direct_and_form(client, as_) -> None:
    admin = as_("admin")
    direct = client.post(
        "/update", data=INSERT, content_type="application/sparql-update", headers=admin
    )
    assert direct.status_code == 204, direct.data
    assert ask(client, ASK_INSERTED, as_("admin"))
    form = client.post(
        "/update", data={"update": "DROP GRAPH <http://example.org/g>"}, headers=admin
    )
    assert form.status_code == 204, form.data
    assert not ask(client, ASK_INSERTED, as_("admin"))


def test_update_with_using_graph_parameters(client, as_) -> None:
    admin = as_("admin")
    client.post("/update", data=INSERT, content_type="application/sparql-update", headers=admin)
    response = client.post(
        "/update?using-graph-uri=http%3A%2F%2Fexample.org%2Fg",
        data="INSERT { GRAPH <http://example.org/copy> { ?s ?p ?o } } WHERE { ?s ?p ?o }",
        content_type="application/sparql-update",
        headers=admin,
    )
    assert response.status_code == 204, response.data
    assert ask(client, 'ASK { GRAPH <http://example.org/copy> { ?s ?p "o" } }', as_("admin"))
    conflict = client.post(
        "/update?using-graph-uri=http%3A%2F%2Fexample.org%2Fg",
        data="WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        content_type="application/sparql-update",
        headers=admin,
    )
    assert conflict.status_code == 400
    bad_iri = client.post(
        "/update?using-graph-uri=not%20an%20iri",
        data="INSERT { } WHERE { }",
        content_type="application/sparql-update",
        headers=admin,
    )
    assert bad_iri.status_code == 400


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("CLEAR XYZ", 400),
        ("LOAD <file:///etc/passwd>", 400),
        ("LOAD <http://127.0.0.1:9/x.ttl> INTO GRAPH <urn:x:g>", 400),
        ("INSERT DATA { GRAPH <urn:eti:graph:public> { <urn:x:s> <urn:x:p> 1 } }", 403),
        ("INSERT DATA { GRAPH <urn:eti:graph:system> { <urn:x:s> <urn:x:p> 1 } }", 403),
        ("CLEAR ALL", 403),  # the demo's maintained graphs would change
    ],
)
def test_refused_updates_change_nothing(client, catalogue, as_, text, status) -> None:
    before = catalogue.store.count()
    response = client.post(
        "/update",
        data=text,
        content_type="application/sparql-update",
        headers=as_("admin"),
    )
    assert response.status_code == status, response.data
    assert response.mimetype == "text/plain"
    assert catalogue.store.count() == before


def test_an_update_breaking_a_rule_is_422_with_the_report(client, catalogue, as_) -> None:
    breaking = f"DELETE WHERE {{ GRAPH <{PRODUCT}> {{ ?p <http://purl.org/dc/terms/title> ?t }} }}"
    before = catalogue.store.count(PRODUCT)
    for accept, media in (
        (None, "text/plain"),
        ("application/json", "application/json"),
        ("text/turtle", "text/turtle"),
    ):
        headers = {**as_("admin"), **({"Accept": accept} if accept else {})}
        response = client.post(
            "/update", data=breaking, content_type="application/sparql-update", headers=headers
        )
        assert response.status_code == 422
        assert response.mimetype == media
        if media == "application/json":
            assert response.json["report"]["conforms"] is False
        elif media == "text/turtle":
            report = list(ox.parse(response.data, ox.RdfFormat.TURTLE))
            assert any(t.object.value.endswith("#ValidationReport") for t in report)
        else:
            assert "dct:title" in response.data.decode()
    assert catalogue.store.count(PRODUCT) == before


def test_a_read_follows_an_acknowledged_write(client, as_) -> None:
    admin = as_("admin")
    for i in range(3):
        text = f"INSERT DATA {{ GRAPH <urn:x:seq> {{ <urn:x:s> <urn:x:n> {i} }} }}"
        assert (
            client.post(
                "/update", data=text, content_type="application/sparql-update", headers=admin
            ).status_code
            == 204
        )
        assert ask(client, f"ASK {{ GRAPH <urn:x:seq> {{ ?s ?p {i} }} }}", as_("admin"))


def test_head_answers_headers_only(client) -> None:
    """HEAD of the service description answers its headers alone; HEAD with a query is
    405 (tests/test_new_user.py: the Protocol runs a query by GET or POST)."""
    response = client.head("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    assert response.data == b""
    assert io.BytesIO(response.data).read() == b""
    assert client.head("/sparql", query_string={"query": "ASK {}"}).status_code == 405


def test_an_update_never_replaces_a_graph_it_names_indirectly(client, as_) -> None:
    admin = as_("admin")
    keep = "http://example.org/keep"
    first = f"INSERT DATA {{ GRAPH <{keep}> {{ <urn:x:a> <urn:x:b> 1 }} }}"
    assert (
        client.post(
            "/update", data=first, content_type="application/sparql-update", headers=admin
        ).status_code
        == 204
    )
    for text in (
        "BASE <http://example.org/> INSERT DATA { GRAPH <keep> { <urn:x:a> <urn:x:b> 2 } }",
        "PREFIX e: <http://example.org/> INSERT DATA { GRAPH e:keep { <urn:x:a> <urn:x:b> 3 } }",
        "INSERT DATA { GRAPH <http://example.org/\\u006beep> { <urn:x:a> <urn:x:b> 4 } }",
    ):
        response = client.post(
            "/update", data=text, content_type="application/sparql-update", headers=admin
        )
        assert response.status_code == 204, (text, response.data)
    count = client.get(
        "/sparql",
        query_string={
            "query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{keep}> {{ ?s ?p ?o }} }}"
        },
        headers=admin,
    )
    assert count.json["results"]["bindings"][0]["n"]["value"] == "4"
    relative = client.post(
        "/update",
        data="INSERT DATA { GRAPH <relative> { <urn:x:a> <urn:x:b> 1 } }",
        content_type="application/sparql-update",
        headers=admin,
    )
    assert relative.status_code == 204
    assert ask(client, "ASK { GRAPH <http://localhost/relative> { ?s ?p ?o } }", as_("admin"))


def test_the_query_reader_resolves_base_and_relative_iris() -> None:
    info = inspect("BASE <http://example.org/a/> SELECT * FROM <g> FROM NAMED <../h> { }")
    assert info.from_graphs == ["http://example.org/a/g"]
    assert info.from_named == ["http://example.org/h"]
    assert inspect("SELECT * FROM <g> { }", "http://example.org/x").from_graphs == [
        "http://example.org/g"
    ]
    assert inspect("SELECT * FROM <g> { }").from_graphs == ["g"]


def test_service_on_the_allow_list_is_called(client, catalogue, oxigraph_server) -> None:
    data = "INSERT DATA { <urn:x:remote> <urn:x:p> 'far away' }"
    requests.post(
        oxigraph_server + "/update",
        data=data,
        headers={"Content-Type": "application/sparql-update"},
        timeout=30,
    ).raise_for_status()
    text = (
        f"SELECT ?o WHERE {{ SERVICE <{oxigraph_server}/query> {{ <urn:x:remote> <urn:x:p> ?o }} }}"
    )
    assert client.get("/sparql", query_string={"query": text}).status_code == 400
    allow, catalogue.settings.service_allow = (
        catalogue.settings.service_allow,
        [oxigraph_server + "/"],
    )
    try:
        response = client.get("/sparql", query_string={"query": text})
    finally:
        catalogue.settings.service_allow = allow
    assert response.status_code == 200, response.data
    assert response.json["results"]["bindings"][0]["o"]["value"] == "far away"


@pytest.mark.parametrize(
    ("iri", "allowed"),
    [
        ("https://data.norge.no/sparql", True),
        ("https://DATA.norge.no:443/sparql/x", True),
        ("https://data.norge.no@127.0.0.1:9/", False),
        ("https://user:pw@data.norge.no/sparql", False),
        ("https://data.norge.no.evil.example/sparql", False),
        ("http://data.norge.no/sparql", False),
        ("https://data.norge.no:8443/sparql", False),
        ("https://data.norge.no/sparqlx", False),
        ("https://data.norge.no/sparql/../admin", False),
        ("https://data.norge.no/sparql/%2E%2E/admin", False),
        ("file:///etc/passwd", False),
    ],
)
def test_service_allow_list_is_matched_as_urls_not_text_prefixes(
    client, catalogue, iri, allowed
) -> None:
    """Regression: the allow-list was a text prefix, so ``https://data.norge.no`` let
    ``https://data.norge.no@127.0.0.1:9/`` and ``…no.evil.example`` through."""
    allow, catalogue.settings.service_allow = (
        catalogue.settings.service_allow,
        ["https://data.norge.no/sparql"],
    )
    try:
        info = f"SELECT * WHERE {{ SERVICE <{iri}> {{ ?s ?p ?o }} }}"
        if allowed:
            catalogue.check_services(info)
        else:
            with pytest.raises(QueryRefused, match="allow-list"):
                catalogue.check_services(info)
    finally:
        catalogue.settings.service_allow = allow


@pytest.mark.parametrize("form", [True, False])
def test_an_update_syntax_error_says_where(client, as_, catalogue, form) -> None:
    before = catalogue.store.generation
    text = "INSERT DATA {\n  <urn:x:a> <urn:x:b> }"
    headers = as_("admin")
    if form:
        response = client.post("/update", data={"update": text}, headers=headers)
    else:
        headers["Content-Type"] = "application/sparql-update"
        response = client.post("/update", data=text, headers=headers)
    assert response.status_code == 400
    assert "error at 2:" in response.data.decode(), response.data
    assert catalogue.store.generation == before
