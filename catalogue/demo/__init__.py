"""The demo catalogue: the life event "Alvorlig sykt barn" end to end (package data).

The files are written as of ``WRITTEN_ON``. Loaded on another day, every ``xsd:date`` and
``xsd:dateTime`` in them moves by the days between, so a demo loaded any day looks like a
live catalogue: products updated recently, one agreement expired, one terminated, the
rest in force. Only dates move; the facts (texts, legal bases, organisations) do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib.resources import files

import pyoxigraph as ox

from .. import clock, rdfio, registry
from ..graphs import replace_graphs
from ..namespaces import AGENTS, agreement_graph
from ..store import Store

ROOT = files(__name__)
WRITTEN_ON = date(2026, 12, 1)  # the day the demo files' dates are written as of
_XSD = "http://www.w3.org/2001/XMLSchema#"
_DATE, _DATETIME = ox.NamedNode(_XSD + "date"), ox.NamedNode(_XSD + "dateTime")


def _shift(quads: list[ox.Quad], day: date | None) -> list[ox.Quad]:
    """``quads`` with every date and date-time moved from WRITTEN_ON to ``day``
    (default: the catalogue's today)."""
    delta = (day or clock.today()) - WRITTEN_ON
    if not delta:
        return quads
    return [ox.Quad(q.subject, q.predicate, _moved(q.object, delta), q.graph_name) for q in quads]


def _moved(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, delta: timedelta):  # type: ignore[no-untyped-def]
    if not isinstance(term, ox.Literal):
        return term
    if term.datatype == _DATE:
        return ox.Literal((date.fromisoformat(term.value) + delta).isoformat(), datatype=_DATE)
    if term.datatype == _DATETIME:
        moment = datetime.fromisoformat(term.value.replace("Z", "+00:00")) + delta
        text = moment.isoformat().replace("+00:00", "Z")
        return ox.Literal(text, datatype=_DATETIME)
    return term


@dataclass
class Product:
    """One product of the demo: its id, description and content triples."""

    ident: str
    description: list[ox.Triple] = field(default_factory=list)
    content: list[ox.Triple] = field(default_factory=list)


def products(day: date | None = None) -> list[Product]:
    """Every demo product, read from ``demo/products/{id}.trig``, dated as loaded on
    ``day`` (default: the catalogue's today)."""
    out = []
    folder = ROOT / "products"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".trig"):
            continue
        product = Product(entry.name[: -len(".trig")])
        quads = _shift(
            rdfio.parse_quads(
                entry.read_bytes(), ox.RdfFormat.TRIG, source=f"demo/products/{entry.name}"
            ),
            day,
        )
        for q in quads:
            triple = ox.Triple(q.subject, q.predicate, q.object)
            if isinstance(q.graph_name, ox.DefaultGraph):
                product.description.append(triple)
            else:
                product.content.append(triple)
        out.append(product)
    return out


def agents() -> list[ox.Quad]:
    """Organisations, places and information channels of the demo."""
    return rdfio.parse_quads(
        (ROOT / "agents.ttl").read_bytes(), ox.RdfFormat.TURTLE, source="demo/agents.ttl"
    )


def agreements(day: date | None = None) -> dict[str, list[ox.Quad]]:
    """Agreement id → its triples, dated as loaded on ``day`` (default: today)."""
    folder = ROOT / "agreements"
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".ttl"):
            out[entry.name[:-4]] = _shift(
                rdfio.parse_quads(
                    entry.read_bytes(),
                    ox.RdfFormat.TURTLE,
                    source=f"demo/agreements/{entry.name}",
                ),
                day,
            )
    return out


def example_queries() -> dict[str, str]:
    """File name → text of the example queries in ``demo/queries``."""
    folder = ROOT / "queries"
    return {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".rq")
    }


def _is_open(product: Product) -> bool:
    return any(t.object.value == "https://w3id.org/eti#OpenOffer" for t in product.description)


def load(store: Store, *, now: datetime | None = None) -> dict[str, int]:
    """Put the whole demo catalogue into ``store`` (idempotent: graphs are replaced), its
    dates moved to the day of ``now`` (default: the catalogue's clock)."""
    now = now or clock.now()
    replace_graphs(store, {AGENTS: agents()})
    # products with an open offer first: a resource two products cite (a legal resource)
    # then belongs to the one that publishes it, and the other may restate it
    items = sorted(products(now.date()), key=lambda p: (not _is_open(p), p.ident))
    for product in items:
        registry.put_product(
            store,
            product.ident,
            product.description,
            product.content,
            agent=registry.DEMO_AGENT,
            now=now,
        )
    deals = agreements(now.date())
    replace_graphs(store, {agreement_graph(k): v for k, v in deals.items()})
    return {"products": len(items), "agreements": len(deals)}
