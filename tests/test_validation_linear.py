"""Whole-catalogue validation stays linear: every SPARQL-based constraint of the
shapes is evaluated per focus node with index lookups on what is already bound.

pyshacl-turbo (the engine a whole catalogue is validated with) evaluates a
``FILTER (NOT) EXISTS`` group of several triple patterns without the bindings of
the solution it tests: each such pattern was a scan of the whole catalogue for
every focus node, which made validation quadratic (``agreements#AgreementWithinOffer``
took 8x the rest of the validation at 10,000 products, issue 15). pySHACL (rdflib)
reorders the patterns of one group by their constants, so the shapes keep each
step in its own braced group, in the order it binds. The rule is checked here on
the shapes' text (no clock):

* each triple pattern is *anchored*: its subject or object is ``$this`` or a
  variable bound before it (by an earlier pattern or group, in written order);
* each ``EXISTS`` / ``NOT EXISTS`` group holds exactly one triple pattern,
  anchored on the solution it tests (further patterns go in a nested ``EXISTS``);
* a property path is one step (with ``^``, ``+``, ``*``, ``?``), never a
  sequence or alternative;
* no other group forms (``OPTIONAL``, sub-queries, ...).
"""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from eti.catalogue.validation import engines, shapes_graph

THIS = Variable("this")
ODRL = "http://www.w3.org/ns/odrl/2/"
PROV = "http://www.w3.org/ns/prov#"
AGREEMENTS = "https://w3id.org/eti/shapes/agreements#"


def _prefixes(shapes: Graph, constraint) -> str:
    lines = []
    for holder in shapes.objects(constraint, SH.prefixes):
        for declaration in shapes.objects(holder, SH.declare):
            prefix = shapes.value(declaration, SH.prefix)
            namespace = shapes.value(declaration, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines)


def _constraints() -> list[tuple[str, str]]:
    shapes = shapes_graph()
    out = []
    for shape, constraint in shapes.subject_objects(SH.sparql):
        text = str(shapes.value(constraint, SH.select))
        out.append((str(shape), _prefixes(shapes, constraint) + "\n" + text))
    return sorted(out)


def _variables(term) -> set[Variable]:
    return {term} if isinstance(term, Variable) else set()


def _show(term) -> str:
    return f"?{term}" if isinstance(term, Variable) else str(term)


def _one_step(path: CompValue) -> bool:
    return len(path["part"]) == 1 and len(path["part"][0]["part"]) == 1


def _exists_groups(expr) -> list[CompValue]:
    """The groups of the EXISTS / NOT EXISTS in a filter expression (not nested ones)."""
    if isinstance(expr, CompValue):
        if expr.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
            return [expr["graph"]]
        return [g for value in expr.values() for g in _exists_groups(value)]
    if isinstance(expr, list | tuple):
        return [g for value in expr for g in _exists_groups(value)]
    return []


def _triples(block: CompValue) -> list[tuple]:
    out = []
    for flat in block["triples"]:
        flat = list(flat)
        out.extend(tuple(flat[i : i + 3]) for i in range(0, len(flat), 3))
    return out


def _check_group(group: CompValue, bound: set[Variable], problems: list[str], exists: bool) -> set:
    """Check ``group`` evaluated with ``bound`` known; return the variables it binds."""
    bound = set(bound)
    filters = []
    patterns = 0
    for part in group.get("part") or []:
        if part.name == "TriplesBlock":
            for s, p, o in _triples(part):
                patterns += 1
                if not _one_step(p):
                    problems.append(f"path of several steps: {_show(s)} ... {_show(o)}")
                if not (_variables(s) | _variables(o)) & bound:
                    known = ", ".join(sorted(_show(v) for v in bound))
                    problems.append(
                        f"unanchored pattern: {_show(s)} ... {_show(o)} (bound: {known})"
                    )
                bound |= _variables(s) | _variables(o)
        elif part.name == "Filter":
            filters.append(part["expr"])
        elif part.name == "GroupOrUnionGraphPattern" and not exists:
            start = set(bound)
            for branch in part["graph"]:
                bound |= _check_group(branch, start, problems, exists=False)
        else:
            problems.append(f"group form the check does not know: {part.name}")
    if exists and patterns != 1:
        problems.append(f"EXISTS group with {patterns} triple patterns (one, anchored, per group)")
    for expr in filters:
        for inner in _exists_groups(expr):
            _check_group(inner, bound, problems, exists=True)
    return bound


def anchoring_problems(query: str) -> list[str]:
    """Why ``query`` (a SPARQL-based constraint) could scan the data per focus node."""
    from rdflib.plugins.sparql.parser import parseQuery

    problems: list[str] = []
    _check_group(parseQuery(query)[1]["where"], {THIS}, problems, exists=False)
    return problems


