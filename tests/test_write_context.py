"""The small context a write is validated with is read in one query, whatever the
number of agents, places and concepts a submission names (a registration spent a
query per named IRI: 17 for a lean product, a millisecond of its time)."""

from __future__ import annotations

import pyoxigraph as ox

from eti.catalogue import demo
from eti.catalogue.graphs import replace_graphs
from eti.catalogue.namespaces import AGENTS
from eti.catalogue.publishers import registered_agent
from eti.catalogue.store import Store
from eti.catalogue.writes import agents_named


def test_the_validation_context_was_a_query_per_named_iri(store: Store, monkeypatch) -> None:
    replace_graphs(store, {AGENTS: demo.agents()})
    product = max(demo.products(), key=lambda p: len(p.description) + len(p.content))
    triples = [*product.description, *product.content]
    named = {t.object for t in triples if isinstance(t.object, ox.NamedNode)}
    named -= {t.subject for t in triples}
    # the reference: what the agents graph says about each IRI, asked one by one
    expected = {str(t) for iri in named for t in registered_agent(store, iri)}
    assert expected, "the product names no agent of the demo: the test would prove nothing"

    asked: list[str] = []
    query = store.query

    def counting(sparql: str, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(sparql)
        return query(sparql, **kwargs)

    monkeypatch.setattr(store, "query", counting)
    found = agents_named(store, triples, {})
    assert {str(t) for t in found} == expected
    assert len(named) > 5 and len(asked) == 1
