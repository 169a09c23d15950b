"""Writing products: one product's graphs and its catalogue record in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pyoxigraph as ox

from . import queries
from .graphs import insert_data, replace_graphs
from .namespaces import (
    DCAT,
    DCT,
    DPROD,
    FOAF,
    PROV,
    RDF,
    RECORDS,
    XSD,
    content_graph,
    product_graph,
)
from .store import Store, bind_inline

DEMO_AGENT = "urn:eti:agent:demo-loader"


class RegistrationError(ValueError):
    """A product description the catalogue cannot take (not a rule: a shape problem)."""


def record_iri(ident: str) -> str:
    """The catalogue record of a product."""
    return f"urn:eti:record:{ident}"


def product_iri(description: Sequence[ox.Triple]) -> ox.NamedNode:
    """The one ``dprod:DataProduct`` a description is about."""
    typed = {
        t.subject
        for t in description
        if t.predicate.value == RDF + "type"
        and isinstance(t.object, ox.NamedNode)
        and t.object.value == DPROD + "DataProduct"
    }
    if len(typed) != 1:
        raise RegistrationError(
            f"a product description must describe exactly one dprod:DataProduct, found {len(typed)}"
        )
    (iri,) = typed
    if not isinstance(iri, ox.NamedNode):
        raise RegistrationError("the data product must be named by an IRI, not a blank node")
    return iri


def _lit(value: datetime) -> ox.Literal:
    return ox.Literal(
        value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        datatype=ox.NamedNode(XSD + "dateTime"),
    )


def put_product(
    store: Store,
    ident: str,
    description: Sequence[ox.Triple],
    content: Sequence[ox.Triple],
    *,
    agent: str,
    now: datetime | None = None,
) -> ox.NamedNode:
    """Write a product's description, content and record in one transaction."""
    now = now or datetime.now(UTC)
    iri = product_iri(description)
    record = ox.NamedNode(record_iri(ident))
    issued = _issued(store, record) or _lit(now)

    def t(p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
        return ox.Triple(record, ox.NamedNode(p), o)

    record_triples = [
        t(RDF + "type", ox.NamedNode(DCAT + "CatalogRecord")),
        t(FOAF + "primaryTopic", iri),
        t(DCT + "identifier", ox.Literal(ident)),
        t(DCT + "issued", issued),
        t(DCT + "modified", _lit(now)),
        t(PROV + "wasAttributedTo", ox.NamedNode(agent)),
    ]
    record_data = insert_data({RECORDS: record_triples})
    clear = bind_inline(queries.load("clear-record"), {"record": record})
    replace_graphs(
        store,
        {product_graph(ident): description, content_graph(ident): content},
        also=[clear, record_data],
    )
    return iri


def _issued(store: Store, record: ox.NamedNode) -> ox.Literal | None:
    rows = list(store.query(queries.load("record-issued"), bindings={"record": record}))
    return rows[0]["issued"] if rows else None
