"""Fuzzing: property-based tests of the parser fronts, a stateful test of the agreement
lifecycle, and schemathesis over the OpenAPI description of a live server.

* The fronts that read bytes from outside (``POST /api/validate``, ``POST /api/products``,
  ``PUT /data?graph=``, ``/sparql``) get arbitrary bytes, RDF-ish token soup, mutated
  products and SPARQL-ish text: never a 5xx (a 503 only for a query's time limit), and a
  refused request leaves the store exactly as it was (a digest of ``GET /data`` as admin).
* ``rdfio.parse_quads`` gets any bytes in every format: quads or ``RdfInputError``.
* A hypothesis state machine drives agreements (request, accept, refuse, terminate, and
  wrong parties) against a model: the stored status equals the model's, a refused or
  terminated agreement never opens content, no two live agreements overlap, and a wrong
  party gets Forbidden and changes nothing.
* schemathesis generates requests for every operation of ``/api/openapi.json`` against a
  real ``eti serve``: no server error, and statuses and content types as documented.

The example counts are bounded so the file runs in well under a minute
(``ETI_FUZZ_EXAMPLES`` scales them up for a longer run).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
import schemathesis
from conftest import bearer, prepare_store, start_server, stop
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from eti.catalogue import agreements, rdfio
from eti.catalogue.auth import Identity
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.catalogue.namespaces import agreement_graph, content_graph
from eti.catalogue.writes import Conflict, Forbidden
from eti.server.openapi import spec

SCALE = max(1, int(os.environ.get("ETI_FUZZ_EXAMPLES", "1")))
FRONT = settings(
    max_examples=60 * SCALE,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_bytes()
RDF_MEDIA = sorted(rdfio.MEDIA_TYPES)
OTHER_MEDIA = [
    "",
    "application/octet-stream",
    "text/html",
    "multipart/form-data",
    "text/turtle; charset=latin-1",
]


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(name="settings")
def fuzz_settings(tmp_path: Path) -> Settings:  # overrides conftest's: a real time limit
    """One query worker process (so a query's time limit really stops it) and short limits."""
    return Settings.load(env={}, store=str(tmp_path / "store"), query_workers=1, query_timeout=3)


@pytest.fixture
def tokens(as_) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "admin": as_.token("admin"),
        "nav": as_.token("steward", org="889640782"),
    }


def dump_lines(client, admin: str) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Every quad of the admin's view (every graph but the system graph), sorted."""
    r = client.get("/data", headers=bearer(admin, Accept="application/n-quads"))
    assert r.status_code == 200, r.data[:500]
    return sorted(line for line in r.data.splitlines() if line.strip())


def digest(lines: list[bytes]) -> str:
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def in_graph(lines: list[bytes], graph: str) -> tuple[list[bytes], list[bytes]]:
    """(lines of ``graph``, the other lines) of an N-Quads dump."""
    quads = rdfio.parse_quads(b"\n".join(lines), ox.RdfFormat.N_QUADS)
    mine = [q for q in quads if getattr(q.graph_name, "value", None) == graph]
    if not mine:
        return [], lines
    inside = {ox.serialize([q], None, ox.RdfFormat.N_QUADS).strip() for q in mine}
    return [x for x in lines if x in inside], [x for x in lines if x not in inside]


def canonical(triples: list[ox.Triple]) -> ox.Dataset:
    ds = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    ds.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return ds


