"""Situation compilation on the demo catalogue, with concrete expected answers; and the
canned situation query a channel adapts (catalogue/demo/queries/family-situation.rq,
linked from the README and listed on /query), which is the query /api/situation runs and
gives the same services as the API for the same caller."""

from __future__ import annotations

import re

import pytest

from eti.catalogue import demo, queries

ORG = "https://data.brreg.no/enhetsregisteret/api/enheter/"
NAV, HDIR, UDIR, STATPED, FLEKKEFJORD = (
    ORG + n for n in ("889640782", "983544622", "970018131", "998554640", "964967369")
)
APP = "https://eti.example/channels/familieapp"
NAME = "family-situation.rq"
FLEKKEFJORD_PLACE = "https://eti.example/places/kommune/4207"


def services(doc: dict) -> dict[str, dict]:
    return {s["title"]: s for g in doc["groups"] for s in g["services"]}


def test_anonymous_sees_the_national_services_of_four_producers(client) -> None:
    doc = client.get("/api/situation", query_string={"municipality": "4207", "age": "7"}).json
    assert doc["producers"] == sorted([NAV, HDIR, UDIR, STATPED])
    found = services(doc)
    pleiepenger = found["Pleiepenger for sykt barn"]
    assert pleiepenger["authority_name"] == "Arbeids- og velferdsetaten (Nav)"
    assert {
        "title": "Folketrygdloven § 9-10",
        "link": "https://lovdata.no/lov/1997-02-28-19/§9-10",
    } in pleiepenger["legal_basis"]
    assert pleiepenger["apply_at"].startswith("https://www.nav.no/")
    assert pleiepenger["source"]["product"] == "https://eti.example/products/nav-pleiepenger"
    assert pleiepenger["source"]["fresh"] is True
    assert "Rett til barnekoordinator" in found
    assert "Individuelt tilrettelagt opplæring" in found
    assert "Avlastning" not in found  # Flekkefjord's content needs an agreement
    assert doc["age"] == 7 and doc["age_note"]


def test_a_channel_with_an_agreement_also_gets_the_municipality(client, as_) -> None:
    app = as_("channel", channel=APP)
    doc = client.get(
        "/api/situation",
        query_string={"municipality": "4207"},
        headers=app,
    ).json
    assert doc["producers"] == sorted([NAV, HDIR, UDIR, STATPED, FLEKKEFJORD])
    found = services(doc)
    assert found["Avlastning"]["authority_name"] == "Flekkefjord kommune"
    assert {
        "title": "Helse- og omsorgstjenesteloven § 3-6",
        "link": "https://lovdata.no/lov/2011-06-24-30/§3-6",
    } in found["Omsorgsstønad"]["legal_basis"]
    assert [a["product"] for a in doc["agreements"]] == [
        "https://eti.example/products/flekkefjord-parorendestotte"
    ]
    research = client.get(
        "/api/situation",
        query_string={
            "municipality": "4207",
            "purpose": "https://w3id.org/dpv#ResearchAndDevelopment",
        },
        headers=app,
    ).json
    assert "Avlastning" not in services(research)


def test_needs_narrow_and_group(client, as_) -> None:
    app = as_("channel", channel=APP)
    doc = client.get(
        "/api/situation",
        query_string={"municipality": "4207", "need": "avlastning"},
        headers=app,
    ).json
    assert [(g["label"], [s["title"] for s in g["services"]]) for g in doc["groups"]] == [
        ("Avlastning og støtte", ["Avlastning", "Omsorgsstønad"])
    ]
    los = client.get(
        "/api/situation",
        query_string={
            "municipality": "4207",
            "need": "https://psi.norge.no/los/tema/familieytelser",
        },
    ).json
    assert {s["title"] for s in services(los).values()} == {
        "Pleiepenger for sykt barn",
        "Opplæringspenger",
        "Ekstra omsorgsdager når barnet er kronisk sykt eller funksjonshemmet",
    }


