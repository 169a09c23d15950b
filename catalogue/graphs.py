"""Atomic graph writes that keep the shared reading views true.

Per-product graphs are the unit of writing. Derived graphs keep a reader's dataset to
one graph instead of thousands: ``public`` holds the union of every product-description
graph, ``open`` the union of the content of every product with an open offer, and
``read`` the union of public, open, agents, records and vocabularies (what anyone may
read, as one graph: a query over one graph is 2–4× faster than over five). Every write
here is one SPARQL Update: one transaction, views included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import pyoxigraph as ox

from . import queries
from .namespaces import (
    AGENTS,
    OPEN,
    OPENED,
    PUBLIC,
    READ,
    RECORDS,
    STAGED,
    VIEW_PREFIX,
    VIEWS,
    VOCABULARIES,
)
from .store import Store, bind_inline

PUBLISHED_PREFIX = "urn:eti:graph:product:"
CONTENT_PREFIX = "urn:eti:graph:content:"
READ_VIEW = (PUBLIC, OPEN, AGENTS, RECORDS, VOCABULARIES)  # the sources of READ
_DERIVED = (PUBLIC, OPEN, OPENED, READ, STAGED, VIEWS)


def feeds_read(graph: str) -> bool:
    """True for graphs whose triples reach ``read`` (directly, or through public/open)."""
    return graph.startswith((PUBLISHED_PREFIX, CONTENT_PREFIX)) or graph in READ_VIEW


def collapse(default_graph: Sequence[str]) -> list[str]:
    """A default graph that names every source of ``read`` reads ``read`` instead: the
    same triples (their RDF merge), one graph for the engine to scan."""
    if not set(READ_VIEW) <= set(default_graph):
        return list(default_graph)
    return [READ, *(g for g in default_graph if g not in READ_VIEW and g != READ)]


def is_published(graph: str) -> bool:
    """True for graphs whose triples are mirrored into ``public``."""
    return graph.startswith(PUBLISHED_PREFIX)


def insert_data(changes: Mapping[str, Iterable[ox.Triple | ox.Quad] | None]) -> str:
    """An INSERT DATA operation adding ``changes`` (graph → triples), or ''."""
    lines: list[str] = []
    for graph, triples in changes.items():
        if not triples:
            continue
        body = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
        if body:
            lines.append(f"GRAPH {ox.NamedNode(graph)} {{\n{body}\n}}")
    return "INSERT DATA {\n" + "\n".join(lines) + "\n}" if lines else ""


def _content_of(graph: str) -> str | None:
    """The content graph that goes with a product-description graph."""
    if graph.startswith(PUBLISHED_PREFIX):
        return CONTENT_PREFIX + graph[len(PUBLISHED_PREFIX) :]
    return None


def _described_by(graph: str) -> ox.NamedNode:
    return ox.NamedNode(PUBLISHED_PREFIX + graph[len(CONTENT_PREFIX) :])


def replace_update(
    changes: Mapping[str, Sequence[ox.Triple | ox.Quad] | None], also: Sequence[str] = ()
) -> str:
    """The SPARQL Update that replaces each graph in ``changes`` whole (None drops it), runs
    ``also`` (complete operations; they may stage what they remove from a source of
    ``read``), and keeps ``public``, ``open`` and ``read`` equal to what they derive from."""
    ops: list[str] = []
    # content whose openness may change with its product's description
    reopened = [c for g in changes if (c := _content_of(g)) and c not in changes]
    touched = [g for g in [*changes, *reopened] if feeds_read(g)]
    staged = [g for g in [*changes, *reopened] if feeds_read(g) or feeds_views(g)]
    for graph in staged:  # their old triples: candidates to leave "read" and the views
        ops.append(bind_inline(queries.load("stage-graph"), {"g": ox.NamedNode(graph)}))
    for graph in reopened:
        ops += _unpublish_open(graph)
    for graph in changes:
        g = {"g": ox.NamedNode(graph)}
        if is_published(graph):
            ops.append(bind_inline(queries.load("unpublish-graph"), g))
        elif graph.startswith(CONTENT_PREFIX):
            ops += _unpublish_open(graph)
        ops.append(f"DROP SILENT GRAPH {ox.NamedNode(graph)}")
    data = insert_data(changes)
    if data:
        ops.append(data)
    for graph, triples in changes.items():
        if triples and is_published(graph):
            ops.append(bind_inline(queries.load("publish-graph"), {"g": ox.NamedNode(graph)}))
    for graph in [
        *(g for g, t in changes.items() if t and g.startswith(CONTENT_PREFIX)),
        *reopened,
    ]:
        ops.append(
            bind_inline(
                queries.load("publish-open"),
                {"g": ox.NamedNode(graph), "described": _described_by(graph)},
            )
        )
    ops += [op for op in also if op]
    for graph in touched:
        ops.append(bind_inline(queries.load("views-drop-entering"), {"g": ox.NamedNode(graph)}))
    for graph in touched:
        ops.append(bind_inline(queries.load("read-add"), {"g": ox.NamedNode(graph)}))
    if staged or any(also):
        ops.append(queries.load("read-prune"))
        ops += _view_upkeep([g for g, t in changes.items() if t and feeds_views(g)], touched)
        ops.append(queries.load("drop-staged"))
    return combine(ops)


def _unpublish_open(graph: str) -> list[str]:
    """Take a content graph out of "open" (what no other open content states) and out of
    the record of open content graphs."""
    g = {"g": ox.NamedNode(graph)}
    return [bind_inline(queries.load(n), g) for n in ("unpublish-open", "unrecord-open")]


def feeds_views(graph: str) -> bool:
    """True for graphs a per-caller view may draw on: any graph but the derived ones."""
    return graph not in _DERIVED and not graph.startswith(VIEW_PREFIX)


def with_values(text: str, variables: str, rows: Iterable[str]) -> str:
    """``text`` with its empty ``VALUES variables { }`` block filled with ``rows`` (each
    already serialised by pyoxigraph: terms, or ``(…)`` tuples)."""
    empty = f"VALUES {variables} {{ }}"
    if empty not in text:
        raise ValueError(f"no empty '{empty}' block to fill")
    return text.replace(empty, f"VALUES {variables} {{ {' '.join(rows)} }}")


def added(graph: str, triples: Sequence[ox.Triple]) -> list[str]:
    """The operations that add ``triples`` to ``graph`` (kept, not replaced) and to the
    per-caller views it feeds."""
    if not triples:
        return []
    upkeep = bind_inline(queries.load("views-add-data"), {"g": ox.NamedNode(graph)})
    rows = (f"({t.subject} {t.predicate} {t.object})" for t in triples)
    return [insert_data({graph: triples}), with_values(upkeep, "(?s ?p ?o)", rows)]


def _view_upkeep(written: Sequence[str], touched: Sequence[str]) -> list[str]:
    """Keep every per-caller view equal to (its sources) minus "read" within the write:
    staged triples no source states any more leave; the written sources' triples come in
    (but not what "read" holds); what entered "read" leaves the views; what left "read"
    comes back to the views whose sources still state it."""
    ops = [queries.load("views-prune")]
    ops += [bind_inline(queries.load("views-add"), {"g": ox.NamedNode(g)}) for g in written]
    ops.append(queries.load("views-readd"))
    return ops


_PREFIX = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>\s*$", re.I | re.M)
_COMMENT = re.compile(r"^\s*#.*$", re.M)


def combine(ops: Sequence[str]) -> str:
    """One update request of several operations. The engine takes PREFIX declarations only
    at the start of a request, so each operation's are gathered there (the project's
    prefixes never clash)."""
    prefixes: dict[str, str] = {}
    bodies = []
    for op in ops:
        if not op:
            continue
        text = _COMMENT.sub("", op)
        for name, iri in _PREFIX.findall(text):
            if prefixes.setdefault(name, iri) != iri:
                raise ValueError(f"prefix {name}: is declared twice with different IRIs")
        bodies.append(_PREFIX.sub("", text).strip())
    head = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in prefixes.items())
    return head + " ;\n".join(b for b in bodies if b)


def replace_graphs(
    store: Store,
    changes: Mapping[str, Sequence[ox.Triple | ox.Quad] | None],
    *,
    also: Sequence[str] = (),
) -> None:
    """Replace graphs whole in one transaction; ``also`` adds more update operations
    (already complete SPARQL text) to the same transaction."""
    text = replace_update(changes, also)
    if text:
        store.update(text)


def rebuild_public(store: Store) -> None:
    """Recompute ``public``, ``open`` and ``read`` from what they derive from (after a raw
    load)."""
    store.update(
        combine(
            [
                queries.load("rebuild-public"),
                queries.load("rebuild-opened"),
                queries.load("rebuild-read"),
                queries.load("views-reset"),
            ]
        )
    )


def ensure_opened(store: Store) -> bool:
    """Record which content graphs are open when a store made before "opened" existed
    has open content and no such record; True when it did."""
    if store.count(OPENED) or not store.count(OPEN):
        return False
    store.update(queries.load("rebuild-opened"))
    return True


def rebuild_read(store: Store) -> None:
    """Recompute ``read`` alone (a dump from before it existed)."""
    store.update(combine([queries.load("rebuild-read"), queries.load("views-reset")]))


def sync_read(store: Store, graph: str) -> None:
    """Add a source graph of ``read`` to it whole (after a raw load into that graph)."""
    text = combine([queries.load("read-sync"), queries.load("views-drop-read")])
    store.update(text, bindings={"g": ox.NamedNode(graph)})
