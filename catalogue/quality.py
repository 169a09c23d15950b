"""Metadata-quality score of datasets and data products.

The dimensions and weights follow the metadata quality assessment that
data.europa.eu publishes and data.norge.no shows (findability, accessibility,
interoperability, reusability, contextuality; 405 points in all), adapted to
an offline validator and to data products:

* accessibility cannot test that URLs answer, so its "URL answers" indicators
  are replaced by what can be seen in the metadata: an access URL (50), a
  download URL (20) and a described access service or port (30);
* a data product is scored over itself, its output datasets, their
  distributions and its output ports (an indicator counts when any of them
  has it);
* "DCAT-AP compliance" means no Violation in the validation report about the
  resource or its parts (for a dataset: in the ``dcat-ap-no`` profile; for a
  data product: in any profile).

Ratings use data.europa.eu's bands scaled to the maximum: excellent from
351/405, good from 221/405, sufficient from 121/405, otherwise poor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS
from rdflib.term import Node

from eti.catalogue import namespaces as ns

__all__ = ["DIMENSIONS", "INDICATORS", "MAX_SCORE", "score_resources"]

_EU = "http://publications.europa.eu/resource/authority/"

DIMENSIONS: tuple[str, ...] = (
    "findability",
    "accessibility",
    "interoperability",
    "reusability",
    "contextuality",
)

INDICATORS: dict[str, tuple[str, int]] = {
    "keyword": ("findability", 30),
    "theme": ("findability", 30),
    "spatial": ("findability", 20),
    "temporal": ("findability", 20),
    "accessURL": ("accessibility", 50),
    "downloadURL": ("accessibility", 20),
    "accessService": ("accessibility", 30),
    "format": ("interoperability", 20),
    "mediaType": ("interoperability", 10),
    "formatFromVocabulary": ("interoperability", 10),
    "nonProprietaryFormat": ("interoperability", 20),
    "machineReadableFormat": ("interoperability", 20),
    "compliance": ("interoperability", 30),
    "licence": ("reusability", 20),
    "licenceFromVocabulary": ("reusability", 10),
    "accessRights": ("reusability", 10),
    "accessRightsFromVocabulary": ("reusability", 5),
    "contactPoint": ("reusability", 20),
    "publisher": ("reusability", 10),
    "rights": ("contextuality", 5),
    "byteSize": ("contextuality", 5),
    "issued": ("contextuality", 5),
    "modified": ("contextuality", 5),
}
"""Indicator name -> (dimension, points)."""

MAX_SCORE = sum(points for _, points in INDICATORS.values())

_MACHINE_READABLE = {
    "CSV",
    "GEOJSON",
    "JSON",
    "JSON_LD",
    "N3",
    "RDF_N_QUADS",
    "RDF_N_TRIPLES",
    "RDF_TRIG",
    "RDF_TURTLE",
    "RDF_XML",
    "SPARQLQRES",
    "TSV",
    "XML",
    "XLSX",
}
_NON_PROPRIETARY = (_MACHINE_READABLE - {"XLSX"}) | {"HTML", "PDF", "SPARQLQ", "TXT", "ZIP"}


class _HasResult(Protocol):
    resource: Node
    focus: Node
    severity: str
    profile: str | None


def _u(base: str, local: str) -> URIRef:
    return URIRef(base + local)


_DCAT = ns.DCAT
_DCT = ns.DCT
_DPROD = ns.DPROD


def score_resources(
    graph: Graph, resources: Iterable[URIRef], results: Sequence[_HasResult]
) -> dict[str, dict[str, Any]]:
    """Score each of ``resources`` (datasets or data products) described in ``graph``."""
    violations: dict[Node, set[str | None]] = {}
    for r in results:
        if r.severity == "Violation":
            violations.setdefault(r.resource, set()).add(r.profile)
            violations.setdefault(r.focus, set()).add(r.profile)
    out: dict[str, dict[str, Any]] = {}
    for resource in sorted(set(resources), key=str):
        out[str(resource)] = _score(graph, resource, violations)
    return out


def _score(graph: Graph, resource: URIRef, violations: dict[Node, set[str | None]]) -> dict:
    is_product = (resource, RDF.type, _u(_DPROD, "DataProduct")) in graph
    datasets = [resource]
    ports: list[Node] = []
    if is_product:
        datasets += list(graph.objects(resource, _u(_DPROD, "outputDataset")))
        ports = list(graph.objects(resource, _u(_DPROD, "outputPort")))
    distributions = [d for ds in datasets for d in graph.objects(ds, _u(_DCAT, "distribution"))]
    described = datasets + distributions + ports

    def has(nodes: Iterable[Node], prop: URIRef) -> bool:
        return any(graph.value(n, prop) is not None for n in nodes)

    def values(nodes: Iterable[Node], prop: URIRef) -> list[Node]:
        return [v for n in nodes for v in graph.objects(n, prop)]

    def in_scheme(value: Node, scheme: str) -> bool:
        return (value, SKOS.inScheme, URIRef(_EU + scheme)) in graph

    formats = values(distributions + ports, _u(_DCT, "format"))
    codes = {str(f).rsplit("/", 1)[-1] for f in formats if str(f).startswith(_EU + "file-type/")}
    licences = values(distributions + datasets + ports, _u(_DCT, "license"))
    access_rights = values(datasets + distributions + ports, _u(_DCT, "accessRights"))
    scope = {None, "dcat-ap-no"} if not is_product else None
    parts = set(described) | set(values(described, _u(_DCAT, "contactPoint")))
    compliant = not any(
        scope is None or (violations.get(n, set()) & scope) for n in parts if n in violations
    )

    indicators = {
        "keyword": has(datasets, _u(_DCAT, "keyword")),
        "theme": has(datasets, _u(_DCAT, "theme")),
        "spatial": has(datasets, _u(_DCT, "spatial")),
        "temporal": has(datasets, _u(_DCT, "temporal")),
        "accessURL": has(distributions, _u(_DCAT, "accessURL"))
        or has(ports, _u(_DCAT, "endpointURL")),
        "downloadURL": has(distributions, _u(_DCAT, "downloadURL")),
        "accessService": has(distributions, _u(_DCAT, "accessService"))
        or any(graph.value(p, _u(_DCAT, "endpointURL")) is not None for p in ports),
        "format": bool(formats),
        "mediaType": has(distributions + ports, _u(_DCAT, "mediaType")),
        "formatFromVocabulary": any(in_scheme(f, "file-type") for f in formats),
        "nonProprietaryFormat": bool(codes & _NON_PROPRIETARY),
        "machineReadableFormat": bool(codes & _MACHINE_READABLE),
        "compliance": compliant,
        "licence": bool(licences),
        "licenceFromVocabulary": any(in_scheme(v, "licence") for v in licences),
        "accessRights": bool(access_rights),
        "accessRightsFromVocabulary": any(in_scheme(v, "access-right") for v in access_rights),
        "contactPoint": has(datasets, _u(_DCAT, "contactPoint")),
        "publisher": has(datasets, _u(_DCT, "publisher")),
        "rights": has(distributions + datasets, _u(_DCT, "rights")),
        "byteSize": has(distributions, _u(_DCAT, "byteSize")),
        "issued": has(datasets + distributions, _u(_DCT, "issued")),
        "modified": has(datasets + distributions, _u(_DCT, "modified")),
    }
    dims = {d: {"score": 0, "max": 0} for d in DIMENSIONS}
    for name, (dim, points) in INDICATORS.items():
        dims[dim]["max"] += points
        if indicators[name]:
            dims[dim]["score"] += points
    for d in dims.values():
        d["percent"] = round(100.0 * d["score"] / d["max"], 1) if d["max"] else 0.0
    total = sum(d["score"] for d in dims.values())
    return {
        "kind": "product" if is_product else "dataset",
        "score": total,
        "max": MAX_SCORE,
        "percent": round(100.0 * total / MAX_SCORE, 1),
        "rating": _rating(total),
        "dimensions": dims,
        "missing": sorted(name for name, ok in indicators.items() if not ok),
    }


def _rating(total: int) -> str:
    fraction = total / MAX_SCORE
    if fraction >= 351 / 405:
        return "excellent"
    if fraction >= 221 / 405:
        return "good"
    if fraction >= 121 / 405:
        return "sufficient"
    return "poor"
