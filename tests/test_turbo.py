"""pyshacl-turbo against pySHACL: the same report from eti.catalogue.validation.validate.

``validate`` runs pyshacl-turbo (a Rust SHACL engine) for large inputs when it is
installed; pySHACL is the reference. Every test here validates the same data with
``engine="pyshacl"`` and ``engine="turbo"`` and requires identical reports: the same
results in the same order (focus node -- blank nodes by identity --, owning resource,
path, value, severity, nb and en messages, source shape, profile, constraint
component), the same text, JSON and JUnit output, the same quality scores, and the
same report graph (result by result; blank nodes of the data and of the shapes by
identity). The data: every case of tests/shapes_cases, the demo catalogue (as is and
with rules broken), and a catalogue from bench/generate.py with a rule broken in
every fifth product. No timing is asserted here (see bench/validate_bench.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip(
    "pyshacl_turbo",
    reason="pyshacl-turbo is not installed, so the fast validation engine cannot be "
    "cross-checked against pySHACL (pip install pyshacl-turbo)",
)

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from eti.catalogue import validation
from eti.catalogue.validation import PROFILES, Report, validate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402
import validate_bench  # noqa: E402

CASES = Path(__file__).parent / "shapes_cases"
DEMO = ROOT / "catalogue" / "demo"
AS_OF = dt.date(2026, 11, 22)
GENERATED_PRODUCTS = 60
BREAK_EVERY = 5


# ---------------------------------------------------------------- comparing reports


def _blank_nodes(*graphs: Graph | None) -> set[BNode]:
    out: set[BNode] = set()
    for graph in graphs:
        if graph is None:
            continue
        for triple in validation._triples(graph):
            out.update(t for t in triple if isinstance(t, BNode))
    return out


def _canonical(graph: Graph, node: Node, known: set[BNode], depth: int = 0) -> object:
    """``node`` with the report's own blank nodes replaced by what they describe;
    blank nodes of the data and of the shapes (``known``) stay themselves."""
    if not isinstance(node, BNode) or node in known:
        return node
    assert depth < 30, "the report graph nests too deep"
    return frozenset(
        (p, _canonical(graph, o, known, depth + 1)) for p, o in graph.predicate_objects(node)
    )


def _report_graph(report: Report, known: set[BNode]) -> tuple[Counter, list]:
    graph = report.graph
    tops = list(graph.subjects(RDF.type, SH.ValidationReport))
    assert len(tops) == 1
    results = Counter(_canonical(graph, r, known) for r in graph.objects(tops[0], SH.result))
    return results, sorted(graph.objects(tops[0], SH.conforms))


def differences(
    reference: Report, other: Report, data: Graph, context: Graph | None = None
) -> list[str]:
    """What differs between two reports of the same data (empty: identical)."""
    out = []
    if other.conforms != reference.conforms:
        out.append(f"conforms: {reference.conforms} != {other.conforms}")
    if other.results != reference.results:
        missing = [r for r in reference.results if r not in other.results]
        extra = [r for r in other.results if r not in reference.results]
        out.append(
            f"results ({len(reference.results)} != {len(other.results)}): "
            f"only in the reference {missing[:5]}, only in the other {extra[:5]}"
            if missing or extra
            else "results: same results in a different order"
        )
    for name in ("to_json", "to_junit"):
        if getattr(other, name)() != getattr(reference, name)():
            out.append(f"{name}() differs")
    for lang in ("nb", "en"):
        if other.text(lang) != reference.text(lang):
            out.append(f"text({lang!r}) differs")
    if other.quality != reference.quality:
        out.append("quality differs")
    if other.labels != reference.labels:
        out.append("labels differ")
    known = _blank_nodes(data, context, validation.shapes_graph())
    ref_graph, other_graph = _report_graph(reference, known), _report_graph(other, known)
    if other_graph != ref_graph:
        only_ref = ref_graph[0] - other_graph[0]
        only_other = other_graph[0] - ref_graph[0]
        out.append(
            f"report graph: {sum(only_ref.values())} results only in the reference, "
            f"{sum(only_other.values())} only in the other; conforms "
            f"{ref_graph[1]} / {other_graph[1]}"
        )
    return out


# cases that validation.validate keeps on pySHACL even when turbo is asked for: turbo
# would report more (sh:lessThanOrEquals on an invalid date; see _turbo_differs)
PYSHACL_ONLY = {"period-bad.ttl"}


def both(
    data: Graph, profiles=None, context: Graph | None = None, *, fast_engine: str = "turbo"
) -> tuple[Report, Report, list[str]]:
    reference = validate(data, profiles, as_of=AS_OF, context=context, engine="pyshacl")
    fast = validate(data, profiles, as_of=AS_OF, context=context, engine="turbo")
    assert reference.engine == "pyshacl"
    assert fast.engine == fast_engine
    return reference, fast, differences(reference, fast, data, context)


# ---------------------------------------------------------------- the data


@pytest.fixture(scope="module")
def context() -> Graph:
    return Graph().parse(CASES / "_context.ttl")


def _case_files() -> Iterator[tuple[str, Path]]:
    for profile in PROFILES:
        for path in sorted((CASES / profile).glob("*.ttl")):
            yield profile, path


CASE_FILES = list(_case_files())


def _demo() -> Dataset:
    products = sorted((DEMO / "products").glob("*.trig"))
    if not products or not (DEMO / "agents.ttl").is_file():
        pytest.skip("the demo catalogue (catalogue/demo/products/*.trig) is not there")
    ds = Dataset()
    for path in products:
        ds.parse(path, format="trig")
    ds.graph(URIRef("urn:eti:graph:agents")).parse(DEMO / "agents.ttl")
    for path in sorted((DEMO / "agreements").glob("*.ttl")):
        ds.graph(URIRef(f"urn:eti:graph:agreement:{path.stem}")).parse(path)
    return ds


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    """A generated catalogue (bench/generate.py), a rule broken in every fifth product
    (missing nn title, invalid date, unreachable contact point, second authoritative
    source), as bench/validate_bench.py prepares it."""
    out = tmp_path_factory.mktemp("turbo-catalogue")
    generate.generate(GENERATED_PRODUCTS, 1, out)
    data = validate_bench.data_graph(out / "catalogue.nq")
    level = logging.getLogger("rdflib.term").level
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)  # the invalid date, on purpose
    try:
        broken = validate_bench.break_rules(data, every=BREAK_EVERY)
    finally:
        logging.getLogger("rdflib.term").setLevel(level)
    assert broken >= 8
    return data


# ---------------------------------------------------------------- the cross-checks


@pytest.mark.parametrize(("profile", "path"), CASE_FILES, ids=lambda v: getattr(v, "name", v))
def test_shape_case_same_report(profile: str, path: Path, context: Graph) -> None:
    data = Graph().parse(path)
    engine = "pyshacl" if path.name in PYSHACL_ONLY else "turbo"
    reference, _fast, diff = both(data, [profile], context, fast_engine=engine)
    assert diff == [], diff
    if "-bad" in path.name:  # the comparison is not vacuous
        assert [r for r in reference.results if r.profile == profile], path.name


@pytest.mark.parametrize(("profile", "path"), CASE_FILES, ids=lambda v: getattr(v, "name", v))
def test_shape_case_same_report_all_profiles(profile: str, path: Path, context: Graph) -> None:
    data = Graph().parse(path)
    engine = "pyshacl" if path.name in PYSHACL_ONLY else "turbo"
    _reference, _fast, diff = both(data, None, context, fast_engine=engine)
    assert diff == [], diff


# period-bad.ttl without the pair turbo would judge otherwise: every PeriodOfTime rule
# broken, but only valid xsd:date values compared, so that turbo validates it
PERIODS_FOR_TURBO = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
ex:period1 a dct:PeriodOfTime ; dcat:startDate "2021-01-01"^^xsd:date ;
    dcat:endDate "2020-12-31"^^xsd:date .
ex:period2 a dct:PeriodOfTime ; dcat:startDate "2020-01-01"^^xsd:date , "2020-02-01"^^xsd:date .
ex:period3 a dct:PeriodOfTime ; dcat:endDate "2020-02-30"^^xsd:date , "someday" .
ex:period4 a dct:PeriodOfTime ; dcat:startDate "2020-01-01T00:00:00Z"^^xsd:dateTime .
"""


