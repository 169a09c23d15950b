"""Fair shares of the query workers against a real ``eti serve`` (issue 14, part 3): one
caller cannot hold every worker, and anonymous callers get a shorter time limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import LiveServer, prepare_store, start_server, stop

CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ENV = {
    "ETI_QUERY_WORKERS": "2",
    "ETI_QUERY_TIMEOUT": "6",
    "ETI_QUERY_TIMEOUT_ANONYMOUS": "2",
    "ETI_ANSWER_CACHE": "0",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    store = tmp_path_factory.mktemp("fair") / "store"
    tokens = prepare_store(store)
    url, proc = start_server(store, ENV)
    yield LiveServer(url, proc, store, tokens)
    stop(proc)


def query(url: str, text: str, **headers: str) -> requests.Response:
    return requests.get(url + "/sparql", params={"query": text}, headers=headers, timeout=30)


def test_one_anonymous_caller_takes_every_query_worker(server: LiveServer) -> None:
    answers: list[tuple[requests.Response, float]] = []

    def heavy() -> None:
        started = time.monotonic()
        answers.append((query(server.url, CROSS), time.monotonic() - started))

    threads = [threading.Thread(target=heavy) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.2)
    started = time.monotonic()
    other = query(server.url, "ASK {}", **server.headers("channel"))
    took = time.monotonic() - started
    for thread in threads:
        thread.join(30)
    assert other.status_code == 200 and other.json()["boolean"] is True
    assert took < 1.5  # not after the anonymous caller's queries
    refused = [r for r, _ in answers if r.status_code == 429]
    assert len(refused) == 1, [(r.status_code, r.text) for r, _ in answers]
    assert refused[0].headers["Retry-After"] and "per_caller_queries" in refused[0].text
    assert next(t for r, t in answers if r.status_code == 429) < 1.5  # refused at once


def test_anonymous_queries_run_as_long_as_authenticated_ones(server: LiveServer) -> None:
    started = time.monotonic()
    anonymous = query(server.url, CROSS)
    took = time.monotonic() - started
    assert anonymous.status_code == 503 and "longer than 2 s" in anonymous.text
    assert took < 5
    channel = query(server.url, CROSS, **server.headers("channel"))
    assert channel.status_code == 503 and "longer than 6 s" in channel.text
