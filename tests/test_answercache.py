"""Whole answers kept until the next write: a repeated text is answered from memory, a
write (or a different view, media type or row limit) answers afresh, volatile texts never
come from memory, and a body a client gave up on is never kept."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
import requests

from eti.catalogue.answercache import AnswerCache
from eti.catalogue.executor import Answer

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://ekgf.github.io/dprod/DataProduct> }"
TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text("utf-8")


def lookups(client, result: str) -> int:  # type: ignore[no-untyped-def]
    text = client.get("/metrics").get_data(as_text=True)
    found = re.search(rf'eti_answer_cache_lookups_total{{result="{result}"}} (\d+)', text)
    return int(found.group(1)) if found else 0


def count(client, **kw) -> int:  # type: ignore[no-untyped-def]
    answer = client.get("/sparql", query_string={"query": COUNT}, **kw)
    assert answer.status_code == 200, answer.data
    return int(answer.json["results"]["bindings"][0]["n"]["value"])


def test_repeated_text_is_answered_from_memory_until_a_write(client, as_) -> None:
    first = count(client)
    hits = lookups(client, "hit")
    assert count(client) == first
    assert lookups(client, "hit") == hits + 1
    token = as_.token("steward", org="889640782")
    created = client.post(
        "/api/products",
        data=TEMPLATE.replace("nav-pleiepenger", "nav-hurtig").encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/trig"},
    )
    assert created.status_code == 201, created.json
    assert count(client) == first + 1  # the write dropped the kept answer
    assert lookups(client, "hit") == hits + 1


def test_media_type_and_view_are_part_of_the_key(client, as_) -> None:
    json_body = client.get("/sparql", query_string={"query": COUNT}).data
    xml = client.get(
        "/sparql",
        query_string={"query": COUNT},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert xml.mimetype == "application/sparql-results+xml" and xml.data != json_body
    # a steward's view holds its closed content (Flekkefjord's products have no open
    # offer): the same text counts more services
    services = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <http://purl.org/vocab/cpsv#PublicService> }"
    token = as_.token("steward", org="964967369")
    anonymous = client.get("/sparql", query_string={"query": services}).json
    steward = client.get(
        "/sparql",
        query_string={"query": services},
        headers={"Authorization": f"Bearer {token}"},
    ).json
    n = [int(a["results"]["bindings"][0]["n"]["value"]) for a in (anonymous, steward)]
    assert n[1] > n[0]
    again = client.get("/sparql", query_string={"query": services}).json
    assert again == anonymous


@pytest.mark.parametrize("function", ["NOW()", "RAND()", "STRUUID()"])
def test_volatile_texts_are_never_kept(client, function: str) -> None:
    text = f"SELECT ?v WHERE {{ BIND({function} AS ?v) }}"
    hits = lookups(client, "hit")
    answers = {client.get("/sparql", query_string={"query": text}).data for _ in range(3)}
    assert lookups(client, "hit") == hits
    if function != "NOW()":  # NOW() may repeat within one clock tick
        assert len(answers) == 3


def _answer(body: bytes) -> Answer:
    return Answer("solutions", "application/json", 1, False, iter([body[:3], body[3:]]))


def test_cache_is_bounded_and_never_keeps_a_body_given_up() -> None:
    cache = AnswerCache(max_bytes=100, max_entry=40)
    for i in range(5):
        assert b"".join(cache.keep(("q", i), 0, _answer(b"x" * 30)).chunks) == b"x" * 30
    assert cache.size <= 100
    assert cache.get(("q", 0), 0) is None  # the oldest went first
    assert cache.get(("q", 4), 0) is not None
    assert cache.get(("q", 4), 1) is None  # another generation: the data changed
    big = cache.keep(("big",), 0, _answer(b"y" * 50))
    assert b"".join(big.chunks) == b"y" * 50
    assert cache.get(("big",), 0) is None
    partial = cache.keep(("partial",), 0, _answer(b"z" * 10)).chunks
    next(partial)
    partial.close()  # type: ignore[attr-defined]
    assert cache.get(("partial",), 0) is None


def test_live_server_answers_repeated_texts_the_same(live_server) -> None:
    url = live_server.url
    bodies = [
        requests.post(url + "/sparql", data={"query": COUNT}, timeout=30).content for _ in range(3)
    ]
    assert len(set(bodies)) == 1
    metrics = requests.get(url + "/metrics", timeout=30).text
    assert re.search(r'eti_answer_cache_lookups_total\{result="hit"\} [1-9]', metrics)
