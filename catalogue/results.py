"""Writing SPARQL results: SELECT/ASK in JSON, XML, CSV and TSV, and graphs in any RDF
syntax, streaming row by row into any binary writer."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from . import media

SOLUTION_MEDIA = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_MEDIA = media.ANSWERS  # the RDF syntaxes of graph answers (catalogue.media)
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _json_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _xml_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _csv_value(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    if term is None:
        return ""
    value = f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _tsv_value(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    return "" if term is None else str(term)


def write_boolean(value: bool, kind: str, out: IO[bytes]) -> None:
    """An ASK answer in ``kind`` (json, xml, csv, tsv)."""
    word = "true" if value else "false"
    if kind == "json":
        out.write(json.dumps({"head": {}, "boolean": value}).encode())
    elif kind == "xml":
        out.write(
            (
                '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head></head><boolean>{word}</boolean></sparql>\n"
            ).encode()
        )
    else:
        out.write(
            f"_askResult\n{word}\n".encode() if kind == "csv" else f"?_askResult\n{word}\n".encode()
        )


TRUNCATED = "https://w3id.org/eti#truncatedResults"
"""Linked from the head of an answer cut at ``max_rows`` (JSON ``link``, XML ``<link>``),
so clients that never look at HTTP headers still learn that rows are missing."""


def write_solutions(
    variables: Sequence[str],
    rows: Iterable[ox.QuerySolution],
    kind: str,
    out: IO[bytes],
    truncated: bool = False,
) -> int:
    """SELECT results in ``kind``; returns the number of rows written. A ``truncated``
    answer links :data:`TRUNCATED` from its head where the format has one."""
    n = 0
    if kind == "json":
        link = b',"link":' + json.dumps([TRUNCATED]).encode() if truncated else b""
        out.write(
            b'{"head":{"vars":'
            + json.dumps(list(variables)).encode()
            + link
            + b'},"results":{"bindings":['
        )
        for row in rows:
            binding = {v: _json_term(row[v]) for v in variables if row[v] is not None}
            out.write((b"," if n else b"") + json.dumps(binding, ensure_ascii=False).encode())
            n += 1
        out.write(b"]}}\n")
    elif kind == "xml":
        head = "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
        if truncated:
            head += f"<link href={quoteattr(TRUNCATED)}/>"
        out.write(
            (
                '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head>{head}</head><results>\n"
            ).encode()
        )
        for row in rows:
            cells = "".join(
                f"<binding name={quoteattr(v)}>{_xml_term(row[v])}</binding>"
                for v in variables
                if row[v] is not None
            )
            out.write(f"<result>{cells}</result>\n".encode())
            n += 1
        out.write(b"</results></sparql>\n")
    elif kind == "csv":
        out.write((",".join(variables) + "\r\n").encode())
        for row in rows:
            out.write((",".join(_csv_value(row[v]) for v in variables) + "\r\n").encode())
            n += 1
    elif kind == "tsv":
        out.write(("\t".join(f"?{v}" for v in variables) + "\n").encode())
        for row in rows:
            out.write(("\t".join(_tsv_value(row[v]) for v in variables) + "\n").encode())
            n += 1
    else:
        raise ValueError(f"unknown results format {kind!r}")
    return n


def write_graph(
    triples: Iterable[ox.Triple],
    fmt: ox.RdfFormat,
    out: IO[bytes],
    prefixes: dict[str, str] | None = None,
) -> None:
    """CONSTRUCT/DESCRIBE results in an RDF syntax."""
    ox.serialize(triples, out, fmt, prefixes=prefixes)
