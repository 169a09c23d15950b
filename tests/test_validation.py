"""The core validator: eti.catalogue.validation.validate and its Report."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from eti.catalogue import clock
from eti.catalogue import validation as v
from eti.catalogue.validation import (
    FREQUENCY_DAYS,
    PROFILES,
    Report,
    exit_code,
    freshness_deadline,
    validate,
)

AS_OF = dt.date(2026, 11, 22)
DEMO = Path(__file__).resolve().parents[1] / "catalogue" / "demo"
CASES = Path(__file__).parent / "shapes_cases"

PREFIXES = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dprod: <https://ekgf.github.io/dprod/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
@prefix enhet: <https://data.brreg.no/enhetsregisteret/api/enheter/> .
@prefix theme: <http://publications.europa.eu/resource/authority/data-theme/> .
@prefix freq: <http://publications.europa.eu/resource/authority/frequency/> .
"""

SPARSE = (
    PREFIXES
    + """
ex:dataset a dcat:Dataset ;
    dct:title "Pleiepenger"@nb ;
    dct:identifier "ex-dataset" ;
    dct:publisher enhet:889640782 ;
    dcat:theme theme:SOCI ;
    dcat:contactPoint [ vcard:hasTelephone <tel:+4755553333> ] .
"""
)


def _graph(text: str) -> Graph:
    return Graph().parse(data=text, format="turtle")


@pytest.fixture(scope="module")
def sparse_report() -> Report:
    return validate(_graph(SPARSE), ["dcat-ap-no"], as_of=AS_OF)


# ------------------------------------------------------------------ arguments


def test_profiles_and_defaults() -> None:
    assert PROFILES == ("dcat-ap-no", "dprod", "agreements", "eti")
    report = validate(_graph(SPARSE))
    assert report.profiles == PROFILES
    assert report.as_of == clock.today()
    assert validate(_graph(SPARSE), "dcat-ap-no", as_of=AS_OF).profiles == ("dcat-ap-no",)
    assert validate(_graph(SPARSE), ["eti", "dprod", "eti"], as_of=AS_OF).profiles == (
        "dprod",
        "eti",
    )


@pytest.mark.parametrize("profiles", [["dcat"], [], ["DCAT-AP-NO"]])
def test_unknown_profile_is_refused(profiles: list[str]) -> None:
    with pytest.raises(ValueError):
        validate(_graph(SPARSE), profiles)


def test_as_of_forms() -> None:
    g = _graph(SPARSE)
    assert validate(g, ["eti"], as_of="2026-11-22").as_of == AS_OF
    assert validate(g, ["eti"], as_of=dt.datetime(2026, 11, 22, 23, 59)).as_of == AS_OF
    for bad in ("22.11.2026", "2026-02-30", "today'); DROP", 20261122):
        with pytest.raises(ValueError):
            validate(g, ["eti"], as_of=bad)  # type: ignore[arg-type]


def test_data_must_be_a_graph() -> None:
    with pytest.raises(TypeError):
        validate("<a> <b> <c> .")  # type: ignore[arg-type]


# ----------------------------------------------------------- what is validated


def test_callers_graph_is_not_modified() -> None:
    g = _graph(SPARSE)
    before = set(g)
    validate(g, as_of=AS_OF)
    assert set(g) == before


def test_shipped_vocabularies_are_visible_to_value_checks() -> None:
    # theme:SOCI is only known from ontology/vocabularies/eu-data-theme.ttl
    report = validate(_graph(SPARSE), ["dcat-ap-no"], as_of=AS_OF)
    assert "Dataset-euTheme" not in {_local(r.shape) for r in report.results}
    unknown = _graph(SPARSE.replace("theme:SOCI", "theme:NOPE"))
    report = validate(unknown, ["dcat-ap-no"], as_of=AS_OF)
    assert "Dataset-euTheme" in {_local(r.shape) for r in report.results}


