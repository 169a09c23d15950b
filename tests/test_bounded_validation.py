"""Validation of sent input is bounded in time and memory and never holds the pages up,
against a real ``eti serve`` (issue 14, part 3)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, LiveServer, prepare_store, start_server, stop

AGREEMENT = ROOT / "catalogue/demo/agreements/familieapp-flekkefjord-parorendestotte.ttl"
OLD = "agreements/familieapp-flekkefjord-parorendestotte"
TURTLE = {"Content-Type": "text/turtle", "Accept": "application/json"}
SMALL = b"<https://eti.example/x> <http://purl.org/dc/terms/title> 'x' ."


def overlapping_agreements(count: int) -> bytes:
    """``count`` copies of one demo agreement between the same parties on the same product
    (every pair overlaps: the cost grows with the square of ``count``)."""
    text = AGREEMENT.read_text(encoding="utf-8")
    head, _, body = text.partition(f"<https://eti.example/{OLD}>\n")
    copies = [
        f"<https://eti.example/agreements/x{i}>\n" + body.replace(OLD, f"agreements/x{i}")
        for i in range(count)
    ]
    return (head + "".join(copies)).encode()


def serve(tmp: Path, env: dict[str, str]) -> Iterator[LiveServer]:
    """``eti serve`` with ``env``, its validation worker started, stopped afterwards."""
    tokens = prepare_store(tmp / "store")
    url, proc = start_server(tmp / "store", env)
    server = LiveServer(url, proc, tmp / "store", tokens)
    try:
        assert validate(server, SMALL).status_code == 200  # starts it before time counts
        yield server
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"ETI_VALIDATE_TIMEOUT": "3", "ETI_MAX_VALIDATE_BODY_ANONYMOUS": "200000"}
    yield from serve(tmp_path_factory.mktemp("bounded"), env)


def validate(server: LiveServer, body: bytes, **headers: str) -> requests.Response:
    return requests.post(
        server.url + "/api/validate", data=body, headers={**TURTLE, **headers}, timeout=60
    )


def test_a_costly_validation_runs_for_as_long_as_it_takes(server: LiveServer) -> None:
    started = time.monotonic()
    answer = validate(server, overlapping_agreements(60))  # about 100 KB
    assert time.monotonic() - started < 10
    assert answer.status_code == 422, answer.text[:300]
    assert "validate_timeout" in answer.json()["detail"]
    assert validate(server, SMALL).status_code == 200  # a fresh worker took over


def test_product_pages_wait_behind_an_anonymous_validation(server: LiveServer) -> None:
    costly = threading.Thread(target=validate, args=(server, overlapping_agreements(60)))
    costly.start()
    try:
        time.sleep(0.5)
        started = time.monotonic()
        page = requests.get(server.url + "/products/nav-pleiepenger", timeout=30)
        assert page.status_code == 200
        assert time.monotonic() - started < 5
    finally:
        costly.join(60)


def test_one_caller_runs_any_number_of_validations_at_once(server: LiveServer) -> None:
    costly = threading.Thread(target=validate, args=(server, overlapping_agreements(60)))
    costly.start()
    try:
        time.sleep(0.5)
        second = validate(server, SMALL)
        assert second.status_code == 429 and second.headers["Retry-After"]
        assert "per_caller_queries" in second.json()["detail"]
        assert validate(server, SMALL, **server.headers("channel")).status_code in (200, 503)
    finally:
        costly.join(60)


def test_anonymous_validation_input_is_bounded_by_max_body_only(server: LiveServer) -> None:
    body = overlapping_agreements(150)  # about 250 KB: above the anonymous limit
    refused = validate(server, body)
    assert refused.status_code == 413
    assert "max_validate_body_anonymous" in refused.json()["detail"]
    form = requests.post(server.url + "/api/validate", files={"file": ("a.ttl", body)}, timeout=60)
    assert form.status_code == 413
    allowed = validate(server, body, **server.headers("admin"))
    assert allowed.status_code in (200, 422), allowed.text[:300]  # judged, not refused


@pytest.fixture(scope="module")
def small_memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"ETI_VALIDATE_MEMORY": "160", "ETI_VALIDATE_TIMEOUT": "60"}
    yield from serve(tmp_path_factory.mktemp("memory"), env)


@pytest.mark.slow
def test_a_validation_may_use_any_amount_of_memory(small_memory: LiveServer) -> None:
    lines = (
        f"<urn:x:s{i}> <urn:x:p> 'a value long enough to cost memory {i}' ." for i in range(80_000)
    )
    body = "\n".join(lines).encode()
    answer = validate(small_memory, body, **small_memory.headers("admin"))
    assert answer.status_code == 422, answer.text[:300]
    assert "validate_memory" in answer.json()["detail"]
    assert validate(small_memory, SMALL).status_code == 200  # a fresh worker took over
