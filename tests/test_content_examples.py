"""Others' public-service descriptions load as a product's content; a broken one is
refused with its line number."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import SHARED, needs_shared

from eti.catalogue import rdfio, registry
from eti.catalogue.store import OxigraphStore

DESCRIPTION = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_bytes()
EXAMPLES = [
    "cpsv-ap-no/exAlleKlasser.ttl",
    "cpsv-ap-no/exAlleKlasser2.ttl",
    "cpsv-ap-no/exKatalog.ttl",
    "cpsv-ap-no/exLivshendelse.ttl",
    "fdk/service1.ttl",
]


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/conformance is absent")
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_loads_as_product_content(tmp_path: Path, name: str) -> None:
    example = needs_shared(name)
    # exAlleKlasser2 uses <> as a placeholder: relative IRIs need a base
    base = f"https://example.org/conformance/{name}"
    content = [
        ox.Triple(q.subject, q.predicate, q.object) for q in rdfio.read_file(example, base_iri=base)
    ]
    assert content
    description = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in rdfio.parse_quads(DESCRIPTION, ox.RdfFormat.TRIG)
        if isinstance(q.graph_name, ox.DefaultGraph)
    ]
    store = OxigraphStore(tmp_path / "s")
    try:
        registry.put_product(store, "nav-pleiepenger", description, content)
        assert store.count("urn:eti:graph:content:nav-pleiepenger") == len(set(map(str, content)))
    finally:
        store.close()


def test_a_broken_example_is_refused_with_its_line() -> None:
    broken = needs_shared("cpsv-ap-no/exOffentligTjeneste.ttl")
    with pytest.raises(rdfio.RdfInputError) as info:
        rdfio.read_file(broken)
    # the statement at line 76 lacks its ';': the parser stops at the next line's token
    assert info.value.line == 77
    assert str(broken) in str(info.value)


def test_relative_iris_without_a_base_are_refused_with_the_place() -> None:
    example = needs_shared("cpsv-ap-no/exAlleKlasser2.ttl")
    with pytest.raises(rdfio.RdfInputError) as info:
        rdfio.read_file(example)
    assert info.value.line == 169
