"""Validate RDF against the catalogue's SHACL profiles.

One core function, :func:`validate`, serves every front (``eti validate``,
``POST /api/validate``, the store's checks on write)::

    report = validate(graph, ["dcat-ap-no"], as_of=date(2026, 11, 22), context=agents)
    report.conforms          # no sh:Violation
    report.graph             # the sh:ValidationReport (rdflib.Graph)
    report.results           # list[Result], grouped and sorted for reading
    report.quality           # metadata-quality score per dataset / data product
    report.text("nb")        # terminal text; report.to_json(); report.to_junit()

Profiles (one shapes file each in ``shapes/``):

``dcat-ap-no``
    DCAT-AP-NO 2.2 for catalogs, datasets, data services, distributions,
    agents and contact points, with the DCAT-AP-NO 3 draft's contact-point
    rules as warnings.
``dprod``
    data products (DPROD + DCAT 3).
``agreements``
    ODRL offers and agreements with DPV purposes.
``eti``
    the platform's shared rules (nb + nn texts, one authoritative source per
    information item, freshness).

How the data is prepared (the pitfalls this module handles):

* The data graph is copied; an ``rdflib.Dataset`` is validated as the union
  of its graphs. The caller's ``context`` graph (agents, the products an
  agreement refers to, ...) is added to the copy so that references can be
  checked, but results about resources that only the context describes are
  dropped: validating one product costs the product plus its small context,
  never the whole catalogue.
* Controlled-vocabulary checks look for ``skos:inScheme`` in the *data*
  graph (pySHACL 0.40 does not consult ``ont_graph`` for them), so the
  vocabulary triples (``rdf:type``, ``skos:inScheme``) of every IRI the data
  refers to are merged into the copy from ``ontology/vocabularies/*.ttl``,
  together with the ``rdfs:subClassOf`` axioms of ``ontology/eti.ttl``.
* pySHACL runs with ``inference="none"`` and ``advanced=True``.

Engines: pySHACL is the reference. When pyshacl-turbo (a Rust SHACL engine
with pySHACL's API) is installed, inputs of at least :data:`TURBO_MIN_TRIPLES`
data triples (every input, by default: registrations, whole catalogues,
harvests) are validated with it instead, with the same shapes, data and options; its report goes
through the same reading as pySHACL's, and tests/test_turbo.py checks that
the two reports are identical (same results, focus nodes, paths, values,
source shapes, severities, messages) on the demo catalogue, a generated one
with broken rules and every case of tests/shapes_cases. ``engine=`` (or the
``ETI_VALIDATION_ENGINE`` environment variable) chooses: ``"pyshacl"``,
``"turbo"``, or ``"auto"`` (the default). turbo runs every construct the
shapes use (SPARQL-based constraints with ``sh:prefixes``, ``sh:node``,
``sh:or``, qualified value shapes, ``sh:deactivated``, ...) as pySHACL does,
with one exception found: ``sh:lessThanOrEquals`` on values that cannot be
compared (an invalid date), which turbo reports and pySHACL does not; data
with such a pair is validated with pySHACL whatever the engine asked for
(``Report.engine`` says which ran). When turbo fails (an error instead of a
report), ``"auto"`` falls back to pySHACL.

Rules that depend on the date (freshness, agreement status against the
validity period) cannot be given that date through standard SHACL, and SPARQL
date arithmetic on arbitrary literals is not reliable (rdflib fails on an
ill-typed date), so they are declared as deactivated shapes (``Freshness`` in
shapes/eti.ttl, ``AgreementStatusDates`` in shapes/agreements.ttl) that
document the rule, and evaluated here in Python against ``as_of`` (default:
today). Their results are ordinary ``sh:ValidationResult`` nodes of
the report, with ``sh:sourceShape`` the declared shape and
``sh:sourceConstraintComponent`` :data:`AS_OF_COMPONENT`.

Freshness: a product or dataset with ``dct:accrualPeriodicity`` and
``dct:modified`` is stale when ``modified + period + grace < as_of``; the
grace is half the period, at least 7 days (:data:`GRACE_MIN_DAYS`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, SKOS, XSD
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from eti.catalogue import clock
from eti.catalogue import namespaces as ns
from eti.catalogue.quality import score_resources

__all__ = [
    "AS_OF_COMPONENT",
    "ENGINES",
    "FREQUENCY_DAYS",
    "GRACE_MIN_DAYS",
    "PROFILES",
    "SEVERITIES",
    "TURBO_MIN_TRIPLES",
    "Report",
    "Result",
    "exit_code",
    "freshness_deadline",
    "quiet_ill_typed_literals",
    "shapes_graph",
    "turbo_available",
    "validate",
    "vocabulary_graph",
]

PROFILES: tuple[str, ...] = ("dcat-ap-no", "dprod", "agreements", "eti")
"""The validation profiles, in the order reports list them."""

SHAPES_BASE = "https://w3id.org/eti/shapes/"
"""Shape IRIs are ``{SHAPES_BASE}{profile}#{name}``."""

SEVERITIES: tuple[str, ...] = ("Violation", "Warning", "Info")
"""Severities, most serious first."""

AS_OF_COMPONENT = URIRef(SHAPES_BASE + "eti#AsOfDateConstraintComponent")
"""``sh:sourceConstraintComponent`` of results computed against the as-of date."""

GRACE_MIN_DAYS = 7
"""Smallest grace period, in days, added to a declared update period."""

ENGINES: tuple[str, ...] = ("auto", "pyshacl", "turbo")
"""``engine=`` values of :func:`validate`: ``auto`` uses pyshacl-turbo for large
inputs when it is installed and pySHACL otherwise; the others force one."""

TURBO_MIN_TRIPLES = 0
"""``auto`` validates with pyshacl-turbo from this many data triples. Every input
qualifies: a registration validates in half the time (20 vs 40 ms at 10,000
products, bench/register_bench.py) with the same report, and the whole
catalogue 17-37x faster than plain pySHACL."""