RARE_EXISTS = {
    # its EXISTS (the same purpose) runs only for another active agreement between
    # the same parties about the same product that overlaps in time: a handful at most
    AGREEMENTS + "AgreementNoOverlap": "EXISTS group with 0 triple patterns",
}


@pytest.mark.parametrize(("shape", "query"), _constraints(), ids=lambda v: v.rsplit("/", 1)[-1])
def test_sparql_constraints_do_not_scan_the_catalogue_per_focus_node(shape: str, query: str):
    problems = anchoring_problems(query)
    if shape in RARE_EXISTS:
        problems = [p for p in problems if "GroupOrUnion" not in p and RARE_EXISTS[shape] not in p]
    assert problems == [], shape


OLD_WITHIN_OFFER = """
PREFIX odrl: <http://www.w3.org/ns/odrl/2/>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT DISTINCT $this (odrl:permission AS ?path) ?value
WHERE {
    { $this prov:wasDerivedFrom ?offer ; odrl:permission ?permission . }
    { ?permission odrl:action ?value . }
    { ?offer odrl:assigner ?offerAssigner . }
    FILTER NOT EXISTS {
        { ?offer odrl:permission ?offered2 . }
        { ?offered2 odrl:action ?broader . }
        { ?value odrl:includedIn+ ?broader . }
    }
}
"""


def test_agreement_within_offer_scanned_every_action_per_agreement():
    """The check rejects the form that made whole-catalogue validation quadratic
    (the shape's text before issue 15): a NOT EXISTS of three patterns, which
    pyshacl-turbo evaluates without the agreement's bindings."""
    problems = anchoring_problems(OLD_WITHIN_OFFER)
    assert any("EXISTS group with 0 triple patterns" in p for p in problems), problems


def _within_offer_only() -> Graph:
    shapes = Graph()
    for triple in shapes_graph():
        shapes.add(triple)
    keep = URIRef(AGREEMENTS + "AgreementWithinOffer")
    for kind in (SH.NodeShape, SH.PropertyShape):
        for shape in set(shapes.subjects(RDF.type, kind)):
            if shape != keep:
                shapes.add((shape, SH.deactivated, Literal(True)))
    return shapes


def _agreement(action: str, offered: str, included: bool) -> Graph:
    o, ex = ODRL, "urn:ex:"
    g = Graph()
    agreement, offer = URIRef(ex + "agreement"), URIRef(ex + "offer")
    g.add((agreement, RDF.type, URIRef(o + "Agreement")))
    g.add((agreement, URIRef(PROV + "wasDerivedFrom"), offer))
    g.add((agreement, URIRef(o + "permission"), URIRef(ex + "granted")))
    g.add((URIRef(ex + "granted"), URIRef(o + "action"), URIRef(ex + action)))
    g.add((offer, URIRef(o + "assigner"), URIRef(ex + "owner")))
    g.add((offer, URIRef(o + "permission"), URIRef(ex + "offered")))
    g.add((URIRef(ex + "offered"), URIRef(o + "action"), URIRef(ex + offered)))
    if included:  # a chain of two: narrow -> middle -> broad
        g.add((URIRef(ex + "narrow"), URIRef(o + "includedIn"), URIRef(ex + "middle")))
        g.add((URIRef(ex + "middle"), URIRef(o + "includedIn"), URIRef(ex + "broad")))
    return g


@pytest.mark.parametrize(
    ("action", "offered", "included", "reported"),
    [
        ("read", "read", False, False),  # the offered action itself
        ("narrow", "broad", True, False),  # included in an offered action (odrl:includedIn+)
        ("narrow", "broad", False, True),  # not offered, not included
        ("broad", "narrow", True, True),  # broader than what is offered
    ],
)
def test_agreement_within_offer_keeps_its_meaning(action, offered, included, reported):
    """The rewritten rule (nested EXISTS of one pattern each) reports what the rule
    says, with the same report from both engines."""
    shapes = _within_offer_only()
    data = _agreement(action, offered, included)
    keys = []
    runs = [engines._run_pyshacl] + ([engines._run_turbo] if engines.turbo_available() else [])
    for run in runs:
        work = engines._WorkGraph()
        work += data
        raw = run(work, shapes)
        keys.append(
            sorted(
                (str(raw.value(r, SH.focusNode)), str(raw.value(r, SH.value)))
                for r in raw.subjects(RDF.type, SH.ValidationResult)
            )
        )
    expected = [("urn:ex:agreement", "urn:ex:" + action)] if reported else []
    assert keys == [expected] * len(runs)
