"""SPARQL 1.1 Graph Store HTTP Protocol at ``/data``.

Indirect identification: ``/data?graph=IRI`` and ``/data?default`` (the store's own
default graph); direct identification: ``/data/<path>`` is the graph whose IRI is that
URL. GET and HEAD read with the visibility of ``/sparql``, for the request's purpose
(a graph outside the caller's view is 404; the store's default graph is for admins), and
carry ``ETI-Duties``/``Link`` for content an agreement opens; PUT replaces, POST
merges (also ``multipart/form-data`` with several files), DELETE drops (404 when
absent): admins only, each write validated and applied whole through
``eti.catalogue.writes.commit`` under the catalogue's write lock. 201 when a write
creates a graph (POST to ``/data`` itself creates one and answers its IRI in
``Location``), 204 otherwise; ``ETI-Warnings`` when validation warned. ``GET /data``
alone is a dump of the caller's view (N-Quads or TriG), the ``void:dataDump`` of
``/.well-known/void``.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Iterator

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, g, request

from eti.catalogue import queries, rdfio, registry, writes
from eti.catalogue.core import Access, Catalogue
from eti.catalogue.media import ANSWERS
from eti.catalogue.namespaces import PREFIXES, content_graph

from . import conditional
from .agreements import duty_headers
from .auth import identity, purpose, refuse
from .errors import fail
from .negotiation import GRAPHS, rdf_media
from .rdfbody import rdf_body, utf8
from .sparql import start

bp = Blueprint("gsp", __name__)

DEFAULT = writes.DEFAULT
DATASETS = ["application/n-quads", "application/trig"]  # N-Quads first: the dump's default
DUMP_BATCH = 5000
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def catalogue() -> Catalogue:
    return current_app.extensions["eti"]


def indirect_target() -> str | None:
    """``?graph=IRI`` → the IRI, ``?default`` → DEFAULT, neither → None (the store)."""
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if graphs and default:
        fail(400, "Bad Request", "give either ?graph=IRI or ?default, not both")
    if len(graphs) > 1:
        fail(400, "Bad Request", "give one graph (parameter 'graph')")
    if default:
        return DEFAULT
    if not graphs:
        return None
    iri = graphs[0]
    try:
        ox.NamedNode(iri)
    except ValueError:
        iri = ""
    if not iri or not _ABSOLUTE.match(iri):
        fail(400, "Bad Request", f"graph: {graphs[0]!r} is not an absolute IRI")
    return iri


def require_admin() -> None:
    refuse(
        identity(),
        ("admin",),
        "writing graphs needs a bearer token",
        "writing graphs needs the role admin",
    )


def exists(target: str) -> bool:
    """True when the graph holds a triple (the default graph too)."""
    return writes.graph_exists(catalogue().store, target)


def reading_access() -> Access:
    """What the caller may read now, for the request's purpose (``purpose`` or the
    ``ETI-Purpose`` header, logged with the request; none: any purpose)."""
    return catalogue().access(identity(), purpose=purpose())


def visible(target: str, access: Access) -> bool:
    """True when the caller may read ``target`` (in its view, or open content) and it
    holds something."""
    if target == DEFAULT:
        return identity().role == "admin" and exists(DEFAULT)
    return (target in access.graphs or target in access.opened) and exists(target)


def granted_on(target: str, access: Access) -> list:
    """The agreements of ``access`` that open the content graph ``target``."""
    store = catalogue().store
    return [
        a
        for a in access.agreements
        if content_graph(registry.id_of_iri(store, ox.NamedNode(a.target)) or "-") == target
    ]


# --- reading ----------------------------------------------------------------------------


def read_graph(target: str) -> Response:
    media = rdf_media(GRAPHS)
    access = reading_access()
    if not visible(target, access):
        fail(404, "Not Found", "no such graph in your view")
    headers = {"Vary": "Accept, Authorization", **duty_headers(granted_on(target, access))}
    store = catalogue().store
    tag = conditional.generation_tag(store, "graph", target, media)
    changed = conditional.write_time(store)
    if hit := conditional.not_modified(tag, changed, headers):
        return hit
    if request.method == "HEAD":
        return conditional.stamp(
            Response(status=200, mimetype=media, headers=headers), tag, changed
        )
    if target == DEFAULT:
        triples = writes.graph_triples(catalogue().store, DEFAULT)
        body = rdfio.serialize_triples(triples, ANSWERS[media], prefixes=PREFIXES)
        return conditional.stamp(Response(body, mimetype=media, headers=headers), tag, changed)
    result = catalogue().answer(
        queries.load("graph-content"),
        graphs=[target],
        default_graph_uri=[target],
        graph_media=media,
        max_rows=0,  # a graph is never cut: a part would pass for the whole
    )
    return conditional.stamp(Response(start(result), mimetype=media, headers=headers), tag, changed)


def dump_view() -> Response:
    """Every graph the caller may read, as quads, streamed in batches."""
    media = rdf_media(DATASETS)
    access = reading_access()
    headers = {"Vary": "Accept, Authorization", **duty_headers(access.agreements)}
    if request.method == "HEAD":
        return Response(status=200, mimetype=media, headers=headers)
    cat = catalogue()
    fmt = ANSWERS[media]
    if identity().role == "admin":
        # one query, so one snapshot: listing the graphs first would be a second one,
        # and a write between the two would be half in the dump
        rows = cat.store.query(queries.load("all-quads-but-system"), default_graph=[])
    else:
        rows = cat.store.query(
            queries.load("dataset-quads"), default_graph=[], named_graphs=access.graphs
        )

    def chunks() -> Iterator[bytes]:
        batch: list[ox.Quad] = []
        first = True
        for row in rows:
            batch.append(ox.Quad(row["s"], row["p"], row["o"], row["g"]))
            if len(batch) >= DUMP_BATCH:
                yield ox.serialize(batch, None, fmt, prefixes=PREFIXES if first else None)
                batch, first = [], False
        if batch:
            yield ox.serialize(batch, None, fmt, prefixes=PREFIXES if first else None)

    return Response(chunks(), mimetype=media, headers=headers)


# --- writing ----------------------------------------------------------------------------


def _parse(data: bytes, media: str | None, filename: str | None, base: str | None) -> list:
    try:
        fmt = rdfio.format_for(media_type=media or None, filename=filename)
    except rdfio.RdfInputError as exc:
        fail(415, "Unsupported Media Type", exc.reason)
    try:
        quads = rdfio.parse_quads(
            data, fmt, source=filename or "body", base_iri=base, fresh_blank_nodes=True
        )
    except rdfio.RdfInputError as exc:
        fail(400, "Bad Request", exc.to_dict())
    if any(not isinstance(q.graph_name, ox.DefaultGraph) for q in quads):
        fail(400, "Bad Request", "the body holds named graphs: send one graph per request")
    return [ox.Triple(q.subject, q.predicate, q.object) for q in quads]


def body_triples(base: str | None) -> list[ox.Triple]:
    """The triples of the request body, or of every file of a multipart/form-data body;
    415 without an RDF Content-Type, 400 with line and column for a syntax error."""
    if request.mimetype == "multipart/form-data":
        parts = list(request.files.items(multi=True))
        if not parts:
            fail(400, "Bad Request", "the multipart body holds no file")
        triples: list[ox.Triple] = []
        for name, part in parts:
            utf8(part.mimetype_params, f"part {name!r}")
            triples += _parse(part.read(), part.mimetype, part.filename or name, base)
        return triples
    return _parse(rdf_body(), request.mimetype, None, base)


WARNING_TEXT = 200  # characters of the first message the header carries


def warning_headers(reports: list) -> dict[str, str]:
    """``ETI-Warnings: <n>; first="<message>"`` for a write accepted with validation
    warnings (none: no header), so a protocol client that reads only the status still
    learns of them. The message is JSON-quoted with ASCII escapes: header-safe."""
    results = [r for report in reports for r in report.results if r.severity != "Violation"]
    if not results:
        return {}
    first = min(results, key=lambda r: r.severity != "Warning")  # a Warning before Info
    text = f"{first.resource}: {first.message('en')}"[:WARNING_TEXT]
    return {"ETI-Warnings": f"{len(results)}; first={json.dumps(text, ensure_ascii=True)}"}


def _provenance() -> writes.Provenance:
    """What the registry records of a raw write by this caller."""
    return functools.partial(registry.raw_write_provenance, who=identity())


def created(target: str, headers: dict[str, str]) -> Response:
    response = Response(status=201, headers=headers)
    if target != DEFAULT:
        response.headers["Location"] = target
    return response


def write(target: str | None) -> Response:
    """PUT, POST or DELETE a graph (admins): the write itself is the catalogue's
    (``writes.put_graph`` / ``drop_graph``, under its write lock)."""
    require_admin()
    store = catalogue().store
    base = target or request.base_url
    if request.method == "DELETE":
        if target is None:
            fail(400, "Bad Request", "DELETE needs ?graph=IRI or ?default")
        writes.drop_graph(store, target, provenance=_provenance())
        return Response(status=204)
    triples = body_triples(base)
    if target is None:  # POST to the store: a new graph, named here
        if request.method != "POST":
            fail(400, "Bad Request", "PUT needs ?graph=IRI or ?default")
        if not triples:
            fail(400, "Bad Request", "the body holds no triple: there is no graph to create")
        target = request.url_root + "data/" + uuid.uuid4().hex
        _, outcome = writes.put_graph(store, target, triples, provenance=_provenance())
        return created(target, warning_headers(outcome.reports))
    g.log_extra = {**g.get("log_extra", {}), "graph": target or "default"}
    made, outcome = writes.put_graph(
        store, target, triples, merge=request.method == "POST", provenance=_provenance()
    )
    warned = warning_headers(outcome.reports)
    return created(target, warned) if made else Response(status=204, headers=warned)


def handle(target: str | None) -> Response:
    if request.method in ("GET", "HEAD"):
        return dump_view() if target is None else read_graph(target)
    return write(target)


@bp.route("/data", methods=["GET", "PUT", "POST", "DELETE"])
def graph_store() -> Response:
    """Graph Store Protocol, indirect identification (``?graph=IRI`` or ``?default``);
    GET without either dumps the caller's view; POST without either creates a graph."""
    return handle(indirect_target())


@bp.route("/data/<path:name>", methods=["GET", "PUT", "POST", "DELETE"])
def graph_direct(name: str) -> Response:
    """Graph Store Protocol, direct identification: the graph named by this URL."""
    return handle(request.base_url)
