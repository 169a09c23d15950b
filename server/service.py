"""The service's public contract: its SPARQL 1.1 Service Description (``GET /sparql``
without a query), its VoID description (``/.well-known/void``), CORS for the read
routes, and the request-size limit answered before any body is read.

The limits (``max_rows``, ``query_timeout``, ``max_body``) are stated in the service
description as ``schema:PropertyValue``s whose ``schema:propertyID`` is the setting's
name: the Service Description vocabulary has no terms for them.
"""

from __future__ import annotations

import io

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, request

from eti.catalogue import media, rdfio, void
from eti.catalogue.core import Catalogue
from eti.catalogue.namespaces import DCT, ETI, PREFIXES, RDF, RDFS, SD, VOID, XSD

from . import current
from .auth import identity, purpose
from .errors import fail
from .negotiation import GRAPHS, rdf_media

bp = Blueprint("service", __name__)

FORMATS = "http://www.w3.org/ns/formats/"
SCHEMA = "https://schema.org/"
ENTAILMENT = "http://www.w3.org/ns/entailment/"
INPUT_FORMATS = [s.w3c for s in media.SYNTAXES]  # the RDF syntaxes (catalogue.media)
RESULT_FORMATS = [
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    *INPUT_FORMATS,
]
# Casts beyond the seven SPARQL 1.1 requires (§17.5), which the engine also evaluates.
EXTENSION_FUNCTIONS = [
    "date",
    "time",
    "duration",
    "dayTimeDuration",
    "yearMonthDuration",
    "gYear",
    "gYearMonth",
    "gMonth",
    "gMonthDay",
    "gDay",
]
# The catalogue's own functions: the search of /api/products inside a query.
SEARCH_FUNCTIONS = {
    "textMatch": 'eti:textMatch(?text, "words"): true when the text matches every word '
    "as /api/products does (case, æøå, Norwegian stems and prefixes)",
    "textScore": 'eti:textScore(?text, "words"): the share of the words found in the text '
    "(0 to 1), for ORDER BY",
    "today": "eti:today(): the catalogue's day (xsd:date), the one agreements and freshness "
    "are judged on (NOW() is the engine's real clock)",
}
SD_PREFIXES = {
    **PREFIXES,
    "sd": SD,
    "void": VOID,
    "formats": FORMATS,
    "schema": SCHEMA,
    "ent": ENTAILMENT,
}
STATS_TTL = 60.0


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _t(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal):
    return ox.Triple(s, _n(p), o)


def _value(value: float | int) -> ox.Literal:
    if isinstance(value, float) and not value.is_integer():
        return ox.Literal(repr(value), datatype=_n(XSD + "decimal"))
    return ox.Literal(str(int(value)), datatype=_n(XSD + "integer"))


def catalogue() -> Catalogue:
    return current_app.extensions["eti"]


def statistics(graphs: list[str]) -> void.Statistics:
    """The cached VoID statistics of a view (recomputed after a write, or a minute)."""
    cache: void.StatisticsCache = current_app.extensions["eti.void"]
    return cache.get(catalogue().store, graphs)


def rdf_answer(triples: list[ox.Triple]) -> Response:
    chosen = rdf_media(GRAPHS)
    triples = sorted(triples, key=lambda t: (isinstance(t.subject, ox.BlankNode), str(t.subject)))
    body = rdfio.serialize_triples(triples, media.ANSWERS[chosen], prefixes=SD_PREFIXES)
    return Response(body, mimetype=chosen, headers={"Vary": "Accept, Authorization"})


def _limits(node: ox.BlankNode) -> list[ox.Triple]:
    s = current.settings()
    out = []
    for name, value, unit, text in (
        ("max_rows", s.max_rows, "rows", "most result rows a query answers (0: no limit)"),
        ("query_timeout", s.query_timeout, "SEC", "seconds after which a query is stopped"),
        ("max_body", s.max_body, "bytes", "largest request body accepted"),
    ):
        limit = ox.BlankNode()
        out += [
            _t(node, SCHEMA + "additionalProperty", limit),
            _t(limit, RDF + "type", _n(SCHEMA + "PropertyValue")),
            _t(limit, SCHEMA + "propertyID", ox.Literal(name)),
            _t(limit, SCHEMA + "name", ox.Literal(text, language="en")),
            _t(limit, SCHEMA + "value", _value(value)),
            _t(
                limit,
                SCHEMA + ("unitCode" if unit == "SEC" else "unitText"),
                ox.Literal(unit),
            ),
        ]
    return out


