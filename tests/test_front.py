"""The granian front and the lean path (issue 16, per-request overhead) against a real
``eti serve``: a repeated anonymous query is answered without Flask but still counted and
logged, never after a write, never to a caller with a token, never for a volatile text;
an answer stopped by the time limit is a 503 (granian cannot break a body half-way);
bodies too large are refused before they are read."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from eti.server.lean import request_key
from tests.conftest import LiveServer, free_port, prepare_store, start_server, stop
from tests.test_metrics import get as metric
from tests.test_metrics import parse

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
ACCEPT = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``eti serve`` on the granian front over the demo, logging every request."""
    store = tmp_path_factory.mktemp("front") / "store"
    tokens = prepare_store(store)
    url, proc = start_server(store, {"ETI_SERVER": "granian", "ETI_LOG_LEVEL": "INFO"})
    yield LiveServer(url, proc, store, tokens)
    stop(proc)


def get(server: LiveServer, text: str, request_id: str, **headers: str) -> requests.Response:
    answer = requests.get(
        server.url + "/sparql",
        params={"query": text},
        headers={**ACCEPT, "X-Request-Id": request_id, **headers},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Request-Id"] == request_id
    return answer


def logged(server: LiveServer, request_id: str) -> dict:
    """The log line of one request (waits a little for the log to be written)."""
    log = Path(server.proc.log_path)  # type: ignore[attr-defined]
    for _ in range(50):
        for line in log.read_text().splitlines():
            if line.startswith("{") and f'"request_id": "{request_id}"' in line:
                entry = json.loads(line)
                if "status" in entry:
                    return entry
        time.sleep(0.1)
    raise AssertionError(f"no log line for {request_id}")


def requests_counted(server: LiveServer) -> int:
    text = requests.get(server.url + "/metrics", timeout=10).text
    key = 'eti_http_requests_total{route="/sparql",method="GET",status="200"}'
    return int(metric(parse(text), key))


def test_a_repeated_query_is_answered_lean_and_still_counted_and_logged(
    server: LiveServer,
) -> None:
    first = get(server, COUNT, "lean-first")
    before = requests_counted(server)
    second = get(server, COUNT, "lean-second")
    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert requests_counted(server) == before + 1
    assert "lean" not in logged(server, "lean-first")
    entry = logged(server, "lean-second")
    assert entry["lean"] is True and entry["status"] == 200 and entry["form"] == "SELECT"


def test_a_kept_answer_is_never_served_after_a_write(server: LiveServer) -> None:
    text = "ASK { <urn:front:a> <urn:front:b> <urn:front:c> }"
    assert get(server, text, "write-0").json()["boolean"] is False
    get(server, text, "write-1")
    assert logged(server, "write-1").get("lean") is True
    update = requests.post(
        server.url + "/update",
        data="INSERT DATA { GRAPH <urn:front:g> { <urn:front:a> <urn:front:b> <urn:front:c> } }",
        headers={**server.headers("admin"), "Content-Type": "application/sparql-update"},
        timeout=30,
    )
    assert update.status_code in (200, 204), update.text
    get(server, text, "write-2")
    assert "lean" not in logged(server, "write-2")  # worked out again after the write


def test_a_caller_with_a_token_never_gets_the_anonymous_answer(server: LiveServer) -> None:
    get(server, COUNT, "anon-1")
    get(server, COUNT, "anon-2")
    assert logged(server, "anon-2").get("lean") is True
    mine = get(server, COUNT, "admin-1", **server.headers("admin"))
    assert "lean" not in logged(server, "admin-1")
    anonymous = get(server, COUNT, "anon-3").json()["results"]["bindings"][0]["n"]["value"]
    assert mine.json()["results"]["bindings"][0]["n"]["value"] != anonymous


def test_a_volatile_query_is_never_kept(server: LiveServer) -> None:
    text = "SELECT (RAND() AS ?r) WHERE {}"
    values = {get(server, text, f"rand-{i}").text for i in range(3)}
    assert len(values) == 3
    assert "lean" not in logged(server, "rand-2")


def test_other_headers_make_other_answers(server: LiveServer) -> None:
    get(server, COUNT, "csv-0")
    answer = requests.get(
        server.url + "/sparql",
        params={"query": COUNT},
        headers={"Accept": "text/csv", "X-Request-Id": "csv-1"},
        timeout=30,
    )
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert answer.text.splitlines()[0] == "n"


def test_an_answer_stopped_by_the_time_limit_is_a_503_not_a_whole_looking_200(
    tmp_path: Path,
) -> None:
    """granian ends a streamed body like a whole one when the application stops half-way;
    the front reads the answer whole first, so the time limit is an honest 503."""
    store = tmp_path / "store"
    prepare_store(store)
    env = {"ETI_SERVER": "granian", "ETI_QUERY_TIMEOUT": "2", "ETI_MAX_ROWS": "0"}
    url, proc = start_server(store, env)
    try:
        huge = "CONSTRUCT { ?a ?b ?c . ?d ?e ?f } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        answer = requests.get(
            url + "/sparql",
            params={"query": huge},
            headers={"Accept": "application/n-triples"},
            timeout=60,
        )
        assert answer.status_code == 503, answer.status_code
        assert answer.headers["Retry-After"]
        assert "stopped" in answer.text
        metrics = requests.get(url + "/metrics", timeout=10).text
        assert "eti_sparql_query_timeouts_total 1" in metrics
    finally:
        stop(proc)


