"""Reading RDF request bodies and writing RDF answers, with precise errors."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from flask import Response, request

from eti.catalogue import rdfio
from eti.catalogue.namespaces import PREFIXES

from .errors import fail

RDF_ANSWERS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}


def read_body(source: str = "body") -> list[ox.Quad]:
    """The request body's quads: 415 without an RDF Content-Type, 400 with line and
    column for a syntax error, 400 for an empty body (413 comes from MAX_CONTENT_LENGTH)."""
    if not request.content_type:
        fail(
            415,
            "Unsupported Media Type",
            "give the body's RDF syntax in Content-Type, "
            "e.g. text/turtle, application/trig, application/ld+json",
        )
    base = request.mimetype
    if base not in rdfio.MEDIA_TYPES or base in ("text/plain", "application/json"):
        fail(
            415,
            "Unsupported Media Type",
            f"{base!r} is not an RDF syntax this service reads; "
            f"use one of {', '.join(sorted(set(rdfio.MEDIA_TYPES) - {'text/plain'}))}",
        )
    data = request.get_data(cache=False)
    if not data.strip():
        fail(400, "Bad Request", "the body is empty")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        fail(415, "Unsupported Media Type", f"RDF bodies are UTF-8, not {charset}")
    try:
        return rdfio.parse_quads(
            data, rdfio.MEDIA_TYPES[base], source=source, fresh_blank_nodes=True
        )
    except rdfio.RdfInputError as exc:
        fail(400, "Bad Request", exc.to_dict())
    return []


def rdf_response(
    triples: Iterable[ox.Triple | ox.Quad],
    media: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Triples in the negotiated syntax."""
    fmt = RDF_ANSWERS[media]
    body = rdfio.serialize_triples(
        triples, fmt, prefixes=PREFIXES if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    )
    return Response(body, status=status, mimetype=media, headers=headers)
