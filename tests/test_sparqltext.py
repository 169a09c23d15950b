"""Reading a query's form, dataset clauses and SERVICE endpoints without evaluating it."""

from __future__ import annotations

import pytest

from eti.catalogue.sparqlguard import examine
from eti.catalogue.sparqltext import QueryInfo, dataset, inspect


def test_dataset_clauses_with_prefixes() -> None:
    info = inspect(
        "PREFIX ex: <http://ex/>\nSELECT * FROM ex:a FROM NAMED <http://b> WHERE { ?s ?p ?o }"
    )
    assert info.form == "SELECT"
    assert info.from_graphs == ["http://ex/a"]
    assert info.from_named == ["http://b"]


@pytest.mark.parametrize(
    "text",
    [
        'SELECT * WHERE { ?s ?p "FROM <http://x>" }',
        "SELECT * WHERE { ?s ?p ''' FROM <http://x> ''' }",
        "SELECT * # FROM <http://x>\nWHERE { ?s ?p ?o }",
        "SELECT * WHERE { ?s <http://ex/FROM> ?o }",
    ],
)
def test_keywords_inside_literals_iris_and_comments_do_not_count(text: str) -> None:
    assert not inspect(text).has_dataset


def test_services_are_found_including_variables_and_silent() -> None:
    info = inspect(
        "select * where { SERVICE <http://a/sparql> { ?s ?p ?o } "
        "service silent <http://b/> {} SERVICE ?x {} }"
    )
    assert info.services == ["http://a/sparql", "http://b/", None]


def test_construct_form_is_read_before_its_template() -> None:
    assert inspect("construct { ?s ?p ?o } from <http://g> where { ?s ?p ?o }").form == "CONSTRUCT"
    assert inspect("PREFIX a: <http://a/> ASK { ?s ?p ?o }").form == "ASK"


def test_dataset_stays_within_the_view() -> None:
    view = ["urn:public", "urn:content:a"]
    assert dataset(view, QueryInfo(uses_graph=True)) == (view, view)
    assert dataset(view, QueryInfo()) == (view, [])  # no GRAPH: no graph read by name
    assert dataset(view, inspect("SELECT * FROM <urn:secret> WHERE {?s ?p ?o}")) == ([], [])
    assert dataset(
        view,
        inspect(
            "SELECT * FROM <urn:public> FROM NAMED <urn:secret> "
            "FROM NAMED <urn:content:a> WHERE {?s ?p ?o}"
        ),
    ) == (["urn:public"], ["urn:content:a"])
    # the protocol's parameters win over the query's own clauses
    assert dataset(
        view,
        inspect("SELECT * FROM <urn:public> WHERE {?s ?p ?o}"),
        ["urn:content:a", "urn:secret"],
        None,
    ) == (["urn:content:a"], [])


# --- sparqlguard.examine: what the engine could read, failing closed -------------------------

LOOP = "http://127.0.0.1:9/"


@pytest.mark.parametrize(
    "text",
    [
        f"SELECT * WHERE {{ ?s <http://e/#\\u0041> ?o . SERVICE <{LOOP}> {{}} }}",
        f"PREFIX ex: <http://e/> SELECT * WHERE {{ ?s ex:a\\#b ?o . SERVICE <{LOOP}> {{}} }}",
        f"SELECT * WHERE {{ # x\r SERVICE <{LOOP}> {{}} }}",
        f"SELECT * WHERE {{ ?s ?p ?o.SERVICE <{LOOP}> {{}} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER(?o<'>' && ?o != 'x') SERVICE <{LOOP}> {{}} # '\n}}",
        "PREFIX e: <https://data.norge.no/> PREFIX e: <http://127.0.0.1:9/> "
        "SELECT * WHERE { SERVICE e: {} }",
    ],
    ids=["escape", "local-hash", "cr-comment", "glued", "comparison", "redeclared"],
)
def test_examine_finds_the_service_a_lexer_misses(text: str) -> None:
    assert LOOP in examine(text).services


def test_examine_does_not_count_a_keyword_inside_a_name() -> None:
    text = f"PREFIX ex: <http://e/> SELECT ?service WHERE {{ ?service ex:hasService <{LOOP}> }}"
    assert examine(text).services == []
    assert not examine("PREFIX ex: <http://e/> INSERT DATA { <urn:a> ex:upLOAD <urn:b> }").load


def test_examine_refuses_nesting_a_lexer_would_not_see() -> None:
    hidden = "PREFIX ex: <http://e/> SELECT * WHERE { ?s ex:a\\#b ?o " + "{" * 300 + "}" * 300 + "}"
    with pytest.raises(ValueError, match="levels deep"):
        examine(hidden)
    line = "SELECT * WHERE { FILTER(?a<?b'>)\n" + "{" * 300 + "}" * 300 + "}"
    with pytest.raises(ValueError, match="levels deep"):
        examine(line)
