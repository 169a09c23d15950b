"""SPARQL 1.1 Protocol: ``/sparql`` queries over the caller's view."""

from __future__ import annotations

import io

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from eti.catalogue.core import QueryRefused
from eti.catalogue.store import QuerySyntaxError

from .errors import fail

bp = Blueprint("sparql", __name__)

SOLUTION_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/xml": ox.QueryResultsFormat.XML,
}
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
FORMAT_NAMES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
}


def _query_text() -> str | None:
    if request.method == "GET":
        return request.args.get("query")
    mimetype = request.mimetype
    if mimetype == "application/sparql-query":
        return request.get_data(as_text=True)
    if mimetype == "application/x-www-form-urlencoded":
        return request.form.get("query")
    fail(
        415,
        "Unsupported Media Type",
        "POST a query as application/sparql-query or application/x-www-form-urlencoded",
    )
    return None


def _choose(types: dict[str, object], default: str) -> str:
    wanted = request.values.get("format")
    if wanted:
        media = FORMAT_NAMES.get(wanted, wanted)
        if media in types:
            return media
        fail(406, "Not Acceptable", f"format {wanted!r} is not available for this query")
    if not request.accept_mimetypes or request.accept_mimetypes.best in (None, "*/*"):
        return default
    best = request.accept_mimetypes.best_match([default, *types], default=None)
    if best is None:
        fail(
            406,
            "Not Acceptable",
            f"none of the accepted types is available; offered: {', '.join(types)}",
        )
    return best


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    """Answer a SPARQL query over the public view of the catalogue."""
    text = _query_text()
    if not text:
        fail(400, "Bad Request", "no query given (parameter 'query')")
    catalogue = current_app.extensions["eti"]
    try:
        result = catalogue.query(
            text,
            default_graph_uri=request.values.getlist("default-graph-uri"),
            named_graph_uri=request.values.getlist("named-graph-uri"),
        )
    except QuerySyntaxError as exc:
        fail(400, "Query syntax error", str(exc))
    except QueryRefused as exc:
        fail(400, "Query refused", str(exc))
    out = io.BytesIO()
    if isinstance(result, ox.QueryBoolean | ox.QuerySolutions):
        media = _choose(SOLUTION_TYPES, "application/sparql-results+json")
        result.serialize(out, SOLUTION_TYPES[media])
    else:
        media = _choose(GRAPH_TYPES, "text/turtle")
        ox.serialize(result, out, GRAPH_TYPES[media])
    return Response(out.getvalue(), mimetype=media, headers={"Vary": "Accept"})