def test_periods_same_report(context: Graph) -> None:
    data = Graph().parse(data=PERIODS_FOR_TURBO, format="turtle")
    reference, _fast, diff = both(data, ["dcat-ap-no"], context)
    assert diff == [], diff
    fired = {validation._local(r.shape) for r in reference.results}
    assert {"PeriodOfTime-startDate", "PeriodOfTime-endDate", "PeriodOfTime-order"} <= fired


def test_incomparable_dates_stay_with_pyshacl(context: Graph, monkeypatch) -> None:
    """Why period-bad.ttl is validated with pySHACL even with engine="turbo": turbo
    reports sh:lessThanOrEquals on "2020-02-30"^^xsd:date (a value that cannot be
    compared), pySHACL does not. Should turbo ever agree, this test fails and the
    guard (validation._turbo_differs) can go."""
    data = Graph().parse(CASES / "dcat-ap-no" / "period-bad.ttl")
    assert validation._turbo_differs(data, validation.shapes_graph())
    monkeypatch.setattr(validation.engines, "_turbo_differs", lambda _work, _shapes: None)
    reference = validate(data, ["dcat-ap-no"], as_of=AS_OF, context=context, engine="pyshacl")
    unguarded = validate(data, ["dcat-ap-no"], as_of=AS_OF, context=context, engine="turbo")
    assert unguarded.engine == "turbo"
    extra = [r for r in unguarded.results if r not in reference.results]
    assert [validation._local(r.shape) for r in extra] == ["PeriodOfTime-order"]
    assert [r for r in reference.results if r not in unguarded.results] == []