def test_bad_parameters(client) -> None:
    for params, status in (
        ({"municipality": "42"}, 400),
        ({"municipality": "9999"}, 404),
        ({"municipality": "4207", "age": "-1"}, 400),
        ({"municipality": "4207", "age": "99"}, 400),
        ({"municipality": "4207", "purpose": "not a purpose"}, 400),
        ({}, 400),
    ):
        response = client.get("/api/situation", query_string=params)
        assert response.status_code == status, params
        assert response.json["detail"]


def test_the_canned_query_runs_over_sparql(client) -> None:
    text = queries.load("situation").replace(
        "?place dct:isPartOf*", "<https://eti.example/places/kommune/4207> dct:isPartOf*"
    )
    doc = client.get("/sparql", query_string={"query": text}).json
    titles = {b["title"]["value"] for b in doc["results"]["bindings"] if "title" in b}
    assert "Pleiepenger for sykt barn" in titles and "Avlastning" not in titles


def test_sources_opened_by_an_agreement_carry_its_duties(client, as_) -> None:
    """The situation's sources said nothing of the duties of the agreements they came
    through, and the answer had no ETI-Duties header."""
    app = as_("channel", channel=APP)
    response = client.get(
        "/api/situation",
        query_string={"municipality": "4207"},
        headers=app,
    )
    found = services(response.json)
    source = found["Avlastning"]["source"]
    assert source["product"] == "https://eti.example/products/flekkefjord-parorendestotte"
    assert source["agreement"] == (
        "https://eti.example/agreements/familieapp-flekkefjord-parorendestotte"
    )
    assert sorted(source["duties"], key=str) == [
        {"action": "http://www.w3.org/ns/odrl/2/attribute", "interval": None},
        {"action": "https://w3id.org/eti#refresh", "interval": "P1D"},
    ]
    open_source = found["Pleiepenger for sykt barn"]["source"]
    assert (open_source["agreement"], open_source["duties"]) == (None, [])
    assert response.headers["ETI-Duties"] == (
        "<https://eti.example/products/flekkefjord-parorendestotte>; "
        "agreement=<https://eti.example/agreements/familieapp-flekkefjord-parorendestotte>; "
        'duties="attribute refresh=P1D"'
    )
    anonymous = client.get("/api/situation", query_string={"municipality": "4207"})
    assert "ETI-Duties" not in anonymous.headers


# --- the published situation query (was test_situation_query.py) ---------------------------


def _body(text: str) -> str:
    """The query without its comment lines, the DISTINCT and the VALUES that binds ?place."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    lines = [line for line in lines if not line.strip().startswith("VALUES ?place")]
    return "\n".join(lines).replace("SELECT DISTINCT ", "SELECT ")


def test_published_situation_query_is_the_one_the_api_runs() -> None:
    published = demo.example_queries()[NAME]
    assert _body(published) == _body(queries.load("situation"))
    assert re.search(r"VALUES \?place \{ <" + re.escape(FLEKKEFJORD_PLACE) + "> \\}", published)


@pytest.mark.parametrize("who", ["anonymous", "family app"])
def test_published_situation_query_answers_like_the_api(client, as_, who: str) -> None:
    headers = {}
    if who == "family app":
        headers = as_("channel", channel=APP)
    answer = client.post(
        "/sparql",
        data={"query": demo.example_queries()[NAME]},
        headers={**headers, "Accept": "application/sparql-results+json"},
    )
    assert answer.status_code == 200
    by_query = {row["service"]["value"] for row in answer.json["results"]["bindings"]}
    doc = client.get("/api/situation", query_string={"municipality": "4207"}, headers=headers).json
    by_api = {s["service"] for g in doc["groups"] for s in g["services"]}
    assert by_query == by_api
    flekkefjord = {s for s in by_query if "/products/flekkefjord-" in s}
    # anonymously only the national producers; the family app's agreement adds Flekkefjord's
    assert bool(flekkefjord) is (who == "family app")
