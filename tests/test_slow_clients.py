"""Slow clients against a real ``eti serve`` (raw sockets on loopback): idle, half-sent
and slowly-sent requests never hold a thread, and late ones are cut (issue 14, part 3).
Every test runs against both HTTP fronts (``server = "granian"`` and ``"gunicorn"``)."""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import prepare_store, start_server, stop

ASK = {"query": "ASK {}"}
HALF_HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"


FRONTS = ["granian", "gunicorn"]


@pytest.fixture(scope="module", params=FRONTS)
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """``eti serve`` with its default limits (8 threads), on each front."""
    store = tmp_path_factory.mktemp("slow") / "store"
    prepare_store(store, demo=False)
    url, proc = start_server(store, {"ETI_SERVER": request.param})
    yield url
    stop(proc)


@pytest.fixture(scope="module", params=FRONTS)
def strict_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[str, str]]:
    """``eti serve`` with a 1 s header timeout and a body rate of 1000 bytes a second:
    (its URL, its front)."""
    store = tmp_path_factory.mktemp("strict") / "store"
    prepare_store(store, demo=False)
    env = {"ETI_HEADER_TIMEOUT": "1", "ETI_BODY_MIN_RATE": "1000", "ETI_SERVER": request.param}
    url, proc = start_server(store, env)
    yield url, request.param
    stop(proc)


@contextlib.contextmanager
def slow_clients(url: str, count: int, first_bytes: bytes) -> Iterator[list[socket.socket]]:
    """``count`` connections that each send ``first_bytes`` and then nothing."""
    host, port = url.removeprefix("http://").split(":")
    socks = []
    try:
        for _ in range(count):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(first_bytes)
            socks.append(s)
        time.sleep(0.5)  # let the server take them all in
        yield socks
    finally:
        for s in socks:
            s.close()


def assert_answers(url: str) -> None:
    """/healthz and a query both answer within 5 s."""
    assert requests.get(url + "/healthz", timeout=5).status_code == 200
    answer = requests.get(url + "/sparql", params=ASK, timeout=5)
    assert answer.status_code == 200 and answer.json()["boolean"] is True


def still_open(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1) != b""
    except TimeoutError:
        return True


def test_half_sent_heads_stop_the_whole_server(server: str) -> None:
    with slow_clients(server, 50, HALF_HEAD) as socks:
        assert_answers(server)
        assert all(still_open(s) for s in socks)  # answered while they were connected


def test_slowly_sent_bodies_hold_the_workers(server: str) -> None:
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 100000\r\n\r\nASK {"
    )
    with slow_clients(server, 30, head) as socks:
        assert_answers(server)
        assert all(still_open(s) for s in socks)


def test_idle_connections_beyond_the_threads_starve_the_server(server: str) -> None:
    with slow_clients(server, 60, b"") as socks:
        assert_answers(server)
        assert all(still_open(s) for s in socks)


def test_a_half_sent_request_behind_a_whole_one_holds_a_worker(server: str) -> None:
    """Pipelined: a whole request and the first half of the next, sent at once."""
    whole = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with slow_clients(server, 30, whole + HALF_HEAD) as socks:
        assert_answers(server)
        assert all(s.recv(4096).startswith(b"HTTP/1.1 200 ") for s in socks)


def _read_all(sock: socket.socket, within: float) -> bytes:
    """What the server sends until it closes the connection (at most ``within`` s)."""
    sock.settimeout(within)
    data = b""
    with contextlib.suppress(TimeoutError):
        while chunk := sock.recv(4096):
            data += chunk
    return data


def test_a_half_sent_head_is_kept_open_forever(strict_server: tuple[str, str]) -> None:
    url, front = strict_server
    with slow_clients(url, 1, HALF_HEAD) as (sock,):
        started = time.monotonic()
        answer = _read_all(sock, within=10)
        assert time.monotonic() - started < 8  # closed, not left until our own timeout
        if front == "gunicorn":
            assert answer.startswith(b"HTTP/1.1 408 ")
        else:  # granian ends the connection without an answer
            assert answer == b""


def test_a_body_dripped_slower_than_the_minimum_rate_is_kept_open(
    strict_server: tuple[str, str],
) -> None:
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 100000\r\n\r\n"
    )
    with slow_clients(strict_server[0], 1, head) as (sock,):
        for _ in range(40):  # one byte every 0.2 s: far below 1000 bytes a second
            try:
                sock.sendall(b" ")
            except OSError:
                break
            if select.select([sock], [], [], 0.2)[0]:
                break
        assert _read_all(sock, within=5).startswith(b"HTTP/1.1 408 ")


def test_whole_requests_still_pass_the_reading_front(
    strict_server: tuple[str, str], tmp_path: Path
) -> None:
    """Chunked and kept-alive requests through the buffering reader (no regression)."""
    url = strict_server[0]
    with requests.Session() as session:
        for _ in range(3):  # kept alive
            assert session.get(url + "/sparql", params=ASK, timeout=5).ok
        chunked = session.post(
            url + "/sparql",
            data=iter([b"ASK ", b"{}"]),
            headers={"Content-Type": "application/sparql-query"},
            timeout=5,
        )
        assert chunked.status_code == 200 and chunked.json()["boolean"] is True
