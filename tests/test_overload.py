"""Overload is shed with 503 + Retry-After, not by holding connections until a client's
timeout cuts them.

A real ``eti serve`` with one query worker and a limit of two requests at once: while a
slow query holds the worker, a burst of slow queries (on ``/sparql`` and on the ``/query``
page) is answered at once with 503 and ``Retry-After`` — by the HTTP limit
(``server/wsgi.py``) or by the query pool's queue wait — never with a dropped connection,
and ``/healthz`` and ``/metrics`` still answer. The ``/query`` page maps a busy or timed-out
engine to 503 too (it used to say 400, as if the query were wrong).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from conftest import prepare_store, start_server, stop

from eti.catalogue.executor import Overloaded, QueryFailed, QueryTimeout
from eti.server.wsgi import InflightLimit

CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
LIMIT = 2
BURST = 8
ENV = {
    "ETI_THREADS": str(LIMIT),
    "ETI_QUERY_WORKERS": "1",
    "ETI_QUERY_QUEUE_WAIT": "2",
    "ETI_QUERY_TIMEOUT": "8",
    "ETI_ANSWER_CACHE": "0",
    "ETI_PER_CALLER_QUERIES": str(BURST),  # the burst comes from one client: shed, not 429
}
SHED = f"answering {LIMIT} requests already"
IN_FLIGHT = "eti_http_requests_in_flight "


@pytest.fixture(scope="module", params=["gunicorn", "granian"])
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The server on each HTTP front (setting ``server``)."""
    store_dir = tmp_path_factory.mktemp("overload") / "store"
    prepare_store(store_dir)
    url, proc = start_server(store_dir, env={**ENV, "ETI_SERVER": request.param})
    yield url
    stop(proc)


@dataclass
class Outcome:
    """How one request of the burst ended, and in which order."""

    route: str
    status: int | None
    retry_after: str | None
    text: str
    error: str | None
    order: int


def ask_answers(url: str) -> bool:
    """The server answers ``ASK {}`` (after a timed-out query its worker is replaced,
    which a 503 + Retry-After meanwhile says; those are retried, a bounded number)."""
    for _ in range(120):
        r = requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=60)
        if r.status_code == 200:
            return r.json()["boolean"] is True
        assert r.status_code == 503 and r.headers.get("Retry-After"), r.text
        threading.Event().wait(0.5)
    return False


def holder_in_flight(url: str) -> bool:
    """Wait (bounded) until a request besides this /metrics one is being answered."""
    for _ in range(200):
        text = requests.get(url + "/metrics", timeout=30).text
        gauge = next(line for line in text.splitlines() if line.startswith(IN_FLIGHT))
        if int(gauge.split()[-1]) >= 2:
            return True
        threading.Event().wait(0.05)
    return False


def test_a_burst_of_slow_queries_is_shed_with_503_and_retry_after(server: str) -> None:
    lock = threading.Lock()
    finished: list[str] = []

    def send(name: str, route: str) -> Outcome:
        error = status = retry = None
        text = ""
        try:
            if route == "/query":  # the page, as a browser asks for it
                r = requests.get(
                    server + "/query",
                    params={"query": CROSS},
                    headers={"Accept": "text/html"},
                    timeout=120,
                )
            else:
                r = requests.post(server + "/sparql", data={"query": CROSS}, timeout=120)
            status, retry, text = r.status_code, r.headers.get("Retry-After"), r.text
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        with lock:
            finished.append(name)
            order = len(finished)
        return Outcome(route, status, retry, text, error, order)

    with ThreadPoolExecutor(BURST + 1) as pool:
        first = pool.submit(send, "holder", "/sparql")
        assert holder_in_flight(server), "the slow query never started"
        burst = [
            pool.submit(send, f"burst-{i}", "/query" if i % 2 else "/sparql") for i in range(BURST)
        ]
        outcomes = [f.result() for f in burst]
        health = requests.get(server + "/healthz", timeout=30)
        metrics = requests.get(server + "/metrics", timeout=30)
        holding = first.result()
    everything = [holding, *outcomes]

    assert [o.error for o in everything if o.error] == [], "a connection was dropped"
    assert {o.status for o in everything} <= {200, 503}, [(o.status, o.text) for o in everything]
    refused = [o for o in everything if o.status == 503]
    assert refused and all(o.retry_after for o in refused), [(o.status, o.text) for o in refused]
    shed = [o for o in outcomes if SHED in o.text]
    assert shed, "no request was refused by the in-flight limit"
    # refused at once: a shed request is answered while the slow query still runs
    assert min(o.order for o in shed) < holding.order
    assert any(o.route == "/query" and o.status == 503 for o in outcomes)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert metrics.status_code == 200
    assert 'eti_rejected_requests_total{reason="overloaded"}' in metrics.text
    assert 'route="(shed)"' in metrics.text
    assert ask_answers(server), "the server does not answer after the overload"


