"""Safe by default, against a real ``eti serve`` started with small limits
(ETI_QUERY_TIMEOUT=2, ETI_MAX_ROWS=50, ETI_MAX_BODY=64 KiB): a query past its time
limit is stopped (clean error, the worker process gone, the CPU idle again) while other
clients are served; truncation is flagged; oversize bodies are 413 on every route, also
chunked; SERVICE, remote JSON-LD contexts, XML external entities and file: IRIs reach
nothing; CORS lets any origin read, without credentials, and write nothing; writes are
serialised and readers never see half of one."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from conftest import prepare_store, start_server, stop
from SPARQLWrapper import JSON, SPARQLWrapper

from eti.catalogue.results import TRUNCATED

TIMEOUT = 2
MAX_ROWS = 50
MAX_BODY = 64 * 1024
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
QUICK = "ASK { ?s a <https://ekgf.github.io/dprod/DataProduct> }"


class Server:
    def __init__(self, url: str, proc, tokens: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
        self.url = url
        self.proc = proc
        self.admin = {"Authorization": f"Bearer {tokens['admin']}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    store_dir = tmp_path_factory.mktemp("safety") / "store"
    tokens = prepare_store(store_dir)
    url, proc = start_server(
        store_dir,
        {
            "ETI_QUERY_TIMEOUT": str(TIMEOUT),
            "ETI_MAX_ROWS": str(MAX_ROWS),
            "ETI_MAX_BODY": str(MAX_BODY),
            "ETI_QUERY_WORKERS": "2",
            "ETI_PER_CALLER_QUERIES": "4",  # one client runs parallel queries here
        },
    )
    yield Server(url, proc, tokens)
    stop(proc)


def query(server: Server, text: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.get(server.url + "/sparql", params={"query": text}, timeout=60, **kwargs)


# --- processes ------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields after the command name


def descendants(root: int) -> set[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        children = {pid for pid, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def query_workers(root: int) -> set[int]:
    """The query workers under ``root``: the processes that its fork server forked (they
    carry the fork server's command line; the fork server's parent is the server)."""
    servers = set()
    for pid in descendants(root):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.forkserver" in cmdline:
            servers.add(pid)
    return {pid for pid in servers if (fields := _stat(pid)) and int(fields[1]) in servers}


def cpu_seconds(pids: set[int]) -> float:
    ticks = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


# --- the time limit -------------------------------------------------------------------------


def test_a_query_past_its_time_limit_is_stopped_while_others_are_served(server) -> None:
    assert query(server, QUICK).status_code == 200  # the query workers are up
    before = query_workers(server.proc.pid)
    assert len(before) == 2, before
    slow: dict[str, object] = {}

    def run_slow() -> None:
        started = time.monotonic()
        response = query(server, CROSS)
        slow.update(response=response, took=time.monotonic() - started, done=time.monotonic())

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.3)
    served = []
    while thread.is_alive() and len(served) < 5:
        started = time.monotonic()
        response = query(server, QUICK, headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200 and response.json()["boolean"] is True
        served.append((time.monotonic() - started, time.monotonic()))
    thread.join(30)
    response = slow["response"]
    assert isinstance(response, requests.Response)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/plain")
    assert f"longer than {TIMEOUT} s" in response.text
    assert slow["took"] < 15  # type: ignore[operator]
    # other clients were served while the slow query ran, each quickly
    assert served and all(done < slow["done"] for _, done in served)  # type: ignore[operator]
    assert max(took for took, _ in served) < 5
    # the worker that ran it is gone (killed and replaced), and the CPU is free again
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and before <= query_workers(server.proc.pid):
        time.sleep(0.2)
    after = query_workers(server.proc.pid)
    assert before - after, "the worker that ran the query is still alive"
    time.sleep(2.5)  # let the replacement worker finish starting
    pids = descendants(server.proc.pid) | {server.proc.pid}
    used = cpu_seconds(pids)
    time.sleep(1.0)
    assert cpu_seconds(pids) - used < 0.3, "a process is still busy after the time limit"
    assert query(server, QUICK).status_code == 200
    metrics = requests.get(server.url + "/metrics", timeout=10).text
    line = next(x for x in metrics.splitlines() if x.startswith("eti_sparql_query_timeouts_total"))
    assert int(line.split()[-1]) >= 1


def test_a_time_limit_reached_while_streaming_breaks_the_body_not_a_complete_200(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Regression: with ``max_rows = 0`` (no limit) an answer streams from its first row,
    and a time limit reached mid-body left a 200 that ended like a whole one, with no
    timeout counted. Now the body ends without its last chunk (every client raises) and
    the timeout is counted and logged."""
    store_dir = tmp_path_factory.mktemp("streaming") / "store"
    prepare_store(store_dir)
    env = {"ETI_QUERY_TIMEOUT": str(TIMEOUT), "ETI_MAX_ROWS": "0", "ETI_LOG_LEVEL": "INFO"}
    # the gunicorn front streams; the granian front sends answers whole (test_front.py)
    url, proc = start_server(store_dir, {**env, "ETI_SERVER": "gunicorn"})
    try:
        huge = "CONSTRUCT { ?a ?b ?c . ?d ?e ?f } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        got = 0
        with requests.get(
            url + "/sparql",
            params={"query": huge},
            headers={"Accept": "application/n-triples"},
            stream=True,
            timeout=60,
        ) as response:
            assert response.status_code == 200  # the first rows came before the limit
            with pytest.raises(requests.exceptions.ChunkedEncodingError):
                for chunk in response.iter_content(65536):
                    got += len(chunk)
        assert got > 0
        metrics = requests.get(url + "/metrics", timeout=10).text
        line = next(
            x for x in metrics.splitlines() if x.startswith("eti_sparql_query_timeouts_total")
        )
        assert int(line.split()[-1]) == 1
        assert requests.get(url + "/sparql", params={"query": QUICK}, timeout=30).ok
        assert '"aborted": true' in proc.log_path.read_text()  # type: ignore[attr-defined]
    finally:
        stop(proc)


