"""The Virtuoso dialect's refusal of GRAPH <g> outside the caller's named graphs, decided
on rdflib's parse of the query (catalogue/store/graphnames.py): every depth and spelling
the grammar allows is found; a text the parser cannot read is refused."""

from __future__ import annotations

import pytest

from eti.catalogue.store import GraphRefused
from eti.catalogue.store.dialects import VIRTUOSO_DEFAULT, dialect_for
from eti.catalogue.store.graphnames import graph_iris, refuse_outside

CLOSED = "urn:eti:graph:content:closed"
OPEN = "urn:eti:graph:open"
T = "?s ?p ?o"

HIDDEN = {
    "ASK": f"ASK {{ GRAPH <{CLOSED}> {{ <urn:a> a <urn:C> }} }}",
    "COUNT": f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{CLOSED}> {{ {T} }} }}",
    "subquery": f"SELECT * {{ {{ SELECT ?s {{ GRAPH <{CLOSED}> {{ {T} }} }} }} }}",
    "OPTIONAL": f"SELECT * {{ {T} OPTIONAL {{ GRAPH <{CLOSED}> {{ {T} }} }} }}",
    "UNION": f"SELECT * {{ {{ {T} }} UNION {{ GRAPH <{CLOSED}> {{ {T} }} }} }}",
    "MINUS": f"SELECT * {{ {T} MINUS {{ GRAPH <{CLOSED}> {{ {T} }} }} }}",
    "EXISTS": f"SELECT * {{ {T} FILTER EXISTS {{ GRAPH <{CLOSED}> {{ {T} }} }} }}",
    "NOT EXISTS in NOT EXISTS": (
        f"SELECT * {{ {T} FILTER NOT EXISTS {{ {T} "
        f"FILTER NOT EXISTS {{ GRAPH <{CLOSED}> {{ {T} }} }} }} }}"
    ),
    "EXISTS in BIND": f"SELECT * {{ BIND (EXISTS {{ GRAPH <{CLOSED}> {{ {T} }} }} AS ?e) }}",
    "prefixed name": (
        f"PREFIX c: <urn:eti:graph:content:> SELECT * {{ GRAPH c:closed {{ {T} }} }}"
    ),
    "\\u escape": "SELECT * { GRAPH <urn:eti:graph:content:\\u0063losed> { ?s ?p ?o } }",
    "CONSTRUCT": f"CONSTRUCT {{ {T} }} WHERE {{ GRAPH <{CLOSED}> {{ {T} }} }}",
    "DESCRIBE": f"DESCRIBE ?s WHERE {{ GRAPH <{CLOSED}> {{ {T} }} }}",
}


@pytest.mark.parametrize("shape", HIDDEN)
def test_graph_iri_is_found_at_any_depth(shape: str) -> None:
    assert graph_iris(HIDDEN[shape]) == {CLOSED}
    with pytest.raises(GraphRefused, match="cannot confine a named graph"):
        refuse_outside(HIDDEN[shape], [OPEN])
    refuse_outside(HIDDEN[shape], [OPEN, CLOSED])  # inside the view: sent


def test_graph_variables_and_text_that_only_looks_like_graph_are_not_refused() -> None:
    for text in (
        f"SELECT * {{ GRAPH ?g {{ {T} }} }}",
        f'SELECT * {{ {T} FILTER (?o = "GRAPH <{CLOSED}> {{ }}") }}',
        f"SELECT * {{ {T} }} # GRAPH <{CLOSED}> {{ }}",
    ):
        refuse_outside(text, [OPEN])


FIXED = {
    "VALUES": f"SELECT * {{ VALUES ?g {{ <{CLOSED}> }} GRAPH ?g {{ {T} }} }}",
    "VALUES after": f"SELECT * {{ GRAPH ?g {{ {T} }} }} VALUES ?g {{ <{CLOSED}> }}",
    "BIND": f"ASK {{ BIND (<{CLOSED}> AS ?g) GRAPH ?g {{ {T} }} }}",
    "FILTER": f"SELECT * {{ GRAPH ?g {{ {T} }} FILTER (?g = <{CLOSED}>) }}",
    "triple": f"SELECT * {{ <urn:x> <urn:p> ?g . GRAPH ?g {{ {T} }} }}",
    "subquery": f"SELECT * {{ {{ SELECT (<{CLOSED}> AS ?g) {{ }} }} GRAPH ?g {{ {T} }} }}",
}


@pytest.mark.parametrize("shape", FIXED)
def test_graph_variable_also_used_elsewhere_is_refused(shape: str) -> None:
    with pytest.raises(GraphRefused, match=r"GRAPH \?g is also used elsewhere"):
        refuse_outside(FIXED[shape], [OPEN, CLOSED])


def test_graph_variable_only_named_around_the_match_is_sent() -> None:
    for text in (
        f"SELECT ?g (COUNT(*) AS ?n) {{ GRAPH ?g {{ {T} }} }} GROUP BY ?g ORDER BY ?g",
        f"SELECT (STR(?g) AS ?name) {{ GRAPH ?g {{ {T} }} }}",
        f"CONSTRUCT {{ ?s ?p ?g }} WHERE {{ GRAPH ?g {{ {T} }} }}",
        f"SELECT * {{ GRAPH ?g {{ {T} }} GRAPH ?g {{ ?o ?p ?s }} }}",
    ):
        refuse_outside(text, [OPEN])


def test_a_text_the_parser_cannot_read_is_refused() -> None:
    with pytest.raises(GraphRefused, match="could not be read"):
        refuse_outside(f"SELECT * WHERE {{ GRAPH <{CLOSED}> {{ {T} }}", [CLOSED])


def test_the_virtuoso_dialect_refuses_before_sending_and_oxigraph_does_not() -> None:
    query = HIDDEN["ASK"]
    with pytest.raises(GraphRefused, match=f"<{CLOSED}>"):
        dialect_for("virtuoso").query_form(query, [OPEN], [OPEN], None)
    form = dialect_for("oxigraph").query_form(query, [OPEN], [OPEN], None)
    assert ("named-graph-uri", OPEN) in form  # the standard engine keeps to the dataset
    # no caller's dataset (the catalogue's own queries): nothing to confine
    assert dialect_for("virtuoso").query_form(query, None, None, None)
    # the store's default graph, named by the dataset, is inside the view
    default = f"ASK {{ GRAPH <{VIRTUOSO_DEFAULT}> {{ {T} }} }}"
    assert dialect_for("virtuoso").query_form(default, [""], [""], None)