def test_shape_cases_reach_every_reporting_shape(context: Graph) -> None:
    """Together the cases make every shape with a severity report through turbo, SPARQL
    constraints included: no shape is left out of the cross-check."""
    fired: set[URIRef] = set()
    periods = Graph().parse(data=PERIODS_FOR_TURBO, format="turtle")
    for profile, path in [*CASE_FILES, ("dcat-ap-no", periods)]:
        data = path if isinstance(path, Graph) else Graph().parse(path)
        report = validate(data, [profile], as_of=AS_OF, context=context, engine="pyshacl")
        fast = validate(data, [profile], as_of=AS_OF, context=context, engine="turbo")
        assert fast.results == report.results, path
        if fast.engine == "turbo":
            fired |= {r.shape for r in fast.results if r.shape is not None}
    shapes = validation.shapes_graph()
    reporting = {s for s in shapes.subjects(SH.severity, None) if isinstance(s, URIRef)}
    sparql = {
        s for s in shapes.subjects(SH.sparql, None) if isinstance(s, URIRef)
    }  # shapes with SPARQL-based constraints
    assert sparql, "the shapes have no SPARQL-based constraint any more?"
    assert sparql <= fired, sorted(sparql - fired)
    assert reporting <= fired, sorted(reporting - fired)


def test_demo_catalogue_same_report() -> None:
    ds = _demo()
    _reference, _fast, diff = both(ds)
    assert diff == [], diff


def test_demo_catalogue_with_broken_rules_same_report() -> None:
    ds = _demo()
    flat = Graph()
    for s, p, o, _g in ds.quads((None, None, None, None)):
        flat.add((s, p, o))
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
    assert validate_bench.break_rules(flat, every=1) >= 4
    reference, _fast, diff = both(flat)
    assert diff == [], diff
    assert not reference.conforms


def test_generated_catalogue_same_report(generated: Graph) -> None:
    reference, fast, diff = both(generated)
    assert diff == [], diff
    assert not reference.conforms
    # the broken rules are all reported (by both, since the reports are the same)
    fired = Counter(validation._local(r.shape) for r in fast.results if r.shape is not None)
    per_kind = GENERATED_PRODUCTS // BREAK_EVERY // 4
    for shape in (
        "Bilingual-titleNn",  # a missing nn title
        "DataProduct-modified",  # an invalid date
        "DataProduct-contactReachable",  # an unreachable contact point (sh:node)
        "InformationItem-oneSource",  # a second authoritative source (SPARQL)
    ):
        assert fired[shape] >= per_kind, (shape, fired)


def test_generated_catalogue_auto_uses_turbo(generated: Graph, monkeypatch) -> None:
    monkeypatch.delenv(validation.ENGINE_VARIABLE, raising=False)
    assert len(generated) >= validation.TURBO_MIN_TRIPLES
    auto = validate(generated, as_of=AS_OF)
    assert auto.engine == "turbo"
    reference = validate(generated, as_of=AS_OF, engine="pyshacl")
    assert differences(reference, auto, generated) == []


