"""Who may state what: every resource has one owner, and only its owner describes it.

The owner of a resource is the product that first stated something about it (its own
IRIs: the product, its datasets, offers, services, contact points…). A product's
description and content may state triples only about resources that product owns, plus
references (objects) to anything. Statements about another product's resource are
refused (403, naming the resource and its owner) unless they are exactly what the owner
already publishes (its description, or its content when open: what an owner keeps
closed is never restated, which would publish it, and a refusal reads the same whether
the owner states it or not). Legal resources (``eli:LegalResource``) are the shared
reference resources: their description is public law, so several products may cite the
same one (``ftrl § 9-10``), from open or closed content, as long as they say exactly the
same about it. Resources the catalogue
curates (organisations, channels and places in the agents graph, Los and the EU
vocabularies, agreements) follow the same rule against the graph that describes them.
Blank nodes belong to the graph they are in; the catalogue's own names (``urn:eti:…``)
belong to nobody else.

Because of this rule every decision the catalogue reads from the shared views (open
content, an offer's owner, a service's title in a situation, search) comes from the
owner's own statements: nothing another producer writes can reach it. Ownership is kept
in the graph ``urn:eti:graph:owners``, written in the same transaction as the claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pyoxigraph as ox

from . import queries
from .namespaces import (
    AGENTS,
    OPEN,
    OPENED,
    OWNED_BY,
    OWNERS,
    PUBLIC,
    READ,
    RECORDS,
    STAGED,
    SYSTEM,
    VOCABULARIES,
    content_graph,
    is_valid_id,
    product_graph,
)
from .store import Store

RESERVED = "urn:eti:"  # names the catalogue mints for itself
_NOT_SOURCES = (PUBLIC, OPEN, OPENED, READ, STAGED, OWNERS, RECORDS, SYSTEM)
_NOT_SOURCE_PREFIXES = ("urn:eti:graph:history:", "urn:eti:graph:harvest")
_OWNED_BY = ox.NamedNode(OWNED_BY)
_PUBLIC_SOURCES = (AGENTS, VOCABULARIES)  # curated and read by everyone
_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_LEGAL = ox.NamedNode("http://data.europa.eu/eli/ontology#LegalResource")


class OwnershipError(Exception):
    """A write states something about a resource its product does not own."""

    def __init__(self, detail: str, forbidden: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.forbidden = forbidden  # False: the input itself is malformed (400)


def _key(predicate: ox.NamedNode, obj: object) -> str | None:
    # a blank node object is never "the same" as another graph's: refuse rather than let
    # a restated triple hang new statements off someone else's resource
    return None if isinstance(obj, ox.BlankNode) else f"{predicate} {obj}"


def owner_of(store: Store, subject: ox.NamedNode) -> str | None:
    """The id of the product that owns ``subject``, or None."""
    rows = list(store.query(queries.load("owners-of"), bindings={"subject": subject}))
    return rows[0]["owner"].value if rows else None


def _owner_label(store: Store, ident: str) -> str:
    rows = list(
        store.query(
            queries.load("product-record"),
            bindings={"record": ox.NamedNode(f"urn:eti:record:{ident}")},
        )
    )
    orgnr = rows[0]["orgnr"] if rows else None
    return f"product {ident}" + (f" of organisation {orgnr.value}" if orgnr is not None else "")


def _is_source(graph: str, own: set[str]) -> bool:
    """True for graphs whose statements speak for a resource: not the derived views, the
    catalogue's bookkeeping, history, nor the writer's own graphs."""
    return not (graph in _NOT_SOURCES or graph.startswith(_NOT_SOURCE_PREFIXES) or graph in own)


def check(
    store: Store,
    ident: str,
    triples: Iterable[ox.Triple],
    *,
    pending: dict[str, str] | None = None,
) -> list[ox.Triple]:
    """Refuse statements of product ``ident`` about resources it does not own; return the
    ownership claims (triples for the owners graph) of the resources it names first.

    ``pending``: claims made earlier in the same write (subject IRI → product id), so one
    write naming the same new resource from two products gives it one owner.
    Raises OwnershipError.
    """
    pending = {} if pending is None else pending
    stated: dict[ox.NamedNode, list[ox.Triple]] = {}
    for t in triples:
        subject = t.subject
        if isinstance(subject, ox.BlankNode):
            continue
        if not isinstance(subject, ox.NamedNode):
            raise OwnershipError("a statement's subject must be an IRI or a blank node", False)
        if subject.value.startswith(RESERVED):
            raise OwnershipError(
                f"<{subject.value}> is a name the catalogue keeps for itself: a product "
                "may refer to it but not describe it"
            )
        stated.setdefault(subject, []).append(t)
    own = {product_graph(ident), content_graph(ident)}
    claims: list[ox.Triple] = []
    for subject, about in sorted(stated.items(), key=lambda item: item[0].value):
        owner = pending.get(subject.value) or owner_of(store, subject)
        if owner == ident:
            continue
        # a legal resource (typed so by the owner too, or the restatement differs) is a
        # shared reference: its description is public law, restated from wherever it is
        shared = any(t.predicate == _TYPE and t.object == _LEGAL for t in about)
        if owner is not None:
            have = {
                _key(row["p"], row["o"])
                for row in store.query(
                    queries.load("owned-statements-all" if shared else "owned-statements"),
                    bindings={
                        "subject": subject,
                        "description": ox.NamedNode(product_graph(owner)),
                        "content": ox.NamedNode(content_graph(owner)),
                    },
                )
            }
            _refuse_new(about, have, f"it belongs to {_owner_label(store, owner)}")
            continue
        elsewhere: dict[str, set[str | None]] = {}
        for row in store.query(queries.load("statements-about"), bindings={"subject": subject}):
            graph = row["g"].value
            if _is_source(graph, own):
                elsewhere.setdefault(graph, set()).add(_key(row["p"], row["o"]))
        if elsewhere:
            graph = AGENTS if AGENTS in elsewhere else sorted(elsewhere)[0]
            # only what the public graphs say may be restated (an agreement's statements
            # are for its parties: restating them would publish them)
            readable = [k for g, k in elsewhere.items() if shared or g in _PUBLIC_SOURCES]
            have = set().union(*readable)
            _refuse_new(about, have, f"the catalogue describes it in <{graph}>")
            continue
        pending[subject.value] = ident
        claims.append(ox.Triple(subject, _OWNED_BY, ox.Literal(ident)))
    return claims


def _refuse_new(about: Sequence[ox.Triple], have: set[str | None], whose: str) -> None:
    new = [t for t in about if (k := _key(t.predicate, t.object)) is None or k not in have]
    if new:
        first = new[0]
        more = f" and {len(new) - 1} more" if len(new) > 1 else ""
        raise OwnershipError(
            f"the body states about <{first.subject.value}> what its owner does not "
            f"({first.predicate} {first.object}{more}), and {whose}: a product may state "
            "only what the owner of a resource states about it"
        )


def check_changes(store: Store, changes: Mapping[str, Sequence | None]) -> list[ox.Triple]:
    """Check every product whose description or content ``changes`` replaces; returns
    the claims to write with them."""
    idents = sorted(
        {
            g.split(":", 4)[4]
            for g, triples in changes.items()
            if triples and g.startswith(("urn:eti:graph:product:", "urn:eti:graph:content:"))
        }
    )
    pending: dict[str, str] = {}
    claims: list[ox.Triple] = []
    for ident in idents:
        if not is_valid_id(ident):
            raise OwnershipError(f"not a valid product id in a graph name: {ident!r}", False)
        triples: list[ox.Triple] = []
        for graph in (product_graph(ident), content_graph(ident)):
            new = changes[graph] if graph in changes else store.triples(graph)
            triples += [ox.Triple(t.subject, t.predicate, t.object) for t in new or []]
        claims += check(store, ident, triples, pending=pending)
    return claims


def rebuild(store: Store) -> int:
    """Recompute the owners graph from the products' history, first registered first
    (a store written before ownership was kept, or a restored dump without it)."""
    rows = list(store.query(queries.load("products-by-first-registration")))
    graphs = [(row["id"].value, row["g"].value) for row in rows]
    # product graphs written without a record (raw loads) come after every registration
    for graph in sorted(store.named_graphs()):
        if graph.startswith(("urn:eti:graph:product:", "urn:eti:graph:content:")):
            graphs.append((graph.split(":", 4)[4], graph))
    owners: dict[ox.NamedNode, str] = {}
    for ident, graph in graphs:
        for t in store.triples(graph):
            if isinstance(t.subject, ox.NamedNode) and not t.subject.value.startswith(RESERVED):
                owners.setdefault(t.subject, ident)
    store.update(f"DROP SILENT GRAPH <{OWNERS}>")
    claims = [ox.Triple(s, _OWNED_BY, ox.Literal(i)) for s, i in owners.items()]
    for start in range(0, len(claims), 20_000):
        batch = claims[start : start + 20_000]
        body = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in batch)
        store.update(f"INSERT DATA {{ GRAPH <{OWNERS}> {{\n{body}\n}} }}")
    return len(claims)


def ensure(store: Store) -> int:
    """Build the owners graph when products are registered but nobody owns anything yet
    (a store from before ownership was kept, a dump restored without it); returns the
    claims written (0: nothing to do)."""

    def holds(graph: str) -> bool:
        return bool(store.query(queries.load("graph-exists"), bindings={"g": ox.NamedNode(graph)}))

    if holds(OWNERS) or not holds(RECORDS):
        return 0
    return rebuild(store)