def assert_not_server_error(r, what: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code < 500, f"{what}: {r.status_code} {r.data[:800]!r}"


# --- strategies -------------------------------------------------------------------------

RDF_TOKENS = [
    "@prefix",
    "@base",
    "PREFIX",
    "BASE",
    "GRAPH",
    "a",
    ".",
    ";",
    ",",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "<http://e.example/a>",
    "<http://e.example/p>",
    "<>",
    "<#x>",
    "<a b>",
    "<urn:eti:graph:public>",
    "<urn:eti:graph:system>",
    "dct:title",
    "ex:",
    ":",
    "_:b0",
    "_:",
    '"lit"',
    '"lit"@nb',
    '"1"^^<http://www.w3.org/2001/XMLSchema#integer>',
    "'x'",
    '"""long\nlit"""',
    "^^",
    "@nb",
    "@",
    "1",
    "1.5e3",
    "true",
    "\\u0041",
    "\\U0001F600",
    "#",
    "\n",
    "\t",
    " ",
    '{"@context": {"@vocab": "http://e.example/"}',
    '"@id"',
    '"@graph"',
    '"@type"',
    '"@context"',
    ":",
    "null",
    "[]",
    "{}",
    '<?xml version="1.0"?>',
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    "</rdf:RDF>",
    '<rdf:Description rdf:about="http://e.example/a">',
    "</rdf:Description>",
    "<!DOCTYPE r [",
    '<!ENTITY e "v">',
    "]>",
    "&e;",
    "&amp;",
    "<![CDATA[",
    "]]>",
    "\x00",
    "\ufeff",
    "\ud7ff",
    "é",
    "ø",
]


@st.composite
def mutated_product(draw: st.DrawFn) -> bytes:
    """The demo product (renamed), cut, spliced or with bytes flipped."""
    name = b"nav-fuzz-%d" % draw(st.integers(0, 10**6))
    data = bytearray(TEMPLATE.replace(b"nav-pleiepenger", name))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["cut", "insert", "delete", "flip", "line", "line"]))
        if kind == "line":  # drop a whole line: often still well-formed, but a rule breaks
            lines = bytes(data).split(b"\n")
            del lines[at % len(lines)]
            data = bytearray(b"\n".join(lines))
        elif kind == "cut":
            data = data[:at]
        elif kind == "insert":
            data[at:at] = draw(st.binary(max_size=16) | st.sampled_from(RDF_TOKENS).map(str.encode))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif data:
            i = min(at, len(data) - 1)
            data[i] = draw(st.integers(0, 255))
    return bytes(data)


def rdf_soup() -> st.SearchStrategy[bytes]:
    token = st.sampled_from(RDF_TOKENS) | st.text(max_size=6)
    return st.lists(token, max_size=40).map(
        lambda ts: " ".join(ts).encode("utf-8", "surrogatepass")
    )


BODIES = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=512).map(lambda s: s.encode("utf-8", "surrogatepass")),
    rdf_soup(),
    mutated_product(),
)
ANY_MEDIA = st.sampled_from(RDF_MEDIA + OTHER_MEDIA)

SERIALISATIONS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/trig": ox.RdfFormat.TRIG,
}
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
IRIS = st.sampled_from(
    ["http://e.example/a", "http://e.example/b", "https://eti.example/x#y", "urn:x:z"]
) | TEXT.map(lambda s: "http://e.example/" + urllib.parse.quote(s))
SUBJECTS = IRIS.map(ox.NamedNode) | st.sampled_from(["b0", "b1"]).map(ox.BlankNode)
OBJECTS = st.one_of(
    SUBJECTS,
    TEXT.map(ox.Literal),
    st.tuples(TEXT, st.sampled_from(["nb", "nn", "en", "se-Latn"])).map(
        lambda t: ox.Literal(t[0], language=t[1])
    ),
    st.integers().map(ox.Literal),
    st.tuples(TEXT, IRIS).map(lambda t: ox.Literal(t[0], datatype=ox.NamedNode(t[1]))),
)
TRIPLES = st.lists(
    st.builds(ox.Triple, SUBJECTS, IRIS.map(ox.NamedNode), OBJECTS), min_size=1, max_size=8
)


@st.composite
def rdf_document(draw: st.DrawFn) -> tuple[bytes, str]:
    """Well-formed RDF (random IRIs, literals of any text, blank nodes) in a random syntax."""
    media = draw(st.sampled_from(sorted(SERIALISATIONS)))
    triples = draw(TRIPLES)
    return ox.serialize(triples, None, SERIALISATIONS[media]), media


# (body, Content-Type): garbage of any type, a mutated product as TriG, well-formed RDF
REQUESTS = st.one_of(
    st.tuples(BODIES, ANY_MEDIA),
    st.tuples(mutated_product(), st.just("application/trig")),
    rdf_document(),
)

