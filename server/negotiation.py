"""Content negotiation: the media type of an answer, from ``format=`` (for browsers) or
``Accept``, and the 406 when nothing offered is acceptable. A leaf of the server: it
imports no view module, so every view (``sparql``, ``service``, ``gsp``) may use it."""

from __future__ import annotations

import re

from flask import request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from eti.catalogue import media, results

from .errors import fail

SOLUTIONS = list(results.SOLUTION_MEDIA)  # SPARQL result syntaxes, in offer order
GRAPHS = media.media_types()  # the RDF syntaxes (catalogue.media), in offer order
SOLUTION_ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
}
GRAPH_ALIASES = media.ALIASES
SOLUTION_NAMES = {
    "json": "application/sparql-results+json",
    "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "srx": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_NAMES = media.NAMES
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
    offered: list[str], aliases: dict[str, str] | None = None, names: dict[str, str] | None = None
) -> str | None:
    """The media type to answer in, from ``format=`` or else ``Accept``; the first
    offered type without ``Accept``; None when nothing offered is acceptable.

    ``format`` may be repeated (SPARQLWrapper sends ``format=tsv&format=text/tab-...``):
    the first value naming an offered syntax wins; a value naming a syntax of the other
    result kind falls back to ``Accept``; a value naming nothing known is unacceptable.
    ``aliases``: other media types that ask for an offered one (an offered type is never
    an alias); ``names``: the short names ``format=`` takes.
    """
    aliases = {k: v for k, v in (aliases or {}).items() if k not in offered}
    values = [v.strip().lower() for v in request.values.getlist("format") if v.strip()]
    for value in values:
        found = (names or {}).get(value) or aliases.get(value, value)
        if found in offered:
            return found
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


def rdf_media(offered: list[str]) -> str:
    """The RDF syntax to answer in, among ``offered`` (``Accept`` or ``format=``, with
    the aliases and names of ``catalogue.media``); 406 when none is acceptable."""
    chosen = negotiate(
        offered,
        {k: v for k, v in media.ALIASES.items() if v in offered},
        {k: v for k, v in media.NAMES.items() if v in offered},
    )
    if chosen is None:
        not_acceptable(offered)
    return chosen  # type: ignore[return-value]
