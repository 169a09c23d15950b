"""The core function :func:`validate`: prepare the data, run an engine, read the
report (see the package docstring for the pitfalls handled)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from eti.catalogue import namespaces as ns
from eti.catalogue.quality import score_resources

from . import engines
from .dates import AS_OF_COMPONENT, _as_of_results, _check_as_of
from .model import Report
from .reading import _copy_description, _dedupe, _mark_unchecked, _result
from .shapes import _check_profiles, _merge_vocabulary, _shape_set, _WorkGraph
from .terms import _DCAT, _DPROD, _qname, _result_sort_key

STAGES: tuple[str, ...] = ("preparing", "validating", "reading", "scoring")
"""The stages :func:`validate` reports to its ``progress`` callback, in order."""


def _silent(_stage: str) -> None:
    """No progress to show."""


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
    progress: Callable[[str], object] | None = None,
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

    ``progress`` is called with the name of each stage as it starts (:data:`STAGES`:
    preparing the data, validating, reading the report, scoring quality), for a
    progress bar on a terminal; it does not change the report.

    Raises ``ValueError`` for an unknown profile, engine or an invalid date
    (and for ``engine="turbo"`` when pyshacl-turbo is not installed), and
    ``TypeError`` when ``data`` is not an rdflib graph.
    """
    with quiet_ill_typed_literals():
        return _validate(
            data,
            profiles,
            as_of=as_of,
            context=context,
            engine=engine,
            standalone=standalone,
            progress=progress or _silent,
        )


def _validate(
    data: Graph,
    profiles: Sequence[str] | None,
    *,
    as_of: dt.date | str | None,
    context: Graph | None,
    engine: str | None,
    standalone: bool = False,
    progress: Callable[[str], object],
) -> Report:
    progress(STAGES[0])
    selected = _check_profiles(profiles)
    day = _check_as_of(as_of)
    chosen = engines.check(engine)
    shapes = _shape_set(selected)

    work = _WorkGraph(store="SimpleMemory")  # no contexts to keep: adds and reads ~2x faster
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

    progress(STAGES[1])
    raw, chosen = engines.run(work, shapes.graph, engine, chosen, data_triples)

    def reported(focus: Node) -> bool:
        if focus not in in_data:
            return False
        return not (focus in context_subjects and focus not in data_subjects)

    progress(STAGES[2])
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

    # the typed ones looked up once, not every data subject's types (the order does not
    # matter: score_resources sorts)
    typed = set(work.subjects(RDF.type, URIRef(_DPROD + "DataProduct")))
    typed.update(work.subjects(RDF.type, URIRef(_DCAT + "Dataset")))
    products_and_datasets = [s for s in typed if isinstance(s, URIRef) and s in data_subjects]
    progress(STAGES[3])
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


def _triples(graph: Graph) -> Iterator[tuple[Node, Node, Node]]:
    if not isinstance(graph, Graph):
        raise TypeError(f"expected an rdflib Graph or Dataset, not {type(graph).__name__}")
    if getattr(graph, "context_aware", False):
        for s, p, o, _g in graph.quads((None, None, None, None)):
            yield s, p, o
    else:
        yield from graph