def test_dataset_is_validated_as_union_of_its_graphs() -> None:
    ds = Dataset()
    g = _graph(SPARSE)
    dataset = URIRef("https://example.org/dataset")
    named = ds.graph(URIRef("urn:eti:graph:content:x"))
    for s, p, o in g:
        (named if p == URIRef("http://purl.org/dc/terms/title") else ds.default_graph).add(
            (s, p, o)
        )
    union = validate(ds, ["dcat-ap-no"], as_of=AS_OF)
    plain = validate(g, ["dcat-ap-no"], as_of=AS_OF)
    assert [r.to_json() for r in union.results] == [r.to_json() for r in plain.results]
    assert "Dataset-title" not in {_local(r.shape) for r in union.results if r.focus == dataset}


def test_context_is_used_but_not_reported() -> None:
    context = Graph().parse(CASES / "_context.ttl")
    # something wrong in the context: a product without title, owner without name
    context.add((URIRef("https://eti.example/products/p1"), RDF.type, URIRef(v._DCAT + "Dataset")))
    data = Graph().parse(CASES / "agreements" / "agreement-ok.ttl")
    report = validate(data, as_of=AS_OF, context=context)
    assert report.conforms, report.text()
    described = set(data.subjects())
    assert all(r.resource in described for r in report.results)
    # without the context the agreement's references cannot be checked
    alone = validate(data, ["agreements"], as_of=AS_OF)
    assert {"Agreement-targetProduct", "Agreement-assigneeChannel", "Agreement-offer"} <= {
        _local(r.shape) for r in alone.results
    }


# ---------------------------------------------------------------- the report


def test_report_basics(sparse_report: Report) -> None:
    r = sparse_report
    assert not r.conforms and r.exit_code == 1 and exit_code(r) == 1
    assert r.counts["Violation"] == 1  # the description is missing
    ok = validate(Graph(), as_of=AS_OF)
    assert ok.conforms and ok.exit_code == 0 and ok.results == []
    for result in r.results:
        assert result.severity in v.SEVERITIES
        assert result.profile == "dcat-ap-no"
        assert result.message_nb and result.message_en
        assert result.message("nb") == result.message_nb
        assert result.message("en") == result.message_en


def test_report_graph_is_a_validation_report(sparse_report: Report) -> None:
    g = sparse_report.graph
    reports = list(g.subjects(RDF.type, SH.ValidationReport))
    assert len(reports) == 1
    assert g.value(reports[0], SH.conforms) == Literal(False)
    results = list(g.objects(reports[0], SH.result))
    assert len(results) == len(sparse_report.results)
    for node in results:
        assert g.value(node, SH.focusNode) is not None
        assert g.value(node, SH.resultSeverity) in (SH.Violation, SH.Warning, SH.Info)
        assert g.value(node, SH.sourceShape) is not None
        langs = {m.language for m in g.objects(node, SH.resultMessage)}
        assert {"nb", "en"} <= langs
    again = Graph().parse(data=sparse_report.turtle(), format="turtle")
    assert len(again) == len(g)


def test_results_grouped_per_resource_then_property_errors_first(sparse_report: Report) -> None:
    groups = sparse_report.grouped()
    assert [resource for resource, _ in groups] == [URIRef("https://example.org/dataset")]
    props = groups[0][1]
    # the missing description (an error) comes before every warning and note
    assert props[0][0] == "dct:description"
    ranks = [min(v._SEVERITY_RANK[r.severity] for r in rs) for _, rs in props]
    assert ranks == sorted(ranks)
    # the contact point (a blank node) is reported under its dataset
    cp = [r for r in sparse_report.results if isinstance(r.focus, BNode)]
    assert cp and all(r.resource == URIRef("https://example.org/dataset") for r in cp)
    assert all(r.via == (URIRef("http://www.w3.org/ns/dcat#contactPoint"),) for r in cp)