def test_a_body_announced_larger_than_max_body_is_refused_unread(server: LiveServer) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 99999999999\r\n\r\nASK {}"
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")


def test_the_lean_key_leaves_out_private_requests_and_keeps_every_other_header() -> None:
    assert request_key("query=ASK", [("authorization", "Bearer x")]) is None
    assert request_key("query=ASK", [("cookie", "session=1")]) is None
    assert request_key("format=json", [("accept", "*/*")]) is None  # no query
    plain = request_key("query=ASK", [("accept", "text/csv")])
    assert plain == request_key("query=ASK", [("accept", "text/csv"), ("user-agent", "x")])
    assert plain != request_key("query=ASK", [("accept", "text/csv"), ("eti-purpose", "p")])
    assert plain != request_key("query=ASK", [("accept", "application/json")])


def test_a_repeated_direct_post_is_answered_lean_by_its_body(server: LiveServer) -> None:
    def post(request_id: str) -> requests.Response:
        answer = requests.post(
            server.url + "/sparql",
            data=COUNT.encode(),
            headers={
                **ACCEPT,
                "Content-Type": "application/sparql-query",
                "X-Request-Id": request_id,
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer

    first, second = post("post-1"), post("post-2")
    assert second.content == first.content
    assert logged(server, "post-2").get("lean") is True
    assert logged(server, "post-2")["method"] == "POST"
    other = requests.post(
        server.url + "/sparql",
        data=b"ASK {}",
        headers={**ACCEPT, "Content-Type": "application/sparql-query", "X-Request-Id": "post-3"},
        timeout=30,
    )
    assert other.json()["boolean"] is True  # another body, another answer


def test_a_worker_left_by_a_killed_master_keeps_the_store_and_the_port(tmp_path: Path) -> None:
    """SIGKILL of granian's master alone: its worker ends too (within seconds), so the
    store's lock and the port are free and a new server starts on the same store."""
    store = tmp_path / "store"
    prepare_store(store, demo=False)
    port = free_port()
    url, proc = start_server(store, {"ETI_SERVER": "granian"}, port=port)
    try:
        assert requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=30).ok
        worker = children(proc.pid)
        assert worker
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in worker), "the worker outlived its master"
        again, proc2 = start_server(store, {"ETI_SERVER": "granian"}, port=port)
        try:
            assert requests.get(again + "/sparql", params={"query": "ASK {}"}, timeout=30).ok
        finally:
            stop(proc2)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET /sparql?query=" + b"A" * 9000 + b" HTTP/1.1\r\nHost: x\r\n", b"414"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 9000 + b"\r\n", b"431"),
        (b"GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: evil.example\r\n", b"400"),
    ],
    ids=["request line too long", "header too long", "two Host headers"],
)
def test_granian_takes_what_gunicorn_refuses(
    server: LiveServer, head: bytes, status: bytes
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + b"Connection: close\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 " + status + b" ")