def test_health_and_metrics_are_answered_beyond_the_limit() -> None:
    """/healthz and /metrics never take a slot: monitoring sees an overloaded server."""
    release = threading.Event()
    entered = threading.Barrier(LIMIT + 1)

    def slow_app(environ, start_response):  # type: ignore[no-untyped-def]
        if environ["PATH_INFO"] == "/sparql":
            entered.wait(timeout=30)
            release.wait(timeout=30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    shed: list[str] = []
    limited = InflightLimit(slow_app, LIMIT, shed.append)
    statuses: list[str] = []

    def call(path: str, method: str = "GET") -> list[bytes]:
        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            statuses.append(f"{path} {status} {dict(headers).get('Retry-After', '-')}")

        body = limited({"PATH_INFO": path, "REQUEST_METHOD": method}, start_response)
        out = list(body)
        getattr(body, "close", lambda: None)()
        return out

    threads = [threading.Thread(target=call, args=("/sparql",)) for _ in range(LIMIT)]
    for t in threads:
        t.start()
    entered.wait(timeout=30)  # both slots are taken
    call("/api/products", "POST")
    call("/healthz")
    call("/metrics")
    release.set()
    for t in threads:
        t.join()
    call("/api/products")  # the slots came back when the bodies were closed
    assert statuses[:3] == [
        "/api/products 503 Service Unavailable 2",
        "/healthz 200 OK -",
        "/metrics 200 OK -",
    ]
    assert statuses[-1] == "/api/products 200 OK -"
    assert shed == ["POST"]


def test_a_slot_comes_back_when_the_application_fails() -> None:
    def failing(environ, start_response):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    limited = InflightLimit(failing, 1, lambda method: None)
    for _ in range(3):  # a leaked slot would make the second call a 503
        with pytest.raises(RuntimeError):
            limited({"PATH_INFO": "/sparql", "REQUEST_METHOD": "GET"}, lambda *a: None)


@pytest.mark.parametrize(
    ("error", "retry_after"),
    [
        (Overloaded("every query worker is busy"), "2"),
        (QueryTimeout("the query ran longer than 30 s and was stopped"), "5"),
        (QueryFailed("store", "the query worker stopped unexpectedly"), "1"),
    ],
    ids=["overloaded", "timeout", "store failed"],
)
def test_query_page_answers_a_busy_engine_with_503_and_retry_after(
    client, catalogue, monkeypatch, error: Exception, retry_after: str
) -> None:
    """Regression: the /query page answered an overload with 400 and no Retry-After, as if
    the query were wrong."""

    def busy(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise error

    monkeypatch.setattr(catalogue, "answer", busy)
    page = client.get("/query", query_string={"query": "ASK {}"}, headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == retry_after
    assert str(error) in page.get_data(as_text=True)


def test_query_page_still_calls_a_syntax_error_a_400(client) -> None:
    page = client.get("/query", query_string={"query": "SELEKT"}, headers={"Accept": "text/html"})
    assert page.status_code == 400 and "Retry-After" not in page.headers