@pytest.mark.parametrize("width", [60, 80, 100])
def test_text_fits_the_terminal(sparse_report: Report, width: int) -> None:
    for lang in ("en", "nb"):
        text = sparse_report.text(lang, width=width)
        assert all(len(line) <= width for line in text.splitlines()), text
    en, nb = sparse_report.text("en"), sparse_report.text("nb")
    assert "Does NOT conform" in en and "ERROR" in en and "WARNING" in en
    assert "IKKE i samsvar" in nb and "FEIL" in nb and "ADVARSEL" in nb
    assert en.index("ERROR") < en.index("WARNING")
    assert "dcat:contactPoint → vcard:fn" in en


def test_json_is_stable_and_serialisable(sparse_report: Report) -> None:
    data = sparse_report.to_json()
    assert list(data) == ["conforms", "asOf", "profiles", "counts", "results", "quality"]
    assert data["counts"] == {"violation": 1, "warning": 4, "info": 3}
    text = json.dumps(data, sort_keys=True)
    again = validate(_graph(SPARSE), ["dcat-ap-no"], as_of=AS_OF).to_json()
    assert json.dumps(again, sort_keys=True) == text
    first = data["results"][0]
    assert set(first) == {
        "resource",
        "focus",
        "via",
        "path",
        "severity",
        "message",
        "shape",
        "profile",
        "component",
        "value",
    }
    assert first["severity"] == "Violation"
    assert first["shape"].endswith("#Dataset-description")
    blank = [r for r in data["results"] if r["focus"] is None]
    assert blank and all(r["resource"] == "https://example.org/dataset" for r in blank)


def test_junit(sparse_report: Report) -> None:
    root = ET.fromstring(sparse_report.to_junit())
    assert root.tag == "testsuites"
    assert root.get("failures") == "1"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["dcat-ap-no"]
    case = suites[0].find("testcase")
    assert case is not None and case.get("name") == "https://example.org/dataset"
    assert case.find("failure") is not None
    assert "ContactPoint-name" in (case.findtext("system-out") or "")
    ok = ET.fromstring(validate(Graph(), as_of=AS_OF).to_junit())
    assert ok.get("failures") == "0" and ok.get("tests") == str(len(PROFILES))


# ------------------------------------------------------------------ freshness


def test_freshness_deadline() -> None:
    day = dt.date(2026, 1, 1)
    assert freshness_deadline(
        day, "http://publications.europa.eu/resource/authority/frequency/DAILY"
    ) == dt.date(2026, 1, 9)
    assert freshness_deadline(day, "WEEKLY") == dt.date(2026, 1, 15)
    assert freshness_deadline(day, "MONTHLY") == day + dt.timedelta(days=31 + 16)
    assert freshness_deadline(day, "ANNUAL") == day + dt.timedelta(days=366 + 183)
    assert freshness_deadline(day, "IRREG") is None
    assert freshness_deadline(day, "UNKNOWN") is None


def test_every_periodic_frequency_has_a_period() -> None:
    vocab = v.vocabulary_graph()
    scheme = URIRef("http://publications.europa.eu/resource/authority/frequency")
    codes = {str(c).rsplit("/", 1)[-1] for c in vocab.subjects(v.SKOS.inScheme, scheme)}
    no_period = {"IRREG", "AS_NEEDED", "NEVER", "NOT_PLANNED", "UNKNOWN", "OTHER"}
    assert codes, "the frequency vocabulary is shipped"
    assert codes - no_period <= set(FREQUENCY_DAYS)
    assert not (no_period & set(FREQUENCY_DAYS))


def _product(modified: str, frequency: str = "MONTHLY") -> Graph:
    return _graph(
        PREFIXES
        + f"""
ex:p a dprod:DataProduct ;
    dct:title "P"@nb , "P"@nn ; dct:description "P"@nb , "P"@nn ;
    dct:accrualPeriodicity freq:{frequency} ;
    dct:modified {modified} .
"""
    )


