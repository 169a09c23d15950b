"""The canned situation query a channel adapts (catalogue/demo/queries/family-situation.rq,
linked from the README and listed on /query) is the query /api/situation runs, and it gives
the same services as the API for the same caller."""

from __future__ import annotations

import re

import pytest

from eti.catalogue import demo, queries
from eti.catalogue.auth import TokenTable

NAME = "family-situation.rq"
FLEKKEFJORD_PLACE = "https://eti.example/places/kommune/4207"


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
def test_published_situation_query_answers_like_the_api(client, catalogue, who: str) -> None:
    headers = {}
    if who == "family app":
        token = TokenTable(catalogue.store).create(
            "channel", channel="https://eti.example/channels/familieapp"
        )[1]
        headers = {"Authorization": f"Bearer {token}"}
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
