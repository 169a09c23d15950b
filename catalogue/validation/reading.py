"""Reading an engine's raw report into :class:`Result` values: owners of blank
nodes, complex paths, message languages, duplicates, and the standalone
"not checked here" marking."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from .model import Result
from .shapes import _message_languages
from .shapes import shape_messages as _shape_messages
from .terms import _SEVERITY_RANK, _node_sort_key, _Path, _profile_from_iri

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


def _dedupe(results: list[Result]) -> list[Result]:
    seen = set()
    out = []
    for r in results:
        key = (r.focus, r.path, r.value, r.severity, r.shape, r.message_en)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
