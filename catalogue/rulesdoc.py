"""The shared rules as Markdown, generated from the shapes (so ``docs/rules.md`` stays true).

Run ``python -m eti.catalogue.rulesdoc > docs/rules.md``; a test checks it is current.
"""

from __future__ import annotations

from importlib.resources import files

import rdflib
from rdflib.namespace import RDFS, SH

from .validation import PROFILES

SEVERITY = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


def _text(graph: rdflib.Graph, node: rdflib.term.Node, pred: rdflib.URIRef, lang: str) -> str:
    values = [v for v in graph.objects(node, pred) if getattr(v, "language", None) == lang]
    return " ".join(str(v) for v in values).replace("|", "\\|").replace("\n", " ")


def _name(graph: rdflib.Graph, node: rdflib.term.Node) -> str:
    if isinstance(node, rdflib.BNode):
        items = (
            list(rdflib.collection.Collection(graph, node))
            if (node, rdflib.RDF.first, None) in graph
            else []
        )
        return " / ".join(_name(graph, i) for i in items) if items else "(path)"
    return graph.namespace_manager.normalizeUri(node)


def profile_markdown(profile: str) -> str:
    """One profile's rules: per shape, its targets, then one row per constraint."""
    graph = rdflib.Graph().parse(
        data=(files("eti.shapes") / f"{profile}.ttl").read_text("utf-8"), format="turtle"
    )
    lines = [f"## {profile}", ""]
    for ont in graph.subjects(rdflib.RDF.type, rdflib.OWL.Ontology):
        title = _text(graph, ont, rdflib.DCTERMS.title, "en")
        if title:
            lines += [title, ""]
    lines += [
        "| shape | applies to | property | severity | rule (en) | regel (nb) |",
        "|---|---|---|---|---|---|",
    ]
    shapes = sorted(set(graph.subjects(rdflib.RDF.type, SH.NodeShape)), key=str)
    for shape in shapes:
        if (shape, SH.deactivated, rdflib.Literal(True)) in graph and not list(
            graph.objects(shape, rdflib.RDFS.comment)
        ):
            continue
        targets = ", ".join(
            sorted(
                f"{p.n3(graph.namespace_manager).split(':')[-1]} {_name(graph, o)}"
                for p in TARGETS
                for o in graph.objects(shape, p)
            )
        )
        label = _name(graph, shape)
        rows = []
        for prop in sorted(
            graph.objects(shape, SH.property),
            key=lambda n: str(next(iter(graph.objects(n, SH.path)), "")),
        ):
            path = next(iter(graph.objects(prop, SH.path)), None)
            severity = SEVERITY.get(
                next(iter(graph.objects(prop, SH.severity)), SH.Violation), "Violation"
            )
            rows.append(
                (
                    _name(graph, path) if path is not None else "",
                    severity,
                    _text(graph, prop, SH.message, "en"),
                    _text(graph, prop, SH.message, "nb"),
                )
            )
        for sparql in graph.objects(shape, SH.sparql):
            severity = SEVERITY.get(
                next(
                    iter(graph.objects(sparql, SH.severity)),
                    next(iter(graph.objects(shape, SH.severity)), SH.Violation),
                ),
                "Violation",
            )
            rows.append(
                (
                    "(SPARQL)",
                    severity,
                    _text(graph, sparql, SH.message, "en"),
                    _text(graph, sparql, SH.message, "nb"),
                )
            )
        own = _text(graph, shape, SH.message, "en")
        if own and not rows:
            severity = SEVERITY.get(
                next(iter(graph.objects(shape, SH.severity)), SH.Violation), "Violation"
            )
            rows.append(("", severity, own, _text(graph, shape, SH.message, "nb")))
        if (shape, SH.deactivated, rdflib.Literal(True)) in graph:
            comment = _text(graph, shape, RDFS.comment, "en") or " ".join(
                str(c) for c in graph.objects(shape, RDFS.comment)
            )
            severity = SEVERITY.get(
                next(iter(graph.objects(shape, SH.severity)), SH.Warning), "Warning"
            )
            rows.append(("(as of a date)", severity, " ".join(comment.split()), ""))
        for path, severity, en, nb in rows:
            lines.append(f"| `{label}` | {targets} | {path} | {severity} | {en} | {nb} |")
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """Every profile's rules."""
    head = (
        "# The shared rules (felles spilleregler)\n\n"
        "Generated from `shapes/*.ttl` by `python -m eti.catalogue.rulesdoc`; do not edit.\n"
        "Validate with `eti validate FILE --profile P` or `POST /api/validate`.\n\n"
    )
    return head + "\n".join(profile_markdown(p) for p in PROFILES)


if __name__ == "__main__":
    print(markdown(), end="")
