"""The demo catalogue: the life event "Alvorlig sykt barn" end to end (package data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files

import pyoxigraph as ox

from .. import rdfio, registry
from ..graphs import replace_graphs
from ..namespaces import AGENTS, agreement_graph
from ..store import Store

ROOT = files(__name__)


@dataclass
class Product:
    """One product of the demo: its id, description and content triples."""

    ident: str
    description: list[ox.Triple] = field(default_factory=list)
    content: list[ox.Triple] = field(default_factory=list)


def products() -> list[Product]:
    """Every demo product, read from ``demo/products/{id}.trig``."""
    out = []
    folder = ROOT / "products"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".trig"):
            continue
        product = Product(entry.name[: -len(".trig")])
        quads = rdfio.parse_quads(
            entry.read_bytes(), ox.RdfFormat.TRIG, source=f"demo/products/{entry.name}"
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


def agreements() -> dict[str, list[ox.Quad]]:
    """Agreement id → its triples."""
    folder = ROOT / "agreements"
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".ttl"):
            out[entry.name[:-4]] = rdfio.parse_quads(
                entry.read_bytes(), ox.RdfFormat.TURTLE, source=f"demo/agreements/{entry.name}"
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


def load(store: Store, *, now: datetime | None = None) -> dict[str, int]:
    """Put the whole demo catalogue into ``store`` (idempotent: graphs are replaced)."""
    now = now or datetime.now(UTC)
    replace_graphs(store, {AGENTS: agents()})
    items = products()
    for product in items:
        registry.put_product(
            store,
            product.ident,
            product.description,
            product.content,
            agent=registry.DEMO_AGENT,
            now=now,
        )
    deals = agreements()
    replace_graphs(store, {agreement_graph(k): v for k, v in deals.items()})
    return {"products": len(items), "agreements": len(deals)}
