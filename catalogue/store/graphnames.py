"""The graph IRIs a query names in its ``GRAPH <iri> { ... }`` patterns, read by a
parser (rdflib's SPARQL 1.1 grammar), not by scanning the text.

Virtuoso 7.2.5 lets an ASK, an aggregate or a pattern of constants inside
``GRAPH <g> { ... }`` match ``<g>``'s triples although the request's
``named-graph-uri`` leaves ``<g>`` out, and so does ``GRAPH ?g`` with ``?g`` fixed to
``<g>`` elsewhere in the query (docs/deploy.md, "Engines"): no rewrite of the text was
found that stops it. The Virtuoso dialect therefore refuses such a query
(``refuse_outside``) instead of sending it: the decision rests on what the parser finds
anywhere in the syntax tree, its prefixed names expanded (subqueries, OPTIONAL, UNION,
MINUS, EXISTS filters), and a text the parser cannot read is refused too (fail closed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache, partial
from typing import Any

from pyparsing import ParseResults
from rdflib.plugins.sparql.algebra import translatePName, translatePrologue, traverse
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef, Variable

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
    elif isinstance(node, (list, tuple, set, ParseResults)):
        for value in node:
            yield from _walk(value, seen)


_AFTER_MATCHING = ("groupby", "orderby", "template")
"""Clauses that only arrange or shape solutions already found (GROUP BY, ORDER BY, a
CONSTRUCT template): a variable there binds no graph."""


def _uses(node: Any, key: str = "") -> Iterator[Variable]:
    """Every use of a variable under ``node`` that can bind it or test its value (not a
    projection's expression, GROUP BY, ORDER BY or a CONSTRUCT template)."""
    if isinstance(node, Variable):
        yield node
    elif isinstance(node, CompValue):
        if node.name == "vars":  # a projection: only ``(... AS ?g)`` binds (a subquery's)
            yield from _uses(node.get("evar"))
            return
        for name, value in node.items():
            if not name.startswith("_") and name not in _AFTER_MATCHING:
                yield from _uses(value, name)
    elif isinstance(node, (list, tuple, ParseResults)):
        for value in node:
            yield from _uses(value, key)


def graph_iris(sparql: str) -> frozenset[str]:
    """The IRIs of every ``GRAPH <iri>`` pattern in the query ``sparql``, at any depth.
    Raises GraphRefused when the text does not parse as a SPARQL 1.1 query."""
    return _read(sparql)[0]


def bound_graph_variables(sparql: str) -> frozenset[str]:
    """The variables of ``GRAPH ?g`` patterns that the query also uses elsewhere (a
    VALUES, BIND, FILTER, triple pattern, subquery ...): where its value could be fixed
    to one graph. Virtuoso 7.2.5 reads such a ``?g`` fixed to ``<g>`` as ``GRAPH <g>``,
    with the same leak."""
    return _read(sparql)[1]


@lru_cache(maxsize=512)
def _read(sparql: str) -> tuple[frozenset[str], frozenset[str]]:
    """(graph IRIs, graph variables used elsewhere) of ``sparql`` (see above)."""
    try:
        parsed = parseQuery(sparql)  # \u escapes resolved first, as the standard says
        prologue = translatePrologue(parsed[0], None)
        tree = traverse(parsed[1], visitPost=partial(translatePName, prologue=prologue))
    except Exception as exc:  # pyparsing's and the prologue's errors: no reading, no query
        raise GraphRefused(
            "this store engine cannot confine a named graph to the caller's view, so "
            f"queries are read first, and this one could not be read: {exc}"
        ) from None
    terms = [n.term for n in _walk(tree, set()) if n.name == "GraphGraphPattern"]
    iris = frozenset(str(t) for t in terms if isinstance(t, URIRef))
    in_graph = Counter(t for t in terms if isinstance(t, Variable))
    used = Counter(v for v in _uses(tree) if v in in_graph)
    return iris, frozenset(str(v) for v, n in used.items() if n > in_graph[v])


def refuse_outside(sparql: str, allowed: Iterable[str]) -> None:
    """Raise GraphRefused when ``sparql`` names in a ``GRAPH`` pattern a graph that is
    not one of the ``allowed`` named graphs, or a graph variable it also uses elsewhere."""
    outside = sorted(graph_iris(sparql) - set(allowed))
    bound = sorted(bound_graph_variables(sparql))
    if bound:
        names = ", ".join(f"?{v}" for v in bound)
        raise GraphRefused(
            f"GRAPH {names} is also used elsewhere in the query, where its value could be "
            "fixed to one graph: this store engine (Virtuoso) cannot confine a named graph "
            "to the caller's view then, so such a query is refused rather than run; use "
            "the variable in GRAPH only (the caller's named graphs confine it)"
        )
    if outside:
        names = ", ".join(f"<{g}>" for g in outside)
        raise GraphRefused(
            f"GRAPH {names} is outside the graphs this caller may read: this store engine "
            "(Virtuoso) cannot confine a named graph to the caller's view, so a query "
            "naming one is refused rather than run"
        )