# ---------------------------------------------------------------- choosing the engine


def test_small_input_auto_follows_the_threshold(context: Graph, monkeypatch) -> None:
    """A registration (one product) goes to turbo too, with pySHACL's report; above a
    raised threshold it stays on pySHACL."""
    monkeypatch.delenv(validation.ENGINE_VARIABLE, raising=False)
    data = Graph().parse(CASES / "dprod" / "product-bad.ttl")
    auto = validate(data, as_of=AS_OF, context=context)
    assert auto.engine == "turbo"
    reference = validate(data, as_of=AS_OF, context=context, engine="pyshacl")
    assert differences(reference, auto, data) == []
    monkeypatch.setattr(validation.engines, "TURBO_MIN_TRIPLES", len(data) + 1)
    assert validate(data, as_of=AS_OF, context=context).engine == "pyshacl"


def test_engine_from_environment(context: Graph, monkeypatch) -> None:
    data = Graph().parse(CASES / "dprod" / "product-bad.ttl")
    monkeypatch.setenv(validation.ENGINE_VARIABLE, "turbo")
    assert validate(data, as_of=AS_OF, context=context).engine == "turbo"
    monkeypatch.setenv(validation.ENGINE_VARIABLE, "pyshacl")
    assert validate(data, as_of=AS_OF, context=context).engine == "pyshacl"
    monkeypatch.setenv(validation.ENGINE_VARIABLE, "fast")
    with pytest.raises(ValueError, match="ETI_VALIDATION_ENGINE"):
        validate(data, as_of=AS_OF)


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown validation engine"):
        validate(Graph(), as_of=AS_OF, engine="rust")


def test_auto_falls_back_to_pyshacl_when_turbo_fails(generated: Graph, monkeypatch) -> None:
    def broken(_work: Graph, _shapes: Graph) -> Graph:
        raise RuntimeError("turbo cannot")

    monkeypatch.delenv(validation.ENGINE_VARIABLE, raising=False)
    monkeypatch.setattr(validation.engines, "_run_turbo", broken)
    small = Graph().parse(CASES / "eti" / "bilingual-bad.ttl")
    monkeypatch.setattr(validation.engines, "TURBO_MIN_TRIPLES", 1)
    report = validate(small, ["eti"], as_of=AS_OF)
    assert report.engine == "pyshacl"
    assert not report.conforms
    with pytest.raises(RuntimeError, match="turbo cannot"):
        validate(small, ["eti"], as_of=AS_OF, engine="turbo")


# ---------------------------------------------------------------- the comparison can fail


def test_comparison_sees_a_changed_message(context: Graph) -> None:
    data = Graph().parse(CASES / "eti" / "bilingual-bad.ttl")
    reference = validate(data, ["eti"], as_of=AS_OF, context=context, engine="pyshacl")
    other = validate(data, ["eti"], as_of=AS_OF, context=context, engine="pyshacl")
    assert differences(reference, other, data, context) == []
    node = next(iter(other.graph.objects(None, SH.result)))
    other.graph.remove((node, SH.resultMessage, None))
    other.graph.add((node, SH.resultMessage, Literal("something else", lang="en")))
    assert any(d.startswith("report graph") for d in differences(reference, other, data, context))


def test_comparison_sees_a_missing_result(context: Graph) -> None:
    data = Graph().parse(CASES / "eti" / "bilingual-bad.ttl")
    reference = validate(data, ["eti"], as_of=AS_OF, context=context, engine="pyshacl")
    other = validate(data, ["eti"], as_of=AS_OF, context=context, engine="pyshacl")
    assert other.results
    other.results = other.results[1:]
    assert any(d.startswith("results") for d in differences(reference, other, data, context))


def test_turbo_shapes_are_compiled_once_not_per_validation(context: Graph) -> None:
    """Compiling the shapes for turbo walked the whole shapes graph in Python on every
    validate call (more than validating a product cost); it is done once per shapes graph."""
    data = Graph().parse(CASES / "dprod" / "product-bad.ttl")
    first = validate(data, as_of=AS_OF, context=context, engine="turbo")
    compiled = validation.engines._compiled.cache_info().misses
    again = validate(data, as_of=AS_OF, context=context, engine="turbo")
    assert validation.engines._compiled.cache_info().misses == compiled
    assert first.engine == again.engine == "turbo"
    assert again.results == first.results
