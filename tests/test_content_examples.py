"""Others' public-service descriptions load as a product's content; a broken one is
refused with its line number; registering them through the shared rules breaks exactly the
rules their own gaps explain."""

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
    """Parsed and stored as a product's content graph. ``put_product`` does not validate:
    what the shared rules say of each example is in the registration test below."""
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


CPSV_EXAMPLES = (
    "https://raw.githubusercontent.com/Informasjonsforvaltning/cpsv-ap-no/develop/examples/"
)
FDK_SERVICE = "http://public-service-publisher.fellesdatakatalog.digdir.no/services/1"
AUTHORITATIVE = "https://w3id.org/eti#isAuthoritativeSourceFor"
PUBLIC_SERVICE = "http://purl.org/vocab/cpsv#PublicService"

# What real registration (``eti register`` and POST /api/products both call
# ``registry.register``: every profile, the store as context) says about the same examples,
# wrapped as the content of the demo's nav-pleiepenger product. The wrapper claims
# (eti:isAuthoritativeSourceFor) each public service of the example instead of the demo's
# own service: content must have exactly one authoritative source, and a product can only
# claim services that are in its content. What is left is the examples' own doing -- they
# are upstream's, not ours, so they are not edited; the rules they break are listed here
# so that a change in the shapes (or in the examples) shows.
EXPECTED_REFUSALS: dict[str, set[tuple[str, str]]] = {
    # shows every CPSV-AP-NO class, fully bilingual; only warnings (contact points without
    # name or email, catalogs without datasets)
    "cpsv-ap-no/exAlleKlasser.ttl": set(),
    "cpsv-ap-no/exAlleKlasser2.ttl": {
        # its two agents are named with dct:title, where DCAT-AP-NO asks for foaf:name
        *(
            (f"{CPSV_EXAMPLES}{agent}.ttl", "dcat-ap-no#Agent-name")
            for agent in ("exAktor", "exAktorDummy")
        ),
        # three stub datasets (title and description only; one IRI misspelt "hhttps"):
        # a dataset needs an EU theme, an identifier and a publisher
        *(
            (dataset, f"dcat-ap-no#Dataset-{rule}")
            for dataset in (
                "https://example.org/example-datasett-dokumentasjon",
                "https://example.org/example-datasett-tjenesteresultat",
                "hhttps://example.org/example-beskrivende-dataset",
            )
            for rule in ("euTheme", "identifier", "publisher")
        ),
    },
    "cpsv-ap-no/exKatalog.ttl": set(),
    "cpsv-ap-no/exLivshendelse.ttl": set(),
    "fdk/service1.ttl": {
        # a harvest's generated catalog: only dcatno:containsService, none of the catalog's
        # mandatory title, description, identifier and publisher
        *(
            ("http://test-publisher.ttl#GeneratedCatalog", f"dcat-ap-no#Catalog-{rule}")
            for rule in ("title", "description", "identifier", "publisher")
        ),
        # the service is described in nb only; the ETI rules ask for nb and nn
        *((FDK_SERVICE, f"eti#Bilingual-{rule}Nn") for rule in ("title", "description")),
    },
}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The demo catalogue, shared by the registrations (each replaces nav-pleiepenger)."""
    from eti.catalogue.config import Settings
    from eti.catalogue.core import Catalogue

    folder = tmp_path_factory.mktemp("examples") / "store"
    cat = Catalogue(Settings.load(env={}, store=str(folder), query_workers=0))
    cat.prepare(demo_if_empty=True)
    yield cat.store
    cat.close()


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/conformance is absent")
@pytest.mark.parametrize("name", EXAMPLES)
def test_registering_an_example_as_content_breaks_only_its_own_rules(demo_store, name) -> None:
    import datetime as dt

    from eti.catalogue.auth import Identity
    from eti.catalogue.namespaces import content_graph
    from eti.catalogue.writes import RuleBroken

    example = needs_shared(name)
    graph = ox.NamedNode(content_graph("nav-pleiepenger"))
    content = [
        ox.Quad(q.subject, q.predicate, q.object, graph)
        for q in rdfio.read_file(example, base_iri=f"https://example.org/conformance/{name}")
    ]
    services = {
        q.subject
        for q in content
        if q.predicate.value.endswith("#type") and q.object.value == PUBLIC_SERVICE
    }
    product = ox.NamedNode("https://eti.example/products/nav-pleiepenger")
    description = [
        q
        for q in rdfio.parse_quads(DESCRIPTION, ox.RdfFormat.TRIG)
        if isinstance(q.graph_name, ox.DefaultGraph) and q.predicate.value != AUTHORITATIVE
    ]
    description += [ox.Quad(product, ox.NamedNode(AUTHORITATIVE), s) for s in services]
    broken: set[tuple[str, str]] = set()
    try:
        registry.register(
            demo_store,
            [*description, *content],
            who=Identity(role="admin", name="test"),
            ident="nav-pleiepenger",
            create=False,
            as_of=dt.date(2026, 11, 22),
        )
    except RuleBroken as exc:
        broken = {
            (str(r.focus), str(r.shape).removeprefix("https://w3id.org/eti/shapes/"))
            for r in exc.report.results
            if r.severity == "Violation"
        }
    assert broken == EXPECTED_REFUSALS[name]
