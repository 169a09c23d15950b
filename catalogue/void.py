"""VoID statistics of a reading view, and the catalogue's VoID description.

The statistics are computed over a list of graphs (a caller's view: its union is the
default graph, as on ``/sparql``) and cached: a service description or a VoID request
must not rescan the store each time. An entry lives ``ttl`` seconds, or until
``clear`` (which the server calls after every write).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from . import queries
from .namespaces import DCT, FOAF, RDF, VOID, XSD
from .store import Store

MAX_GRAPHS = 1000  # named graphs listed one by one (with their sizes)


@dataclass(frozen=True)
class Statistics:
    """Sizes of a view: totals, class and property partitions, graphs, examples."""

    triples: int
    entities: int
    subjects: int
    objects: int
    properties: int
    classes: int
    class_partitions: tuple[tuple[str, int], ...]
    property_partitions: tuple[tuple[str, int], ...]
    graphs: tuple[tuple[str, int], ...]
    examples: tuple[str, ...]


def _int(term: ox.Literal | None) -> int:
    return int(term.value) if term is not None else 0


def statistics(store: Store, graphs: Sequence[str]) -> Statistics:
    """The VoID statistics of the union of ``graphs`` (each also counted by name)."""
    view = list(graphs)

    def run(name: str) -> list:
        return list(store.query(queries.load(name), default_graph=view, named_graphs=view))

    (totals,) = run("void-totals")
    classes = [
        (r["class"].value, _int(r["entities"]))
        for r in run("void-classes")
        if isinstance(r["class"], ox.NamedNode)
    ]
    properties = [(r["property"].value, _int(r["triples"])) for r in run("void-properties")]
    sizes = [(r["graph"].value, _int(r["triples"])) for r in run("void-graphs")]
    examples = [r["resource"].value for r in run("void-examples")]
    return Statistics(
        triples=_int(totals["triples"]),
        entities=_int(totals["entities"]),
        subjects=_int(totals["subjects"]),
        objects=_int(totals["objects"]),
        properties=_int(totals["properties"]),
        classes=len(classes),
        class_partitions=tuple(classes),
        property_partitions=tuple(properties),
        graphs=tuple(sizes[:MAX_GRAPHS]),
        examples=tuple(examples),
    )


class StatisticsCache:
    """Statistics per view, recomputed after ``ttl`` seconds or a write (thread-safe)."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, ...], tuple[float, int, Statistics]] = {}
        self._generation = 0

    def get(self, store: Store, graphs: Sequence[str]) -> Statistics:
        """The statistics of ``graphs``, from the cache while they are fresh."""
        key = tuple(sorted(graphs))
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self.ttl:
                return entry[2]
            generation = self._generation
        stats = statistics(store, key)
        with self._lock:
            if generation == self._generation:  # no write happened meanwhile
                if len(self._entries) > 256:  # views are few; never grow unbounded
                    self._entries.clear()
                self._entries[key] = (now, generation, stats)
        return stats

    def clear(self) -> None:
        """Forget every entry (called after each write)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()


# --- RDF ----------------------------------------------------------------------------------


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _count(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(XSD + "integer"))


def statistics_triples(
    node: ox.NamedNode | ox.BlankNode, stats: Statistics, *, partitions: bool = True
) -> list[ox.Triple]:
    """``node``'s VoID statistics as triples (totals, and class/property partitions)."""
    out = [
        ox.Triple(node, _n(VOID + "triples"), _count(stats.triples)),
        ox.Triple(node, _n(VOID + "entities"), _count(stats.entities)),
        ox.Triple(node, _n(VOID + "classes"), _count(stats.classes)),
        ox.Triple(node, _n(VOID + "properties"), _count(stats.properties)),
        ox.Triple(node, _n(VOID + "distinctSubjects"), _count(stats.subjects)),
        ox.Triple(node, _n(VOID + "distinctObjects"), _count(stats.objects)),
    ]
    if not partitions:
        return out
    for cls, entities in stats.class_partitions:
        part = ox.BlankNode()
        out += [
            ox.Triple(node, _n(VOID + "classPartition"), part),
            ox.Triple(part, _n(VOID + "class"), _n(cls)),
            ox.Triple(part, _n(VOID + "entities"), _count(entities)),
        ]
    for prop, triples in stats.property_partitions:
        part = ox.BlankNode()
        out += [
            ox.Triple(node, _n(VOID + "propertyPartition"), part),
            ox.Triple(part, _n(VOID + "property"), _n(prop)),
            ox.Triple(part, _n(VOID + "triples"), _count(triples)),
        ]
    return out


VOCABULARIES_USED = (
    "https://ekgf.github.io/dprod/",
    "http://www.w3.org/ns/dcat#",
    "http://purl.org/dc/terms/",
    "http://purl.org/vocab/cpsv#",
    "http://data.europa.eu/m8g/",
    "http://www.w3.org/ns/odrl/2/",
    "https://w3id.org/dpv#",
    "http://www.w3.org/ns/prov#",
    "http://www.w3.org/2006/vcard/ns#",
    "http://xmlns.com/foaf/0.1/",
    "http://www.w3.org/ns/adms#",
    "http://www.w3.org/2004/02/skos/core#",
)


def describe(
    stats: Statistics,
    *,
    document: str,
    dataset: str,
    sparql_endpoint: str,
    data_dump: str,
    homepage: str,
    uri_space: str,
    formats: Sequence[str] = (),
) -> list[ox.Triple]:
    """The VoID description of the catalogue: a ``void:DatasetDescription`` document
    whose primary topic is the ``void:Dataset`` with its statistics and access points."""
    doc, ds = _n(document), _n(dataset)

    def lit(text: str, lang: str) -> ox.Literal:
        return ox.Literal(text, language=lang)

    out = [
        ox.Triple(doc, _n(RDF + "type"), _n(VOID + "DatasetDescription")),
        ox.Triple(doc, _n(DCT + "title"), lit("VoID description of the ETI catalogue", "en")),
        ox.Triple(doc, _n(FOAF + "primaryTopic"), ds),
        ox.Triple(ds, _n(RDF + "type"), _n(VOID + "Dataset")),
        ox.Triple(ds, _n(DCT + "title"), lit("ETI catalogue", "en")),
        ox.Triple(ds, _n(DCT + "title"), lit("ETI-katalogen", "nb")),
        ox.Triple(ds, _n(DCT + "title"), lit("ETI-katalogen", "nn")),
        ox.Triple(
            ds,
            _n(DCT + "description"),
            lit(
                "Data products, their agreements and the information they carry for "
                "families of seriously ill children (Enklere tilgang til informasjon).",
                "en",
            ),
        ),
        ox.Triple(ds, _n(FOAF + "homepage"), _n(homepage)),
        ox.Triple(ds, _n(VOID + "sparqlEndpoint"), _n(sparql_endpoint)),
        ox.Triple(ds, _n(VOID + "dataDump"), _n(data_dump)),
        ox.Triple(ds, _n(VOID + "uriSpace"), ox.Literal(uri_space)),
    ]
    out += [ox.Triple(ds, _n(VOID + "vocabulary"), _n(v)) for v in VOCABULARIES_USED]
    out += [ox.Triple(ds, _n(VOID + "feature"), _n(f)) for f in formats]
    out += [ox.Triple(ds, _n(VOID + "exampleResource"), _n(r)) for r in stats.examples]
    out += statistics_triples(ds, stats)
    return out
