"""The one table of RDF syntaxes: media types, the names ``format=`` takes, the media
types asking for the same syntax, file extensions, the W3C format IRIs, and pyoxigraph's
format. Every RDF media type the catalogue and its HTTP face read or write comes from
here (parsing bodies and files, serialising answers, content negotiation, the service
description, the OpenAPI document), so adding a syntax is one row."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

FORMATS = "http://www.w3.org/ns/formats/"


@dataclass(frozen=True)
class Syntax:
    """One RDF syntax. ``names``: the values of ``format=`` (the first is the short name
    links use); ``aliases``: other media types that ask for it (in ``Accept`` and
    ``format=``); ``read_as``: other media types a body in it may be sent as;
    ``w3c``: its name under http://www.w3.org/ns/formats/."""

    media: str
    format: ox.RdfFormat
    title: str
    w3c: str
    names: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    read_as: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    @property
    def dataset(self) -> bool:
        """True when the syntax holds named graphs (quads)."""
        return self.format in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS)


# In the order answers are offered (the first is the default without Accept).
SYNTAXES: tuple[Syntax, ...] = (
    Syntax(
        "text/turtle",
        ox.RdfFormat.TURTLE,
        "Turtle",
        "Turtle",
        ("ttl", "turtle", "n3"),
        aliases=(
            "application/x-turtle",
            "application/turtle",
            "text/n3",  # Turtle is N3
            "text/rdf+n3",
            "application/n3",
        ),
        read_as=("application/x-turtle",),
        extensions=(".ttl", ".turtle"),
    ),
    Syntax(
        "application/n-triples",
        ox.RdfFormat.N_TRIPLES,
        "N-Triples",
        "N-Triples",
        ("nt", "ntriples", "n-triples"),
        aliases=("text/plain",),
        read_as=("text/plain",),
        extensions=(".nt",),
    ),
    Syntax(
        "application/rdf+xml",
        ox.RdfFormat.RDF_XML,
        "RDF/XML",
        "RDF_XML",
        ("rdf", "rdfxml", "xml", "rdf+xml"),
        aliases=("application/xml", "text/xml"),
        read_as=("application/xml", "text/xml"),
        extensions=(".rdf", ".owl", ".xml"),
    ),
    Syntax(
        "application/ld+json",
        ox.RdfFormat.JSON_LD,
        "JSON-LD",
        "JSON-LD",
        ("jsonld", "json-ld", "json"),
        aliases=("application/json", "application/x-json+ld"),
        read_as=("application/json",),
        extensions=(".jsonld", ".json"),
    ),
    Syntax(
        "application/trig",
        ox.RdfFormat.TRIG,
        "TriG",
        "TriG",
        ("trig",),
        aliases=("application/x-trig",),
        extensions=(".trig",),
    ),
    Syntax(
        "application/n-quads",
        ox.RdfFormat.N_QUADS,
        "N-Quads",
        "N-Quads",
        ("nq", "nquads"),
        aliases=("text/x-nquads",),
        read_as=("text/x-nquads",),
        extensions=(".nq",),
    ),
)

BY_MEDIA: dict[str, Syntax] = {s.media: s for s in SYNTAXES}
# media type (its own, or one it is read as) -> format, for bodies and files
READABLE: dict[str, ox.RdfFormat] = {m: s.format for s in SYNTAXES for m in (s.media, *s.read_as)}
# media type -> format, for answers
ANSWERS: dict[str, ox.RdfFormat] = {s.media: s.format for s in SYNTAXES}
# file extension -> format
EXTENSIONS: dict[str, ox.RdfFormat] = {e: s.format for s in SYNTAXES for e in s.extensions}
# media types that ask for a syntax -> its media type (Accept and format=)
ALIASES: dict[str, str] = {a: s.media for s in SYNTAXES for a in s.aliases}
# format= names -> media type
NAMES: dict[str, str] = {n: s.media for s in SYNTAXES for n in s.names}


def media_types(*, datasets: bool | None = None) -> list[str]:
    """The syntaxes' media types in offer order; ``datasets``: only those that hold
    named graphs (True) or only those that do not (False)."""
    return [s.media for s in SYNTAXES if datasets is None or s.dataset == datasets]
