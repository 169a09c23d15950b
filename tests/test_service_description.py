"""The SPARQL 1.1 Service Description (GET /sparql without a query) and the VoID
description (/.well-known/void): what they state is what the service does."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from eti.catalogue import clock
from eti.catalogue.namespaces import ETI, XSD

PREFIXES = """
PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX schema: <https://schema.org/>
PREFIX formats: <http://www.w3.org/ns/formats/>
PREFIX dprod: <https://ekgf.github.io/dprod/>
"""
FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
CLOSED = "urn:eti:graph:content:flekkefjord-ppt"
DISTINCT_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"


def load(response, media: str = "text/turtle") -> ox.Store:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data
    assert response.mimetype == media
    store = ox.Store()
    store.load(response.data, FORMATS[media])
    return store


def values(store: ox.Store, query: str) -> list:
    return [row[0] for row in store.query(PREFIXES + query)]


def one_number(client, query: str, headers: dict | None = None) -> int:  # type: ignore[no-untyped-def]
    response = client.get("/sparql", query_string={"query": query}, headers=headers or {})
    return int(response.json["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("media", list(FORMATS))
def test_get_without_a_query_is_the_service_description(demo_app, media) -> None:
    client = demo_app.client
    sd = load(client.get("/sparql", headers={"Accept": media}), media)
    endpoints = values(sd, "SELECT ?e WHERE { ?s a sd:Service ; sd:endpoint ?e }")
    assert sorted(e.value for e in endpoints) == [
        "http://localhost/sparql",
        "http://localhost/update",
    ]
    assert client.get("/sparql", headers={"Accept": "text/csv"}).status_code == 406


def test_languages_formats_and_features(demo_app) -> None:
    client = demo_app.client
    sd = load(client.get("/sparql"))

    def of(endpoint: str, prop: str) -> set[str]:
        rows = values(sd, f"SELECT ?v WHERE {{ ?s sd:endpoint <{endpoint}> ; {prop} ?v }}")
        return {v.value.rsplit("/", 1)[-1].rsplit("#", 1)[-1] for v in rows}

    query, update = "http://localhost/sparql", "http://localhost/update"
    assert of(query, "sd:supportedLanguage") == {"SPARQL10Query", "SPARQL11Query"}
    assert of(update, "sd:supportedLanguage") == {"SPARQL11Update"}
    assert of(query, "sd:resultFormat") == {
        "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
        "SPARQL_Results_TSV", "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "TriG", "N-Quads",
    }  # fmt: skip
    assert of(update, "sd:inputFormat") == {
        "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "TriG", "N-Quads"
    }  # fmt: skip
    assert of(query, "sd:feature") == {"UnionDefaultGraph"}  # no SERVICE without an allow-list


def test_federation_is_stated_only_with_an_allow_list(demo_app) -> None:
    client = demo_app.client
    cat = demo_app.catalogue
    cat.settings.service_allow = ["https://data.norge.no/sparql"]
    try:
        sd = load(client.get("/sparql"))
    finally:
        cat.settings.service_allow = []
    assert ox.NamedNode("http://www.w3.org/ns/sparql-service-description#BasicFederatedQuery") in (
        values(sd, "SELECT ?f WHERE { ?s sd:feature ?f }")
    )


def test_every_extension_function_stated_works(demo_app) -> None:
    client = demo_app.client
    sd = load(client.get("/sparql"))
    functions = values(sd, "SELECT ?f WHERE { ?s sd:extensionFunction ?f . ?f a sd:Function }")
    samples = {
        "date": "2026-01-31", "time": "10:00:00", "duration": "P1D", "dayTimeDuration": "PT1H",
        "yearMonthDuration": "P1Y", "gYear": "2026", "gYearMonth": "2026-01",
        "gMonth": "--01", "gMonthDay": "--01-31", "gDay": "---31",
    }  # fmt: skip
    casts = {f for f in functions if f.value.startswith(str(XSD))}
    assert {f.value.rsplit("#", 1)[1] for f in casts} == set(samples)
    for function in casts:
        sample = samples[function.value.rsplit("#", 1)[1]]
        response = client.get(
            "/sparql", query_string={"query": f'SELECT (<{function.value}>("{sample}") AS ?x) {{}}'}
        )
        assert response.status_code == 200, response.data
        (binding,) = response.json["results"]["bindings"]
        assert binding["x"]["datatype"] == function.value
    # the catalogue's search, stated so a channel can find it, and working as stated
    search = {f.value for f in functions} - {f.value for f in casts}
    assert search == {ETI + "textMatch", ETI + "textScore", ETI + "today"}
    text = f"""SELECT ?title (<{ETI}textScore>(?title, "pleiepengene") AS ?score) WHERE {{
        ?p <http://purl.org/dc/terms/title> ?title
        FILTER(<{ETI}textMatch>(?title, "pleiepengene")) }} ORDER BY DESC(?score)"""
    rows = client.get("/sparql", query_string={"query": text}).json["results"]["bindings"]
    assert rows and all("leiepeng" in row["title"]["value"].lower() for row in rows)
    # the catalogue's day: its clock, not the engine's
    rows = client.get(
        "/sparql", query_string={"query": f"SELECT (<{ETI}today>() AS ?d) {{}}"}
    ).json["results"]["bindings"]
    assert rows == [{"d": {"type": "literal", "datatype": str(XSD) + "date",
                           "value": clock.today().isoformat()}}]  # fmt: skip


def test_the_limits_are_stated(demo_app) -> None:
    client = demo_app.client
    cat = demo_app.catalogue
    sd = load(client.get("/sparql"))
    rows = sd.query(
        PREFIXES
        + """SELECT ?id ?value WHERE { ?s sd:endpoint <http://localhost/sparql> ;
               schema:additionalProperty [ schema:propertyID ?id ; schema:value ?value ] }"""
    )
    stated = {row["id"].value: float(row["value"].value) for row in rows}
    assert stated == {
        "max_rows": cat.settings.max_rows,
        "query_timeout": cat.settings.query_timeout,
        "max_body": cat.settings.max_body,
    }


def test_the_default_dataset_is_the_callers_view_with_its_size(demo_app) -> None:
    client = demo_app.client
    admin = demo_app.as_("admin")
    for headers in ({}, admin):
        sd = load(client.get("/sparql", headers=headers))
        (size,) = values(
            sd, "SELECT ?n WHERE { ?s sd:defaultDataset/sd:defaultGraph/void:triples ?n }"
        )
        assert int(size.value) == one_number(client, DISTINCT_TRIPLES, headers)
        names = {
            v.value
            for v in values(sd, "SELECT ?g WHERE { ?s sd:defaultDataset/sd:namedGraph/sd:name ?g }")
        }
        listed = one_number(
            client, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", headers
        )
        assert len(names) == listed
        assert "urn:eti:graph:system" not in names
        assert (CLOSED in names) is bool(headers)


def test_the_statistics_follow_a_write(demo_app) -> None:
    admin = demo_app.as_.client("admin")
    url = "/data?graph=http://example.org/sd-new"
    assert "http://example.org/sd-new" not in admin.get("/sparql").data.decode()
    admin.put(url, data="<urn:x:s> <urn:x:p> 1 .", content_type="text/turtle")
    try:
        assert "http://example.org/sd-new" in admin.get("/sparql").data.decode()
    finally:
        admin.delete(url)


def test_void_describes_the_public_catalogue(demo_app) -> None:
    client = demo_app.client
    void = load(client.get("/.well-known/void"))
    (dataset,) = values(
        void,
        "SELECT ?d WHERE { ?doc a void:DatasetDescription ; "
        "<http://xmlns.com/foaf/0.1/primaryTopic> ?d . ?d a void:Dataset }",
    )
    assert dataset == ox.NamedNode("http://localhost/.well-known/void#catalogue")

    def one(prop: str) -> ox.NamedNode | ox.Literal:
        (value,) = values(void, f"SELECT ?v WHERE {{ <{dataset.value}> {prop} ?v }}")
        return value

    assert one("void:sparqlEndpoint") == ox.NamedNode("http://localhost/sparql")
    assert one("void:dataDump") == ox.NamedNode("http://localhost/data")
    assert one("void:uriSpace").value == "https://eti.example/"
    assert int(one("void:triples").value) == one_number(client, DISTINCT_TRIPLES)
    products = one_number(
        client, "PREFIX dprod: <https://ekgf.github.io/dprod/> "
        "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a dprod:DataProduct }",
    )  # fmt: skip
    (partition,) = values(
        void,
        "SELECT ?n WHERE { ?d void:classPartition [ void:class dprod:DataProduct ; void:entities ?n ] }",
    )
    assert int(partition.value) == products >= 12
    properties = values(void, "SELECT ?p WHERE { ?d void:propertyPartition/void:property ?p }")
    assert len(properties) == int(one("void:properties").value)
    examples = values(void, "SELECT ?r WHERE { ?d void:exampleResource ?r }")
    assert len(examples) == 3
    for example in examples:
        ask = f"ASK {{ <{example.value}> a <https://ekgf.github.io/dprod/DataProduct> }}"
        assert client.get("/sparql", query_string={"query": ask}).json["boolean"] is True


def test_the_data_dump_of_void_holds_its_triples(demo_app) -> None:
    client = demo_app.client
    void = load(client.get("/.well-known/void"))
    (triples,) = values(void, "SELECT ?n WHERE { ?d a void:Dataset ; void:triples ?n }")
    dump = client.get("/data")
    assert dump.status_code == 200
    distinct = {
        (q.subject, q.predicate, q.object) for q in ox.parse(dump.data, ox.RdfFormat.N_QUADS)
    }
    assert len(distinct) == int(triples.value)