ENGINE_VARIABLE = "ETI_VALIDATION_ENGINE"
"""Environment variable with the default ``engine`` (one of :data:`ENGINES`)."""

_FREQ = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCY_DAYS: dict[str, int] = {
    **{
        code: 1
        for code in (
            "1MIN",
            "5MIN",
            "10MIN",
            "15MIN",
            "30MIN",
            "HOURLY",
            "BIHOURLY",
            "TRIHOURLY",
            "12HRS",
            "CONT",
            "UPDATE_CONT",
            "DAILY",
            "DAILY_2",
        )
    },
    "WEEKLY_3": 3,
    "WEEKLY_2": 4,
    "WEEKLY": 7,
    "BIWEEKLY": 14,
    "MONTHLY_3": 11,
    "MONTHLY_2": 16,
    "MONTHLY": 31,
    "BIMONTHLY": 62,
    "QUARTERLY": 92,
    "ANNUAL_3": 122,
    "ANNUAL_2": 183,
    "ANNUAL": 366,
    "BIENNIAL": 731,
    "TRIENNIAL": 1096,
    "QUADRENNIAL": 1461,
    "QUINQUENNIAL": 1827,
    "DECENNIAL": 3653,
    "BIDECENNIAL": 7305,
    "TRIDECENNIAL": 10958,
}
"""Days in the update period of each EU frequency code; codes without a
period (IRREG, AS_NEEDED, NEVER, NOT_PLANNED, UNKNOWN, OTHER) are absent and
never judged stale."""

_DCT = ns.DCT
_DCAT = ns.DCAT
_DPROD = ns.DPROD
_ODRL = ns.ODRL
_ETI = ns.ETI
_SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
_VOCAB_PREDICATES = (RDF.type, SKOS.inScheme)

_FRESHNESS = URIRef(SHAPES_BASE + "eti#Freshness")
_STATUS_DATES = URIRef(SHAPES_BASE + "agreements#AgreementStatusDates")


