"""Our DCAT-AP-NO verdicts against the upstream DCAT-AP-NO 2.2 shapes.

Every file of ../shared/conformance/validator-service/ and
../shared/conformance/dcat-ap-no/ (material published by Digdir) is validated
twice:

* ours: ``validate(graph, ["dcat-ap-no"])`` (shipped vocabularies merged);
* upstream: ``DCAT-AP-NO-shacl_shapes_2.00.ttl`` run by pySHACL
  (``inference="none"``, ``advanced=True``, warnings allowed) on the data
  merged with the controlled vocabularies data.norge.no uses
  (../shared/conformance/los/*-sparql-result.ttl): the upstream shapes, like
  ours, only see ``skos:inScheme`` in the data graph.

The verdict is "conforms" (no Violation), "fails", or "not RDF" when the file
does not parse. The table below lists every file with both expected verdicts;
where they differ, the reason names the upstream defect that explains it.
The test skips when ../shared is absent (a user's clone has none).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph

from eti.catalogue.validation import validate

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
UPSTREAM_SHAPES = SHARED / "dcat-ap-no" / "DCAT-AP-NO-shacl_shapes_2.00.ttl"
AS_OF = dt.date(2026, 11, 22)

OK, FAIL, NOT_RDF = "conforms", "fails", "not RDF"

_STANDARD = (
    "upstream defect: Standard_Shape targets every object of dct:conformsTo "
    "(sh:targetObjectsOf) and requires a dct:title on it, so a standard cited only by its "
    "IRI (here <https://www.w3.org/TR/shacl>, cited by the file's own metadata) must be "
    "described in the same document; ours checks the standards the data describes "
    "(typed dct:Standard). The file has no catalog, dataset, service or distribution."
)

# file -> (our verdict, upstream verdict, reason for a difference or note)
EXPECTED: dict[str, tuple[str, str, str]] = {
    # ---- validator-service/
    "validator-service/config.json": (OK, OK, "plain JSON, no RDF statements"),
    "validator-service/cpsv-ap-no_ontologies.ttl": (OK, OK, "ontology imports only"),
    "validator-service/invalid_catalog.ttl": (
        FAIL,
        FAIL,
        "dataset lacks dct:description and dcat:theme",
    ),
    "validator-service/invalid_rdf.txt": (NOT_RDF, NOT_RDF, "not RDF: both refuse it"),
    "validator-service/mock_cpsv-ap-no_shacl_shapes_0.9.ttl": (OK, FAIL, _STANDARD),
    "validator-service/mock_data_theme_GOVE.xml": (OK, OK, "vocabulary data"),
    "validator-service/mock_dcat-ap-no-shacl_shapes_2.00.ttl": (OK, FAIL, _STANDARD),
    "validator-service/mock_dcat-ap_shacl_shapes_1.1.ttl": (OK, OK, "shapes, no catalog data"),
    "validator-service/mock_enhetsregisteret_961181399.json": (OK, OK, "plain JSON"),
    "validator-service/mock_enhetsregisteret_991825827.json": (OK, OK, "plain JSON"),
    "validator-service/mock_los_tema_barnehage.xml": (OK, OK, "vocabulary data"),
    "validator-service/mock_org-status.ttl": (OK, OK, "vocabulary data"),
    "validator-service/mock_org-types.ttl": (OK, OK, "vocabulary data"),
    "validator-service/mock_org.ttl": (OK, OK, "ontology"),
    "validator-service/mock_organization_catalog_961181399.ttl": (OK, OK, "organisation data"),
    "validator-service/mock_organization_catalog_991825827.ttl": (OK, OK, "organisation data"),
    "validator-service/mock_publications_europa_eu_resource_authority_licence.xml": (
        OK,
        OK,
        "vocabulary data",
    ),
    "validator-service/mock_regorg.ttl": (OK, OK, "ontology"),
    "validator-service/mock_skos-ap-no-shacl_shapes.ttl": (OK, FAIL, _STANDARD),
    "validator-service/ontologies.ttl": (OK, OK, "ontology imports and a Los concept"),
    "validator-service/ontology_imports_non_reachable_ontology.ttl": (OK, OK, "imports only"),
    "validator-service/skos_ontologies.ttl": (OK, OK, "ontology imports only"),
    "validator-service/valid_catalog.json": (OK, OK, "valid catalog (JSON-LD)"),
    "validator-service/valid_catalog.ttl": (OK, OK, "valid catalog"),
    "validator-service/valid_catalog.xml": (OK, OK, "valid catalog (RDF/XML)"),
    "validator-service/valid_catalog_cpsv-ap-no.ttl": (
        OK,
        FAIL,
        "upstream defects: its public-service shape requires the competent authority, "
        "known here only by its IRI, to be typed cv:PublicOrganisation in the same "
        "document (the validator service fetches it, config.json 'expand'), and requires "
        "cpsv:produces to point to a catalog, dataset or data service although CPSV-AP-NO "
        "gives cv:Output as its range; public services are CPSV-AP-NO's, not in our "
        "DCAT-AP-NO profile, and the catalog itself is valid",
    ),
    "validator-service/valid_catalog_no_remote_triples.ttl": (
        FAIL,
        FAIL,
        "publisher, creator and themes are blank nodes; DCAT-AP-NO wants IRIs",
    ),
    "validator-service/valid_catalog_references_bad_graph.ttl": (OK, OK, "valid catalog"),
    "validator-service/valid_catalog_references_no_graph.ttl": (OK, OK, "valid catalog"),
    "validator-service/valid_catalog_references_non_parsable_graph.ttl": (
        OK,
        OK,
        "valid catalog",
    ),
    "validator-service/valid_catalog_references_non_readable_file.ttl": (
        OK,
        OK,
        "valid catalog",
    ),
    "validator-service/valid_catalog_references_not_found_graph.ttl": (OK, OK, "valid catalog"),
    "validator-service/valid_catalog_with_distribution.ttl": (
        OK,
        OK,
        "licence CNRI_PYTHON is an EU code outside our shipped licence subset: a Warning",
    ),
    "validator-service/valid_collection.ttl": (OK, OK, "SKOS concepts, no catalog data"),
    # ---- dcat-ap-no/
    "dcat-ap-no/DCAT-AP-NO-shacl_shapes_2.00.ttl": (OK, FAIL, _STANDARD),
    "dcat-ap-no/DCAT-AP-NO2.0-examples.ttl": (
        FAIL,
        OK,
        "upstream defect: Agent_Shape has no usable target (sh:targetSUbjectOf inside "
        "sh:and/sh:or), so agents are never checked; the example describes its publisher "
        "as a foaf:Agent without the mandatory foaf:name. (Run without inference: under "
        "RDFS inference the file's own rdfs:domain axioms make upstream fail it too.)",
    ),
    "dcat-ap-no/dataset-series-example.ttl": (OK, OK, "valid datasets and series"),
    "dcat-ap-no/dcatno.ttl": (OK, OK, "ontology"),
    "dcat-ap-no/ontologies.ttl": (OK, OK, "ontology imports only"),
    "dcat-ap-no/test.ttl": (
        FAIL,
        FAIL,
        "dcat:packageFormat given as text; upstream also (wrongly) fails the Geonorge "
        "municipality in dct:spatial through its malformed SpatialRestriction (nested "
        "sh:or lists, reported as a Violation although declared a Warning), and the "
        "file type JSON, because data.norge.no's file-type list carries no skos:inScheme",
    ),
    "dcat-ap-no/test2.ttl": (
        FAIL,
        FAIL,
        "catalog lacks dct:description; dataset lacks dct:identifier and dcat:theme",
    ),
}

_FORMATS = {".ttl": "turtle", ".json": "json-ld", ".xml": "xml", ".txt": "turtle"}

pytestmark = pytest.mark.skipif(
    not UPSTREAM_SHAPES.is_file(), reason="../shared/conformance is absent (not in a user's clone)"
)


def _files() -> list[str]:
    if not SHARED.is_dir():
        return []
    out = []
    for folder in ("validator-service", "dcat-ap-no"):
        out += [f"{folder}/{p.name}" for p in sorted((SHARED / folder).iterdir()) if p.is_file()]
    return out


@pytest.fixture(scope="module")
def upstream_shapes() -> Graph:
    return Graph().parse(UPSTREAM_SHAPES)


@pytest.fixture(scope="module")
def norge_vocabularies() -> Graph:
    g = Graph()
    for path in sorted((SHARED / "los").glob("*-sparql-result.ttl")):
        g.parse(path)
    return g


def _load(name: str) -> Graph | None:
    path = SHARED / name
    try:
        return Graph().parse(path, format=_FORMATS.get(path.suffix, "turtle"))
    except Exception:  # any parser error: the file is not RDF
        return None


def test_table_lists_every_file() -> None:
    assert set(_files()) == set(EXPECTED)
    for ours, upstream, reason in EXPECTED.values():
        assert reason
        if ours != upstream:
            assert "upstream defect" in reason


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_verdicts(name: str, upstream_shapes: Graph, norge_vocabularies: Graph) -> None:
    expected_ours, expected_upstream, reason = EXPECTED[name]
    graph = _load(name)
    if graph is None:
        assert (expected_ours, expected_upstream) == (NOT_RDF, NOT_RDF), name
        return
    report = validate(graph, ["dcat-ap-no"], as_of=AS_OF)
    ours = OK if report.conforms else FAIL
    data = Graph()
    for triple in graph:
        data.add(triple)
    for triple in norge_vocabularies:
        data.add(triple)
    conforms, _report, _text = pyshacl.validate(
        data,
        shacl_graph=upstream_shapes,
        inference="none",
        advanced=True,
        allow_warnings=True,
        inplace=True,
    )
    upstream = OK if conforms else FAIL
    assert (ours, upstream) == (expected_ours, expected_upstream), (
        f"{name}: ours {ours}, upstream {upstream}; table says "
        f"{expected_ours}/{expected_upstream} ({reason})\n{report.text()}"
    )