SPARQL_TOKENS = [
    "SELECT",
    "ASK",
    "CONSTRUCT",
    "DESCRIBE",
    "WHERE",
    "FROM",
    "FROM NAMED",
    "GRAPH",
    "OPTIONAL",
    "UNION",
    "MINUS",
    "FILTER",
    "BIND",
    "AS",
    "VALUES",
    "SERVICE",
    "SILENT",
    "GROUP BY",
    "ORDER BY",
    "DESC",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "DISTINCT",
    "REDUCED",
    "COUNT",
    "SUM",
    "GROUP_CONCAT",
    "SAMPLE",
    "STR",
    "LANG",
    "REGEX",
    "STRSTARTS",
    "IRI",
    "EXISTS",
    "NOT",
    "IN",
    "INSERT DATA",
    "DELETE WHERE",
    "DELETE",
    "INSERT",
    "LOAD",
    "CLEAR",
    "DROP",
    "CREATE",
    "COPY",
    "MOVE",
    "ADD",
    "ALL",
    "DEFAULT",
    "NAMED",
    "WITH",
    "USING",
    "PREFIX",
    "BASE",
    "a",
    "*",
    "?s",
    "?p",
    "?o",
    "?g",
    "$x",
    "?",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ".",
    ";",
    ",",
    "|",
    "/",
    "^",
    "+",
    "!",
    "&&",
    "||",
    "=",
    "!=",
    "<",
    ">",
    "<=",
    "<http://e.example/a>",
    "<urn:eti:graph:system>",
    "<urn:eti:graph:public>",
    "<urn:eti:graph:content:flekkefjord-ppt>",
    "<https://eti.example/products/nav-pleiepenger>",
    "<http://127.0.0.1:9/sparql>",
    "<>",
    "<a b>",
    "dct:title",
    "eti:textMatch",
    "eti:textScore",
    "cpsv:PublicService",
    "rdf:type",
    "xsd:integer",
    '"x"',
    '"x"@nb',
    '"1"^^xsd:integer',
    "'y'",
    '"""z"""',
    "1",
    "-2.5",
    "1e9",
    "true",
    "_:b",
    "#",
    "\n",
    "PREFIX dct: <http://purl.org/dc/terms/>",
    "PREFIX eti: <https://w3id.org/eti#>",
]
SHAPES = [
    "SELECT * WHERE {{ {p} }} LIMIT 5",
    "SELECT (COUNT(*) AS ?n) WHERE {{ {p} }}",
    "ASK {{ {p} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {p} }} LIMIT 5",
    "DESCRIBE ?s WHERE {{ {p} }} LIMIT 2",
    "SELECT ?g WHERE {{ GRAPH ?g {{ {p} }} }} LIMIT 5",
    "SELECT * FROM <urn:eti:graph:system> WHERE {{ {p} }} LIMIT 5",
    "SELECT * WHERE {{ SERVICE <http://127.0.0.1:9/sparql> {{ {p} }} }}",
    "INSERT DATA {{ GRAPH <urn:x:fuzz> {{ <http://e.example/a> <http://e.example/p> 1 }} }}",
    "SELECT * WHERE {{ {p} FILTER(eti:textMatch(?o, {lit})) }} LIMIT 5",
]
PATTERNS = [
    "?s ?p ?o",
    "?s a cpsv:PublicService",
    "?s dct:title ?o FILTER(LANG(?o) = {lit})",
    "?s (dct:isPartOf|^dct:hasPart)* ?o",
    "?s ?p {lit}",
    "VALUES ?s {{ {iri} }} ?s ?p ?o",
    "BIND({lit} AS ?o)",
    "OPTIONAL {{ ?s ?p {iri} }}",
    "{{ ?s ?p ?o }} UNION {{ ?o ?p ?s }}",
    "FILTER(REGEX(STR(?s), {lit}))",
]


@st.composite
def structured_query(draw: st.DrawFn) -> str:
    lit = draw(
        st.sampled_from(['"nb"', '"pleiepenger"', '"(["', "'\\u00e5'", '""', '"\\"'])
        | st.text(max_size=8).map(lambda s: '"' + s.replace("\\", "").replace('"', "") + '"')
    )
    iri = draw(st.sampled_from(["<http://e.example/a>", "<urn:eti:graph:system>", "<>", "<a b>"]))
    patterns = draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2))
    body = " . ".join(p.format(lit=lit, iri=iri) for p in patterns)
    query = draw(st.sampled_from(SHAPES)).format(p=body, lit=lit)
    prefixes = (
        "PREFIX dct: <http://purl.org/dc/terms/> PREFIX cpsv: <http://purl.org/vocab/cpsv#> "
        "PREFIX eti: <https://w3id.org/eti#> "
    )
    if draw(st.booleans()):
        query = prefixes + query
    if draw(st.booleans()):  # one random edit
        at = draw(st.integers(0, len(query)))
        query = query[:at] + draw(st.text(max_size=3)) + query[at + draw(st.integers(0, 3)) :]
    return query


