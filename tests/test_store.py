"""The store interface: the same behaviour from the embedded and the remote implementation."""

from __future__ import annotations

import io

import pyoxigraph as ox
import pytest

from eti.catalogue import rdfio
from eti.catalogue.graphs import rebuild_public, replace_graphs
from eti.catalogue.namespaces import PUBLIC, product_graph
from eti.catalogue.store import OxigraphStore, QuerySyntaxError, Store, bind_inline

EX = "http://example.org/"
TTL = b"""@prefix ex: <http://example.org/> .
ex:a ex:p "caf\xc3\xa9"@nb , 42 ; ex:q [ ex:r ex:b ; ex:s [ ex:t "deep" ] ] .
"""
TRIG = b"""@prefix ex: <http://example.org/> .
<urn:eti:graph:product:a> { ex:a ex:p ex:b . _:x ex:in ex:a . }
<urn:eti:graph:product:b> { ex:b ex:p ex:c . _:x ex:in ex:b . }
"""


def graphs_of(store: Store) -> dict[str, ox.Dataset]:
    out = io.BytesIO()
    store.dump(out)
    ds = ox.Dataset(ox.parse(out.getvalue(), ox.RdfFormat.N_QUADS))
    by_graph: dict[str, ox.Dataset] = {}
    for q in ds:
        by_graph.setdefault(q.graph_name.value, ox.Dataset()).add(q)
    return by_graph


def test_load_then_query_with_bound_values(store: Store) -> None:
    n = store.load(TTL, ox.RdfFormat.TURTLE, graph="urn:test:g")
    assert n == 6
    rows = list(
        store.query(
            "SELECT ?o WHERE { GRAPH ?g { ?s <http://example.org/p> ?o } }",
            bindings={"g": ox.NamedNode("urn:test:g"), "s": ox.NamedNode(EX + "a")},
        )
    )
    values = sorted(r["o"].value for r in rows)
    assert values == ["42", "café"]
    assert store.count("urn:test:g") == 6
    assert store.named_graphs() == ["urn:test:g"]


def test_bound_values_are_escaped_not_pasted(store: Store) -> None:
    store.load(TTL, ox.RdfFormat.TURTLE, graph="urn:test:g")
    hostile = ox.Literal('x" } } ; DROP ALL ; #')
    rows = list(
        store.query(
            "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }",
            bindings={"o": hostile, "g": ox.NamedNode("urn:test:g")},
        )
    )
    assert rows == []
    assert store.count() == 6


def test_malformed_load_changes_nothing(store: Store) -> None:
    store.load(TTL, ox.RdfFormat.TURTLE, graph="urn:test:g")
    before = graphs_of(store)
    bad = TTL + b'ex:z ex:p ex:q .\nex:broken ex:p "unterminated .\n'
    with pytest.raises(rdfio.RdfInputError) as info:
        store.load(bad, ox.RdfFormat.TURTLE, graph="urn:test:other")
    assert info.value.line == 4
    assert graphs_of(store) == before


def test_dump_then_load_is_lossless_with_blank_nodes(store: Store) -> None:
    store.load(TRIG, ox.RdfFormat.TRIG)
    store.load(TTL, ox.RdfFormat.TURTLE, graph="urn:test:g")
    out = io.BytesIO()
    store.dump(out)
    original = ox.Dataset(ox.parse(out.getvalue(), ox.RdfFormat.N_QUADS))
    store.update("DROP ALL")
    assert store.is_empty()
    store.load(out.getvalue(), ox.RdfFormat.N_QUADS)
    again = io.BytesIO()
    store.dump(again)
    restored = ox.Dataset(ox.parse(again.getvalue(), ox.RdfFormat.N_QUADS))
    original.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    restored.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    assert original == restored
    assert len(restored) == 10


