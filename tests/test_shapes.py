"""The SHACL shapes in shapes/: well-formed, documented, and each rule exercised.

Every case under tests/shapes_cases/{profile}/ is validated with that profile
alone, as of 2026-11-22, with tests/shapes_cases/_context.ttl as context:

* ``{rule}-ok.ttl`` must give no result at all in the profile;
* ``{rule}-bad.ttl`` and ``{rule}-bad-{variant}.ttl`` list the shapes they
  break in a ``# expect:`` comment; exactly those shapes must report.

Every shape that can report (it has a severity) must be expected by some bad
case, so every rule has a conforming and a violating example.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from eti.catalogue.validation import PROFILES, SHAPES_BASE, shapes_graph, validate

CASES = Path(__file__).parent / "shapes_cases"
AS_OF = dt.date(2026, 11, 22)
EXPECT = re.compile(r"^# expect:(.*(?:\n#   .*)*)", re.MULTILINE)


def _cases(kind: str) -> list[tuple[str, Path]]:
    out = []
    for profile in PROFILES:
        for path in sorted((CASES / profile).glob("*.ttl")):
            is_bad = re.search(r"-bad(-[a-z0-9-]+)?\.ttl$", path.name) is not None
            if (kind == "bad") == is_bad:
                out.append((profile, path))
    return out


def _expected(path: Path) -> set[str]:
    match = EXPECT.search(path.read_text(encoding="utf-8"))
    assert match, f"{path.name} has no '# expect:' comment"
    names = match.group(1).replace("#", " ").replace("\n", " ")
    return {name.strip() for name in names.split(",") if name.strip()}


@pytest.fixture(scope="module")
def context() -> Graph:
    return Graph().parse(CASES / "_context.ttl")


def _profile_graph(profile: str) -> Graph:
    text = (resources.files("eti.shapes") / f"{profile}.ttl").read_text(encoding="utf-8")
    return Graph().parse(data=text, format="turtle")


def _reporting_shapes(profile: str) -> set[URIRef]:
    """Shapes of ``profile`` that report results: those with a severity."""
    g = _profile_graph(profile)
    return {s for s in g.subjects(SH.severity, None) if isinstance(s, URIRef)}


def _local(node: URIRef) -> str:
    return str(node).rsplit("#", 1)[-1]


@pytest.mark.parametrize(("profile", "path"), _cases("ok"), ids=lambda v: getattr(v, "name", v))
def test_conforming_case(profile: str, path: Path, context: Graph) -> None:
    report = validate(Graph().parse(path), [profile], as_of=AS_OF, context=context)
    mine = [r for r in report.results if r.profile == profile]
    assert report.conforms
    assert mine == [], report.text()


@pytest.mark.parametrize(("profile", "path"), _cases("bad"), ids=lambda v: getattr(v, "name", v))
def test_violating_case(profile: str, path: Path, context: Graph) -> None:
    stem = re.sub(r"-bad(-[a-z0-9-]+)?\.ttl$", "", path.name)
    assert (path.parent / f"{stem}-ok.ttl").is_file(), f"{path.name} has no {stem}-ok.ttl"
    expected = _expected(path)
    report = validate(Graph().parse(path), [profile], as_of=AS_OF, context=context)
    mine = [r for r in report.results if r.profile == profile]
    fired = {_local(r.shape) for r in mine if r.shape is not None}
    assert fired == expected, report.text()
    shapes = shapes_graph([profile])
    for result in mine:
        assert result.message_nb and result.message_en
        # the message is the shape's own (freshness and date rules add details)
        own = {str(m) for m in shapes.objects(result.shape, SH.message)}
        own |= {
            str(m)
            for c in shapes.objects(result.shape, SH.sparql)
            for m in shapes.objects(c, SH.message)
        }
        assert any(result.message_en.startswith(m.split("{")[0]) for m in own), result.message_en
    # the results are in the report graph with their source shapes
    in_graph = {_local(s) for s in report.graph.objects(None, SH.sourceShape)}
    assert expected <= in_graph


@pytest.mark.parametrize("profile", PROFILES)
def test_every_reporting_shape_has_cases(profile: str) -> None:
    covered: set[str] = set()
    for p, path in _cases("bad"):
        if p == profile:
            covered |= _expected(path)
    names = {_local(s) for s in _reporting_shapes(profile)}
    assert names, profile
    assert names - covered == set(), f"shapes without a violating case: {sorted(names - covered)}"
    assert covered - names == set(), f"cases expect unknown shapes: {sorted(covered - names)}"
    assert any(p == profile for p, _ in _cases("ok"))


@pytest.mark.parametrize("profile", PROFILES)
def test_shapes_are_bilingual_and_have_a_severity(profile: str) -> None:
    g = _profile_graph(profile)
    shapes = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
    shapes |= set(g.objects(None, SH.property))
    for shape in shapes:
        langs = {m.language for m in g.objects(shape, SH.message) if isinstance(m, Literal)}
        assert {"nb", "en"} <= langs, f"{shape} lacks an nb or en sh:message"
    named = {s for s in shapes if isinstance(s, URIRef)}
    for shape in named:
        assert str(shape).startswith(f"{SHAPES_BASE}{profile}#"), shape
    # every shape that is a target of validation, or a property of one, has a severity
    for shape in named:
        targeted = any(
            g.value(shape, p) is not None
            for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
        )
        if targeted:
            assert g.value(shape, SH.severity) is not None or g.value(shape, SH.property), shape
            for prop in g.objects(shape, SH.property):
                assert g.value(prop, SH.severity) is not None, f"{prop} has no sh:severity"


@pytest.mark.parametrize("profile", PROFILES)
def test_shapes_pass_shacl_shacl(profile: str) -> None:
    shsh = Graph().parse(
        data=(resources.files("pyshacl") / "assets" / "shacl-shacl.ttl").read_text(
            encoding="utf-8"
        ),
        format="turtle",
    )
    conforms, _graph, text = pyshacl.validate(_profile_graph(profile), shacl_graph=shsh)
    assert conforms, text


def test_shapes_pass_meta_shacl_option() -> None:
    conforms, _graph, text = pyshacl.validate(
        Graph(), shacl_graph=shapes_graph(), meta_shacl=True, advanced=True
    )
    assert conforms, text


def test_date_rules_are_documented_and_deactivated() -> None:
    g = shapes_graph()
    for name in ("eti#Freshness", "agreements#AgreementStatusDates"):
        shape = URIRef(SHAPES_BASE + name)
        assert (shape, SH.deactivated, Literal(True)) in g
        assert g.value(shape, SH.severity) == SH.Warning
        assert "as of" in str(
            g.value(shape, URIRef("http://www.w3.org/2000/01/rdf-schema#comment"))
        )
