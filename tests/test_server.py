"""The server skeleton: health, a first /sparql, /ontology, JSON errors, a live process."""

from __future__ import annotations

import json

import pyoxigraph as ox
import rdflib
import requests
from SPARQLWrapper import JSON, SPARQLWrapper

from eti.catalogue.namespaces import SYSTEM

COUNT_PRODUCTS = (
    "PREFIX dprod: <https://ekgf.github.io/dprod/> "
    "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a dprod:DataProduct }"
)


def test_healthz(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["store"] == "embedded"
    assert response.headers["X-Request-Id"]


def test_sparql_get_counts_the_demo_products(client) -> None:
    response = client.get(
        "/sparql",
        query_string={"query": COUNT_PRODUCTS},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    n = int(response.json["results"]["bindings"][0]["n"]["value"])
    assert n >= 12


def test_sparql_post_form_and_direct(client) -> None:
    form = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"})
    assert form.status_code == 200 and form.json["boolean"] is True
    direct = client.post(
        "/sparql", data="ASK { ?s ?p ?o }", content_type="application/sparql-query"
    )
    assert direct.status_code == 200 and direct.json["boolean"] is True


def test_sparql_csv_by_accept_and_by_format(client) -> None:
    by_accept = client.get(
        "/sparql", query_string={"query": COUNT_PRODUCTS}, headers={"Accept": "text/csv"}
    )
    assert by_accept.mimetype == "text/csv"
    assert by_accept.data.decode().splitlines()[0].strip() == "n"
    by_param = client.get("/sparql", query_string={"query": COUNT_PRODUCTS, "format": "tsv"})
    assert by_param.mimetype == "text/tab-separated-values"


def test_sparql_construct_as_turtle(client) -> None:
    response = client.get(
        "/sparql",
        query_string={
            "query": "CONSTRUCT { ?p a <https://ekgf.github.io/dprod/DataProduct> } "
            "WHERE { ?p a <https://ekgf.github.io/dprod/DataProduct> }"
        },
        headers={"Accept": "text/turtle"},
    )
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    assert len(graph) >= 12


def test_sparql_errors_are_plain_text_4xx(client) -> None:
    syntax = client.get("/sparql", query_string={"query": "SELECT WHERE {"})
    assert syntax.status_code == 400 and syntax.mimetype == "text/plain"
    assert "syntax" in syntax.data.decode().lower()
    # (GET /sparql with no parameter at all is the service description)
    missing = client.get("/sparql", query_string={"default-graph-uri": "urn:x:g"})
    assert missing.status_code == 400
    unacceptable = client.get(
        "/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "image/png"}
    )
    assert unacceptable.status_code == 406
    wrong_type = client.post("/sparql", data="ASK {}", content_type="text/plain")
    assert wrong_type.status_code == 415


def test_system_graph_is_never_visible(client, catalogue) -> None:
    catalogue.store.update(
        'INSERT DATA { GRAPH <%s> { <urn:x:token> <urn:x:hash> "secret" } }' % SYSTEM
    )
    for query in (
        'ASK { ?s ?p "secret" }',
        'ASK { GRAPH ?g { ?s ?p "secret" } }',
        "ASK { GRAPH <%s> { ?s ?p ?o } }" % SYSTEM,
        'ASK FROM <%s> { ?s ?p "secret" }' % SYSTEM,
        "ASK FROM NAMED <%s> { GRAPH ?g { ?s ?p ?o } FILTER(?g = <%s>) }" % (SYSTEM, SYSTEM),
    ):
        response = client.get("/sparql", query_string={"query": query})
        assert response.status_code == 200
        assert response.json["boolean"] is False, query


def test_ontology_by_content_negotiation(client) -> None:
    turtle = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=turtle.data, format="turtle")
    assert (
        rdflib.URIRef("https://w3id.org/eti#InformationChannel"),
        rdflib.RDF.type,
        rdflib.OWL.Class,
    ) in g
    jsonld = client.get("/ontology", headers={"Accept": "application/ld+json"})
    assert jsonld.mimetype == "application/ld+json"
    assert len(list(ox.parse(jsonld.data, ox.RdfFormat.JSON_LD))) == len(g)
    html = client.get("/ontology", headers={"Accept": "text/html"})
    assert html.mimetype == "text/html"
    assert b"eti:InformationChannel" in html.data
    assert "Accept" in turtle.headers["Vary"]


def test_unknown_route_is_a_json_404(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert set(json.loads(response.data)) == {"error", "detail"}


def test_live_server_answers_real_clients(live_server) -> None:
    health = requests.get(live_server.url + "/healthz", timeout=10)
    assert health.json()["status"] == "ok"
    sparql = SPARQLWrapper(live_server.url + "/sparql")
    sparql.setQuery(COUNT_PRODUCTS)
    sparql.setReturnFormat(JSON)
    rows = sparql.query().convert()["results"]["bindings"]
    assert int(rows[0]["n"]["value"]) >= 12


def test_service_outside_the_allow_list_is_refused_before_any_connection(client) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        for query in (
            f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
            "SELECT * WHERE { BIND(<http://127.0.0.1:%d/> AS ?e) SERVICE ?e { ?s ?p ?o } }" % port,
            "SELECT * WHERE { SERVICE <file:///etc/passwd> { ?s ?p ?o } }",
        ):
            response = client.get("/sparql", query_string={"query": query})
            assert response.status_code == 400, query
            assert "SERVICE" in response.data.decode()
        with __import__("pytest").raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


def test_from_and_graph_parameters_choose_within_the_view(client) -> None:
    count = "SELECT (COUNT(*) AS ?n) %s WHERE { ?s ?p ?o }"
    everything = client.get("/sparql", query_string={"query": count % ""}).json
    only_public = client.get(
        "/sparql", query_string={"query": count % "FROM <urn:eti:graph:public>"}
    ).json
    by_param = client.get(
        "/sparql", query_string={"query": count % "", "default-graph-uri": "urn:eti:graph:public"}
    ).json
    outside = client.get(
        "/sparql", query_string={"query": count % "FROM <urn:eti:graph:system>"}
    ).json

    def n(doc):  # type: ignore[no-untyped-def]
        return int(doc["results"]["bindings"][0]["n"]["value"])

    assert n(everything) > n(only_public) > 0
    assert n(by_param) == n(only_public)
    assert n(outside) == 0


def test_admins_read_the_default_graph_too(client, catalogue, as_) -> None:
    catalogue.store.update('INSERT DATA { <urn:x:s> <urn:x:p> "in the default graph" }')
    query = 'ASK { ?s ?p "in the default graph" }'
    admin = client.get("/sparql", query_string={"query": query}, headers=as_("admin"))
    anonymous = client.get("/sparql", query_string={"query": query})
    assert admin.json["boolean"] is True and anonymous.json["boolean"] is False


def test_an_unknown_function_is_a_400_not_a_503(client) -> None:
    response = client.get(
        "/sparql",
        query_string={"query": "SELECT * WHERE { BIND(<http://example.org/nope>(1) AS ?x) }"},
    )
    assert response.status_code == 400


def test_the_caller_is_refused_only_where_a_view_reads_it(client) -> None:
    """The caller is resolved once, before the view (auth.load_caller); a token that does
    not hold is answered 401 where the caller matters and never breaks /healthz."""
    bad = {"Authorization": "Bearer eti_nosuch_token"}
    assert client.get("/healthz", headers=bad).status_code == 200
    refused = client.get("/api/agreements", headers=bad)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    in_url = client.get("/sparql", query_string={"query": "ASK {}", "access_token": "x"})
    assert in_url.status_code == 400 and "never in the URL" in in_url.data.decode()
