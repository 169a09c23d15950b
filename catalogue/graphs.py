"""Atomic graph writes that keep the shared reading view (``urn:eti:graph:public``) true.

Per-product graphs are the unit of writing. ``public`` holds the union of every
product-description graph, so a reader's dataset stays a handful of graphs
(public, agents, records, vocabularies, and the content its agreements open)
instead of thousands. Every write here is one SPARQL Update: one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pyoxigraph as ox

from . import queries
from .namespaces import AGENTS, PUBLIC, RECORDS, VOCABULARIES
from .store import Store, bind_inline

PUBLISHED_PREFIX = "urn:eti:graph:product:"
READ_VIEW = (PUBLIC, AGENTS, RECORDS, VOCABULARIES)


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


def replace_update(changes: Mapping[str, Sequence[ox.Triple | ox.Quad] | None]) -> str:
    """The SPARQL Update that replaces each graph in ``changes`` whole (None drops it)."""
    ops: list[str] = []
    for graph in changes:
        g = {"g": ox.NamedNode(graph)}
        if is_published(graph):
            ops.append(bind_inline(queries.load("unpublish-graph"), g))
        ops.append(f"DROP SILENT GRAPH {ox.NamedNode(graph)}")
    data = insert_data(changes)
    if data:
        ops.append(data)
    for graph, triples in changes.items():
        if triples and is_published(graph):
            ops.append(bind_inline(queries.load("publish-graph"), {"g": ox.NamedNode(graph)}))
    return " ;\n".join(ops)


def replace_graphs(
    store: Store,
    changes: Mapping[str, Sequence[ox.Triple | ox.Quad] | None],
    *,
    also: Sequence[str] = (),
) -> None:
    """Replace graphs whole in one transaction; ``also`` adds more update operations
    (already complete SPARQL text) to the same transaction."""
    text = replace_update(changes)
    ops = [op for op in (text, *also) if op]
    if ops:
        store.update(" ;\n".join(ops))


def rebuild_public(store: Store) -> None:
    """Recompute ``public`` from the product graphs (after a raw load)."""
    store.update(queries.load("rebuild-public"))