QUERIES = st.one_of(
    st.lists(st.sampled_from(SPARQL_TOKENS) | st.text(max_size=5), max_size=30).map(" ".join),
    structured_query(),
    st.text(max_size=200),
)


# --- the parser fronts over HTTP --------------------------------------------------------


class Watch:
    """The store's state as the admin's dump shows it (sorted N-Quads lines, sha256).

    A full dump costs ~0.25 s, so each example first reads the store's write counter
    (``Store.generation``, bumped by every write of this process): when it has not moved,
    nothing was written; when it has, or on every 8th example, the dump is compared."""

    def __init__(self, client, catalogue: Catalogue, admin: str) -> None:  # type: ignore[no-untyped-def]
        self.client, self.store, self.admin = client, catalogue.store, admin
        self.examples = self.dumps = 0
        self.rebase()

    def rebase(self) -> None:
        self.lines = dump_lines(self.client, self.admin)
        self.digest = digest(self.lines)
        self.generation = self.store.generation

    def unchanged(self) -> bool:
        self.examples += 1
        if self.store.generation == self.generation and self.examples % 8:
            return True
        self.dumps += 1
        return digest(dump_lines(self.client, self.admin)) == self.digest


@pytest.mark.slow
def test_validate_never_fails_and_never_writes(client, catalogue, tokens) -> None:  # type: ignore[no-untyped-def]
    watch = Watch(client, catalogue, tokens["admin"])
    statuses: dict[int, int] = {}

    @FRONT
    @given(request=REQUESTS, profile=st.booleans())
    def check(request: tuple[bytes, str], profile: bool) -> None:
        body, media = request
        url = "/api/validate" + ("?profile=dcat-ap-no&as_of=2026-11-22" if profile else "")
        r = client.post(url, data=body, headers={"Content-Type": media} if media else {})
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert_not_server_error(r, f"POST /api/validate ({media}) {body[:200]!r}")
        assert watch.unchanged(), "validating wrote to the store"

    check()
    assert digest(dump_lines(client, tokens["admin"])) == watch.digest
    print("validate statuses", statuses, "dumps compared", watch.dumps)
    assert set(statuses) <= {200, 400, 413, 415}, statuses


@pytest.mark.slow
def test_register_refuses_garbage_without_writing(client, catalogue, tokens) -> None:  # type: ignore[no-untyped-def]
    watch = Watch(client, catalogue, tokens["admin"])
    statuses: dict[int, int] = {}

    @FRONT
    @given(request=REQUESTS)
    def check(request: tuple[bytes, str]) -> None:
        body, media = request
        r = client.post(
            "/api/products",
            data=body,
            headers=bearer(tokens["nav"], **({"Content-Type": media} if media else {})),
        )
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert_not_server_error(r, f"POST /api/products ({media}) {body[:200]!r}")
        if r.status_code == 201:  # a mutation that kept the product whole is a registration
            note(f"registered: {r.headers.get('Location')}")
            watch.rebase()
        else:
            assert watch.unchanged(), f"a refused registration ({r.status_code}) wrote"

    check()
    assert digest(dump_lines(client, tokens["admin"])) == watch.digest
    print("register statuses", statuses, "dumps compared", watch.dumps)
    assert set(statuses) <= {201, 400, 403, 409, 413, 415, 422}, statuses


