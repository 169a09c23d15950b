"""Reading RDF safely: format detection, parse errors with line and column.

Every parser here is pyoxigraph's: it never loads a remote JSON-LD context,
never resolves an XML external entity and never dereferences a ``file:`` IRI.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import rdflib

from . import media

FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "nt": ox.RdfFormat.N_TRIPLES,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "nq": ox.RdfFormat.N_QUADS,
    "xml": ox.RdfFormat.RDF_XML,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
    "json-ld": ox.RdfFormat.JSON_LD,
}
EXTENSIONS: dict[str, ox.RdfFormat] = media.EXTENSIONS  # the one table: catalogue.media
MEDIA_TYPES: dict[str, ox.RdfFormat] = media.READABLE


class RdfInputError(ValueError):
    """Input that is not readable RDF; says where and why."""

    def __init__(
        self,
        reason: str,
        *,
        source: str = "<input>",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.source = source
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, object]:
        """The error as the JSON body of a 400 answer."""
        return {
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "reason": self.reason,
        }


def format_for(
    media_type: str | None = None, filename: str | None = None, name: str | None = None
) -> ox.RdfFormat:
    """The RDF format named explicitly, by a media type, or by a file extension."""
    if name:
        try:
            return FORMATS[name.lower()]
        except KeyError:
            raise RdfInputError(
                f"unknown format {name!r}; use one of {', '.join(sorted(FORMATS))}"
            ) from None
    if media_type:
        base = media_type.split(";")[0].strip().lower()
        if base in MEDIA_TYPES:
            return MEDIA_TYPES[base]
    if filename:
        suffixes = Path(filename.split("?")[0]).suffixes
        for suffix in reversed(suffixes):
            if suffix.lower() in EXTENSIONS:
                return EXTENSIONS[suffix.lower()]
    told = ", ".join(
        x
        for x in (
            media_type and f"media type {media_type!r}",
            filename and f"file name {filename!r}",
        )
        if x
    )
    raise RdfInputError(
        f"cannot tell the RDF format ({told or 'nothing given'}); give a Content-Type such as "
        "text/turtle, or a file extension such as .ttl, .trig, .nt, .nq, .rdf, .jsonld",
        source=filename or "<input>",
    )


_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*\[(?P<subset>.*?)\]\s*>", re.S)
_ENTITY = re.compile(rb"<!ENTITY\s+(?P<pe>%\s+)?(?P<name>[^\s]+)\s+(?P<rest>.*?)>", re.S)
MAX_ENTITIES = 64
MAX_ENTITY_VALUE = 4096


def check_xml_entities(head: bytes, source: str = "<input>") -> None:
    """Refuse entity declarations that could expand without bound or reach out: external
    (SYSTEM/PUBLIC) and parameter entities, entities defined through other entities
    (the "billion laughs"), and too many or too long ones. Plain abbreviations such as
    ``<!ENTITY rdf "http://www.w3.org/1999/02/22-rdf-syntax-ns#">`` stay allowed."""
    match = _DOCTYPE.search(head)
    if match is None:
        if b"<!ENTITY" in head:
            raise RdfInputError(
                "entity declarations outside a DOCTYPE are not accepted", source=source
            )
        return
    entities = _ENTITY.findall(match.group("subset"))
    if len(entities) > MAX_ENTITIES:
        raise RdfInputError(f"more than {MAX_ENTITIES} XML entities", source=source)
    for pe, name, rest in entities:
        label = name.decode(errors="replace")
        if pe:
            raise RdfInputError(f"XML parameter entity {label!r} is not accepted", source=source)
        if re.match(rb"\s*(SYSTEM|PUBLIC)\b", rest):
            raise RdfInputError(
                f"XML external entity {label!r} is not accepted (nothing is fetched)", source=source
            )
        value = rest.strip()
        if len(value) > MAX_ENTITY_VALUE or b"&" in value or b"%" in value:
            raise RdfInputError(
                f"XML entity {label!r} refers to other entities or is too "
                "long: entity expansion is limited",
                source=source,
            )


MAX_JSON_DEPTH = 256
"""Deepest nesting of objects and arrays accepted in JSON-LD (real documents use a few
levels; the parser recurses, and some thousands of levels overflow its stack)."""
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_json_depth(data: bytes, source: str = "<input>") -> None:
    """Refuse JSON nested deeper than :data:`MAX_JSON_DEPTH`, before any parser sees it,
    with the line and column where the limit is passed (strings are skipped whole)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                start = match.start()
                line = data.count(b"\n", 0, start) + 1
                column = start - (data.rfind(b"\n", 0, start) + 1) + 1
                raise RdfInputError(
                    f"JSON-LD nested deeper than {MAX_JSON_DEPTH} levels is not accepted",
                    source=source,
                    line=line,
                    column=column,
                )
        elif token in (b"]", b"}"):
            depth -= 1


