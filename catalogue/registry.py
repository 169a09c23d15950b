"""Registering data products: register, update, withdraw, and the versions a raw write
of product graphs leaves.

A submission is split into description and content (``submission``), checked against
the agents graph and the caller's scope (``publishers``), validated together with the
small context it needs, and written in one transaction with a catalogue record and a
snapshot of the version (``records``), so any earlier version can be read back.

The names of those rooms are re-exported here, so ``from eti.catalogue.registry import
get_record`` keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pyoxigraph as ox

from . import clock
from .auth import Identity
from .namespaces import (
    AGENTS,
    DCT,
    DPROD,
    content_graph,
    history_graph,
    is_valid_id,
    product_graph,
)
from .provenance import DEMO_AGENT
from .publishers import check_agents, check_scope, orgnrs, owner_of, registered_agent
from .records import (
    STATUS,
    Record,
    Version,
    description_snapshot,
    get_record,
    history,
    id_of_iri,
    record_iri,
    record_ops,
    record_stamp,
    version_triples,
)
from .store import Store
from .submission import (
    Submission,
    as_triple,
    derive_id,
    description_part,
    product_iri,
    publisher_of,
    split,
)
from .writes import BadInput, Conflict, Forbidden, NotFound, commit, serialised

__all__ = [
    "DEMO_AGENT",
    "STATUS",
    "Identity",
    "Record",
    "Registration",
    "RegistrationError",
    "Submission",
    "Version",
    "check_agents",
    "derive_id",
    "description_part",
    "description_snapshot",
    "get_record",
    "history",
    "id_of_iri",
    "orgnrs",
    "owner_of",
    "product_iri",
    "put_product",
    "raw_write_provenance",
    "record_iri",
    "record_stamp",
    "register",
    "register_agents",
    "registered_agent",
    "split",
    "version_triples",
    "withdraw",
]

RegistrationError = BadInput


@dataclass
class Registration:
    """What a registration did."""

    ident: str
    iri: str
    version: int
    created: bool
    reports: list = field(default_factory=list)


@serialised
def register(
    store: Store,
    quads: Sequence[ox.Quad | ox.Triple],
    *,
    who: Identity,
    ident: str | None = None,
    create: bool = True,
    now: datetime | None = None,
    as_of: date | None = None,
    profiles: Sequence[str] | None = None,
) -> Registration:
    """Register (``create``) or update a product; validated, scoped, atomic.

    Raises BadInput (400), Forbidden (403), NotFound (404), Conflict (409) or
    RuleBroken (422, with the report).
    """
    now = now or clock.now()
    submission = split(quads)
    iri = product_iri(submission.description)
    derived = derive_id(submission.description, iri)
    if (
        ident is not None
        and ident != derived
        and any(
            t.subject == iri and t.predicate.value == DCT + "identifier"
            for t in submission.description
        )
    ):
        raise BadInput(f"the body's dct:identifier {derived!r} does not match the id {ident!r}")
    ident = ident or derived
    if not is_valid_id(ident):
        raise BadInput(f"not a valid product id: {ident!r}")
    record = get_record(store, ident)
    if create and record is not None and not record.withdrawn:
        raise Conflict(
            f"product {ident} is already registered: send it as a new version "
            f"(eti register FILE --update; over HTTP, PUT /api/products/{ident})"
        )
    if not create and (record is None or record.withdrawn):
        raise NotFound(f"no registered product {ident}")
    if record is not None and record.iri != iri.value:
        raise Conflict(f"the id {ident} belongs to <{record.iri}>")
    other = id_of_iri(store, iri)
    if other is not None and other != ident:
        raise Conflict(f"<{iri.value}> is already registered as product {other}")
    check_agents(store, [*submission.description, *submission.content])
    owners = orgnrs(store, submission.description, iri, DPROD + "dataProductOwner")
    publishers = orgnrs(store, submission.description, iri, DCT + "publisher")
    check_scope(store, who, owners, publishers, record)
    version = (record.version + 1) if record else 1
    publisher = publisher_of(submission.description, iri)
    snapshot = [*submission.description, *submission.content]
    changes = {
        product_graph(ident): submission.description,
        content_graph(ident): submission.content or None,
        history_graph(ident, version): snapshot,
        description_snapshot(ident, version): submission.description,
    }
    also = record_ops(
        ident, iri, version, "COMPLETED", who, now, record.issued if record else None, publisher
    )
    outcome = commit(store, changes, as_of=as_of, also=also, history=True, profiles=profiles)
    return Registration(
        ident, iri.value, version, record is None or record.withdrawn, outcome.reports
    )


def raw_write_provenance(
    store: Store, changes: Mapping[str, Sequence | None], *, who: Identity
) -> tuple[dict[str, list[ox.Triple] | None], list[str]]:
    """The versions and record updates a raw write (Graph Store, SPARQL Update) of product
    graphs leaves, as a registration or withdrawal would: each product whose description
    or content it changes gets a new version attributed to ``who``."""
    now = clock.now()
    idents = sorted(
        {
            g.split(":", 4)[4]
            for g in changes
            if g.startswith(("urn:eti:graph:product:", "urn:eti:graph:content:"))
        }
    )
    versions: dict[str, list[ox.Triple] | None] = {}
    ops: list[str] = []
    for ident in idents:
        if not is_valid_id(ident):
            raise BadInput(f"not a valid product id in a graph name: {ident!r}")

        def now_of(graph: str) -> list[ox.Triple]:
            new = changes[graph] if graph in changes else store.triples(graph)
            return [as_triple(t) for t in new or []]

        description = now_of(product_graph(ident))
        content = now_of(content_graph(ident))
        record = get_record(store, ident)
        version = (record.version + 1) if record else 1
        if not description:
            if content:
                raise BadInput(f"content without a product description ({ident})")
            if record is None or record.withdrawn:
                continue
            iri, status = ox.NamedNode(record.iri), "WITHDRAWN"
            publisher = ox.NamedNode(record.publisher) if record.publisher else None
        else:
            iri, status = product_iri(description), "COMPLETED"
            if record is not None and record.iri != iri.value:
                raise Conflict(f"the id {ident} belongs to <{record.iri}>")
            publisher = publisher_of(description, iri)
            versions[history_graph(ident, version)] = [*description, *content]
            versions[description_snapshot(ident, version)] = description
        issued = record.issued if record else None
        ops += record_ops(ident, iri, version, status, who, now, issued, publisher)
    return versions, ops


@serialised
def withdraw(store: Store, ident: str, *, who: Identity, now: datetime | None = None) -> Record:
    """Take a product out of discovery; its history and record stay."""
    now = now or clock.now()
    record = get_record(store, ident)
    if record is None or record.withdrawn:
        raise NotFound(f"no registered product {ident}")
    if who.role != "admin":
        if who.role != "steward":
            raise Forbidden("only stewards (and admins) withdraw products")
        if (owner := owner_of(store, record)) != who.org:
            raise Forbidden(f"product {ident} belongs to organisation {owner or 'none'}")
    version = record.version + 1
    iri = ox.NamedNode(record.iri)
    publisher = ox.NamedNode(record.publisher) if record.publisher else None
    also = record_ops(ident, iri, version, "WITHDRAWN", who, now, record.issued, publisher)
    commit(
        store,
        {
            product_graph(ident): None,
            content_graph(ident): None,
            history_graph(ident, version): None,
        },
        also=also,
        check=False,
        history=True,
    )
    return get_record(store, ident)  # type: ignore[return-value]


@serialised
def put_product(
    store: Store,
    ident: str,
    description: Sequence[ox.Triple],
    content: Sequence[ox.Triple],
    *,
    agent: str = DEMO_AGENT,
    now: datetime | None = None,
) -> ox.NamedNode:
    """Write a product without rule checks (the demo loader, restores)."""
    now = now or clock.now()
    iri = product_iri(description)
    record = get_record(store, ident)
    version = (record.version + 1) if record else 1
    publisher = publisher_of(description, iri)
    who = Identity(role="admin", name="demo")
    also = record_ops(
        ident, iri, version, "COMPLETED", who, now, record.issued if record else None, publisher
    )
    commit(
        store,
        {
            product_graph(ident): description,
            content_graph(ident): content or None,
            history_graph(ident, version): [*description, *content],
            description_snapshot(ident, version): description,
        },
        also=also,
        check=False,
        history=True,
    )
    return iri


def register_agents(store: Store, quads: Sequence[ox.Quad | ox.Triple]) -> None:
    """Replace the agents graph (organisations and channels)."""
    commit(store, {AGENTS: [as_triple(q) for q in quads]}, check=False)
