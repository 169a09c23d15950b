"""The benchmark's generator (bench/generate.py) on 20 products: its dump restores, its
products conform to the shared rules, and the peers' file is the anonymous view.
No timing is asserted here; ``make bench`` measures."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from eti.catalogue import rdfio, registry, validation
from eti.catalogue.auth import Identity
from eti.catalogue.core import Catalogue
from eti.catalogue.graphs import rebuild_public
from eti.catalogue.namespaces import AGENTS, PUBLIC
from eti.catalogue.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402
import mix  # noqa: E402

AS_OF = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench20")
    counts = generate.generate(20, 1, out)
    assert counts["products"] == 20
    return out


def test_same_seed_same_bytes(generated: Path, tmp_path: Path) -> None:
    generate.generate(20, 1, tmp_path)
    assert (tmp_path / "catalogue.nq").read_bytes() == (generated / "catalogue.nq").read_bytes()


def test_dump_restores_with_the_catalogue_graphs(generated: Path, tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "store")
    try:
        n = store.load(generated / "catalogue.nq", ox.RdfFormat.N_QUADS)
        graphs = store.named_graphs()
        assert n == generate_counts(generated)["catalogue_quads"]
        assert sum(g.startswith("urn:eti:graph:product:") for g in graphs) == 20
        assert PUBLIC in graphs and AGENTS in graphs
        record = registry.get_record(store, "pasient-og-brukerombud-000000")
        assert record is not None and record.version == 1 and not record.withdrawn
        # public = the union of the product graphs
        union = {
            str(t)
            for g in graphs
            if g.startswith("urn:eti:graph:product:")
            for t in store.triples(g)
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)
        }
        public = {
            str(t)
            for t in store.triples(PUBLIC)
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)
        }
        assert public == union
    finally:
        store.close()


def _shape(triples) -> set[str]:
    def term(t) -> str:
        return "_:b" if isinstance(t, ox.BlankNode) else str(t)

    return {f"{term(t.subject)} {t.predicate} {term(t.object)}" for t in triples}


def test_peer_file_is_the_anonymous_view(generated: Path, tmp_path: Path) -> None:
    """The peers get exactly the triples an anonymous caller of the catalogue reads, and
    the derived views of the dump are what the catalogue itself derives."""
    store = OxigraphStore(tmp_path / "store")
    store.load(generated / "catalogue.nq", ox.RdfFormat.N_QUADS)
    derived = (PUBLIC, "urn:eti:graph:open", "urn:eti:graph:read")
    dumped = {g: _shape(store.triples(g)) for g in derived}
    rebuild_public(store)
    for graph, triples in dumped.items():
        assert _shape(store.triples(graph)) == triples, graph
    store.close()
    with Catalogue(store=OxigraphStore(tmp_path / "store")) as cat:
        seen = set()
        for graph in cat.public_view():
            seen |= _shape(cat.store.triples(graph))
    peer = _shape(ox.parse(path=str(generated / "public.nq"), format=ox.RdfFormat.N_QUADS))
    assert peer == seen


def test_generated_products_conform(generated: Path) -> None:
    quads = list(ox.parse(path=str(generated / "catalogue.nq"), format=ox.RdfFormat.N_QUADS))
    keep = ("urn:eti:graph:product:", "urn:eti:graph:content:", "urn:eti:graph:agreement:")
    data = [q for q in quads if q.graph_name.value.startswith(keep)]
    agents = [q for q in quads if q.graph_name.value == AGENTS]
    report = validation.validate(
        rdfio.to_rdflib_graph(data), as_of=AS_OF, context=rdfio.to_rdflib_graph(agents)
    )
    assert report.conforms, report.text()
    assert not [r for r in report.results if r.severity == "Warning"], report.text()


@pytest.mark.parametrize("lean", [True, False])
def test_a_generated_product_registers(generated: Path, tmp_path: Path, lean: bool) -> None:
    store = OxigraphStore(tmp_path / "store")
    try:
        store.load(generated / "catalogue.nq", ox.RdfFormat.N_QUADS)
        product = generate.Generator(1).product(0, lean=lean, prefix="smoke-")
        quads = rdfio.parse_quads(generate.product_trig(product), ox.RdfFormat.TRIG)
        who = Identity(role="steward", org=product.owner.orgnr)
        reg = registry.register(store, quads, who=who, as_of=AS_OF)
        assert reg.created and reg.version == 1
        assert not [r for report in reg.reports for r in report.results]
    finally:
        store.close()


def test_every_query_of_the_mix_runs_on_the_peer_file(generated: Path) -> None:
    params = mix.load_params(generated / "params.json")
    store = ox.Store()
    store.bulk_load(path=str(generated / "public.nq"), format=ox.RdfFormat.N_QUADS)
    texts = [text for _name, text in mix.fixed_queries(params)]
    texts += [text for _name, text in mix.unique_queries(params, 2 * len(mix.NAMES), 1)]
    for text in [*texts, mix.TRIVIAL_ASK]:
        result = store.query(text, use_default_graph_as_union=True)
        if isinstance(result, ox.QueryBoolean):
            assert bool(result)
        else:
            list(result)
    assert len(set(texts[len(mix.NAMES) :])) == 2 * len(mix.NAMES)  # unique texts


def generate_counts(folder: Path) -> dict:
    import json

    return json.loads((folder / "manifest.json").read_text())