@pytest.mark.slow
def test_graph_store_put_is_whole_or_nothing(client, catalogue, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = tokens["admin"]
    watch = Watch(client, catalogue, admin)
    statuses: dict[int, int] = {}
    accepted = {"n": 0}
    graphs = st.one_of(
        st.just("urn:x:fuzz"),
        st.text(max_size=12).map(lambda s: "urn:x:" + s),
        st.text(max_size=20),
    )

    @FRONT
    @given(request=REQUESTS, graph=graphs)
    def check(request: tuple[bytes, str], graph: str) -> None:
        body, media = request
        url = "/data?graph=" + urllib.parse.quote(graph, safe="")
        headers = bearer(admin, **({"Content-Type": media} if media else {}))
        r = client.put(url, data=body, headers=headers)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert_not_server_error(r, f"PUT {url} ({media}) {body[:200]!r}")
        if r.status_code >= 300:
            assert watch.unchanged(), f"a refused PUT ({r.status_code}) wrote"
            return
        # accepted: the graph holds what the body says (and, checked on every 4th and by the
        # final digest, nothing else changed), then it is dropped again
        accepted["n"] += 1
        sent = rdfio.parse_quads(body, rdfio.format_for(media_type=media), base_iri=graph)
        if accepted["n"] % 4 == 0:
            mine, rest = in_graph(dump_lines(client, admin), graph)
            assert rest == watch.lines, "a PUT changed graphs besides its own"
            stored = rdfio.parse_quads(b"\n".join(mine), ox.RdfFormat.N_QUADS)
        else:
            got = client.get(url, headers=bearer(admin, Accept="application/n-triples"))
            assert got.status_code == (200 if sent else 404), got.data[:300]
            stored = rdfio.parse_quads(got.data, ox.RdfFormat.N_TRIPLES) if sent else []
        assert canonical(stored) == canonical(sent)
        if sent:
            assert client.delete(url, headers=bearer(admin)).status_code == 204
        watch.generation = catalogue.store.generation

    check()
    assert digest(dump_lines(client, admin)) == watch.digest
    print("graph store statuses", statuses, "dumps compared", watch.dumps)
    assert set(statuses) <= {201, 204, 400, 413, 415}, statuses


@pytest.mark.slow
def test_sparql_never_fails_and_never_writes(client, catalogue, tokens) -> None:  # type: ignore[no-untyped-def]
    watch = Watch(client, catalogue, tokens["admin"])
    statuses: dict[int, int] = {}

    @settings(FRONT, max_examples=100 * SCALE)
    @given(
        query=QUERIES,
        how=st.sampled_from(["get", "form", "direct"]),
        accept=st.sampled_from(
            ["", "application/sparql-results+json", "text/csv", "text/turtle", "*/*", "image/png"]
        ),
    )
    def check(query: str, how: str, accept: str) -> None:
        headers = {"Accept": accept} if accept else {}
        if how == "get":
            r = client.get("/sparql", query_string={"query": query}, headers=headers)
        elif how == "form":
            r = client.post("/sparql", data={"query": query}, headers=headers)
        else:
            r = client.post(
                "/sparql",
                data=query.encode("utf-8", "surrogatepass"),
                headers={**headers, "Content-Type": "application/sparql-query"},
            )
        body = r.get_data()  # the whole (streamed) answer
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if r.status_code == 503:  # a time limit is an answer; a store failure is not
            assert b"Query timeout" in body or b"Overloaded" in body, (query, body[:500])
        else:
            assert_not_server_error(r, f"/sparql {how} {query!r}")
        assert watch.unchanged(), f"a query wrote: {query!r}"

    check()
    assert digest(dump_lines(client, tokens["admin"])) == watch.digest
    print("sparql statuses", statuses, "dumps compared", watch.dumps)


FORMATS = [
    ox.RdfFormat.TURTLE,
    ox.RdfFormat.TRIG,
    ox.RdfFormat.N_TRIPLES,
    ox.RdfFormat.N_QUADS,
    ox.RdfFormat.RDF_XML,
    ox.RdfFormat.JSON_LD,
]


@settings(max_examples=150 * SCALE, deadline=None, database=None)
@given(
    data=BODIES,
    fmt=st.sampled_from(FORMATS),
    as_stream=st.booleans(),
    base=st.sampled_from([None, "http://e.example/base/"]),
    graph=st.sampled_from([None, "urn:x:g"]),
)
def test_parse_quads_answers_quads_or_rdf_input_error(
    data: bytes, fmt: ox.RdfFormat, as_stream: bool, base: str | None, graph: str | None
) -> None:
    source = io.BytesIO(data) if as_stream else data
    try:
        quads = rdfio.parse_quads(
            source, fmt, base_iri=base, graph=graph, fresh_blank_nodes=as_stream
        )
    except rdfio.RdfInputError as exc:
        assert exc.reason
        return
    assert all(isinstance(q, ox.Quad) for q in quads)
    if graph is not None:
        assert all(not isinstance(q.graph_name, ox.DefaultGraph) for q in quads)


# --- the agreement lifecycle as a state machine -----------------------------------------

NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
PURPOSE = "https://w3id.org/dpv#ServiceProvision"
PPT = ("https://eti.example/offers/flekkefjord-ppt", "flekkefjord-ppt", "964967369", False)
OPEN = ("https://eti.example/offers/nav-grunnstonad", "nav-grunnstonad", "889640782", True)
OFFERS = [PPT, OPEN]
CHANNELS = ["https://eti.example/channels/nav-no", "https://eti.example/channels/familieapp"]
STEWARDS = ["964967369", "889640782", "983544622"]  # Flekkefjord, NAV, Helsedirektoratet
PERIODS = [  # around TODAY: past, current, overlapping future, later
    (date(2026, 1, 1), date(2026, 6, 30)),
    (date(2026, 12, 1), date(2027, 11, 30)),
    (date(2027, 6, 1), date(2028, 5, 31)),
    (date(2028, 1, 1), date(2028, 12, 31)),
]
ALLOWED = {"accept": ("requested",), "refuse": ("requested",), "terminate": ("requested", "active")}
RESULT = {"accept": "active", "refuse": "refused", "terminate": "terminated"}


class Model:
    """What the catalogue should hold: id → (channel, offer, period, stored status)."""

    def __init__(self) -> None:
        self.items: dict[str, dict] = {}

    @staticmethod
    def effective(item: dict) -> str:
        if item["status"] == "active" and TODAY > item["period"][1]:
            return "expired"
        return item["status"]

    def conflicts(self, channel: str, offer: tuple, period: tuple, ignore: str = "") -> bool:
        return any(
            ident != ignore
            and item["channel"] == channel
            and item["offer"] == offer
            and item["status"] in ("active", "requested")
            and item["period"][0] <= period[1]
            and period[0] <= item["period"][1]
            for ident, item in self.items.items()
        )

    def opens(self, channel: str, offer: tuple) -> bool:
        return any(
            item["channel"] == channel
            and item["offer"] == offer
            and self.effective(item) == "active"
            and item["period"][0] <= TODAY <= item["period"][1]
            for item in self.items.values()
        )


class AgreementMachine(RuleBasedStateMachine):
    """Agreements requested and moved by the right and the wrong parties."""

    catalogue: Catalogue  # set by the test
    demo_graphs: set[str]
    counts: dict[str, int]

    agreements = Bundle("agreements")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.store = self.catalogue.store
        # start each run from the demo's agreements: drop those an earlier run made
        for graph in set(self._agreement_graphs()) - self.demo_graphs:
            self.store.update(f"DROP GRAPH <{graph}>")

    def _agreement_graphs(self) -> list[str]:
        return [g for g in self.store.named_graphs() if g.startswith("urn:eti:graph:agreement:")]

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    @initialize()
    def start(self) -> None:
        assert set(self._agreement_graphs()) == self.demo_graphs

    @rule(
        target=agreements,
        channel=st.sampled_from(CHANNELS),
        offer=st.sampled_from(OFFERS),
        period=st.sampled_from(PERIODS),
    )
    def request(self, channel: str, offer: tuple, period: tuple):  # type: ignore[no-untyped-def]
        who = Identity(role="channel", channel=channel)
        expect_conflict = self.model.conflicts(channel, offer, period)
        generation = self.store.generation
        try:
            made = agreements.request(
                self.store,
                who,
                offer=offer[0],
                purpose=PURPOSE,
                start=period[0].isoformat(),
                end=period[1].isoformat(),
                now=NOW,
            )
        except Conflict:
            assert expect_conflict, "a request without an overlap was refused"
            assert self.store.generation == generation
            self._count("request refused (overlap)")
            return multiple()
        assert not expect_conflict, "an overlapping request was accepted"
        status = "active" if offer[3] else "requested"
        assert made.status == status
        self.model.items[made.ident] = {
            "channel": channel,
            "offer": offer,
            "period": period,
            "status": status,
        }
        self._count(f"request → {status}")
        return made.ident

    def _move(self, ident: str, action: str, who: Identity) -> None:
        item = self.model.items[ident]
        state = self.model.effective(item)
        generation = self.store.generation
        try:
            moved = agreements.transition(self.store, who, ident, action, now=NOW)
        except Conflict:
            if state in ALLOWED[action]:  # only an overlap on accept may refuse it
                assert action == "accept"
                assert self.model.conflicts(item["channel"], item["offer"], item["period"], ident)
            assert self.store.generation == generation
            self._count(f"{action} refused ({state})")
            return
        assert state in ALLOWED[action], f"{action} from {state} was allowed"
        item["status"] = RESULT[action]
        assert moved.status == item["status"]
        self._count(f"{action} ({state} → {item['status']})")

    @rule(ident=agreements, action=st.sampled_from(["accept", "refuse", "terminate"]))
    def owner_acts(self, ident: str, action: str) -> None:
        owner = self.model.items[ident]["offer"][2]
        self._move(ident, action, Identity(role="steward", org=owner))

    @rule(ident=agreements)
    def channel_terminates(self, ident: str) -> None:
        channel = self.model.items[ident]["channel"]
        self._move(ident, "terminate", Identity(role="channel", channel=channel))

    @rule(
        ident=agreements,
        action=st.sampled_from(["accept", "refuse", "terminate"]),
        stranger=st.sampled_from(["steward", "channel", "assignee", "anonymous"]),
        pick=st.integers(0, 10),
    )
    def wrong_party_acts(self, ident: str, action: str, stranger: str, pick: int) -> None:
        item = self.model.items[ident]
        if stranger == "steward":
            others = [o for o in STEWARDS if o != item["offer"][2]]
            who = Identity(role="steward", org=others[pick % len(others)])
        elif stranger == "channel":
            others = [c for c in CHANNELS if c != item["channel"]]
            who = Identity(role="channel", channel=others[pick % len(others)])
        elif stranger == "assignee":  # the channel may terminate, never accept or refuse
            assume(action != "terminate")
            who = Identity(role="channel", channel=item["channel"])
        else:
            who = Identity()
        before = agreements.get(self.store, ident)
        generation = self.store.generation
        with pytest.raises(Forbidden):
            agreements.transition(self.store, who, ident, action, now=NOW)
        assert self.store.generation == generation, "a refused transition wrote"
        assert agreements.get(self.store, ident) == before
        self._count(f"wrong party {stranger} {action}")

    @rule(channel=st.sampled_from(CHANNELS), offer=st.sampled_from(OFFERS))
    def steward_requests(self, channel: str, offer: tuple) -> None:
        generation = self.store.generation
        with pytest.raises(Forbidden):
            agreements.request(
                self.store,
                Identity(role="steward", org=offer[2]),
                offer=offer[0],
                purpose=PURPOSE,
                start="2027-01-01",
                end="2027-02-01",
                now=NOW,
            )
        assert self.store.generation == generation

    @rule(ident=consumes(agreements))
    def forget(self, ident: str) -> None:
        """Stop moving one agreement (it stays in the store and the model)."""

    @invariant()
    def stored_status_is_the_model(self) -> None:
        for ident, item in self.model.items.items():
            stored = agreements.get(self.store, ident)
            assert stored is not None, f"agreement {ident} vanished"
            assert stored.status == item["status"], (ident, stored.status, item["status"])
            assert stored.effective(TODAY) == self.model.effective(item)

    @invariant()
    def content_opens_only_by_a_live_agreement(self) -> None:
        for channel in CHANNELS:
            access = self.catalogue.access(Identity(role="channel", channel=channel), today=TODAY)
            granted = {a.ident for a in access.agreements}
            for ident in granted & set(self.model.items):
                assert self.model.effective(self.model.items[ident]) == "active", ident
            for ident, item in self.model.items.items():
                if item["channel"] == channel and item["status"] in ("refused", "terminated"):
                    assert ident not in granted, f"{item['status']} agreement {ident} opens content"
            # the plain offer's content is visible exactly when a live agreement opens it
            visible = content_graph(PPT[1]) in access.graphs
            assert visible == self.model.opens(channel, PPT), (channel, visible)
            # the open offer's content is everyone's, whatever the agreements (its own graph
            # or the derived graph of all open content)
            assert {content_graph(OPEN[1]), "urn:eti:graph:open"} & set(access.graphs)

    @invariant()
    def no_two_live_agreements_overlap(self) -> None:
        live = [
            a
            for a in agreements.for_caller(self.store, Identity(role="admin"))
            if a.effective(TODAY) in ("active", "requested")
        ]
        for i, a in enumerate(live):
            for b in live[i + 1 :]:
                if (a.assignee, a.target, a.purpose) == (b.assignee, b.target, b.purpose):
                    assert not (a.start <= b.end and b.start <= a.end), (a.ident, b.ident)


def test_agreement_lifecycle_state_machine(tmp_path: Path) -> None:
    cat = Catalogue(Settings.load(env={}, store=str(tmp_path / "store"), query_workers=0))
    cat.prepare(demo_if_empty=True)
    try:
        demo = {g for g in cat.store.named_graphs() if g.startswith("urn:eti:graph:agreement:")}
        assert agreement_graph("nav-no-nav-pleiepenger") in demo
        counts: dict[str, int] = {}

        class Machine(AgreementMachine):
            catalogue = cat
            demo_graphs = demo

        Machine.counts = counts
        run_state_machine_as_test(
            Machine,
            settings=settings(
                max_examples=25 * SCALE,
                stateful_step_count=15,
                deadline=None,
                database=None,
                derandomize=True,  # the same runs each time: the coverage below is stable
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
        print("agreement steps", dict(sorted(counts.items())))
        # the run reached every kind of step
        assert any(k.startswith("request → requested") for k in counts), counts
        assert any(k.startswith("accept (requested") for k in counts), counts
        assert any(k.startswith("refuse (requested") for k in counts), counts
        assert any(k.startswith("terminate (active") for k in counts), counts
        assert any(k.startswith("wrong party") for k in counts), counts
    finally:
        cat.close()


# --- schemathesis over /api/openapi.json of a live server ------------------------------
#
# The operations are generated from ``spec()``, the very function that serves
# ``/api/openapi.json`` (a test below checks the live server answers the same document):
# schemathesis's lazy ``from_fixture`` loader does not run on pytest 9.2, and an eager
# schema makes one test per operation. Every request goes to a real ``eti serve``.

SCHEMA = schemathesis.openapi.from_dict(
    spec(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 20261122,
            "generation": {"max-examples": 20 * SCALE, "database": "none"},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": False},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    ),
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CALLS: dict[str, dict[int, int]] = {}  # "METHOD /path" → status → requests
# operations sent with the family app's (channel) token; every other one with the admin's.
# /api/situation is a channel's question, and with an admin's or a steward's token it runs
# for minutes (see test_situation_answers_a_steward_in_time).
CHANNEL_OPERATIONS = {
    ("POST", "/api/agreements"),
    ("GET", "/api/needs"),
    ("POST", "/api/needs"),
    ("GET", "/api/situation"),
}


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A real ``eti serve`` over the demo, shared by the operations' tests."""
    store_dir = tmp_path_factory.mktemp("schemathesis") / "store"
    tokens = prepare_store(store_dir)
    url, proc = start_server(store_dir)
    yield url, tokens
    stop(proc)
    print(
        f"schemathesis: {sum(sum(c.values()) for c in CALLS.values())} requests over "
        f"{len(CALLS)} operations:",
        {op: dict(sorted(c.items())) for op, c in sorted(CALLS.items())},
    )


def test_live_server_serves_the_described_api(api_server) -> None:  # type: ignore[no-untyped-def]
    url, _ = api_server
    served = requests.get(url + "/api/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(spec()))
    loaded = schemathesis.openapi.from_url(url + "/api/openapi.json")
    operations = {(op.ok().method, op.ok().path) for op in loaded.get_all_operations()}
    described = {(op.ok().method, op.ok().path) for op in SCHEMA.get_all_operations()}
    # schemathesis leaves out the operation that serves the schema itself
    assert operations == described - {("get", "/api/openapi.json")}


@SCHEMA.parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_description(case, api_server) -> None:  # type: ignore[no-untyped-def]
    url, tokens = api_server
    who = "app" if (case.method.upper(), case.path) in CHANNEL_OPERATIONS else "admin"
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    response = case.call(base_url=url, headers=headers)
    calls = CALLS.setdefault(f"{case.method.upper()} {case.path}", {})
    calls[response.status_code] = calls.get(response.status_code, 0) + 1
    case.validate_response(response, checks=CHECKS, headers=headers)


def test_situation_answers_a_steward_in_time(api_server) -> None:  # type: ignore[no-untyped-def]
    url, tokens = api_server
    try:
        r = requests.get(
            url + "/api/situation",
            params={"municipality": "4207"},
            headers={"Authorization": f"Bearer {tokens['nav']}"},
            timeout=3,
        )
    except requests.Timeout:
        pytest.fail("no answer within 3 s")
    assert r.status_code == 200
