"""Content negotiation: the media type of an answer, from ``format=`` (for browsers) or
``Accept``, and the 406 when nothing offered is acceptable. A leaf of the server: it
imports no view module, so every view (``sparql``, ``service``, ``gsp``) may use it."""

from __future__ import annotations

import re

from flask import request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from .errors import fail

SOLUTIONS = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
]
GRAPHS = [
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/trig",
    "application/n-quads",
]
SOLUTION_ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
}
GRAPH_ALIASES = {
    "application/x-turtle": "text/turtle",
    "application/turtle": "text/turtle",
    "text/n3": "text/turtle",  # Turtle is N3
    "text/rdf+n3": "text/turtle",
    "application/n3": "text/turtle",
    "text/plain": "application/n-triples",
    "application/json": "application/ld+json",
    "application/x-json+ld": "application/ld+json",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
    "application/x-trig": "application/trig",
    "text/x-nquads": "application/n-quads",
}
SOLUTION_NAMES = {
    "json": "application/sparql-results+json",
    "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "srx": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_NAMES = {
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "n3": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "n-triples": "application/n-triples",
    "xml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml",
    "rdf+xml": "application/rdf+xml",
    "json": "application/ld+json",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "trig": "application/trig",
    "nq": "application/n-quads",
    "nquads": "application/n-quads",
}
KNOWN_FORMATS = {
    *SOLUTIONS,
    *GRAPHS,
    *SOLUTION_ALIASES,
    *GRAPH_ALIASES,
    *SOLUTION_NAMES,
    *GRAPH_NAMES,
}
_CHARSET = re.compile(r";\s*charset\s*=\s*[^;,]*", re.IGNORECASE)


def negotiate(
    offered: list[str], aliases: dict[str, str], names: dict[str, str] | None = None
) -> str | None:
    """The media type to answer in, from ``format=`` or else ``Accept``; the first
    offered type without ``Accept``; None when nothing offered is acceptable.

    ``format`` may be repeated (SPARQLWrapper sends ``format=tsv&format=text/tab-...``):
    the first value naming an offered syntax wins; a value naming a syntax of the other
    result kind falls back to ``Accept``; a value naming nothing known is unacceptable.
    """
    values = [v.strip().lower() for v in request.values.getlist("format") if v.strip()]
    for value in values:
        media = (names or {}).get(value) or aliases.get(value, value)
        if media in offered:
            return media
    if values and not any(v in KNOWN_FORMATS for v in values):
        return None
    accept = accept_header()
    if not accept:
        return offered[0]
    best = accept.best_match([*offered, *aliases])
    return aliases.get(best, best) if best else None


def accept_header() -> MIMEAccept:
    """The request's Accept without ``charset`` parameters (``text/turtle; charset=utf-8``
    asks for Turtle: every answer here is UTF-8)."""
    value = request.headers.get("Accept", "")
    if "charset" in value.lower():
        value = _CHARSET.sub("", value)
    return parse_accept_header(value, MIMEAccept)


def not_acceptable(offered: list[str]) -> None:
    fail(
        406,
        "Not Acceptable",
        "no offered result format is acceptable (Accept or format=); offered: "
        + ", ".join(offered),
    )