def test_dump_one_graph(store: Store) -> None:
    store.load(TRIG, ox.RdfFormat.TRIG)
    out = io.BytesIO()
    store.dump(out, ox.RdfFormat.N_TRIPLES, graph="urn:eti:graph:product:a")
    triples = list(ox.parse(out.getvalue(), ox.RdfFormat.N_TRIPLES))
    assert len(triples) == 2


def test_query_syntax_error_says_where(store: Store) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        store.query("SELECT ?s WHERE { ?s ?p }")
    assert "1" in str(info.value)


def test_public_view_follows_replacements(store: Store) -> None:
    a, b = product_graph("a"), product_graph("b")
    shared = ox.Triple(ox.NamedNode(EX + "org"), ox.NamedNode(EX + "name"), ox.Literal("NAV"))
    only_a = ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.Literal("1"))
    only_b = ox.Triple(ox.NamedNode(EX + "b"), ox.NamedNode(EX + "p"), ox.Literal("2"))
    replace_graphs(store, {a: [shared, only_a], b: [shared, only_b]})
    assert store.count(PUBLIC) == 3
    # replacing a drops only what no other product graph states
    replace_graphs(store, {a: [only_a]})
    public = {str(t) for t in store.triples(PUBLIC)}
    assert str(shared) in public and str(only_a) in public
    replace_graphs(store, {b: None})
    public = {str(t) for t in store.triples(PUBLIC)}
    assert public == {str(only_a)}
    # two graphs sharing a triple, both replaced in one write
    replace_graphs(store, {a: [shared], b: [shared]})
    replace_graphs(store, {a: [only_a], b: [only_b]})
    assert {str(t) for t in store.triples(PUBLIC)} == {str(only_a), str(only_b)}


def test_rebuild_public_after_raw_load(store: Store) -> None:
    store.load(TRIG, ox.RdfFormat.TRIG)
    assert store.count(PUBLIC) == 0
    rebuild_public(store)
    assert store.count(PUBLIC) == 4


def test_replace_graphs_is_one_transaction(store: Store) -> None:
    a = product_graph("a")
    t = ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.Literal("1"))
    replace_graphs(store, {a: [t]})
    with pytest.raises(QuerySyntaxError):
        replace_graphs(store, {a: []}, also=["THIS IS NOT SPARQL"])
    assert store.count(a) == 1 and store.count(PUBLIC) == 1


def test_bind_inline_needs_where() -> None:
    with pytest.raises(ValueError):
        bind_inline("ASK { ?s ?p ?o }", {"s": ox.NamedNode(EX)})
    with pytest.raises(TypeError):
        bind_inline("ASK WHERE { ?s ?p ?o }", {"s": ox.BlankNode()})


OPEN_OFFER = """@prefix odrl: <http://www.w3.org/ns/odrl/2/> . @prefix eti: <https://w3id.org/eti#> .
<http://example.org/{id}> odrl:hasPolicy <http://example.org/{id}/offer> .
<http://example.org/{id}/offer> a odrl:Offer {open} .
"""


def _triples_of(text: str) -> list[ox.Triple]:
    return [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in rdfio.parse_quads(text.encode(), ox.RdfFormat.TURTLE)
    ]


def test_open_view_follows_offers_and_content(store: Store) -> None:
    from eti.catalogue.namespaces import OPEN, content_graph

    shared = ox.Triple(ox.NamedNode(EX + "law"), ox.NamedNode(EX + "title"), ox.Literal("§ 9-10"))
    own = ox.Triple(ox.NamedNode(EX + "svc-a"), ox.NamedNode(EX + "p"), ox.Literal("a"))
    open_desc = _triples_of(OPEN_OFFER.format(id="a", open=", eti:OpenOffer"))
    closed_desc = _triples_of(OPEN_OFFER.format(id="b", open=""))
    replace_graphs(
        store,
        {
            product_graph("a"): open_desc,
            content_graph("a"): [shared, own],
            product_graph("b"): closed_desc,
            content_graph("b"): [shared],
        },
    )
    assert {str(t) for t in store.triples(OPEN)} == {str(shared), str(own)}
    # the offer closes: the content leaves the open view (a description-only write)
    replace_graphs(store, {product_graph("a"): _triples_of(OPEN_OFFER.format(id="a", open=""))})
    assert store.count(OPEN) == 0
    # it opens again, then its content is withdrawn: b's closed copy of a shared triple
    # does not keep it public
    replace_graphs(store, {product_graph("a"): open_desc})
    assert store.count(OPEN) == 2
    replace_graphs(store, {product_graph("a"): None, content_graph("a"): None})
    assert store.count(OPEN) == 0
    rebuild_public(store)
    assert store.count(OPEN) == 0