def _syntax_error(exc: SyntaxError, source: str) -> RdfInputError:
    return RdfInputError(exc.msg or str(exc), source=source, line=exc.lineno, column=exc.offset)


def iter_quads(
    data: bytes | IO[bytes] | Path,
    fmt: ox.RdfFormat,
    *,
    source: str = "<input>",
    base_iri: str | None = None,
    graph: str | None = None,
    fresh_blank_nodes: bool = False,
) -> Iterator[ox.Quad]:
    """Stream the quads of ``data``; raises RdfInputError at the first syntax error.

    Triples of the default graph go to ``graph`` when it is given. Use
    ``fresh_blank_nodes`` for input from outside, so that its ``_:b0`` never merges
    with a blank node already in the store.
    """
    to_graph = ox.NamedNode(graph) if graph else None
    options = {"base_iri": base_iri, "rename_blank_nodes": fresh_blank_nodes}
    if fmt == ox.RdfFormat.RDF_XML:
        if isinstance(data, bytes):
            check_xml_entities(data[:1_000_000], source)
        elif isinstance(data, Path):
            with data.open("rb") as handle:
                check_xml_entities(handle.read(1_000_000), source)
        else:
            data = data.read()
            check_xml_entities(data[:1_000_000], source)
    elif fmt == ox.RdfFormat.JSON_LD:  # read whole: the depth is checked before parsing
        if isinstance(data, Path):
            data = data.read_bytes()
        elif not isinstance(data, bytes):
            data = data.read()
        check_json_depth(data, source)
    try:
        if isinstance(data, Path):
            parser = ox.parse(path=str(data), format=fmt, **options)
        else:
            parser = ox.parse(data, fmt, **options)
        for item in parser:
            if isinstance(item, ox.Triple):
                yield ox.Quad(
                    item.subject, item.predicate, item.object, to_graph or ox.DefaultGraph()
                )
            elif to_graph is not None and isinstance(item.graph_name, ox.DefaultGraph):
                yield ox.Quad(item.subject, item.predicate, item.object, to_graph)
            else:
                yield item
    except SyntaxError as exc:
        if _REMOTE_CONTEXT in str(exc):
            raise _remote_context_error(data, source) from None
        error = _syntax_error(exc, source)
        if fmt == ox.RdfFormat.RDF_XML and error.line is None and isinstance(data, (bytes, Path)):
            error.line, error.column = _xml_position(data, "namespace" in error.reason)
        raise error from None
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        if _REMOTE_CONTEXT in str(exc):
            raise _remote_context_error(data, source) from None
        raise RdfInputError(str(exc), source=source) from None


_REMOTE_CONTEXT = "No LoadDocumentCallback has been set"  # pyoxigraph's refusal


def _xml_position(data: bytes | Path, unqualified: bool) -> tuple[int | None, int | None]:
    """Line and (1-based) column of the first XML well-formedness error in ``data``, as
    expat sees it (pyoxigraph's RDF/XML errors carry no position); with ``unqualified``,
    else of the first element or attribute without a namespace. (None, None) when there
    is none to point at. External entities are never resolved (the entity check ran)."""
    import xml.sax
    import xml.sax.handler

    class Unqualified(xml.sax.handler.ContentHandler):
        found: tuple[int, int] | None = None

        def startElementNS(self, name, qname, attrs) -> None:  # type: ignore[no-untyped-def]
            names = [name, *attrs.getNames()]
            if unqualified and self.found is None and any(uri is None for uri, _ in names):
                locator = self._locator
                self.found = (locator.getLineNumber(), locator.getColumnNumber() + 1)

    handler = Unqualified()
    # entities were checked before parsing (check_xml_entities), external ones are off
    parser = xml.sax.make_parser()  # noqa: S317
    parser.setFeature(xml.sax.handler.feature_namespaces, True)
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setFeature(xml.sax.handler.feature_external_pes, False)
    parser.setContentHandler(handler)
    try:
        if isinstance(data, Path):
            with data.open("rb") as handle:
                parser.parse(handle)
        else:
            parser.parse(io.BytesIO(data))
    except xml.sax.SAXParseException as exc:
        return exc.getLineNumber(), exc.getColumnNumber() + 1
    except (xml.sax.SAXException, OSError, ValueError):
        pass
    return handler.found or (None, None)


