"""Regression: replacing a content graph (every update or withdrawal of a product with
content) asked, for each of its triples in "open", whether another open product still
states it by deriving each such graph's product-graph name and asking it for an open
offer; the engine read every open offer of the store for each of them: 17 s to update one
product citing a legal resource shared by thousands at 1,000 products. Which content
graphs are open is now a fact in "opened" (``unpublish-open.rq``).

The cost is compared with itself (the fastest of three replacements before and after the
store gains many open products sharing a triple), not with a clock; and "open" must still
keep a triple another open product states."""

from __future__ import annotations

import time

import pyoxigraph as ox

from eti.catalogue import demo
from eti.catalogue.core import Catalogue
from eti.catalogue.graphs import replace_graphs
from eti.catalogue.namespaces import OPEN, OPENED, content_graph, product_graph

ODRL = "http://www.w3.org/ns/odrl/2/"
ETI = "https://w3id.org/eti#"
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OTHERS = 1500  # open products whose content states the shared triple


def _holds(cat: Catalogue, graph: str, triple: ox.Triple) -> bool:
    text = f"ASK {{ GRAPH <{graph}> {{ {triple.subject} {triple.predicate} {triple.object} }} }}"
    return bool(cat.store.query(text))


def _open_product(cat: Catalogue) -> demo.Product:
    fact = ox.NamedNode("urn:eti:sys:OpenContent")
    return next(
        p
        for p in demo.products()
        if p.content
        and _holds(cat, OPENED, ox.Triple(ox.NamedNode(content_graph(p.ident)), TYPE, fact))
    )


def _replace(cat: Catalogue, product: demo.Product) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        replace_graphs(cat.store, {content_graph(product.ident): list(product.content)})
        best = min(best, time.perf_counter() - started)
    return best


def _shared(cat: Catalogue, triple: ox.Triple) -> None:
    """Many open products (offer, description, content) stating ``triple``."""
    stated = f"{triple.subject} {triple.predicate} {triple.object} ."
    for start in range(0, OTHERS, 500):
        body = []
        for i in range(start, start + 500):
            offer = f"<https://eti.example/cost/offer/{i}>"
            body.append(
                f"GRAPH <{product_graph(f'cost-{i}')}> {{ <https://eti.example/cost/p/{i}> "
                f"<{ODRL}hasPolicy> {offer} . {offer} a <{ETI}OpenOffer> }} "
                f"GRAPH <{content_graph(f'cost-{i}')}> {{ {stated} }} "
                f"GRAPH <{OPENED}> {{ <{content_graph(f'cost-{i}')}> a <urn:eti:sys:OpenContent> }}"
            )
        cat.store.update("INSERT DATA { " + "\n".join(body) + " }")


def test_replacing_content_read_every_open_offer_for_each_shared_triple(
    catalogue: Catalogue,
) -> None:
    product = _open_product(catalogue)
    before = _replace(catalogue, product)
    triple = next(iter(product.content))
    _shared(catalogue, triple)
    after = _replace(catalogue, product)
    assert after < max(10 * before, 0.5), (before, after)  # old queries: 25 s
    # withdrawn, its content leaves "open" but what another open product states stays
    replace_graphs(catalogue.store, {content_graph(product.ident): None})
    assert _holds(catalogue, OPEN, triple)
    fact = ox.Triple(
        ox.NamedNode(content_graph(product.ident)), TYPE, ox.NamedNode("urn:eti:sys:OpenContent")
    )
    assert not _holds(catalogue, OPENED, fact)


def test_a_store_from_before_opened_existed_gets_it_when_prepared(catalogue: Catalogue) -> None:
    listed = "SELECT ?g WHERE { GRAPH <urn:eti:graph:opened> { ?g ?p ?o } } ORDER BY ?g"
    before = [row["g"] for row in catalogue.store.query(listed)]
    assert before  # the demo has open products with content
    catalogue.store.update(f"DROP GRAPH <{OPENED}>")
    assert catalogue.prepare().get("opened_recorded") == 1
    assert [row["g"] for row in catalogue.store.query(listed)] == before
    assert "opened_recorded" not in catalogue.prepare()  # once
