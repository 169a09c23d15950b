"""SPARQL 1.1 Protocol: ``/sparql`` queries over the caller's view, streamed."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from eti.catalogue.core import QueryRefused
from eti.catalogue.executor import Overloaded, QueryFailed, QueryTimeout
from eti.catalogue.results import GRAPH_MEDIA, SOLUTION_MEDIA

from .auth import identity
from .errors import fail

bp = Blueprint("sparql", __name__)

FORMAT_NAMES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
}


def query_text() -> str | None:
    """The query of a GET, a form POST or a direct POST (SPARQL 1.1 Protocol §2.1)."""
    if request.method == "GET":
        return request.args.get("query")
    if request.mimetype == "application/sparql-query":
        return request.get_data(as_text=True)
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.get("query")
    fail(
        415,
        "Unsupported Media Type",
        "POST a query as application/sparql-query or application/x-www-form-urlencoded",
    )
    return None


def negotiate(offered: list[str], default: str) -> str | None:
    """The media type to answer in, from ``format=`` or ``Accept``; None when none fits."""
    wanted = request.values.get("format")
    if wanted:
        media = FORMAT_NAMES.get(wanted, wanted)
        return media if media in offered else None
    accept = request.accept_mimetypes
    if not accept or accept.best in (None, "*/*"):
        return default
    best = accept.best_match([default, *offered, *ALIASES], default=None)
    return ALIASES.get(best, best) if best else None


def answer(graphs: list[str] | None = None) -> Response:
    """Run the request's query over ``graphs`` (default: what the caller may read) and
    stream the answer."""
    text = query_text()
    if not text:
        fail(400, "Bad Request", "no query given (parameter 'query')")
    solutions = negotiate(list(SOLUTION_MEDIA), "application/sparql-results+json")
    graph = negotiate(list(GRAPH_MEDIA), "text/turtle")
    if solutions is None and graph is None:
        fail(
            406,
            "Not Acceptable",
            "no offered result format is acceptable; offered: "
            + ", ".join([*SOLUTION_MEDIA, *GRAPH_MEDIA]),
        )
    catalogue = current_app.extensions["eti"]
    if graphs is None:
        graphs = catalogue.view_for(identity())
    try:
        result = catalogue.answer(
            text,
            graphs=graphs,
            default_graph_uri=request.values.getlist("default-graph-uri"),
            named_graph_uri=request.values.getlist("named-graph-uri"),
            solutions_media=solutions or "application/sparql-results+json",
            graph_media=graph or "text/turtle",
        )
    except QueryRefused as exc:
        fail(400, "Query refused", str(exc))
    except QueryFailed as exc:
        if exc.kind == "syntax":
            fail(400, "Query syntax error", str(exc))
        fail(503, "Store unavailable", str(exc), {"Retry-After": "1"})
    except QueryTimeout as exc:
        fail(503, "Query timeout", str(exc))
    except Overloaded as exc:
        fail(503, "Overloaded", str(exc), {"Retry-After": "2"})
    if (result.kind == "graph" and graph is None) or (result.kind != "graph" and solutions is None):
        for _ in result.chunks:  # let the worker finish cleanly
            pass
        fail(406, "Not Acceptable", f"no acceptable format for a {result.kind} result")
    headers = {"Vary": "Accept"}
    if result.truncated:
        limit = catalogue.settings.max_rows
        headers["ETI-Truncated"] = f"true; limit={limit}"
        headers["Warning"] = f'199 - "results truncated at {limit} rows (max_rows)"'
    return Response(result.chunks, mimetype=result.media, headers=headers)


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    """Answer a SPARQL query over the public view of the catalogue."""
    return answer()