def test_bound_values_become_constants_but_projections_stay_variables() -> None:
    text = 'SELECT ?g ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?s != "?g") } ORDER BY ?g'
    bound = bind_inline(text, {"g": ox.NamedNode("urn:x:g")})
    assert bound.startswith("SELECT ?g ?o WHERE { BIND (<urn:x:g> AS ?g)")
    assert "GRAPH <urn:x:g> {" in bound and 'FILTER(?s != "?g")' in bound
    assert bound.endswith("ORDER BY ?g")
    store = OxigraphStore()
    store.load(TTL, ox.RdfFormat.TURTLE, graph="urn:x:g")
    rows = list(store.query(text, bindings={"g": ox.NamedNode("urn:x:g")}))
    assert len(rows) == 6 and all(r["g"].value == "urn:x:g" for r in rows)


def _read_and_sources(store: Store) -> tuple[set[str], set[str]]:
    from eti.catalogue.graphs import READ_VIEW
    from eti.catalogue.namespaces import READ

    sources = {str(t) for g in READ_VIEW for t in store.triples(g)}
    return {str(t) for t in store.triples(READ)}, sources


@pytest.mark.parametrize("seed", range(4))
def test_read_view_is_the_union_of_its_sources(store: Store, seed: int) -> None:
    """Random replacements of product, content, agents and vocabulary graphs sharing
    triples, offers opening and closing, records rewritten: after every write the one
    graph anonymous queries read equals the union of public, open, agents, records and
    vocabularies (nothing left behind, nothing missing); a rebuild agrees."""
    import random

    from eti.catalogue import queries
    from eti.catalogue.graphs import insert_data
    from eti.catalogue.namespaces import AGENTS, READ, RECORDS, VOCABULARIES, content_graph

    rng = random.Random(seed)
    pool = [
        ox.Triple(ox.NamedNode(f"{EX}s{i % 4}"), ox.NamedNode(EX + "p"), ox.Literal(str(i % 6)))
        for i in range(12)
    ]
    for step in range(25):
        changes: dict[str, list[ox.Triple] | None] = {}
        for ident in rng.sample("abc", rng.randint(1, 3)):
            if rng.random() < 0.2:
                changes[product_graph(ident)] = None
                changes[content_graph(ident)] = None
                continue
            opened = ", eti:OpenOffer" if rng.random() < 0.5 else ""
            if rng.random() < 0.7:
                changes[product_graph(ident)] = [
                    *_triples_of(OPEN_OFFER.format(id=ident, open=opened)),
                    *rng.sample(pool, 3),
                ]
            if rng.random() < 0.7:
                changes[content_graph(ident)] = rng.sample(pool, 4)
        for shared in (AGENTS, VOCABULARIES):
            if rng.random() < 0.3:
                changes[shared] = rng.sample(pool, 3)
        record = ox.NamedNode(f"{EX}record")
        written = [ox.Triple(record, ox.NamedNode(EX + "v"), ox.Literal(str(step))), pool[0]]
        also = [
            bind_inline(queries.load("stage-record"), {"record": record}),
            bind_inline(queries.load("clear-current-record"), {"record": record}),
            insert_data({RECORDS: written, READ: written}),
        ]
        replace_graphs(store, changes, also=also if rng.random() < 0.5 else ())
        read, sources = _read_and_sources(store)
        assert read == sources, f"step {step}: {changes.keys()}"
    rebuild_public(store)
    assert _read_and_sources(store)[0] == read