def description() -> list[ox.Triple]:
    """The service description for the caller: both endpoints, what they accept and
    answer, the limits, and the caller's default dataset with VoID statistics."""
    root = request.url_root
    settings = current.settings()
    view = catalogue().view_for(identity(), purpose=purpose())
    stats = statistics(view)
    service, updates = ox.BlankNode(), ox.BlankNode()
    out = [
        _t(service, RDF + "type", _n(SD + "Service")),
        _t(service, SD + "endpoint", _n(root + "sparql")),
        _t(service, SD + "supportedLanguage", _n(SD + "SPARQL10Query")),
        _t(service, SD + "supportedLanguage", _n(SD + "SPARQL11Query")),
        _t(service, SD + "feature", _n(SD + "UnionDefaultGraph")),
        _t(service, SD + "defaultEntailmentRegime", _n(ENTAILMENT + "Simple")),
        _t(service, DCT + "title", ox.Literal("ETI catalogue SPARQL endpoint", language="en")),
        _t(
            service,
            RDFS + "comment",
            ox.Literal(
                "The default graph is the union of the graphs the caller may read; each "
                "of them is also reachable by name. default-graph-uri, named-graph-uri, "
                "FROM and FROM NAMED choose within that view.",
                language="en",
            ),
        ),
        _t(service, RDFS + "seeAlso", _n(root + ".well-known/void")),
    ]
    if settings.service_allow:
        out.append(_t(service, SD + "feature", _n(SD + "BasicFederatedQuery")))
    out += [_t(service, SD + "resultFormat", _n(FORMATS + f)) for f in RESULT_FORMATS]
    for name in EXTENSION_FUNCTIONS:
        function = _n(XSD + name)
        out += [
            _t(service, SD + "extensionFunction", function),
            _t(function, RDF + "type", _n(SD + "Function")),
        ]
    if catalogue().store.functions is not None:  # in the engine, or rewritten for a remote one
        for name, comment in SEARCH_FUNCTIONS.items():
            function = _n(ETI + name)
            out += [
                _t(service, SD + "extensionFunction", function),
                _t(function, RDF + "type", _n(SD + "Function")),
                _t(function, RDFS + "comment", ox.Literal(comment, language="en")),
            ]
    out += _limits(service)
    # the caller's default dataset
    dataset, default = ox.BlankNode(), ox.BlankNode()
    out += [
        _t(service, SD + "defaultDataset", dataset),
        _t(dataset, RDF + "type", _n(SD + "Dataset")),
        _t(dataset, SD + "defaultGraph", default),
        _t(default, RDF + "type", _n(SD + "Graph")),
        *void.statistics_triples(default, stats, partitions=False),
    ]
    for graph, triples in stats.graphs:
        named, inner = ox.BlankNode(), ox.BlankNode()
        out += [
            _t(dataset, SD + "namedGraph", named),
            _t(named, RDF + "type", _n(SD + "NamedGraph")),
            _t(named, SD + "name", _n(graph)),
            _t(named, SD + "graph", inner),
            _t(inner, RDF + "type", _n(SD + "Graph")),
            _t(inner, VOID + "triples", _value(triples)),
        ]
    # the update endpoint (admins) and the graph store
    out += [
        _t(updates, RDF + "type", _n(SD + "Service")),
        _t(updates, SD + "endpoint", _n(root + "update")),
        _t(updates, SD + "supportedLanguage", _n(SD + "SPARQL11Update")),
        _t(
            updates,
            RDFS + "comment",
            ox.Literal(
                "SPARQL 1.1 Update for admins (bearer token); each write is validated "
                "against the shared rules and applied whole. The Graph Store Protocol at "
                "/data reads these input formats.",
                language="en",
            ),
        ),
        _t(updates, RDFS + "seeAlso", _n(root + "data")),
    ]
    out += [_t(updates, SD + "inputFormat", _n(FORMATS + f)) for f in INPUT_FORMATS]
    out += _limits(updates)
    return out


