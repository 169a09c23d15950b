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
from flask import Blueprint, Response, abort, current_app, g, request

from eti.catalogue import queries, rdfio, registry, writes
from eti.catalogue.core import Access, Catalogue
from eti.catalogue.namespaces import PREFIXES, content_graph

from . import conditional
from .agreements import duty_headers
from .auth import identity, purpose, refuse
from .errors import fail
from .rdfbody import write_error
from .sparql import GRAPH_ALIASES, GRAPH_NAMES, GRAPHS, negotiate, not_acceptable, run, stream

bp = Blueprint("gsp", __name__)

DEFAULT = writes.DEFAULT
DEFAULT_GRAPH = [
    DEFAULT
]  # a query of the default graph names it (on Virtuoso no dataset is the union)
DATASETS = ["application/n-quads", "application/trig"]
DATASET_ALIASES = {"text/x-nquads": "application/n-quads", "application/x-trig": "application/trig"}
DATASET_NAMES = {
    "nq": "application/n-quads",
    "nquads": "application/n-quads",
    "trig": "application/trig",
}
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
    store = catalogue().store
    if target == DEFAULT:
        return (
            next(
                iter(store.query(queries.load("graph-content"), default_graph=DEFAULT_GRAPH)), None
            )
            is not None
        )
    return bool(store.query(queries.load("graph-exists"), bindings={"g": ox.NamedNode(target)}))


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
    media = negotiate(GRAPHS, GRAPH_ALIASES, GRAPH_NAMES)
    if media is None:
        not_acceptable(GRAPHS)
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
        triples = list(
            catalogue().store.query(queries.load("graph-content"), default_graph=DEFAULT_GRAPH)
        )
        body = rdfio.serialize_triples(triples, rdfio.MEDIA_TYPES[media], prefixes=PREFIXES)
        return conditional.stamp(Response(body, mimetype=media, headers=headers), tag, changed)
    result = run(
        queries.load("graph-content"),
        graphs=[target],
        default_graph_uri=[target],
        graph_media=media,
        max_rows=0,  # a graph is never cut: a part would pass for the whole
    )
    return conditional.stamp(
        Response(stream(result), mimetype=media, headers=headers), tag, changed
    )


def dump_view() -> Response:
    """Every graph the caller may read, as quads, streamed in batches."""
    media = negotiate(DATASETS, DATASET_ALIASES, DATASET_NAMES)
    if media is None:
        not_acceptable(DATASETS)
    access = reading_access()
    headers = {"Vary": "Accept, Authorization", **duty_headers(access.agreements)}
    if request.method == "HEAD":
        return Response(status=200, mimetype=media, headers=headers)
    cat = catalogue()
    fmt = rdfio.MEDIA_TYPES[media]
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


def _charset(params: dict[str, str], where: str) -> None:
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        fail(415, "Unsupported Media Type", f"{where} must be UTF-8, not {charset}")


def body_triples(base: str | None) -> list[ox.Triple]:
    """The triples of the request body, or of every file of a multipart/form-data body;
    415 without an RDF Content-Type, 400 with line and column for a syntax error."""
    if request.mimetype == "multipart/form-data":
        parts = list(request.files.items(multi=True))
        if not parts:
            fail(400, "Bad Request", "the multipart body holds no file")
        triples: list[ox.Triple] = []
        for name, part in parts:
            _charset(part.mimetype_params, f"part {name!r}")
            triples += _parse(part.read(), part.mimetype, part.filename or name, base)
        return triples
    if not request.content_type:
        fail(415, "Unsupported Media Type", "give the body's RDF syntax in Content-Type")
    if request.mimetype not in rdfio.MEDIA_TYPES:
        fail(
            415,
            "Unsupported Media Type",
            f"{request.mimetype!r} is not an RDF syntax this service reads; use one of "
            + ", ".join(sorted(rdfio.MEDIA_TYPES)),
        )
    _charset(request.mimetype_params, "the body")
    return _parse(request.get_data(cache=False), request.mimetype, None, base)


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


def commit(changes: dict[str, list[ox.Triple] | None]) -> dict[str, str]:
    """Apply a write (abort with the error answer when refused); the warning headers."""
    try:
        outcome = writes.commit(
            catalogue().store,
            changes,
            provenance=functools.partial(registry.raw_write_provenance, who=identity()),
        )
    except writes.WriteError as exc:
        abort(write_error(exc))
    return warning_headers(outcome.reports)


def current_triples(target: str) -> list[ox.Triple]:
    store = catalogue().store
    if target == DEFAULT:
        return list(store.query(queries.load("graph-content"), default_graph=DEFAULT_GRAPH))
    return store.triples(target)


def created(target: str, headers: dict[str, str]) -> Response:
    response = Response(status=201, headers=headers)
    if target != DEFAULT:
        response.headers["Location"] = target
    return response


def write(target: str | None) -> Response:
    require_admin()
    base = target or request.base_url
    if request.method == "DELETE":
        if target is None:
            fail(400, "Bad Request", "DELETE needs ?graph=IRI or ?default")
        with writes.WRITE_LOCK:
            if not exists(target):
                fail(404, "Not Found", "no such graph")
            commit({target: None})
        return Response(status=204)
    triples = body_triples(base)
    if target is None:  # POST to the store: a new graph, named here
        if request.method != "POST":
            fail(400, "Bad Request", "PUT needs ?graph=IRI or ?default")
        if not triples:
            fail(400, "Bad Request", "the body holds no triple: there is no graph to create")
        target = request.url_root + "data/" + uuid.uuid4().hex
        with writes.WRITE_LOCK:
            warned = commit({target: triples})
        return created(target, warned)
    g.log_extra = {**g.get("log_extra", {}), "graph": target or "default"}
    with writes.WRITE_LOCK:
        existed = exists(target)
        if request.method == "POST" and existed:
            triples = current_triples(target) + triples
        warned = commit({target: triples or None})
    if not existed and triples:
        return created(target, warned)
    return Response(status=204, headers=warned)


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
