"""The catalogue record of a product and its versions: reading them, and the triples
a write leaves.

Every registration, update and withdrawal writes a ``dcat:CatalogRecord`` (PROV-O: who,
when, which version, its status) and a snapshot of the version, so any earlier version
can be read back; ``history`` compares the snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from . import queries
from .auth import Identity
from .graphs import insert_data
from .namespaces import (
    ADMS,
    DCAT,
    DCT,
    FOAF,
    PROV,
    RDFS,
    READ,
    RECORDS,
    XSD,
    history_graph,
)
from .provenance import agent_iri, agent_triples
from .store import Store, bind_inline
from .submission import TYPE, description_part, triple_key

STATUS = "http://publications.europa.eu/resource/authority/distribution-status/"


@dataclass
class Record:
    """The catalogue's record of a product."""

    ident: str
    iri: str
    version: int
    status: str
    publisher: str | None
    orgnr: str | None
    issued: str | None
    modified: str | None

    @property
    def withdrawn(self) -> bool:
        return self.status.endswith("WITHDRAWN")


@dataclass
class Version:
    """One version of a product, and what it changed."""

    version: int
    issued: str
    status: str
    agent: str | None
    added: list[ox.Triple]
    removed: list[ox.Triple]

    def to_json(self) -> dict[str, object]:
        """The version as the history answers give it (HTTP and ``eti history``)."""
        return {
            "version": self.version,
            "issued": self.issued,
            "status": self.status,
            "agent": self.agent,
            "added": [str(t) for t in self.added],
            "removed": [str(t) for t in self.removed],
        }


def record_iri(ident: str, version: int | None = None) -> str:
    """The catalogue record of a product (or of one of its versions)."""
    return f"urn:eti:record:{ident}" + (f":v{version}" if version else "")


def description_snapshot(ident: str, version: int) -> str:
    """The graph holding the description alone of version ``version`` (the history graph
    holds description and content): what anyone may see of an earlier version."""
    return f"{history_graph(ident, version).rsplit(':', 1)[0]}:description-{int(version)}"


def get_record(store: Store, ident: str) -> Record | None:
    """The record of product ``ident``, or None."""
    rows = list(
        store.query(
            queries.load("product-record"), bindings={"record": ox.NamedNode(record_iri(ident))}
        )
    )
    if not rows:
        return None
    row = rows[0]

    def val(name: str) -> str | None:
        return row[name].value if row[name] is not None else None

    return Record(
        ident,
        row["product"].value,
        int(row["version"].value),
        row["status"].value,
        val("publisher"),
        val("orgnr"),
        val("issued"),
        val("modified"),
    )


def id_of_iri(store: Store, iri: ox.NamedNode) -> str | None:
    """The id under which a product IRI is registered."""
    rows = list(store.query(queries.load("record-of-product"), bindings={"product": iri}))
    return rows[0]["id"].value if rows else None


def history(store: Store, ident: str, *, with_content: bool = True) -> list[Version]:
    """Every version of a product, oldest first, with the triples each added and removed.

    Without ``with_content`` only the descriptions are compared: the content of a product
    without an open offer is for the holders of an agreement, also in its history."""
    rows = list(
        store.query(
            queries.load("product-versions"), bindings={"record": ox.NamedNode(record_iri(ident))}
        )
    )
    out: list[Version] = []
    previous: set[str] = set()
    previous_triples: dict[str, ox.Triple] = {}
    for row in sorted(rows, key=lambda r: int(r["version"].value)):
        n = int(row["version"].value)
        if with_content:
            triples = store.triples(history_graph(ident, n))
        else:
            triples = _description_of_version(store, ident, n)
        current = {triple_key(t): t for t in triples}
        added = [current[k] for k in sorted(set(current) - previous)]
        removed = [previous_triples[k] for k in sorted(previous - set(current))]
        out.append(
            Version(
                n,
                row["issued"].value,
                row["status"].value.rsplit("/", 1)[-1],
                row["agent"].value if row["agent"] is not None else None,
                added,
                removed,
            )
        )
        previous, previous_triples = set(current), current
    return out


def _description_of_version(store: Store, ident: str, version: int) -> list[ox.Triple]:
    """The description of one version: its own snapshot, or for a version written before
    descriptions were kept apart, the part of the whole snapshot the product reaches
    without passing through its content (a conservative guess: never content)."""
    kept = store.triples(description_snapshot(ident, version))
    if kept:
        return kept
    return description_part(store.triples(history_graph(ident, version)))


def version_triples(store: Store, ident: str, version: int) -> list[ox.Triple]:
    """The description and content of one earlier version."""
    return store.triples(history_graph(ident, version))


def record_stamp(value: datetime) -> ox.Literal:
    """A record's dct:modified: whole seconds, UTC, "Z" (the search index looks records up
    by this exact form, second by second)."""
    text = value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return ox.Literal(text, datatype=ox.NamedNode(XSD + "dateTime"))


def record_ops(
    ident: str,
    iri: ox.NamedNode,
    version: int,
    status: str,
    who: Identity,
    now: datetime,
    issued: ox.Literal | str | None,
    publisher: ox.NamedNode | None,
) -> list[str]:
    """The updates that make version ``version`` the record's current one, attributed
    to ``who`` (the record triples go to the records graph and the public view)."""
    record = ox.NamedNode(record_iri(ident))
    this = ox.NamedNode(record_iri(ident, version))
    agent = ox.NamedNode(agent_iri(who))
    when = record_stamp(now)
    if isinstance(issued, str):
        issued = ox.Literal(issued, datatype=ox.NamedNode(XSD + "dateTime"))

    def t(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
        return ox.Triple(s, ox.NamedNode(p), o)

    triples = [
        t(record, TYPE, ox.NamedNode(DCAT + "CatalogRecord")),
        t(record, FOAF + "primaryTopic", iri),
        t(record, DCT + "identifier", ox.Literal(ident)),
        t(record, DCT + "issued", issued or when),
        t(record, DCT + "modified", when),
        t(record, DCAT + "version", ox.Literal(str(version))),
        t(record, ADMS + "status", ox.NamedNode(STATUS + status)),
        t(record, PROV + "wasAttributedTo", agent),
        t(record, DCAT + "hasVersion", this),
        t(record, DCAT + "hasCurrentVersion", this),
        t(this, TYPE, ox.NamedNode(DCAT + "CatalogRecord")),
        t(this, FOAF + "primaryTopic", iri),
        t(this, DCAT + "version", ox.Literal(str(version))),
        t(this, DCT + "issued", when),
        t(this, ADMS + "status", ox.NamedNode(STATUS + status)),
        t(this, PROV + "wasAttributedTo", agent),
        t(this, PROV + "generatedAtTime", when),
        t(this, RDFS + "seeAlso", ox.NamedNode(history_graph(ident, version))),
    ]
    if publisher is not None:
        triples.append(t(record, DCT + "publisher", publisher))
    if version > 1:
        triples.append(
            t(this, DCAT + "previousVersion", ox.NamedNode(record_iri(ident, version - 1)))
        )
    triples += agent_triples(who)  # a JWT client: its id and whom it acted for
    stage = bind_inline(queries.load("stage-record"), {"record": record})
    clear = bind_inline(queries.load("clear-current-record"), {"record": record})
    return [stage, clear, insert_data({RECORDS: triples, READ: triples})]