def _canonical(nquads: bytes) -> ox.Dataset:
    dataset = ox.Dataset(ox.parse(nquads, ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def test_remote_load_keeps_a_blank_node_shared_across_batches_one_node(
    store: Store, tmp_path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Regression: the remote store sent a load as INSERT DATA requests of 20,000 quads,
    and each request gives blank node labels fresh nodes: a ``_:b`` in 25,000 quads came
    back as two nodes, and a dump restored into ``oxigraph serve`` differed."""
    from engines import VIRTUOSO_BUGS

    from eti.catalogue.store import RemoteStore

    if store.engine == "virtuoso":  # one blank node in two graphs of one request
        request.applymarker(pytest.mark.xfail(reason=VIRTUOSO_BUGS["bnode-graphs"], strict=True))

    monkeypatch.setattr(RemoteStore, "batch_size", 7)
    g = "<urn:test:g>"
    lines = [f"_:shared <{EX}p> <{EX}o{i}> {g} ." for i in range(25)]  # one node, 25 quads
    lines += [f"<{EX}s{i}> <{EX}p> <{EX}o{i}> {g} ." for i in range(30)]  # no blank nodes
    # a chain of blank nodes, linked only through each other, across the file
    lines += [f"_:c{i} <{EX}next> _:c{i + 1} {g} ." for i in range(12)]
    lines += [f'_:c{i} <{EX}n> "{i}" <urn:test:h> .' for i in range(13)]
    lines += [f"_:lone{i} <{EX}p> _:lone{i} {g} ." for i in range(9)]  # small groups
    source = ("\n".join(lines[::2] + lines[1::2]) + "\n").encode()  # interleaved
    assert store.load(source, ox.RdfFormat.N_QUADS) == len(lines)
    out = io.BytesIO()
    store.dump(out)
    assert _canonical(out.getvalue()) == _canonical(source)
    shared = {q.subject for q in ox.parse(out.getvalue(), ox.RdfFormat.N_QUADS)}
    assert sum(isinstance(s, ox.BlankNode) for s in shared) == 1 + 13 + 9
    # and a dump restored into the emptied store is the same again
    backup = tmp_path / "backup.nq"
    backup.write_bytes(out.getvalue())
    store.update("DROP ALL")
    store.restore(backup, ox.RdfFormat.N_QUADS)
    again = io.BytesIO()
    store.dump(again)
    assert _canonical(again.getvalue()) == _canonical(source)


def test_bind_inline_keeps_the_tokens_not_the_values_of_a_text() -> None:
    """The tokens of a text are kept between calls (a sixth of a registration's work was
    tokenising the same ``.rq`` again); each call still gets its own values."""
    text = "SELECT ?s ?o WHERE { ?s <urn:x:p> ?o } ORDER BY ?o"
    first = bind_inline(text, {"s": ox.NamedNode("urn:x:a")})
    second = bind_inline(text, {"s": ox.NamedNode("urn:x:b")})
    assert "urn:x:a" in first and "urn:x:b" not in first
    assert "urn:x:b" in second and "urn:x:a" not in second
    both = bind_inline(text, {"s": ox.NamedNode("urn:x:c"), "o": ox.Literal("v")})
    assert "BIND (<urn:x:c> AS ?s)" in both and 'BIND ("v" AS ?o)' in both
    assert both.endswith("ORDER BY ?o")
    store = OxigraphStore()
    store.update('INSERT DATA { <urn:x:b> <urn:x:p> "w" }')
    rows = list(store.query(text, bindings={"s": ox.NamedNode("urn:x:b")}))
    assert [(r["s"].value, r["o"].value) for r in rows] == [("urn:x:b", "w")]
