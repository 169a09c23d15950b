"""Whole-catalogue validation: the ETI validator against plain pySHACL, same shapes.

    python bench/validate_bench.py eti|pyshacl CATALOGUE.nq OUT.json

The data is every product description, product content, agreement and the agents graph
of the dump (what the shared rules apply to), with a rule broken on purpose in every 50th
product (so that the reports have results to compare). ``eti`` runs
``eti.catalogue.validation.validate`` on it (which picks pyshacl-turbo for a catalogue
this large when it is installed; OUT.json's ``engine_used`` says which ran); ``pyshacl``
runs ``pyshacl.validate`` with the same shapes (``validation.shapes_graph()``) and the
same options, on the data with the vocabulary triples merged as the ETI validator merges
them (the ``rdf:type`` and ``skos:inScheme`` of every IRI the data names, and the
``rdfs:subClassOf`` axioms), so the two reports can be compared. OUT.json gets the time
(parsing excluded), wall clock (``seconds``) and CPU of the process (``cpu_seconds``, the
steadier figure on a shared machine), and the set of results as (focus, path, severity,
source shape).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS, SH, SKOS, XSD, Namespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import AS_OF

from eti.catalogue import rdfio, validation

DCT = DCTERMS
DPROD = "https://ekgf.github.io/dprod/"
ETI = "https://w3id.org/eti#"
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
KEEP = (
    "urn:eti:graph:product:",
    "urn:eti:graph:content:",
    "urn:eti:graph:agreement:",
    "urn:eti:graph:agents",
)


def data_graph(path: Path) -> Graph:
    triples = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS)
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(KEEP)
    ]
    return rdfio.to_rdflib_graph(triples)


def break_rules(data: Graph, every: int = 50) -> int:
    """Break a shared rule in every ``every``-th product (the same way for both engines),
    so that the reports have results to compare: a missing Nynorsk title, an invalid
    date, an unreachable contact point, a second authoritative source."""
    dct, dcat, vcard = DCT, DCAT, VCARD
    products = sorted(data.subjects(RDF.type, URIRef(DPROD + "DataProduct")), key=str)
    broken = 0
    previous_service = None
    for k, product in enumerate(products):
        services = sorted(data.objects(product, URIRef(ETI + "isAuthoritativeSourceFor")), key=str)
        if k % every == 0:
            kind = (k // every) % 4
            if kind == 0:
                for title in list(data.objects(product, dct.title)):
                    if isinstance(title, Literal) and title.language == "nn":
                        data.remove((product, dct.title, title))
            elif kind == 1:
                data.remove((product, dct.modified, None))
                data.add((product, dct.modified, Literal("2026-13-45", datatype=XSD.date)))
            elif kind == 2:
                for contact in list(data.objects(product, dcat.contactPoint)):
                    data.remove((contact, vcard.hasURL, None))
            elif previous_service is not None:
                data.add((product, URIRef(ETI + "isAuthoritativeSourceFor"), previous_service))
            broken += 1
        if services:
            previous_service = services[0]
    return broken


def _node(node) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, BNode):
        return "_:b"
    return "complex-path" if isinstance(node, tuple) else str(node)


def with_vocabulary(data: Graph) -> Graph:
    vocab = validation.vocabulary_graph()
    work = Graph()
    for t in data:
        work.add(t)
    named = {o for o in data.objects() if isinstance(o, URIRef)}
    named |= {s for s in data.subjects() if isinstance(s, URIRef)}
    for node in named:
        for predicate in (RDF.type, SKOS.inScheme):
            for o in vocab.objects(node, predicate):
                work.add((node, predicate, o))
    for s, o in vocab.subject_objects(RDFS.subClassOf):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            work.add((s, RDFS.subClassOf, o))
    return work


USED: dict[str, str] = {}
CPU: dict[str, float] = {}


def run_eti(data: Graph) -> tuple[float, bool, list]:
    started, cpu = time.perf_counter(), time.process_time()
    report = validation.validate(data, as_of=AS_OF)
    took = time.perf_counter() - started
    CPU["seconds"] = time.process_time() - cpu
    USED["engine"] = report.engine
    keys = {
        (_node(r.focus), _node(r.path), r.severity, _node(r.shape))
        for r in report.results
        if r.component != validation.AS_OF_COMPONENT
    }
    return took, report.conforms, sorted(keys)


def run_pyshacl(data: Graph) -> tuple[float, bool, list]:
    import pyshacl

    work = with_vocabulary(data)
    shapes = validation.shapes_graph()
    started, cpu = time.perf_counter(), time.process_time()
    conforms, report, _text = pyshacl.validate(
        work,
        shacl_graph=shapes,
        inference="none",
        advanced=True,
        allow_warnings=True,
        allow_infos=True,
    )
    took = time.perf_counter() - started
    CPU["seconds"] = time.process_time() - cpu
    keys = set()
    top = [
        result
        for report_node in report.subjects(RDF.type, SH.ValidationReport)
        for result in report.objects(report_node, SH.result)
    ]  # the report's own results, not the nested sh:detail ones
    for result in top:
        severity = report.value(result, SH.resultSeverity)
        path = report.value(result, SH.resultPath)
        keys.add(
            (
                _node(report.value(result, SH.focusNode)),
                "complex-path" if isinstance(path, BNode) else _node(path),
                str(severity).rsplit("#", 1)[-1],
                _node(report.value(result, SH.sourceShape)),
            )
        )
    violations = any(k[2] == "Violation" for k in keys)
    return took, bool(conforms) or not violations, sorted(keys)


def main() -> int:
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)  # the invalid date, on purpose
    engine, source, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    data = data_graph(source)
    broken = break_rules(data)
    print("parsed", flush=True)  # the runner's time limit starts here
    took, conforms, keys = (run_eti if engine == "eti" else run_pyshacl)(data)
    out.write_text(
        json.dumps(
            {
                "engine": engine,
                "engine_used": USED.get("engine", "pyshacl"),
                "seconds": round(took, 3),
                "cpu_seconds": round(CPU["seconds"], 3),
                "triples": len(data),
                "products_broken": broken,
                "conforms": conforms,
                "results": keys,
            }
        )
    )
    used = USED.get("engine", "pyshacl")
    cpu = CPU["seconds"]
    counts = f"{len(data)} triples, {len(keys)} results"
    print(f"{engine} ({used}): {took:.1f} s ({cpu:.1f} s CPU), {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
