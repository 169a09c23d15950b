"""Reading RDF request bodies and writing RDF answers, with precise errors: the one body
reader of every door that takes RDF (``/api/products``, ``/data``, ``/api/validate``)."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from flask import Response, request

from eti.catalogue import media, rdfio
from eti.catalogue.namespaces import PREFIXES

from .errors import fail

# read as N-Triples and JSON-LD only where a door says so (a catalogue body must name
# its syntax; the Graph Store Protocol and the validator take them)
AMBIGUOUS = ("text/plain", "application/json")


def utf8(params: dict[str, str], where: str) -> None:
    """415 for a declared charset other than UTF-8 (every RDF body here is UTF-8)."""
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        fail(415, "Unsupported Media Type", f"{where} must be UTF-8, not {charset}")


def rdf_body(*, ambiguous: bool = True, empty: bool = True, named: bool = False) -> bytes:
    """The request body, checked as every door checks an RDF body: 415 without a
    Content-Type, for a media type that is no RDF syntax this service reads (``named``:
    the syntax is named elsewhere, e.g. ``format=``, so any goes; ``ambiguous``: text/plain
    and application/json are read as N-Triples and JSON-LD), and for a charset other than
    UTF-8; 400 for an empty body unless ``empty``. 413 comes before (MAX_CONTENT_LENGTH)."""
    if not request.content_type:
        fail(
            415,
            "Unsupported Media Type",
            "give the body's RDF syntax in Content-Type, "
            "e.g. text/turtle, application/trig, application/ld+json",
        )
    readable = [m for m in media.READABLE if ambiguous or m not in AMBIGUOUS]
    if not named and request.mimetype not in readable:
        fail(
            415,
            "Unsupported Media Type",
            f"{request.mimetype!r} is not an RDF syntax this service reads; "
            f"use one of {', '.join(sorted(readable))}",
        )
    utf8(request.mimetype_params, "the body")
    data = request.get_data(cache=False)
    if not empty and not data.strip():
        fail(400, "Bad Request", "the body is empty")
    return data


def read_body(source: str = "body") -> list[ox.Quad]:
    """The request body's quads (a catalogue write: the syntax named exactly, not empty);
    400 with line and column for a syntax error."""
    data = rdf_body(ambiguous=False, empty=False)
    try:
        return rdfio.parse_quads(
            data, media.READABLE[request.mimetype], source=source, fresh_blank_nodes=True
        )
    except rdfio.RdfInputError as exc:
        fail(400, "Bad Request", exc.to_dict())
    return []


def rdf_response(
    triples: Iterable[ox.Triple | ox.Quad],
    media_type: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Triples in the negotiated syntax."""
    fmt = media.ANSWERS[media_type]
    body = rdfio.serialize_triples(
        triples, fmt, prefixes=PREFIXES if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    )
    return Response(body, status=status, mimetype=media_type, headers=headers)