def test_two_heavy_queries_run_at_the_same_time_in_two_workers(server) -> None:
    """Queries run in parallel: with two query workers, two slow queries keep both worker
    processes on the CPU during the same interval (not one after the other)."""
    assert query(server, QUICK).status_code == 200
    workers = query_workers(server.proc.pid)
    assert len(workers) == 2, workers
    threads = [threading.Thread(target=query, args=(server, CROSS)) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        first = {pid: cpu_seconds({pid}) for pid in workers}
        time.sleep(1.0)
        busy = {pid for pid in workers if cpu_seconds({pid}) - first[pid] > 0.05}
    finally:
        for thread in threads:
            thread.join(30)
    assert busy == workers, f"only {len(busy)} of the 2 workers worked in the same second"


def test_head_requests_never_leak_query_workers(server) -> None:
    for _ in range(4):  # twice the workers: a leak would leave none for the next query
        # a HEAD with a query runs nothing: 405 with Allow (issue 20, item 10)
        head = requests.head(server.url + "/sparql", params={"query": QUICK}, timeout=30)
        assert head.status_code == 405 and "GET" in head.headers["Allow"]
    started = time.monotonic()
    assert query(server, QUICK).status_code == 200
    assert time.monotonic() - started < 5


# --- limits ---------------------------------------------------------------------------------


def test_truncation_is_flagged_and_the_limit_stated(server) -> None:
    response = query(
        server, "SELECT * WHERE { ?s ?p ?o }", headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200
    assert response.headers["ETI-Truncated"] == f"true; limit={MAX_ROWS}"
    assert len(response.json()["results"]["bindings"]) == MAX_ROWS
    # in the body too, for clients that never see headers (SPARQLWrapper, SPARQLStore)
    assert response.json()["head"]["link"] == [TRUNCATED]
    xml = query(
        server, "SELECT * WHERE { ?s ?p ?o }", headers={"Accept": "application/sparql-results+xml"}
    )
    assert f'<link href="{TRUNCATED}"/>' in xml.text
    wrapper = SPARQLWrapper(server.url + "/sparql")
    wrapper.setQuery("SELECT * WHERE { ?s ?p ?o }")
    wrapper.setReturnFormat(JSON)
    assert wrapper.queryAndConvert()["head"]["link"] == [TRUNCATED]  # type: ignore[index]
    whole = query(server, QUICK.replace("ASK", "SELECT * WHERE").replace("}", "} LIMIT 3"))
    assert "link" not in whole.json()["head"] and "ETI-Truncated" not in whole.headers
    sd = requests.get(server.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    store = ox.Store()
    store.load(sd.content, ox.RdfFormat.TURTLE)
    stated = {
        row["id"].value: row["v"].value
        for row in store.query(
            "SELECT ?id ?v WHERE { ?s <https://schema.org/propertyID> ?id ; "
            "<https://schema.org/value> ?v }"
        )
    }
    assert stated == {
        "max_rows": str(MAX_ROWS),
        "query_timeout": str(TIMEOUT),
        "max_body": str(MAX_BODY),
    }


def _chunks(size: int) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        yield b"#" * 4096 + b"\n"
        sent += 4097


@pytest.mark.parametrize(
    ("method", "path", "content_type", "admin", "plain"),
    [
        ("POST", "/sparql", "application/sparql-query", False, True),
        ("POST", "/sparql", "application/x-www-form-urlencoded", False, True),
        ("POST", "/update", "application/sparql-update", True, True),
        ("PUT", "/data?graph=http://example.org/big", "text/turtle", True, False),
        ("POST", "/data", "text/turtle", True, False),
        ("GET", "/healthz", "text/plain", False, False),
    ],
)
@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversize_body_is_413_on_every_route(
    server, method, path, content_type, admin, plain, chunked
) -> None:
    size = 3 * MAX_BODY
    body = _chunks(size) if chunked else b"#" * size
    headers = {"Content-Type": content_type, **(server.admin if admin else {})}
    response = requests.request(method, server.url + path, data=body, headers=headers, timeout=30)
    assert response.status_code == 413, response.text
    if plain:
        assert response.headers["Content-Type"].startswith("text/plain")
    else:
        assert set(response.json()) == {"error", "detail"}


# --- nothing is fetched ---------------------------------------------------------------------


class Listener:
    """A loopback TCP listener that records whether anything connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> int:
        time.sleep(0.5)
        self._stop = True
        self._thread.join(2)
        self.sock.close()
        return self.connections


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


def test_service_to_a_loopback_listener_reaches_nothing(server, listener) -> None:
    target = f"http://127.0.0.1:{listener.port}/sparql"
    for text in (
        f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"PREFIX x: <http://127.0.0.1:{listener.port}/> SELECT * WHERE {{ SERVICE x:sparql {{ ?s ?p ?o }} }}",
    ):
        for headers in ({}, server.admin):
            response = query(server, text, headers=headers)
            assert response.status_code == 400, (text, response.text)
            assert "SERVICE" in response.text
    update = requests.post(
        server.url + "/update",
        data=f"INSERT {{ GRAPH <urn:x:g> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        headers={"Content-Type": "application/sparql-update", **server.admin},
        timeout=30,
    )
    assert update.status_code == 400
    assert listener.close() == 0


def test_no_remote_json_ld_context_is_loaded(server, listener) -> None:
    for context in (f"http://127.0.0.1:{listener.port}/context.jsonld", "file:///etc/passwd"):
        body = '{"@context": "%s", "@id": "http://example.org/s", "name": "x"}' % context
        response = requests.put(
            server.url + "/data?graph=http://example.org/jsonld",
            data=body,
            headers={"Content-Type": "application/ld+json", **server.admin},
            timeout=30,
        )
        assert response.status_code == 400, response.text
        assert "context" in response.text.lower()
    assert listener.close() == 0


def test_no_xml_external_entity_is_resolved(server) -> None:
    body = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/s"><ex:p>&xxe;</ex:p></rdf:Description>
</rdf:RDF>"""
    response = requests.put(
        server.url + "/data?graph=http://example.org/xxe",
        data=body,
        headers={"Content-Type": "application/rdf+xml", **server.admin},
        timeout=30,
    )
    assert response.status_code == 400
    assert "root:" not in response.text
    got = requests.get(
        server.url + "/data?graph=http://example.org/xxe", headers=server.admin, timeout=30
    )
    assert got.status_code == 404


def test_file_iris_load_nothing(server) -> None:
    assert (
        query(server, "SELECT * WHERE { SERVICE <file:///etc/passwd> { ?s ?p ?o } }").status_code
        == 400
    )
    load = requests.post(
        server.url + "/update",
        data="LOAD <file:///etc/passwd> INTO GRAPH <urn:x:passwd>",
        headers={"Content-Type": "application/sparql-update", **server.admin},
        timeout=30,
    )
    assert load.status_code == 400
    from_file = query(
        server,
        "ASK FROM <file:///etc/passwd> { ?s ?p ?o }",
        headers={"Accept": "application/sparql-results+json", **server.admin},
    )
    assert from_file.status_code == 200 and from_file.json()["boolean"] is False
    gsp = requests.get(
        server.url + "/data",
        params={"graph": "file:///etc/passwd"},
        headers=server.admin,
        timeout=30,
    )
    assert gsp.status_code == 404


# --- CORS -----------------------------------------------------------------------------------


def test_cors_lets_any_origin_read_without_credentials(server) -> None:
    origin = {"Origin": "https://channel.example"}
    read = query(server, QUICK, headers=origin)
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in read.headers
    assert "ETI-Truncated" in read.headers["Access-Control-Expose-Headers"]
    error = query(server, "ASK {", headers=origin)
    assert error.status_code == 400 and error.headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(
        server.url + "/sparql",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
        timeout=30,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    for path in ("/.well-known/void", "/data?graph=urn:eti:graph:agents", "/ontology"):
        response = requests.get(server.url + path, headers=origin, timeout=30)
        assert response.headers["Access-Control-Allow-Origin"] == "*", path


@pytest.mark.parametrize(
    ("path", "method"), [("/update", "POST"), ("/data", "PUT"), ("/data", "DELETE")]
)
def test_cors_never_opens_a_write(server, path, method) -> None:
    preflight = requests.options(
        server.url + path,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": method},
        timeout=30,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    write = requests.request(
        method, server.url + path, headers={"Origin": "https://evil.example"}, timeout=30
    )
    assert write.status_code in (401, 405)
    assert "Access-Control-Allow-Origin" not in write.headers


# --- concurrency ----------------------------------------------------------------------------


def test_readers_never_see_half_a_write(server) -> None:
    graph = "http://example.org/versions"
    size = 300
    errors: list[str] = []
    stop_reading = threading.Event()

    def body(version: int) -> str:
        return "\n".join(
            f'<http://example.org/r{i}> <urn:x:version> "{version}" .' for i in range(size)
        )

    def write() -> None:
        for version in range(12):
            response = requests.put(
                server.url + "/data",
                params={"graph": graph},
                data=body(version),
                headers={"Content-Type": "application/n-triples", **server.admin},
                timeout=60,
            )
            if response.status_code not in (201, 204):
                errors.append(f"write {version}: {response.status_code} {response.text}")
        stop_reading.set()

    def read() -> None:
        text = f"SELECT ?v (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s <urn:x:version> ?v }} }} GROUP BY ?v"
        while not stop_reading.is_set():
            response = query(
                server, text, headers={"Accept": "application/sparql-results+json", **server.admin}
            )
            if response.status_code != 200:
                errors.append(f"read: {response.status_code} {response.text}")
                continue
            groups = [int(b["n"]["value"]) for b in response.json()["results"]["bindings"]]
            if groups not in ([], [size]):
                errors.append(f"a reader saw {groups}")

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:5]


def test_concurrent_merges_are_serialised(server) -> None:
    graph = "http://example.org/merged"
    results: list[int] = []

    def post(worker: int) -> None:
        for i in range(4):
            response = requests.post(
                server.url + "/data",
                params={"graph": graph},
                data=f"<http://example.org/w{worker}> <urn:x:n> {i} .",
                headers={"Content-Type": "text/turtle", **server.admin},
                timeout=60,
            )
            results.append(response.status_code)

    threads = [threading.Thread(target=post, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert set(results) <= {201, 204} and results.count(201) == 1
    got = requests.get(
        server.url + "/data",
        params={"graph": graph},
        headers={"Accept": "application/n-triples", **server.admin},
        timeout=30,
    )
    assert len(list(ox.parse(got.content, ox.RdfFormat.N_TRIPLES))) == 24  # no write lost
