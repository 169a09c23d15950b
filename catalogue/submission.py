"""A product as submitted: which triples are its description and which its content.

A product arrives as RDF: its description (the ``dprod:DataProduct``, datasets, ports,
contact points, offers) and its content (``cpsv:PublicService`` and what they refer
to). This module tells the two apart, finds the product and its id, and compares
triples across writes; it reads and writes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from .namespaces import CPSV, DCAT, DCT, DPROD, FOAF, RDF, is_valid_id
from .writes import BadInput

AUTHORITATIVE = "https://w3id.org/eti#isAuthoritativeSourceFor"
IDENTIFIER = DCT + "identifier"
TYPE = RDF + "type"
# Where content stops: these resources belong to the description or the agents.
_BOUNDARY_TYPES = {
    DPROD + "DataProduct",
    FOAF + "Organization",
    FOAF + "Agent",
    DCAT + "Dataset",
    DCAT + "DataService",
    DCAT + "Distribution",
}


@dataclass
class Submission:
    """A product as submitted: description and content triples."""

    description: list[ox.Triple]
    content: list[ox.Triple]


def as_triple(q: ox.Quad | ox.Triple) -> ox.Triple:
    """A quad without its graph."""
    return ox.Triple(q.subject, q.predicate, q.object)


def split(quads: Sequence[ox.Quad | ox.Triple]) -> Submission:
    """Description and content of a submission.

    With named graphs (TriG, N-Quads, JSON-LD), the default graph is the description and
    the named graphs the content. Otherwise the content is what the public services
    reach (their requirements, legal resources, channels, rules), and everything the
    product reaches stays in the description; a resource both reach is in both.
    """
    named = [
        q for q in quads if isinstance(q, ox.Quad) and not isinstance(q.graph_name, ox.DefaultGraph)
    ]
    if named:
        default = [
            as_triple(q)
            for q in quads
            if not isinstance(q, ox.Quad) or isinstance(q.graph_name, ox.DefaultGraph)
        ]
        return Submission(default, [as_triple(q) for q in named])
    triples = [as_triple(q) for q in quads]
    by_subject: dict[object, list[ox.Triple]] = {}
    types: dict[object, set[str]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
        if t.predicate.value == TYPE and isinstance(t.object, ox.NamedNode):
            types.setdefault(t.subject, set()).add(t.object.value)
    services = [s for s, kinds in types.items() if CPSV + "PublicService" in kinds]

    def reach(starts: list, skip_predicate: str | None) -> set:
        seen, todo = set(), list(starts)
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for t in by_subject.get(node, []):
                if t.predicate.value == skip_predicate:
                    continue
                target = t.object
                if target in by_subject and not (
                    types.get(target, set()) & _BOUNDARY_TYPES and target not in starts
                ):
                    todo.append(target)
        return seen

    content_nodes = reach(services, None)
    products = [s for s, kinds in types.items() if DPROD + "DataProduct" in kinds]
    # what the product reaches (not through the items it is the source of) stays in the
    # description, also when a service reaches it too (e.g. a shared contact point)
    description_nodes = reach(products, AUTHORITATIVE)
    description = [
        t for t in triples if t.subject not in content_nodes or t.subject in description_nodes
    ]
    content = [t for t in triples if t.subject in content_nodes]
    return Submission(description, content)


def description_part(triples: Sequence[ox.Triple]) -> list[ox.Triple]:
    """The triples about what the product reaches, never entering what a public service
    reaches, nor passing through ``eti:isAuthoritativeSourceFor``."""
    flat = split(triples)
    content_nodes = {t.subject for t in flat.content}
    by_subject: dict[object, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    products = [
        t.subject
        for t in triples
        if t.predicate.value == TYPE and t.object == ox.NamedNode(DPROD + "DataProduct")
    ]
    seen: set = set()
    todo = list(products)
    while todo:
        node = todo.pop()
        if node in seen or node in content_nodes:
            continue
        seen.add(node)
        todo += [t.object for t in by_subject.get(node, []) if t.predicate.value != AUTHORITATIVE]
    return [t for t in triples if t.subject in seen]


def product_iri(description: Sequence[ox.Triple]) -> ox.NamedNode:
    """The one ``dprod:DataProduct`` a description is about."""
    typed = {
        t.subject
        for t in description
        if t.predicate.value == TYPE
        and isinstance(t.object, ox.NamedNode)
        and t.object.value == DPROD + "DataProduct"
    }
    if len(typed) != 1:
        raise BadInput(
            f"a product description must describe exactly one dprod:DataProduct, found {len(typed)}"
        )
    (iri,) = typed
    if not isinstance(iri, ox.NamedNode):
        raise BadInput("the data product must be named by an IRI, not a blank node")
    return iri


def derive_id(description: Sequence[ox.Triple], iri: ox.NamedNode) -> str:
    """The product's id: its ``dct:identifier`` when that is a valid id, else a slug of
    the last segment of its IRI."""
    for t in description:
        if (
            t.subject == iri
            and t.predicate.value == DCT + "identifier"
            and is_valid_id(t.object.value)
        ):
            return t.object.value
    tail = re.split(r"[/#]", iri.value.rstrip("/#"))[-1]
    slug = unicodedata.normalize("NFKD", tail).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", slug).strip("-")[:128]
    if not is_valid_id(slug):
        raise BadInput(
            f"cannot make an id from <{iri.value}>: give the product a "
            "dct:identifier of a-z, 0-9 and '-'"
        )
    return slug


def publisher_of(description: Sequence[ox.Triple], iri: ox.NamedNode) -> ox.NamedNode | None:
    """The IRI the description gives as the product's ``dct:publisher``, if any."""
    return next(
        (
            t.object
            for t in description
            if t.subject == iri
            and t.predicate.value == DCT + "publisher"
            and isinstance(t.object, ox.NamedNode)
        ),
        None,
    )


def triple_key(t: ox.Triple) -> str:
    """A triple as text to compare across writes."""

    # Blank nodes get fresh labels on every write: compare them by their position.
    def term(x: object) -> str:
        return "_:b" if isinstance(x, ox.BlankNode) else str(x)

    return f"{term(t.subject)} {t.predicate} {term(t.object)}"