# ---------------------------------------------------------------------------
# Results and report
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One validation result, in the terms people read.

    ``focus`` is the IRI (or blank node) the result is about; ``resource`` is
    the nearest IRI that owns it (the focus itself, or e.g. the product whose
    contact point a blank node is) and ``via`` the properties leading from
    ``resource`` to ``focus``.
    """

    focus: Node
    resource: Node
    via: tuple[URIRef, ...]
    path: Node | None
    value: Node | None
    severity: str
    message_nb: str
    message_en: str
    shape: URIRef | None
    profile: str | None
    component: URIRef | None

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` ("nb", "nn" reads the nb text, anything else English)."""
        return self.message_nb if lang in ("nb", "nn", "no") else self.message_en

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (keys stable; blank nodes are given as ``null``)."""
        out: dict[str, Any] = {
            "resource": _json_node(self.resource),
            "focus": _json_node(self.focus),
            "via": [str(p) for p in self.via],
            "path": _path_text(self.path, False) if self.path is not None else None,
            "severity": self.severity,
            "message": {"nb": self.message_nb, "en": self.message_en},
            "shape": str(self.shape) if self.shape is not None else None,
            "profile": self.profile,
            "component": str(self.component) if self.component is not None else None,
            "value": None,
        }
        if self.value is not None:
            out["value"] = _json_value(self.value)
        return out


@dataclass
class Report:
    """The outcome of :func:`validate`."""

    conforms: bool
    graph: Graph
    results: list[Result]
    quality: dict[str, dict[str, Any]]
    profiles: tuple[str, ...]
    as_of: dt.date
    labels: dict[Node, str] = field(default_factory=dict, repr=False)
    engine: str = "pyshacl"
    """The SHACL engine that ran: ``"pyshacl"`` or ``"turbo"`` (the report is the same)."""

    @property
    def counts(self) -> dict[str, int]:
        """Number of results per severity."""
        out = dict.fromkeys(SEVERITIES, 0)
        for result in self.results:
            out[result.severity] += 1
        return out

    @property
    def exit_code(self) -> int:
        """0 when no result is a Violation, 1 otherwise (the CLI's convention)."""
        return 0 if self.conforms else 1

    def grouped(self) -> list[tuple[Node, list[tuple[str, list[Result]]]]]:
        """Results per resource, then per property; errors before warnings.

        Resources with the most serious results come first, then by name;
        within a resource, properties are ordered the same way.
        """
        by_resource: dict[Node, dict[str, list[Result]]] = defaultdict(lambda: defaultdict(list))
        for result in self.results:
            by_resource[result.resource][_property_key(result)].append(result)

        def worst(results: Iterable[Result]) -> int:
            return min(_SEVERITY_RANK[r.severity] for r in results)

        ordered = []
        for resource, props in by_resource.items():
            items = sorted(
                props.items(),
                key=lambda kv: (worst(kv[1]), kv[0]),
            )
            items = [(key, sorted(rs, key=_result_sort_key)) for key, rs in items]
            ordered.append((resource, items))
        ordered.sort(
            key=lambda entry: (
                min(worst(rs) for _, rs in entry[1]),
                _node_sort_key(entry[0]),
            )
        )
        return ordered

    def text(self, lang: str = "en", *, width: int = 100) -> str:
        """A report for a terminal: grouped, errors first, lines within ``width``."""
        nb = lang in ("nb", "nn", "no")
        counts = self.counts
        names = ("feil", "advarsler", "merknader") if nb else ("errors", "warnings", "notes")
        head = ", ".join(f"{counts[s]} {n}" for s, n in zip(SEVERITIES, names, strict=True))
        verdict = (
            ("I samsvar" if nb else "Conforms")
            if self.conforms
            else ("IKKE i samsvar" if nb else "Does NOT conform")
        )
        lines = [
            f"{verdict}: {head}",
            ("profiler: " if nb else "profiles: ")
            + ", ".join(self.profiles)
            + ("; per " if nb else "; as of ")
            + self.as_of.isoformat(),
        ]
        tags = {"Violation": "ERROR", "Warning": "WARNING", "Info": "INFO"}
        if nb:
            tags = {"Violation": "FEIL", "Warning": "ADVARSEL", "Info": "MERKNAD"}
        indent = " " * 13
        for resource, props in self.grouped():
            lines.append("")
            label = self.labels.get(resource)
            title = _short(resource, width - 4)
            lines.append(f"{title}  ({label})" if label else title)
            for prop, results in props:
                lines.append(
                    "  " + _shorten(prop or ("(ressursen)" if nb else "(resource)"), width - 2)
                )
                for result in results:
                    tag = tags[result.severity].ljust(9)
                    body = textwrap.wrap(
                        result.message(lang),
                        width=max(40, width - 13),
                        break_long_words=True,
                        break_on_hyphens=False,
                    ) or [""]
                    lines.append(f"    {tag}{body[0]}")
                    lines.extend(indent + more for more in body[1:])
                    extra = []
                    if result.value is not None:
                        extra.append(("verdi: " if nb else "value: ") + _value_text(result.value))
                    if result.shape is not None:
                        extra.append(f"[{result.profile}: {_local(result.shape)}]")
                    if extra:
                        lines.append(indent + _shorten("  ".join(extra), width - 13))
        if self.quality:
            lines.append("")
            lines.append("Metadatakvalitet:" if nb else "Metadata quality:")
            for iri in sorted(self.quality):
                q = self.quality[iri]
                dims = " ".join(f"{d[:4]} {v['percent']:.0f}%" for d, v in q["dimensions"].items())
                lines.append("  " + _short(URIRef(iri), width - 2))
                lines.append(
                    f"    {q['score']}/{q['max']} ({q['percent']:.0f}%, {q['rating']})  {dims}"
                )
        return "".join(_fit(line.rstrip(), width) for line in lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for CI tools; key names and order are stable."""
        return {
            "conforms": self.conforms,
            "asOf": self.as_of.isoformat(),
            "profiles": list(self.profiles),
            "counts": {s.lower(): n for s, n in self.counts.items()},
            "results": [r.to_json() for r in self.results],
            "quality": self.quality,
        }

    def to_junit(self) -> str:
        """JUnit XML: a test suite per profile, a test case per resource.

        A resource with a Violation fails; warnings and notes are written to
        the test case's ``system-out``. A profile without results has one
        passing test case.
        """
        root = ET.Element("testsuites", name="eti validate")
        total_tests = total_failures = 0
        for profile in self.profiles:
            mine = [r for r in self.results if r.profile == profile]
            by_resource: dict[Node, list[Result]] = defaultdict(list)
            for r in mine:
                by_resource[r.resource].append(r)
            suite = ET.SubElement(root, "testsuite", name=profile)
            props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", name="asOf", value=self.as_of.isoformat())
            tests = failures = 0
            if not by_resource:
                ET.SubElement(suite, "testcase", classname=profile, name="all resources")
                tests = 1
            for resource in sorted(by_resource, key=_node_sort_key):
                results = sorted(by_resource[resource], key=_result_sort_key)
                case = ET.SubElement(
                    suite, "testcase", classname=profile, name=_json_node(resource) or "_:blank"
                )
                tests += 1
                errors = [r for r in results if r.severity == "Violation"]
                others = [r for r in results if r.severity != "Violation"]
                if errors:
                    failures += 1
                    failure = ET.SubElement(
                        case,
                        "failure",
                        message=errors[0].message_en,
                        type="sh:Violation",
                    )
                    failure.text = "\n".join(_junit_line(r) for r in errors)
                if others:
                    out = ET.SubElement(case, "system-out")
                    out.text = "\n".join(_junit_line(r) for r in others)
            suite.set("tests", str(tests))
            suite.set("failures", str(failures))
            suite.set("errors", "0")
            total_tests += tests
            total_failures += failures
        root.set("tests", str(total_tests))
        root.set("failures", str(total_failures))
        root.set("errors", "0")
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"

    def turtle(self) -> str:
        """The ``sh:ValidationReport`` as Turtle."""
        return self.graph.serialize(format="turtle")


def exit_code(report: Report) -> int:
    """0 when the report has no Violation, 1 otherwise."""
    return report.exit_code


# ---------------------------------------------------------------------------
# Shapes and vocabularies (loaded once)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _ShapeSet:
    graph: Graph
    profile_of: dict[Node, str]


_lock = threading.Lock()


@cache
def _profile_graph(profile: str) -> Graph:
    text = (resources.files("eti.shapes") / f"{profile}.ttl").read_text(encoding="utf-8")
    return Graph().parse(data=text, format="turtle")


@lru_cache(maxsize=16)
def _shape_set(profiles: tuple[str, ...]) -> _ShapeSet:
    graph = Graph()
    profile_of: dict[Node, str] = {}
    for profile in profiles:
        g = _profile_graph(profile)
        for prefix, namespace in g.namespaces():
            graph.bind(prefix if prefix else profile.replace("-", ""), namespace, override=False)
        for triple in g:
            graph.add(triple)
        for s in set(g.subjects()):
            profile_of[s] = profile
    return _ShapeSet(graph, profile_of)


def shapes_graph(profiles: Sequence[str] | None = None) -> Graph:
    """The shapes of ``profiles`` (default: all) as one graph (do not modify it)."""
    return _shape_set(_check_profiles(profiles)).graph


@lru_cache(maxsize=1)
def _vocabularies() -> tuple[Graph, dict[Node, tuple[tuple[URIRef, Node], ...]], tuple]:
    graph = Graph()
    base = resources.files("eti.ontology")
    vocab_dir = base / "vocabularies"
    if vocab_dir.is_dir():
        for entry in sorted(vocab_dir.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".ttl"):
                graph.parse(data=entry.read_text(encoding="utf-8"), format="turtle")
    ontology = base / "eti.ttl"
    if ontology.is_file():
        graph.parse(data=ontology.read_text(encoding="utf-8"), format="turtle")
    index: dict[Node, list[tuple[URIRef, Node]]] = defaultdict(list)
    for predicate in _VOCAB_PREDICATES:
        for s, o in graph.subject_objects(predicate):
            index[s].append((predicate, o))
    axioms = tuple(
        (s, RDFS.subClassOf, o)
        for s, o in graph.subject_objects(RDFS.subClassOf)
        if isinstance(s, URIRef) and isinstance(o, URIRef)
    )
    return graph, {k: tuple(v) for k, v in index.items()}, axioms


def vocabulary_graph() -> Graph:
    """The shipped vocabularies and ontology, as loaded by the validator (do not modify)."""
    return _vocabularies()[0]


@lru_cache(maxsize=256)
def _prepared(text: str) -> Query:
    return prepareQuery(text)


class _WorkGraph(Graph):
    """The validator's copy of the data: SPARQL text is parsed once per process.

    pySHACL sends the same text of a SPARQL-based constraint for every focus
    node (binding ``$this`` separately); rdflib would parse it every time,
    which costs more than evaluating it. Only the shapes' own query texts
    reach this graph.
    """

    def query(self, query_object, *args, **kwargs):  # type: ignore[override]
        if isinstance(query_object, str):
            query_object = _prepared(query_object)
        return super().query(query_object, *args, **kwargs)


# ---------------------------------------------------------------------------
# The core function
# ---------------------------------------------------------------------------

_RDFLIB_TERM_LOG = logging.getLogger("rdflib.term")
_quiet_lock = threading.Lock()
_quiet_users = 0
_quiet_saved_level = logging.NOTSET


@contextmanager
def quiet_ill_typed_literals() -> Iterator[None]:
    """Keep rdflib from logging a warning with a Python traceback for every ill-typed
    literal it makes or compares (``"yesterday"^^xsd:date``): such a value is the data's
    fault, reported as a finding when a shape catches it, never a traceback on stderr.
    rdflib.term's logger is raised to ERROR for the duration; nested and concurrent users
    share one raise, and the last to leave restores the level it had."""
    global _quiet_users, _quiet_saved_level
    with _quiet_lock:
        if _quiet_users == 0:
            _quiet_saved_level = _RDFLIB_TERM_LOG.level
            _RDFLIB_TERM_LOG.setLevel(logging.ERROR)
        _quiet_users += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_users -= 1
            if _quiet_users == 0:
                _RDFLIB_TERM_LOG.setLevel(_quiet_saved_level)


def validate(
    data: Graph,
    profiles: Sequence[str] | None = None,
    *,
    as_of: dt.date | str | None = None,
    context: Graph | None = None,
    engine: str | None = None,
    standalone: bool = False,
) -> Report:
    """Validate ``data`` against ``profiles`` and return a :class:`Report`.

    ``standalone``: the data is checked without the catalogue (``eti validate FILE``), so
    a rule about what a value *is* (``sh:node``, ``sh:class``) on an IRI the input does
    not describe (an owner kept in the agents graph, a product already registered) is
    reported as an Info "not checked here", naming the context it needs, not as a
    Violation it may not have.

    ``data`` is an ``rdflib.Graph``; a ``Dataset`` (or ``ConjunctiveGraph``) is
    validated as the union of its graphs. ``profiles`` defaults to all of
    :data:`PROFILES`. ``as_of`` (a date or an ISO date string; default today)
    is the day date-dependent rules are judged on. ``context`` is a small graph
    with what the data refers to but does not describe (agents, the target
    product of an agreement, its offer, other agreements between the parties,
    the products claiming the same information items); results about
    resources that only the context describes are not reported.

    The cost grows with ``data`` plus ``context``, never with the catalogue:
    the caller passes only what the data needs --

    * a product (its description and content graphs): the agents graph, plus
      the products that claim the same information items
      (``?p eti:isAuthoritativeSourceFor ?item``) and those the copies cite;
    * an agreement: the agents graph, the target product's description (with
      its offers), and the other agreements with the same assigner, assignee
      and target.

    ``engine`` chooses the SHACL engine (:data:`ENGINES`; default: the
    ``ETI_VALIDATION_ENGINE`` environment variable, else ``"auto"``): pySHACL,
    the reference, or pyshacl-turbo, which ``"auto"`` takes for inputs of at
    least :data:`TURBO_MIN_TRIPLES` data triples when it is installed. The
    report is the same whichever runs.

    Runs are serialised by a lock (pySHACL patches rdflib while it loads a
    shapes graph); the shapes, vocabularies and parsed SPARQL are loaded once
    per process.

    Raises ``ValueError`` for an unknown profile, engine or an invalid date
    (and for ``engine="turbo"`` when pyshacl-turbo is not installed), and
    ``TypeError`` when ``data`` is not an rdflib graph.
    """
    with quiet_ill_typed_literals():
        return _validate(
            data, profiles, as_of=as_of, context=context, engine=engine, standalone=standalone
        )


def _validate(
    data: Graph,
    profiles: Sequence[str] | None,
    *,
    as_of: dt.date | str | None,
    context: Graph | None,
    engine: str | None,
    standalone: bool = False,
) -> Report:
    selected = _check_profiles(profiles)
    day = _check_as_of(as_of)
    chosen = _check_engine(engine)
    shapes = _shape_set(selected)

    work = _WorkGraph()
    in_data: set[Node] = set()
    data_subjects: set[Node] = set()
    referenced: set[Node] = set()  # IRIs whose vocabulary triples are merged
    data_triples = 0
    for s, p, o in _triples(data):
        work.add((s, p, o))
        data_subjects.add(s)
        in_data.add(s)
        in_data.add(o)
        data_triples += 1
    context_subjects: set[Node] = set()
    if context is not None:
        for s, p, o in _triples(context):
            work.add((s, p, o))
            context_subjects.add(s)
            referenced.add(s)
            referenced.add(o)
    referenced.update(in_data)
    _merge_vocabulary(work, referenced)

    raw = None
    if chosen == "auto":
        large = data_triples >= TURBO_MIN_TRIPLES
        chosen = "turbo" if large and turbo_available() else "pyshacl"
    if chosen == "turbo" and (why := _turbo_differs(work, shapes.graph)):
        _log.info("validating with pySHACL: pyshacl-turbo would report otherwise (%s)", why)
        chosen = "pyshacl"
    if chosen == "turbo":
        try:
            raw = _run_turbo(work, shapes.graph)
        except Exception:
            if engine == "turbo" or (engine is None and _default_engine() == "turbo"):
                raise
            _log.warning("pyshacl-turbo failed; validating with pySHACL", exc_info=True)
    if raw is None:
        chosen = "pyshacl"
        raw = _run_pyshacl(work, shapes.graph)

    def reported(focus: Node) -> bool:
        if focus not in in_data:
            return False
        return not (focus in context_subjects and focus not in data_subjects)

    kept = [
        r
        for top in raw.subjects(RDF.type, SH.ValidationReport)
        for r in raw.objects(top, SH.result)
        if reported(raw.value(r, SH.focusNode))
    ]
    extra = _as_of_results(work, selected, day, reported)

    report_graph = Graph()
    report_graph.bind("sh", SH)
    for prefix, namespace in ns.PREFIXES.items():
        report_graph.bind(prefix, namespace)
    report = BNode()
    report_graph.add((report, RDF.type, SH.ValidationReport))
    for r in kept:
        report_graph.add((report, SH.result, r))
        _copy_description(raw, report_graph, r)
    for spec in extra:
        node = BNode()
        report_graph.add((report, SH.result, node))
        report_graph.add((node, RDF.type, SH.ValidationResult))
        report_graph.add((node, SH.focusNode, spec["focus"]))
        if spec.get("path") is not None:
            report_graph.add((node, SH.resultPath, spec["path"]))
        if spec.get("value") is not None:
            report_graph.add((node, SH.value, spec["value"]))
        report_graph.add((node, SH.resultSeverity, SH[spec["severity"]]))
        report_graph.add((node, SH.sourceShape, spec["shape"]))
        report_graph.add((node, SH.sourceConstraintComponent, AS_OF_COMPONENT))
        report_graph.add((node, SH.resultMessage, Literal(spec["nb"], lang="nb")))
        report_graph.add((node, SH.resultMessage, Literal(spec["en"], lang="en")))

    if standalone:
        for r in list(report_graph.objects(report, SH.result)):
            _mark_unchecked(report_graph, r, work)
    results = [
        _result(report_graph, r, work, shapes.profile_of)
        for r in report_graph.objects(report, SH.result)
    ]
    # sorted before the duplicates go (e.g. sh:nodeKind and sh:pattern of one
    # shape both failing on a value), so the one kept does not depend on the
    # order in which the engine wrote its results
    results.sort(key=_result_sort_key)
    results = _dedupe(results)
    conforms = not any(r.severity == "Violation" for r in results)
    report_graph.add((report, SH.conforms, Literal(conforms)))

    labels = {}
    for r in results:
        if r.resource not in labels:
            types = sorted(_qname(t) for t in work.objects(r.resource, RDF.type))
            labels[r.resource] = ", ".join(types)

    products_and_datasets = [
        s
        for s in data_subjects
        if isinstance(s, URIRef)
        and (
            (s, RDF.type, URIRef(_DPROD + "DataProduct")) in work
            or (s, RDF.type, URIRef(_DCAT + "Dataset")) in work
        )
    ]
    quality = score_resources(work, products_and_datasets, results)
    report_obj = Report(
        conforms=conforms,
        graph=report_graph,
        results=results,
        quality=quality,
        profiles=selected,
        as_of=day,
        labels=labels,
        engine=chosen,
    )
    # the flat list follows the reading order: per resource, per property, errors first
    report_obj.results = [r for _, props in report_obj.grouped() for _, rs in props for r in rs]
    return report_obj


# ---------------------------------------------------------------------------
# Preparing the data
# ---------------------------------------------------------------------------


_NEEDS_DESCRIPTION = (SH.NodeConstraintComponent, SH.ClassConstraintComponent)
UNCHECKED = {
    "nb": "Ikke sjekket her: {value} er ikke beskrevet i det som ble validert (aktørgrafen "
    "eller et registrert produkt i katalogen beskriver det). Valider i katalogens "
    "sammenheng for å sjekke det: eti validate FIL --server URL (eller --store MAPPE), "
    "eller POST /api/validate?context=catalogue. Regelen: {rule}",
    "en": "Not checked here: {value} is not described in what was validated (the "
    "catalogue's agents graph or a registered product describes it). Validate in the "
    "catalogue's context to check it: eti validate FILE --server URL (or --store PATH), "
    "or POST /api/validate?context=catalogue. The rule: {rule}",
}


def _mark_unchecked(report: Graph, result: Node, work: Graph) -> None:
    """A Violation of ``sh:node``/``sh:class`` on an IRI nothing describes becomes an Info
    saying which context the check lacked (standalone validation only)."""
    value = report.value(result, SH.value)
    if (
        report.value(result, SH.resultSeverity) != SH.Violation
        or report.value(result, SH.sourceConstraintComponent) not in _NEEDS_DESCRIPTION
        or not isinstance(value, URIRef)
        or next(work.predicate_objects(value), None) is not None
    ):
        return
    rules = {m.language: str(m) for m in report.objects(result, SH.resultMessage)}
    shape = report.value(result, SH.sourceShape)
    if not rules and shape is not None:
        rules = dict(zip(("nb", "en"), _shape_messages(shape), strict=True))
    report.set((result, SH.resultSeverity, SH.Info))
    report.remove((result, SH.resultMessage, None))
    for lang, text in UNCHECKED.items():
        rule = rules.get(lang) or rules.get("en", "")
        report.add(
            (
                result,
                SH.resultMessage,
                Literal(text.format(value=f"<{value}>", rule=rule), lang=lang),
            )
        )


def _triples(graph: Graph) -> Iterator[tuple[Node, Node, Node]]:
    if not isinstance(graph, Graph):
        raise TypeError(f"expected an rdflib Graph or Dataset, not {type(graph).__name__}")
    if getattr(graph, "context_aware", False):
        for s, p, o, _g in graph.quads((None, None, None, None)):
            yield s, p, o
    else:
        yield from graph


def _merge_vocabulary(work: Graph, referenced: Iterable[Node]) -> None:
    """Add the vocabulary triples of the ``referenced`` subjects and objects of
    ``work`` (those that are IRIs), and the subclass axioms."""
    _graph, index, axioms = _vocabularies()
    for node in referenced:
        if isinstance(node, URIRef):
            for p, o in index.get(node, ()):
                work.add((node, p, o))
    for triple in axioms:
        work.add(triple)


# ---------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------

_log = logging.getLogger(__name__)


@cache
def turbo_available() -> bool:
    """Whether pyshacl-turbo can be imported (checked once per process)."""
    try:
        import pyshacl_turbo  # noqa: F401
    except ImportError:
        return False
    return True


def _default_engine() -> str:
    return os.environ.get(ENGINE_VARIABLE, "").strip().lower() or "auto"


def _check_engine(engine: str | None) -> str:
    name = _default_engine() if engine is None else engine
    if name not in ENGINES:
        source = f"{ENGINE_VARIABLE}=" if engine is None else "engine "
        raise ValueError(f"unknown validation {source}{name!r} (known: {', '.join(ENGINES)})")
    if name == "turbo" and not turbo_available():
        raise ValueError("validation engine 'turbo' needs pyshacl-turbo, which is not installed")
    return name


_OPTIONS: dict[str, Any] = {
    "inference": "none",
    "advanced": True,
    "allow_warnings": True,
    "allow_infos": True,
}
"""The options both engines run with (the same, so that the reports are)."""


def _run_pyshacl(work: Graph, shapes: Graph) -> Graph:
    with _lock:
        # pySHACL briefly monkey-patches rdflib (Literal truth values) while it
        # loads a shapes graph; runs are serialised so one run never sees
        # another's patch. It holds the GIL throughout, so little is lost.
        _conforms, raw, _text = pyshacl.validate(work, shacl_graph=shapes, inplace=True, **_OPTIONS)
    return raw


_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@lru_cache(maxsize=16)
def _compared_pairs(shapes: Graph) -> tuple[tuple[Node, Node], ...]:
    """(path, other property) of every ``sh:lessThan`` / ``sh:lessThanOrEquals``."""
    out: set[tuple[Node, Node]] = set()
    for predicate in (SH.lessThan, SH.lessThanOrEquals):
        for shape, other in shapes.subject_objects(predicate):
            out.add((shapes.value(shape, SH.path), other))
    return tuple(sorted(out, key=lambda pair: (str(pair[0]), str(pair[1]))))


def _plain_date(value: Node) -> bool:
    return (
        isinstance(value, Literal)
        and value.datatype == XSD.date
        and not value.ill_typed
        and _PLAIN_DATE.fullmatch(str(value)) is not None
    )


def _turbo_differs(work: Graph, shapes: Graph) -> str | None:
    """Why pyshacl-turbo's report on ``work`` could differ from pySHACL's (``None``:
    it cannot, as far as the cross-checks in tests/test_turbo.py show).

    The one difference found: ``sh:lessThan(OrEquals)`` on values that cannot be
    compared (an invalid date such as "2020-02-30"^^xsd:date, ...): turbo reports
    them, as SHACL says, pySHACL does not. So turbo runs only when every pair the
    data gives such a constraint to compare (the values of both properties on one
    subject) is of valid xsd:date values written YYYY-MM-DD.
    """
    for path, other in _compared_pairs(shapes):
        if not isinstance(path, URIRef) or not isinstance(other, URIRef):
            return f"sh:lessThan(OrEquals) with a complex path: {path!r}, {other!r}"
        for subject in set(work.subjects(path, None)):
            others = list(work.objects(subject, other))
            if not others:
                continue
            for value in [*work.objects(subject, path), *others]:
                if not _plain_date(value):
                    return f"{value.n3()} compared by sh:lessThan(OrEquals) on {subject.n3()}"
    return None


def _run_turbo(work: Graph, shapes: Graph) -> Graph:
    """pyshacl-turbo's report on ``work`` (not modified: no inference, no rules)."""
    import pyshacl_turbo

    with _lock:
        # turbo reads the rdflib terms of ``work`` and builds rdflib terms for
        # the report: it must not run while pySHACL has rdflib patched.
        _conforms, raw, _text = pyshacl_turbo.validate(work, shacl_graph=shapes, **_OPTIONS)
    if not isinstance(raw, Graph):  # a failure object instead of a report
        raise RuntimeError(f"pyshacl-turbo did not validate: {raw}")
    return raw


def _check_profiles(profiles: Sequence[str] | None) -> tuple[str, ...]:
    if profiles is None:
        return PROFILES
    if isinstance(profiles, str):
        profiles = [profiles]
    chosen = []
    for profile in profiles:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
        if profile not in chosen:
            chosen.append(profile)
    if not chosen:
        raise ValueError("no profile chosen")
    return tuple(p for p in PROFILES if p in chosen)


def _check_as_of(as_of: dt.date | str | None) -> dt.date:
    if as_of is None:
        return clock.today()
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    if isinstance(as_of, str):
        try:
            return dt.date.fromisoformat(as_of.strip())
        except ValueError as exc:
            raise ValueError(f"not a date (YYYY-MM-DD): {as_of!r}") from exc
    raise ValueError(f"not a date: {as_of!r}")


# ---------------------------------------------------------------------------
# Rules judged against the as-of date
# ---------------------------------------------------------------------------


def freshness_deadline(modified: dt.date, frequency: str) -> dt.date | None:
    """The last day ``modified`` counts as fresh for ``frequency`` (IRI or code).

    ``None`` when the frequency declares no period (e.g. IRREG).
    """
    code = frequency.rsplit("/", 1)[-1]
    days = FREQUENCY_DAYS.get(code)
    if days is None:
        return None
    grace = max(GRACE_MIN_DAYS, math.ceil(days / 2))
    return modified + dt.timedelta(days=days + grace)


def _as_date(node: Node | None) -> dt.date | None:
    if not isinstance(node, Literal):
        return None
    value = node.toPython()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def _shape_messages(shape: URIRef) -> tuple[str, str]:
    graph = _shape_set(PROFILES).graph
    nb = en = ""
    for message in graph.objects(shape, SH.message):
        if isinstance(message, Literal):
            if message.language == "nb":
                nb = str(message)
            elif message.language == "en":
                en = str(message)
    return nb, en


def _as_of_results(work: Graph, profiles: tuple[str, ...], day: dt.date, reported) -> list[dict]:
    out: list[dict] = []
    if "eti" in profiles:
        nb, en = _shape_messages(_FRESHNESS)
        modified_p = URIRef(_DCT + "modified")
        freq_p = URIRef(_DCT + "accrualPeriodicity")
        targets = set(work.subjects(RDF.type, URIRef(_DPROD + "DataProduct")))
        targets |= set(work.subjects(RDF.type, URIRef(_DCAT + "Dataset")))
        for focus in sorted(targets, key=_node_sort_key):
            if not reported(focus):
                continue
            frequencies = [f for f in work.objects(focus, freq_p) if isinstance(f, URIRef)]
            dated = [(d, m) for m in work.objects(focus, modified_p) if (d := _as_date(m))]
            if len(frequencies) != 1 or not dated:
                continue
            modified, literal = max(dated, key=lambda pair: pair[0])
            deadline = freshness_deadline(modified, str(frequencies[0]))
            if deadline is None or deadline >= day:
                continue
            code = str(frequencies[0]).rsplit("/", 1)[-1]
            out.append(
                {
                    "focus": focus,
                    "path": modified_p,
                    "value": literal,
                    "severity": "Warning",
                    "shape": _FRESHNESS,
                    "nb": f"{nb} Endret {modified}, frekvens {code}, frist {deadline}, "
                    f"vurdert per {day}.",
                    "en": f"{en} Modified {modified}, frequency {code}, due by {deadline}, "
                    f"as of {day}.",
                }
            )
    if "agreements" in profiles:
        nb, en = _shape_messages(_STATUS_DATES)
        status_p = URIRef(_ETI + "agreementStatus")
        active = URIRef(_ETI + "active")
        temporal = URIRef(_DCT + "temporal")
        for focus in sorted(
            work.subjects(RDF.type, URIRef(_ODRL + "Agreement")), key=_node_sort_key
        ):
            if not reported(focus) or (focus, status_p, active) not in work:
                continue
            periods = list(work.objects(focus, temporal))
            if len(periods) != 1:
                continue
            start = _as_date(work.value(periods[0], URIRef(_DCAT + "startDate")))
            end = _as_date(work.value(periods[0], URIRef(_DCAT + "endDate")))
            if start is None or end is None or start <= day <= end:
                continue
            out.append(
                {
                    "focus": focus,
                    "path": status_p,
                    "value": active,
                    "severity": "Warning",
                    "shape": _STATUS_DATES,
                    "nb": f"{nb} Periode {start}–{end}, vurdert per {day}.",
                    "en": f"{en} Period {start} to {end}, as of {day}.",
                }
            )
    return out


# ---------------------------------------------------------------------------
# Reading the report
# ---------------------------------------------------------------------------


def _copy_description(src: Graph, dst: Graph, node: Node, depth: int = 0) -> None:
    if depth > 20:
        return
    for p, o in src.predicate_objects(node):
        dst.add((node, p, o))
        if isinstance(o, BNode):
            _copy_description(src, dst, o, depth + 1)


def _result(graph: Graph, node: Node, work: Graph, profile_of: dict[Node, str]) -> Result:
    focus = graph.value(node, SH.focusNode)
    severity_node = graph.value(node, SH.resultSeverity)
    severity = str(severity_node).rsplit("#", 1)[-1] if severity_node is not None else "Violation"
    if severity not in _SEVERITY_RANK:
        severity = "Violation"
    shape = graph.value(node, SH.sourceShape)
    component = graph.value(node, SH.sourceConstraintComponent)
    nb = en = other = ""
    # Both engines drop the language tags of the messages of SPARQL-based
    # constraints: an untagged message that is one of the shape's own is read
    # in that message's language. Sorted, so the engine's order never matters.
    languages = _message_languages(shape)
    for message in sorted(graph.objects(node, SH.resultMessage), key=_node_sort_key):
        text = str(message)
        lang = message.language if isinstance(message, Literal) else None
        if lang is None:
            lang = languages.get(text)
        if lang == "nb" and not nb:
            nb = text
        elif lang == "en" and not en:
            en = text
        elif not other:
            other = text
    en = en or other or nb
    nb = nb or en
    path = graph.value(node, SH.resultPath)
    if isinstance(path, BNode):
        path = _path_node(graph, path)
    resource, via = _owner(work, focus)
    return Result(
        focus=focus,
        resource=resource,
        via=via,
        path=path,
        value=graph.value(node, SH.value),
        severity=severity,
        message_nb=nb,
        message_en=en,
        shape=shape if isinstance(shape, URIRef) else None,
        profile=profile_of.get(shape) or _profile_from_iri(shape),
        component=component if isinstance(component, URIRef) else None,
    )


class _Path(tuple):
    """A complex SHACL path, kept as ("seq", parts) / ("inv", p) / ... for display."""


def _path_node(graph: Graph, node: Node) -> Node | _Path:
    if isinstance(node, URIRef):
        return node
    first = graph.value(node, RDF.first)
    if first is not None:
        return _Path(("seq", tuple(_path_node(graph, p) for p in Collection(graph, node))))
    for kind, predicate in (
        ("inv", SH.inversePath),
        ("alt", SH.alternativePath),
        ("zeroOrMore", SH.zeroOrMorePath),
        ("oneOrMore", SH.oneOrMorePath),
        ("zeroOrOne", SH.zeroOrOnePath),
    ):
        inner = graph.value(node, predicate)
        if inner is not None:
            if kind == "alt":
                return _Path(("alt", tuple(_path_node(graph, p) for p in Collection(graph, inner))))
            return _Path((kind, _path_node(graph, inner)))
    return node


def _path_text(path: Any, compact: bool = True) -> str:
    def name(node: Node) -> str:
        return _qname(node) if compact else str(node)

    if isinstance(path, _Path):
        kind, inner = path
        if kind == "seq":
            return "/".join(_path_text(p, compact) for p in inner)
        if kind == "alt":
            return "(" + "|".join(_path_text(p, compact) for p in inner) + ")"
        if kind == "inv":
            return "^" + _path_text(inner, compact)
        suffix = {"zeroOrMore": "*", "oneOrMore": "+", "zeroOrOne": "?"}[kind]
        return _path_text(inner, compact) + suffix
    return name(path)


def _owner(work: Graph, focus: Node) -> tuple[Node, tuple[URIRef, ...]]:
    """The nearest IRI that (through blank nodes) has ``focus`` as a value."""
    node, via = focus, []
    for _ in range(6):
        if not isinstance(node, BNode):
            break
        parents = sorted(
            ((s, p) for s, p in work.subject_predicates(node) if s != node),
            key=lambda sp: (isinstance(sp[0], BNode), str(sp[1]), str(sp[0])),
        )
        if not parents:
            break
        node, predicate = parents[0]
        via.insert(0, predicate)
    if isinstance(node, BNode):
        return focus, ()
    return node, tuple(via)


@lru_cache(maxsize=1024)
def _message_languages(shape: Node | None) -> dict[str, str]:
    """Text -> language of the tagged ``sh:message`` of ``shape`` and of its
    SPARQL-based constraints."""
    if shape is None:
        return {}
    graph = _shape_set(PROFILES).graph
    holders = [shape, *graph.objects(shape, SH.sparql)]
    out: dict[str, str] = {}
    for holder in holders:
        for message in graph.objects(holder, SH.message):
            if isinstance(message, Literal) and message.language:
                out.setdefault(str(message), message.language)
    return out


def _profile_from_iri(shape: Node | None) -> str | None:
    if isinstance(shape, URIRef) and str(shape).startswith(SHAPES_BASE):
        return str(shape)[len(SHAPES_BASE) :].split("#", 1)[0]
    return None


def _dedupe(results: list[Result]) -> list[Result]:
    seen = set()
    out = []
    for r in results:
        key = (r.focus, r.path, r.value, r.severity, r.shape, r.message_en)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


# ---------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------


_PREFIXES = sorted(ns.PREFIXES.items(), key=lambda kv: -len(kv[1]))


def _qname(node: Node) -> str:
    if isinstance(node, URIRef):
        text = str(node)
        for prefix, namespace in _PREFIXES:
            if text.startswith(namespace) and len(text) > len(namespace):
                local = text[len(namespace) :]
                if "/" not in local and "#" not in local:
                    return f"{prefix}:{local}"
        return f"<{text}>"
    if isinstance(node, BNode):
        return "[]"
    return str(node)


def _local(shape: URIRef) -> str:
    return str(shape).rsplit("#", 1)[-1]


def _short(node: Node, width: int) -> str:
    text = str(node) if isinstance(node, URIRef) else _qname(node)
    return _shorten(text, width)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _fit(line: str, width: int) -> str:
    """``line`` and a newline, wrapped (continuation indented) to ``width`` columns."""
    if len(line) <= width:
        return line + "\n"
    indent = " " * (len(line) - len(line.lstrip()) + 2)
    parts = textwrap.wrap(
        line,
        width=width,
        subsequent_indent=indent[: max(0, width // 2)],
        break_long_words=True,
        break_on_hyphens=False,
        drop_whitespace=True,
    )
    return "".join(part + "\n" for part in parts)


def _value_text(value: Node) -> str:
    if isinstance(value, Literal):
        text = str(value)
        if len(text) > 60:
            text = text[:59] + "…"
        suffix = f"@{value.language}" if value.language else ""
        if value.datatype is not None:
            suffix = "^^" + _qname(value.datatype)
        return f'"{text}"{suffix}'
    if isinstance(value, BNode):
        return "[] (blank node)"
    return _qname(value)


def _property_key(result: Result) -> str:
    parts = [_qname(p) for p in result.via]
    if result.path is not None:
        parts.append(_path_text(result.path))
    return " → ".join(parts)


def _node_sort_key(node: Node) -> tuple[int, str]:
    return (1 if isinstance(node, BNode) else 0, str(node))


def _result_sort_key(result: Result) -> tuple:
    return (
        _node_sort_key(result.resource),
        tuple(str(p) for p in result.via),
        _path_text(result.path, False) if result.path is not None else "",
        _SEVERITY_RANK[result.severity],
        str(result.shape or ""),
        str(result.value or ""),
        # a total order, so that neither engine's output order shows through
        _node_sort_key(result.value) if result.value is not None else (0, ""),
        str(result.component or ""),
        result.message_en,
        result.message_nb,
        _node_sort_key(result.focus),
    )


def _json_node(node: Node | None) -> str | None:
    if isinstance(node, URIRef):
        return str(node)
    return None


def _json_value(value: Node) -> dict[str, Any]:
    if isinstance(value, URIRef):
        return {"type": "iri", "value": str(value)}
    if isinstance(value, BNode):
        return {"type": "blank", "value": None}
    out: dict[str, Any] = {"type": "literal", "value": str(value)}
    if value.language:
        out["language"] = value.language
    elif value.datatype is not None:
        out["datatype"] = str(value.datatype)
    return out


def _junit_line(result: Result) -> str:
    where = _property_key(result) or "(resource)"
    value = f" value={_value_text(result.value)}" if result.value is not None else ""
    shape = f" [{_local(result.shape)}]" if result.shape is not None else ""
    return f"{result.severity}: {where}: {result.message_en}{value}{shape}"