def _remote_context_error(data: bytes | IO[bytes] | Path, source: str) -> RdfInputError:
    """pyoxigraph's "No LoadDocumentCallback has been set…" said plainly: a JSON-LD
    document whose ``@context`` (or ``@import``) names a remote document, which is never
    fetched. The IRI is named when the document is at hand to find it in."""
    iri = None
    try:
        if isinstance(data, Path):
            data = data.read_bytes() if data.stat().st_size <= 64 * 1024 * 1024 else b""
        if isinstance(data, bytes):
            iri = _remote_context_iri(json.loads(data))
    except (OSError, ValueError, RecursionError):
        pass
    named = f"remote JSON-LD @context <{iri[:300]}>" if iri else "a remote JSON-LD @context"
    return RdfInputError(
        f"{named} is not fetched; inline the context in the document", source=source
    )


def _remote_context_iri(node: object, in_context: bool = False) -> str | None:
    """The first IRI a JSON-LD document's contexts refer to (a string ``@context`` or
    list item, or an ``@import``)."""
    if isinstance(node, str):
        return node if in_context else None
    if isinstance(node, list):
        for item in node:
            if (found := _remote_context_iri(item, in_context)) is not None:
                return found
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                found = _remote_context_iri(value, True)
            elif key == "@import" and in_context:
                found = value if isinstance(value, str) else None
            else:
                found = _remote_context_iri(value, False)
            if found is not None:
                return found
    return None


def parse_quads(
    data: bytes | IO[bytes] | Path,
    fmt: ox.RdfFormat,
    *,
    source: str = "<input>",
    base_iri: str | None = None,
    graph: str | None = None,
    fresh_blank_nodes: bool = False,
) -> list[ox.Quad]:
    """All the quads of ``data``, or RdfInputError; nothing is half-read."""
    return list(
        iter_quads(
            data,
            fmt,
            source=source,
            base_iri=base_iri,
            graph=graph,
            fresh_blank_nodes=fresh_blank_nodes,
        )
    )


def read_file(
    path: Path | str, fmt: ox.RdfFormat | None = None, *, base_iri: str | None = None
) -> list[ox.Quad]:
    """Parse a file whose format is given or told by its extension. Relative IRIs need a
    ``base_iri`` (a file's own path is never used as one: no ``file:`` IRIs)."""
    path = Path(path)
    fmt = fmt or format_for(filename=path.name)
    if not path.is_file():
        raise RdfInputError("no such file", source=str(path))
    return parse_quads(path, fmt, source=str(path), base_iri=base_iri)


# --- pyoxigraph <-> rdflib ------------------------------------------------------------------


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.DefaultGraph):
    """The rdflib term equal to a pyoxigraph term."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    if isinstance(term, ox.DefaultGraph):
        return rdflib.graph.DATASET_DEFAULT_GRAPH_ID
    raise TypeError(f"unsupported term {term!r}")


def from_rdflib(term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The pyoxigraph term equal to an rdflib term."""
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported term {term!r}")


def to_rdflib_graph(triples: Iterable[ox.Quad | ox.Triple], *, bare: bool = False) -> rdflib.Graph:
    """An rdflib Graph of the triples (graph names dropped: the union). ``bare``: a graph
    only read triple by triple (e.g. handed to the validator, which copies it): no
    prefixes bound and a store without contexts, ~2x cheaper to fill and read."""
    graph = rdflib.Graph(store="SimpleMemory", bind_namespaces="none") if bare else rdflib.Graph()
    for t in triples:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return graph


def to_rdflib_dataset(quads: Iterable[ox.Quad]) -> rdflib.Dataset:
    """An rdflib Dataset holding the quads in their graphs."""
    ds = rdflib.Dataset()
    for q in quads:
        ds.add(
            (
                to_rdflib(q.subject),
                to_rdflib(q.predicate),
                to_rdflib(q.object),
                to_rdflib(q.graph_name),
            )
        )
    return ds


def from_rdflib_graph(graph: rdflib.Graph) -> list[ox.Triple]:
    """pyoxigraph triples of an rdflib Graph."""
    return [ox.Triple(from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in graph]


def serialize_triples(
    triples: Iterable[ox.Triple | ox.Quad],
    fmt: ox.RdfFormat,
    prefixes: dict[str, str] | None = None,
) -> bytes:
    """Bytes of the triples in ``fmt`` (quads keep their graph in dataset formats)."""
    out = io.BytesIO()
    items = list(triples)
    if not fmt.supports_datasets:
        items = [ox.Triple(t.subject, t.predicate, t.object) for t in items]
    ox.serialize(items, out, fmt, prefixes=prefixes)
    return out.getvalue()
