"""A write that makes triples public takes them out of every per-caller view holding them
through a source that still feeds it (views and "read" never overlap: a caller reads
[read, view] and would get such a triple twice). The randomised equivalence test of
tests/test_views.py passes with that upkeep removed (its steps never reach the case:
each read reconciles the views whose sources changed), so this case is written out:
a steward's closed product states a resource (a legal resource) that no public graph
states yet, then an open product of the same organisation states it too."""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
from test_views import ETI_OPEN, _org_of, _variant

from eti.catalogue import demo, registry
from eti.catalogue.auth import Identity
from eti.catalogue.core import Catalogue
from eti.catalogue.namespaces import READ


def _opened_copy(template: demo.Product, name: str) -> list[ox.Quad]:
    """A copy of ``template`` under ``name`` with an open offer, every title kept."""
    mark = ox.Literal("title to restore", language="nb")
    titles = {
        (t.subject, t.predicate): t.object
        for t in [*template.description, *template.content]
        if isinstance(t.object, ox.Literal) and t.object.language == "nb"
    }
    out = []
    for q in _variant(template, name, open_=True, title=mark.value):
        obj = q.object
        if obj == mark:  # the product's own title has been renamed: any title will do
            obj = titles.get((q.subject, q.predicate), ox.Literal(name, language="nb"))
        out.append(ox.Quad(q.subject, q.predicate, obj, q.graph_name))
    return out


def test_triples_made_public_left_the_views_that_hold_them(catalogue: Catalogue) -> None:
    store = catalogue.store
    public = {str(t) for t in store.triples(READ)}
    template, cited = next(
        (p, shared)
        for p in demo.products()
        if not any(t.object == ETI_OPEN for t in p.description)
        and (shared := {str(t) for t in p.content if p.ident not in str(t)} - public)
    )
    steward = Identity("steward", org=_org_of(template.ident))
    view = catalogue.access(steward).default[1]
    assert cited <= {str(t) for t in store.triples(view)}  # the closed content feeds it

    registry.register(store, _opened_copy(template, template.ident + "-open"), who=steward)

    entered = cited & {str(t) for t in store.triples(READ)}
    assert entered, "nothing the closed product states became public: nothing tested"
    assert not entered & {str(t) for t in store.triples(view)}
    rows = store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", default_graph=[READ, view])
    twice = [k for k, n in Counter(f"{r['s']} {r['p']} {r['o']}" for r in rows).items() if n > 1]
    assert not twice
