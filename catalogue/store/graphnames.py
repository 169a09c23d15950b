"""The graph IRIs a query names in its ``GRAPH <iri> { ... }`` patterns, read by a
parser (rdflib's SPARQL 1.1 grammar), not by scanning the text.

Virtuoso 7.2.5 lets an ASK, an aggregate or a pattern of constants inside
``GRAPH <g> { ... }`` match ``<g>``'s triples although the request's
``named-graph-uri`` leaves ``<g>`` out (docs/deploy.md, "Engines"): no rewrite of the
text was found that stops it. The Virtuoso dialect therefore refuses such a query
(``refuse_outside``) instead of sending it: the decision rests on what the parser finds
anywhere in the syntax tree, its prefixed names expanded (subqueries, OPTIONAL, UNION,
MINUS, EXISTS filters), and a text the parser cannot read is refused too (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache, partial
from typing import Any

from rdflib.plugins.sparql.algebra import translatePName, translatePrologue, traverse
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

from .base import GraphRefused


def _walk(node: Any, seen: set[int]) -> Iterator[CompValue]:
    """Every syntax node under ``node`` (lists, dicts and expressions included)."""
    if id(node) in seen or isinstance(node, (str, bytes, int, float)):
        return
    seen.add(id(node))
    if isinstance(node, CompValue):
        yield node
        for value in node.values():
            yield from _walk(value, seen)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _walk(value, seen)
    elif isinstance(node, (list, tuple, set)):
        for value in node:
            yield from _walk(value, seen)


@lru_cache(maxsize=512)
def graph_iris(sparql: str) -> frozenset[str]:
    """The IRIs of every ``GRAPH <iri>`` pattern in the query ``sparql``, at any depth.
    Raises GraphRefused when the text does not parse as a SPARQL 1.1 query."""
    try:
        parsed = parseQuery(sparql)  # \u escapes resolved first, as the standard says
        prologue = translatePrologue(parsed[0], None)
        tree = traverse(parsed[1], visitPost=partial(translatePName, prologue=prologue))
    except Exception as exc:  # pyparsing's and the prologue's errors: no reading, no query
        raise GraphRefused(
            "this store engine cannot confine a named graph to the caller's view, so "
            f"queries are read first, and this one could not be read: {exc}"
        ) from None
    return frozenset(
        str(node.term)
        for node in _walk(tree, set())
        if node.name == "GraphGraphPattern" and isinstance(node.get("term"), URIRef)
    )


def refuse_outside(sparql: str, allowed: Iterable[str]) -> None:
    """Raise GraphRefused when ``sparql`` names in a ``GRAPH`` pattern a graph that is
    not one of the ``allowed`` named graphs."""
    outside = sorted(graph_iris(sparql) - set(allowed))
    if outside:
        names = ", ".join(f"<{g}>" for g in outside)
        raise GraphRefused(
            f"GRAPH {names} is outside the graphs this caller may read: this store engine "
            "(Virtuoso) cannot confine a named graph to the caller's view, so a query "
            "naming one is refused rather than run"
        )