def service_description() -> Response:
    """``GET /sparql`` without a query: the SPARQL 1.1 Service Description."""
    return rdf_answer(description())


@bp.get("/.well-known/void")
def void_description() -> Response:
    """The VoID description of the public catalogue: statistics, partitions, the
    SPARQL endpoint, the data dump and example resources."""
    root = request.url_root
    cat = catalogue()
    stats = statistics(cat.public_view())
    triples = void.describe(
        stats,
        document=root + ".well-known/void",
        dataset=root + ".well-known/void#catalogue",
        sparql_endpoint=root + "sparql",
        data_dump=root + "data",
        homepage=root,
        uri_space=current.settings().base_iri,
        formats=[FORMATS + f for f in INPUT_FORMATS],
    )
    return rdf_answer(triples)


# --- hooks: request size, CORS ----------------------------------------------------------

CORS_HEADERS = "Accept, Accept-Language, Authorization, Content-Type, X-Request-Id"
CORS_EXPOSE = (
    "Content-Type, ETI-Duties, ETI-Truncated, Link, Location, Retry-After, Warning, X-Request-Id"
)
CORS_POST = ("/sparql",)  # POST on these is a read (a query)


def _check_size() -> None:
    """413 for a body larger than max_body, on every route, before a view reads it.

    A declared length is checked at once. A chunked body (no Content-Length) is read
    here up to the limit and handed on with its length: werkzeug would otherwise cut
    it silently at MAX_CONTENT_LENGTH when the server terminates the input stream, as
    gunicorn does."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return
    length = request.content_length
    if length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        environ = request.environ
        body = environ["wsgi.input"].read(limit + 1)
        length = len(body)
        if length <= limit:
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(length)
            environ.pop("wsgi.input_terminated", None)
            # now a plain body of known length: werkzeug reads no length from a request
            # that still says chunked, and would hand the views an empty stream
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            for cached in ("stream", "content_length"):
                request.__dict__.pop(cached, None)
            return
    if length is not None and length > limit:
        fail(
            413,
            "Content Too Large",
            f"the body has {'more than ' + str(limit) if length == limit + 1 else length} bytes; "
            f"the limit is {limit} (max_body)",
        )


def _read_methods() -> set[str]:
    rule = request.url_rule
    if rule is None:
        return set()
    methods = {"GET", "HEAD"} & set(rule.methods or ())
    if rule.rule in CORS_POST:
        methods.add("POST")
    return methods


def _cors(response: Response) -> Response:
    """Any origin may read (GET, HEAD, and queries by POST): bearer tokens are never
    ambient, so no credentials are allowed and none are needed."""
    if "Origin" not in request.headers:
        return response
    methods = _read_methods()
    if request.method == "OPTIONS":
        wanted = request.headers.get("Access-Control-Request-Method", "").upper()
        if wanted not in methods:
            return response
        response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(methods))
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    elif request.method not in methods:
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
    response.headers.pop("Access-Control-Allow-Credentials", None)
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    return response


def install(app: Flask) -> None:
    """Register the request-size check and CORS on ``app``, and the statistics cache
    (emptied by every write to an embedded store; a minute's life otherwise)."""
    cache = void.StatisticsCache(STATS_TTL)
    app.extensions["eti.void"] = cache
    listeners = getattr(app.extensions["eti"].store, "on_write", None)
    if listeners is not None:
        listeners.append(cache.clear)
    # a form-encoded query may be as large as a direct one (Flask's own cap is 500 kB)
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config.get("MAX_CONTENT_LENGTH")
    app.before_request(_check_size)
    app.after_request(_cors)
