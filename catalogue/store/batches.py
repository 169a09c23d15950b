"""Quads as ``INSERT DATA`` requests: batches that never split what blank nodes connect
(a blank node label names a fresh node in each request)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyoxigraph as ox


class Components:
    """Blank node labels joined into connected groups (union-find)."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def root(self, label: str) -> str:
        """The label that stands for ``label``'s group."""
        parent = self._parent
        top = label
        while parent.setdefault(top, top) != top:
            top = parent[top]
        while parent[label] != top:  # path compression
            parent[label], label = top, parent[label]
        return top

    def join(self, labels: list[str]) -> str:
        """Put ``labels`` in one group; its root."""
        first = self.root(labels[0])
        for label in labels[1:]:
            other = self.root(label)
            if other != first:
                self._parent[other] = first
        return first


def split_ground(quads: Iterable[ox.Quad]) -> tuple[list[ox.Quad], list[list[ox.Quad]]]:
    """(the quads without blank nodes, the others in their connected groups)."""
    components = Components()
    ground: list[ox.Quad] = []
    held: list[tuple[str, ox.Quad]] = []
    for quad in quads:
        labels = blank_labels(quad)
        if labels:
            components.join(labels)
            held.append((labels[0], quad))
        else:
            ground.append(quad)
    groups: dict[str, list[ox.Quad]] = {}
    for label, quad in held:
        groups.setdefault(components.root(label), []).append(quad)
    return ground, list(groups.values())


def blank_labels(term: Any) -> list[str]:
    """Labels of the blank nodes in a quad (or a triple term), graph name included."""
    if isinstance(term, ox.BlankNode):
        return [term.value]
    if isinstance(term, ox.Quad):
        parts = (term.subject, term.object, term.graph_name)
    elif isinstance(term, ox.Triple):
        parts = (term.subject, term.object)
    else:
        return []
    return [label for part in parts for label in blank_labels(part)]


def insert_batches(
    quads: Iterable[ox.Quad], size: int, default: str | None = None
) -> Iterator[list[tuple[str, str]]]:
    """The quads as ``INSERT DATA`` bodies of about ``size`` quads, never splitting the
    quads connected by blank nodes: a blank node label names a fresh node in each request,
    so a ``_:b`` shared by quads in two requests would become two nodes. Each connected
    group goes whole into one body (a group larger than ``size`` is a body of its own).
    Quads without blank nodes stream through; the others are held to the end of the input,
    when their groups are known (labels of anonymous nodes differ from parse to parse, so
    they cannot be grouped in a first pass)."""
    components = Components()

    batch: list[tuple[str, str]] = []
    held: list[tuple[str, tuple[str, str]]] = []  # (one blank label of the quad, its text)
    for quad in quads:
        labels = blank_labels(quad)
        if not labels:
            batch.append(quad_text(quad, default))
            if len(batch) >= size:
                yield batch
                batch = []
            continue
        components.join(labels)
        held.append((labels[0], quad_text(quad, default)))
    groups: dict[str, list[tuple[str, str]]] = {}
    for label, text in held:
        groups.setdefault(components.root(label), []).append(text)
    for lines in groups.values():
        if batch and len(batch) + len(lines) > size:
            yield batch
            batch = []
        batch.extend(lines)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def quad_text(quad: ox.Quad, default: str | None) -> tuple[str, str]:
    """(graph, triple) of the quad as ``INSERT DATA`` writes them: the graph ``""`` for
    the default graph, or ``default`` when the engine names that one."""
    graph = "" if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name)
    if not graph and default:
        graph = str(ox.NamedNode(default))
    return graph, f"{quad.subject} {quad.predicate} {quad.object} ."


def insert_data(lines: list[tuple[str, str]]) -> str:
    """One ``INSERT DATA`` of the quads, one ``GRAPH`` block per graph (Virtuoso 7.2
    fails on a template of many blocks)."""
    graphs: dict[str, list[str]] = {}
    for graph, triple in lines:
        graphs.setdefault(graph, []).append(triple)
    blocks = [
        "\n".join(triples) if not graph else f"GRAPH {graph} {{\n" + "\n".join(triples) + "\n}"
        for graph, triples in graphs.items()
    ]
    return "INSERT DATA {\n" + "\n".join(blocks) + "\n}"
