"""Three ``eti serve --store-url`` processes over one ``oxigraph serve``, behind haproxy
(Debian's, installed by ``make test``) run with the shipped ``deploy/haproxy.cfg``: a
bounded mixed load where every acknowledged write is seen through every process on the
next request, an agreement accepted through one process opens the content through the
others, no process serves a stale cached answer, nothing answers 5xx; then one process
is SIGKILLed: nothing acknowledged is lost and haproxy routes around it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from conftest import ROOT, free_port, prepare_store, start_oxigraph, start_server, stop
from test_crash import product

pytestmark = pytest.mark.slow

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CONFIG = ROOT / "deploy" / "haproxy.cfg"
COUNT = (
    "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a <https://ekgf.github.io/dprod/DataProduct> }"
)
OFFER = "https://eti.example/offers/flekkefjord-ppt"
CONTENT_ASK = "ASK { GRAPH <urn:eti:graph:content:flekkefjord-ppt> { ?s ?p ?o } }"
ROUNDS = 8


class Deployment:
    """The balancer's URL, each process's URL and process, tokens, and every status seen."""

    def __init__(self, lb: str, processes: list[tuple[str, subprocess.Popen]], tokens: dict):
        self.lb, self.processes, self.tokens = lb, processes, tokens
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()

    def call(self, method: str, url: str, who: str | None = None, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
        headers = kwargs.pop("headers", {})
        if who:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        response = requests.request(method, url, headers=headers, timeout=60, **kwargs)
        with self.lock:
            self.statuses[response.status_code] += 1
        assert response.status_code < 500, (method, url, response.status_code, response.text)
        return response

    def sparql(self, base: str, query: str, who: str | None = None) -> dict:
        response = self.call(
            "POST",
            base + "/sparql",
            who,
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def count(self, base: str) -> int:
        rows = self.sparql(base, COUNT)["results"]["bindings"]
        return int(rows[0]["n"]["value"])

    def alive(self) -> list[str]:
        return [url for url, proc in self.processes if proc.poll() is None]


def _haproxy(port: int, processes: list[str], folder: Path) -> subprocess.Popen:
    env = {**os.environ, "ETI_LB_BIND": f"127.0.0.1:{port}"}
    env.update({f"ETI_PROCESS_{i}": url.split("//")[1] for i, url in enumerate(processes, 1)})
    check = subprocess.run([HAPROXY, "-c", "-f", str(CONFIG)], env=env, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    return subprocess.Popen(
        [HAPROXY, "-db", "-f", str(CONFIG)],
        env=env,
        stdout=(folder / "haproxy.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    store_url, store = start_oxigraph(tmp_path / "oxigraph")
    started: list[subprocess.Popen] = [store]
    try:
        tokens = prepare_store(tmp_path / "unused", store_url=store_url)
        processes = []
        for i in range(3):
            (tmp_path / f"p{i}").mkdir()
            # behind the balancer every anonymous caller has its address: a share for all
            env = {"ETI_PER_CALLER_QUERIES": "16"}
            url, proc = start_server(tmp_path / f"p{i}" / "store", store_url=store_url, env=env)
            started.append(proc)
            processes.append((url, proc))
        port = free_port()
        balancer = _haproxy(port, [url for url, _ in processes], tmp_path)
        started.append(balancer)
        lb = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(lb + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "haproxy did not come up"
            time.sleep(0.2)
        yield Deployment(lb, processes, tokens)
    finally:
        for proc in reversed(started):
            stop(proc)


def _wait_refused(url: str, seconds: float = 30.0) -> None:
    """Wait until nothing listens at ``url``'s address any more."""
    parsed = urlsplit(url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((parsed.hostname, parsed.port), timeout=1):
                pass
        except OSError:
            return
        time.sleep(0.05)
    raise AssertionError(f"{url} still accepts connections {seconds:g} s after its SIGKILL")


def _register(d: Deployment, name: str) -> None:
    response = d.call(
        "POST",
        d.lb + "/api/products",
        "nav",
        data=product(name),
        headers={"Content-Type": "application/trig"},
    )
    assert response.status_code == 201, response.text


def _readers(d: Deployment, stop_at: threading.Event) -> list[threading.Thread]:
    """Background readers through the balancer: search, product pages, SPARQL."""

    def read() -> None:
        while not stop_at.is_set():
            d.call("GET", d.lb + "/api/products", params={"q": "pleiepenger"})
            d.call("GET", d.lb + "/api/products/nav-pleiepenger")
            d.call("GET", d.lb + "/sparql", params={"query": COUNT})

    threads = [threading.Thread(target=read, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    return threads


def _round(d: Deployment, name: str, expected: int) -> None:
    """One write through the balancer, then the same (cacheable) count through every
    live process directly and through the balancer: each sees the write at once."""
    _register(d, name)
    for base in [*d.alive(), d.lb, d.lb, d.lb]:
        assert d.count(base) == expected, f"{base} served a count without {name}"


def test_three_processes_behind_haproxy_agree_and_survive_a_sigkill(
    deployment: Deployment,
) -> None:
    d = deployment
    before = d.count(d.lb)
    for base in d.alive():  # every process caches the content answer as "closed"
        assert d.sparql(base, CONTENT_ASK, "channel")["boolean"] is False
    stop_at = threading.Event()
    readers = _readers(d, stop_at)
    try:
        written = []
        for i in range(ROUNDS):
            written.append(f"nav-scaleout-{i}")
            _round(d, written[-1], before + len(written))
        # an agreement requested through one process, accepted through another ...
        deal = d.call(
            "POST",
            d.lb + "/api/agreements",
            "channel",
            json={
                "offer": OFFER,
                "purpose": "https://w3id.org/dpv#ServiceProvision",
                "start": "2026-11-01",
                "end": "2027-11-30",
            },
        )
        assert deal.status_code == 201, deal.text
        accepted = d.call(
            "POST", d.lb + f"/api/agreements/{deal.json()['id']}/accept", "flekkefjord"
        )
        assert accepted.status_code == 200, accepted.text
        # ... opens the content through every process (none answers from its cache)
        for base in [*d.alive(), d.lb, d.lb, d.lb]:
            assert d.sparql(base, CONTENT_ASK, "channel")["boolean"] is True, base
        # SIGKILL one process: haproxy routes around it, nothing acknowledged is lost
        victim = d.processes[1][1]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        # the group leader is reaped; its worker may still hold the listening socket for a
        # moment, and a connection the kernel accepts there is reset after the request is
        # sent (haproxy must not send a write twice: 502). The kill is done when the port
        # refuses: then haproxy's connection to it fails and it tries another process.
        _wait_refused(d.processes[1][0])
        for i in range(ROUNDS, ROUNDS + 4):
            written.append(f"nav-scaleout-{i}")
            _round(d, written[-1], before + len(written))
        assert d.sparql(d.lb, CONTENT_ASK, "channel")["boolean"] is True
    finally:
        stop_at.set()
        for thread in readers:
            thread.join(timeout=60)
    listed = d.call("GET", d.lb + "/api/products", params={"per_page": 100}).json()
    found = {r["id"] for r in listed["results"]}
    assert set(written) <= found, f"acknowledged but lost: {set(written) - found}"
    assert not [s for s in d.statuses if s >= 500], d.statuses
    assert sum(d.statuses.values()) > 100  # the load ran