@pytest.mark.parametrize(
    ("modified", "stale"),
    [
        ('"2026-10-06"^^xsd:date', False),  # due by 2026-11-22: the last fresh day
        ('"2026-10-05"^^xsd:date', True),
        ('"2026-10-06T23:30:00+02:00"^^xsd:dateTime', False),
        ('"2026-10-05T08:00:00Z"^^xsd:dateTime', True),
        ('"2026-13-45"^^xsd:date', False),  # not a date: the datatype rule reports it
        ('"last week"', False),
    ],
)
def test_freshness_against_as_of(modified: str, stale: bool) -> None:
    report = validate(_product(modified), ["eti"], as_of=AS_OF)
    fired = [r for r in report.results if _local(r.shape) == "Freshness"]
    assert bool(fired) == stale, report.text()
    if stale:
        (result,) = fired
        assert result.severity == "Warning" and report.conforms
        assert "2026-11-22" in result.message_en and "MONTHLY" in result.message_en
        assert result.component == v.AS_OF_COMPONENT
    # the same data judged a month earlier is fresh
    assert not [
        r
        for r in validate(_product(modified), ["eti"], as_of="2026-10-22").results
        if _local(r.shape) == "Freshness"
    ]


# -------------------------------------------------------------------- quality


def test_quality_scores() -> None:
    sparse = validate(_graph(SPARSE), ["dcat-ap-no"], as_of=AS_OF).quality
    rich_graph = Graph().parse(CASES / "dcat-ap-no" / "dataset-ok.ttl")
    rich = validate(rich_graph, ["dcat-ap-no"], as_of=AS_OF).quality
    q = sparse["https://example.org/dataset"]
    assert q["kind"] == "dataset" and q["max"] == 405
    assert list(q["dimensions"]) == [
        "findability",
        "accessibility",
        "interoperability",
        "reusability",
        "contextuality",
    ]
    assert sum(d["max"] for d in q["dimensions"].values()) == 405
    assert "compliance" in q["missing"]  # the dataset has a Violation
    best = rich["https://example.org/dataset2"]
    assert best["score"] > q["score"]
    assert best["rating"] in ("excellent", "good")
    assert 0 <= q["percent"] <= 100


# ----------------------------------------------------------------------- demo


def _demo() -> tuple[Dataset, Graph, list[Path], list[Path]]:
    products = sorted((DEMO / "products").glob("*.trig"))
    agreements = sorted((DEMO / "agreements").glob("*.ttl"))
    if not products or not (DEMO / "agents.ttl").is_file():
        pytest.skip(
            "the demo catalogue (catalogue/demo/products/*.trig, agents.ttl) is not there yet"
        )
    ds = Dataset()
    for path in products:
        ds.parse(path, format="trig")
    agents = Graph().parse(DEMO / "agents.ttl")
    for triple in agents:
        ds.graph(URIRef("urn:eti:graph:agents")).add(triple)
    for path in agreements:
        ds.graph(URIRef(f"urn:eti:graph:agreement:{path.stem}")).parse(path)
    return ds, agents, products, agreements


def test_demo_catalogue_has_no_violation() -> None:
    ds, _agents, _products, _agreements = _demo()
    report = validate(ds, as_of=AS_OF)
    assert report.conforms, report.text()
    assert report.quality


def test_demo_products_validate_alone_with_small_context() -> None:
    _ds, agents, products, agreements = _demo()
    descriptions = Graph()
    for path in products:
        one = Dataset().parse(path, format="trig")
        for triple in one.default_graph:
            descriptions.add(triple)
    context = agents + descriptions
    for path in products:
        product = Dataset().parse(path, format="trig")
        report = validate(product, as_of=AS_OF, context=agents)
        assert report.conforms, f"{path.name}\n{report.text()}"
    for path in agreements:
        report = validate(Graph().parse(path), as_of=AS_OF, context=context)
        assert report.conforms, f"{path.name}\n{report.text()}"


def _local(shape: URIRef | None) -> str:
    return str(shape).rsplit("#", 1)[-1] if shape is not None else ""
