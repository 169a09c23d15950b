"""Real clients against a real ``eti serve`` over the demo catalogue: SPARQLWrapper (GET,
POST form, POST direct, every return format, CONSTRUCT into an rdflib Graph, updates
with a bearer token), rdflib's SPARQLStore / SPARQLUpdateStore, and a channel's whole
journey with the catalogue's own ``eti.client``."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator

import pytest
import rdflib
import requests
from conftest import prepare_store, start_server, stop
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

from eti.client import Client, ClientError

PPT = "https://eti.example/offers/flekkefjord-ppt"
PRODUCTS = (
    "PREFIX dprod: <https://ekgf.github.io/dprod/> "
    "SELECT ?p WHERE { ?p a dprod:DataProduct } ORDER BY ?p"
)
DESCRIBE_ONE = (
    "PREFIX dprod: <https://ekgf.github.io/dprod/> "
    "CONSTRUCT { ?p a dprod:DataProduct ; ?x ?y } WHERE { ?p a dprod:DataProduct ; ?x ?y }"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    store_dir = tmp_path_factory.mktemp("clients") / "store"
    tokens = prepare_store(store_dir)
    url, proc = start_server(store_dir)
    yield url, tokens["admin"]
    stop(proc)


@pytest.fixture(scope="module")
def products(server) -> list[str]:  # type: ignore[no-untyped-def]
    wrapper = SPARQLWrapper(server[0] + "/sparql")
    wrapper.setQuery(PRODUCTS)
    wrapper.setReturnFormat(JSON)
    rows = wrapper.query().convert()["results"]["bindings"]
    assert len(rows) >= 12
    return [r["p"]["value"] for r in rows]


@pytest.mark.parametrize("method", [GET, POST, POSTDIRECTLY])
@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select_every_method_and_format(server, products, method, fmt) -> None:
    wrapper = SPARQLWrapper(server[0] + "/sparql")
    wrapper.setQuery(PRODUCTS)
    wrapper.setReturnFormat(fmt)
    _method(wrapper, method)
    result = wrapper.query()
    converted = result.convert()
    if fmt == JSON:
        got = [r["p"]["value"] for r in converted["results"]["bindings"]]
    elif fmt == XML:
        got = [node.firstChild.data for node in converted.getElementsByTagName("uri")]
    elif fmt == CSV:
        rows = list(csv.reader(io.StringIO(converted.decode())))
        got = [r[0] for r in rows[1:]]
    else:
        lines = converted.decode().splitlines()[1:]
        got = [line.strip("<>") for line in lines]
    assert got == products


def _method(wrapper: SPARQLWrapper, method: str) -> None:
    if method == POSTDIRECTLY:
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(POSTDIRECTLY)
    else:
        wrapper.setMethod(method)
        wrapper.setRequestMethod(URLENCODED)


@pytest.mark.parametrize("method", [GET, POST, POSTDIRECTLY])
@pytest.mark.parametrize("answer", [True, False])
def test_sparqlwrapper_ask(server, method, answer) -> None:
    wrapper = SPARQLWrapper(server[0] + "/sparql")
    wrapper.setQuery("ASK { ?s ?p ?o }" if answer else "ASK { <urn:x:none> ?p ?o }")
    _method(wrapper, method)
    for fmt in (JSON, XML, CSV, TSV):
        wrapper.setReturnFormat(fmt)
        converted = wrapper.query().convert()
        if fmt == JSON:
            value = converted["boolean"]
        elif fmt == XML:
            value = converted.getElementsByTagName("boolean")[0].firstChild.data == "true"
        else:  # one column, one row: the boolean as text
            value = converted.decode().split()[-1] == "true"
        assert value is answer, (fmt, converted)


@pytest.mark.parametrize("method", [GET, POST, POSTDIRECTLY])
def test_sparqlwrapper_describe_into_an_rdflib_graph(server, products, method) -> None:
    wrapper = SPARQLWrapper(server[0] + "/sparql")
    wrapper.setQuery(f"DESCRIBE <{products[0]}>")
    _method(wrapper, method)
    wrapper.setReturnFormat(RDFXML)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = wrapper.query().convert()
    assert isinstance(graph, rdflib.Graph)
    assert (rdflib.URIRef(products[0]), rdflib.RDF.type, None) in graph
    assert set(graph.subjects()) >= {rdflib.URIRef(products[0])}


@pytest.mark.parametrize("method", [GET, POST, POSTDIRECTLY])
@pytest.mark.parametrize("fmt", [TURTLE, N3, XML, RDFXML, JSONLD])
def test_sparqlwrapper_construct_into_an_rdflib_graph(server, products, fmt, method) -> None:
    wrapper = SPARQLWrapper(server[0] + "/sparql")
    wrapper.setQuery(DESCRIBE_ONE)
    _method(wrapper, method)
    wrapper.setReturnFormat(fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        converted = wrapper.query().convert()
    if isinstance(converted, bytes):  # Turtle and N3 come back as text to parse
        graph = rdflib.Graph().parse(data=converted, format="turtle")
    else:
        graph = converted
    assert isinstance(graph, rdflib.Graph)
    dprod = rdflib.URIRef("https://ekgf.github.io/dprod/DataProduct")
    assert sorted(str(s) for s in graph.subjects(rdflib.RDF.type, dprod)) == products


def test_sparqlwrapper_update_with_a_bearer_token(server) -> None:
    url, token = server
    wrapper = SPARQLWrapper(url + "/sparql", updateEndpoint=url + "/update")
    wrapper.setMethod(POST)
    wrapper.setQuery(
        'INSERT DATA { GRAPH <http://example.org/wrapper> { <urn:x:s> <urn:x:p> "w" } }'
    )
    anonymous = wrapper.query
    with pytest.raises(Exception, match=r"401|Unauthorized"):
        anonymous()
    wrapper.addCustomHttpHeader("Authorization", f"Bearer {token}")
    assert wrapper.query().response.status == 204
    wrapper.setQuery('ASK { GRAPH <http://example.org/wrapper> { ?s ?p "w" } }')
    wrapper.setReturnFormat(JSON)
    assert wrapper.query().convert()["boolean"] is True


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore(server, products, method) -> None:
    store = SPARQLStore(server[0] + "/sparql", method=method)
    graph = rdflib.Graph(store=store)
    rows = graph.query(PRODUCTS)
    assert [str(r[0]) for r in rows] == products
    dprod = rdflib.URIRef("https://ekgf.github.io/dprod/DataProduct")
    assert sorted(str(s) for s, _, _ in graph.triples((None, rdflib.RDF.type, dprod))) == products
    constructed = graph.query(DESCRIBE_ONE).graph
    assert sorted(str(s) for s in constructed.subjects(rdflib.RDF.type, dprod)) == products
    assert graph.query("ASK { ?s ?p ?o }").askAnswer is True


def test_rdflib_sparqlupdatestore_with_a_bearer_token(server) -> None:
    url, token = server
    store = SPARQLUpdateStore(
        url + "/sparql", url + "/update", headers={"Authorization": f"Bearer {token}"}
    )
    name = rdflib.URIRef("http://example.org/rdflib")
    graph = rdflib.Graph(store=store, identifier=name)
    triple = (rdflib.URIRef("urn:x:s"), rdflib.URIRef("urn:x:p"), rdflib.Literal("rdflib"))
    graph.add(triple)
    assert triple in graph
    graph.remove(triple)
    assert triple not in graph
    store.close()


def test_a_large_result_is_streamed_in_chunks(server) -> None:
    response = requests.get(
        server[0] + "/sparql",
        params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
        stream=True,
        timeout=60,
    )
    assert response.status_code == 200
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.headers
    chunks = [c for c in response.raw.read_chunked() if c]
    assert len(chunks) > 1
    assert sum(map(len, chunks)) > 256 * 1024


def test_a_large_form_encoded_query_is_accepted(server) -> None:
    values = " ".join(f"<urn:x:v{i}>" for i in range(40_000))  # about 600 kB
    text = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?v {{ {values} }} }}"
    response = requests.post(
        server[0] + "/sparql",
        data={"query": text},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "40000"


# --- eti.client: a channel's whole journey (was test_client.py) ----------------------------


def test_a_channel_journey(live_server) -> None:
    app = Client(
        live_server.url,
        token=live_server.tokens["app"],
        purpose="https://w3id.org/dpv#ServiceProvision",
    )
    hits = app.products(
        q="pedagogisk", publisher=("https://data.brreg.no/enhetsregisteret/api/enheter/964967369")
    )
    assert [r["id"] for r in hits["results"]] == ["flekkefjord-ppt"]
    needs = app.needs()
    assert needs and all("products" in n for n in needs)

    asked = app.request_agreement(PPT, start="2026-11-01", end="2027-10-31")
    assert asked["status"] == "requested"
    steward = Client(live_server.url, token=live_server.tokens["flekkefjord"])
    steward._call("POST", f"/api/agreements/{asked['id']}/accept")
    assert {a["id"]: a["status"] for a in app.agreements()}[asked["id"]] == "active"

    rows = list(
        app.rows(
            "SELECT ?s ?t WHERE { ?s a cpsv:PublicService ; dct:title ?t "
            'FILTER(LANG(?t) = "nb") } ORDER BY ?s',
            page_size=5,
        )
    )
    titles = {r["t"] for r in rows}
    assert "Pedagogisk-psykologisk tjeneste (PP-tjenesten)" in titles or any(
        "PP-tjenesten" in t for t in titles
    )
    assert len(rows) > 10 and len(rows) == len({r["s"] for r in rows})
    graph = app.graph(
        "CONSTRUCT { ?s dct:title ?t } WHERE { "
        "<https://eti.example/products/flekkefjord-ppt> eti:isAuthoritativeSourceFor ?s ."
        " ?s dct:title ?t }"
    )
    assert isinstance(graph, rdflib.Graph) and len(graph) >= 1
    assert app.ask("ASK { ?s a cpsv:PublicService }")

    family = app.situation(municipality="4207", age=7, needs=["pedagogisk"])
    assert family["services"] >= 1

    with pytest.raises(ClientError) as info:
        app.request_agreement(
            "https://eti.example/offers/nope", start="2026-11-01", end="2027-10-31"
        )
    assert info.value.status == 404


def test_anonymous_client_sees_public_metadata_only(live_server) -> None:
    anonymous = Client(live_server.url)
    assert anonymous.ask("ASK { ?p a dprod:DataProduct }")
    assert not anonymous.ask(
        'ASK { ?s a cpsv:PublicService FILTER(CONTAINS(STR(?s), "flekkefjord-ppt")) }'
    )


def test_the_readme_journey_runs_as_written(live_server) -> None:
    """The README's Python journey (channel integrators), with the live server's URL and
    a channel's token put in the way test_docs does for the SPARQL blocks."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("## For channel integrators\n")
    section = readme[start : readme.find("\n## ", start + 1)]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    code = block.replace("http://127.0.0.1:8080", live_server.url)
    scope: dict = {"CHANNEL_TOKEN": live_server.tokens["app"], "print": lambda *a, **k: None}
    exec(compile(code, "README.md", "exec"), scope)  # our own README, run as written

    assert scope["hits"]["results"]
    needs = {n["description"]: n for n in scope["app"].needs()}
    added = needs["Avlastning i Flekkefjord"]
    assert [(p["product"], p["covered"]) for p in added["products"]] == [
        ("https://eti.example/products/flekkefjord-parorendestotte", True)
    ]
    assert scope["deal"]["status"] == "requested"
    assert scope["rows"] and all("s" in r and "t" in r for r in scope["rows"])
    assert scope["family"]["services"] >= 1
    with pytest.raises(ClientError) as info:
        scope["app"].add_need("?", themes=["https://psi.norge.no/los/tema/finnes-ikke"])
    assert info.value.status == 400 and "finnes-ikke" in info.value.detail
