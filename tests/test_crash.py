"""Crash safety: SIGKILL the real server at random moments while stewards register and
channels move agreements; after each restart every acknowledged write is there, complete,
nothing is half there, and the shared rules still hold. Three deployments: the embedded
store (kill ``eti serve``), and the remote-store mode behind a real ``oxigraph serve``
(kill ``eti serve``; separately, kill the store server, while ``eti serve`` must answer
503 with ``Retry-After``, never 500, and recover when the store is back).

After the kills the whole store is read back: every product whole (description, content,
history and catalogue record) or absent, the derived views (``public``, ``open``,
``read``) equal to the union of their sources, and the whole catalogue conforms.

``make test`` kills each a few times; ``make soak`` (ETI_SOAK_KILLS=25) many more.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import requests
from conftest import count, prepare_store, start_server, stop
from engines import VIRTUOSO_BUGS, start_engine
from test_backup import PRODUCT, RECORDS, by_graph, derived_views, footprint, idents

from eti.catalogue import rdfio
from eti.catalogue.store import RemoteStore, Store, StoreError, open_store
from eti.catalogue.validation import validate

KILLS = int(os.environ.get("ETI_SOAK_KILLS", "4"))
TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text("utf-8")
PPT = "https://eti.example/offers/flekkefjord-ppt"
ORDER = ["requested", "active", "terminated"]
PREFIX = "nav-crash-"


def product(name: str) -> bytes:
    return TEMPLATE.replace("nav-pleiepenger", name).encode()


EXPECTED = len(ox.Dataset(ox.parse(product("x"), ox.RdfFormat.TRIG)))


class Writers:
    """Threads that write until stopped and remember what the server acknowledged."""

    def __init__(self, url: str, tokens: dict[str, str], seed: int) -> None:
        self.url, self.tokens = url, tokens
        self.rng = random.Random(seed)
        self.acknowledged: set[str] = set()  # registrations answered 201
        self.attempted: set[str] = set()
        self.agreements: dict[str, str] = {}  # agreement id → acknowledged status
        self.steps: list[tuple[str, str]] = []  # each acknowledged request or transition
        self.verified = 0  # acknowledged writes found by the last check
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []  # a 5xx other than 503 + Retry-After
        self.away = threading.Event()  # set while the store server is down
        self.away_errors: list[str] = []  # such 5xx while it is
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.stop.clear()
        self.threads = [threading.Thread(target=self.agree)]
        self.threads += [threading.Thread(target=self.register) for _ in range(2)]
        for t in self.threads:
            t.start()
            time.sleep(0.2)

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()

    def _seen(self, r: requests.Response) -> int:
        with self.lock:
            self.statuses[r.status_code] += 1
            if r.status_code >= 500 and not (r.status_code == 503 and r.headers.get("Retry-After")):
                seen = f"{r.status_code} {r.request.method} {r.url}: {r.text[:200]}"
                (self.away_errors if self.away.is_set() else self.errors).append(seen)
        if r.status_code >= 500:
            time.sleep(0.2)  # the store is away: do not spin
        return r.status_code

    def register(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            name = f"{PREFIX}{self.rng.getrandbits(40):010x}"
            with self.lock:
                self.attempted.add(name)
            try:
                r = post_product(self.url, self.tokens["nav"], name, session, timeout=10)
            except requests.RequestException as exc:
                if "refused" in str(exc):  # never reached a server: not an attempt
                    with self.lock:
                        self.attempted.discard(name)
                time.sleep(0.1)  # the server is down
                continue
            if self._seen(r) == 201:
                with self.lock:
                    self.acknowledged.add(name)

    def agree(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            try:
                self._one_agreement(session)
            except requests.RequestException:
                time.sleep(0.1)

    def _one_agreement(self, session: requests.Session) -> None:
        r = session.post(
            self.url + "/api/agreements",
            timeout=10,
            json={
                "offer": PPT,
                "purpose": "https://w3id.org/dpv#ServiceProvision",
                "start": "2026-11-01",
                "end": "2027-10-31",
            },
            headers={"Authorization": f"Bearer {self.tokens['app']}"},
        )
        status = self._seen(r)
        if status == 409:  # an earlier, unacknowledged request is pending
            self._clear(session)
            return
        if status != 201:
            return
        ident = r.json()["id"]
        self._acknowledged(ident, "requested")
        for action, who, state in (
            ("accept", "flekkefjord", "active"),
            ("terminate", "app", "terminated"),
        ):
            r = session.post(
                self.url + f"/api/agreements/{ident}/{action}",
                timeout=10,
                headers={"Authorization": f"Bearer {self.tokens[who]}"},
            )
            if self._seen(r) != 200:
                return
            self._acknowledged(ident, state)

    def _clear(self, session: requests.Session) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['app']}"}
        listing = session.get(self.url + "/api/agreements", timeout=10, headers=headers)
        if self._seen(listing) != 200:
            return
        for doc in listing.json()["agreements"]:
            if doc["offer"] == PPT and doc["status"] in ("requested", "active"):
                r = session.post(
                    self.url + f"/api/agreements/{doc['id']}/terminate", timeout=10, headers=headers
                )
                if self._seen(r) == 200:
                    self._acknowledged(doc["id"], "terminated")

    def _acknowledged(self, ident: str, state: str) -> None:
        with self.lock:
            self.agreements[ident] = state
            self.steps.append((ident, state))

    @property
    def transitions(self) -> int:
        """Acknowledged accepts and terminations (the requests are not transitions)."""
        return sum(state != "requested" for _, state in self.steps)


def kill_tree(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def port_of(url: str) -> int:
    return urlsplit(url).port  # type: ignore[return-value]


def post_product(
    url: str, token: str, name: str, session: requests.Session | None = None, timeout: float = 60
) -> requests.Response:
    """Register the template product under ``name`` with a steward's ``token``."""
    return (session or requests).post(
        url + "/api/products",
        data=product(name),
        timeout=timeout,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/trig"},
    )


def register_reference(url: str, tokens: dict[str, str]) -> None:
    """One registration on a quiet server: what a whole product leaves in the store."""
    r = post_product(url, tokens["nav"], PREFIX + "reference")
    assert r.status_code == 201, r.text


def crash_rounds(
    writers: Writers, kill_and_restart: Callable[[random.Random], None], seed: int
) -> int:
    """KILLS rounds of: writers start, a kill at a random moment, a restart, every
    acknowledged write checked through the server."""
    rng = random.Random(seed)
    kills = 0
    for _ in range(KILLS):
        writers.start()
        time.sleep(rng.uniform(0.5, 2.5))
        try:
            kill_and_restart(rng)
        finally:
            writers.join()
        kills += 1
        check_acknowledged(writers)
    assert len(writers.acknowledged) >= 2, "too few writes were acknowledged to prove much"
    assert writers.agreements, "no agreement request was acknowledged"
    assert not writers.errors, writers.errors[:5]
    return kills


def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    tokens = prepare_store(store_dir)
    url, proc = start_server(store_dir)
    writers = Writers(url, tokens, seed=11)
    server = {"proc": proc}

    def kill_and_restart(rng: random.Random) -> None:
        kill_tree(server["proc"])  # mid-write, without warning
        server["proc"] = start_server(store_dir, port=port_of(url))[1]

    try:
        register_reference(url, tokens)
        kills = crash_rounds(writers, kill_and_restart, seed=7)
    finally:
        stop(server["proc"])
    store = open_store(store_dir)
    try:
        summary = check_store(store, writers)
    finally:
        store.close()
    report("embedded", kills, summary)


@pytest.fixture(params=["oxigraph", pytest.param("virtuoso", marks=pytest.mark.slow)])
def remote(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A SPARQL server of each engine (``oxigraph serve``, Virtuoso) with the demo and
    tokens, and ``eti serve --store-url`` on it; processes held in a dict so a test can
    replace them after a kill."""
    engine = request.param
    data = tmp_path / engine
    store_url, store = start_engine(engine, data)
    procs: dict = {"store": store, "data": data, "store_url": store_url, "engine": engine}
    try:
        procs["tokens"] = prepare_store(tmp_path / "unused", store_url=store_url, engine=engine)
        procs["url"], procs["server"] = start_remote_server(tmp_path, store_url, engine=engine)
        yield procs
    finally:
        if "server" in procs:
            stop(procs["server"])
        stop(procs["store"])


def start_remote_server(
    tmp_path: Path, store_url: str, port: int | None = None, engine: str = "oxigraph"
) -> tuple[str, subprocess.Popen]:
    return start_server(tmp_path / "unused", port=port, store_url=store_url, engine=engine)


def crash_and_check_remote(
    remote: dict, writers: Writers, kill_and_restart: Callable[[random.Random], None], seed: int
) -> tuple[int, dict]:
    """The crash rounds against the remote deployment, then the whole store read back
    through its own endpoint: (kills survived, what ``check_store`` found)."""
    register_reference(remote["url"], remote["tokens"])
    kills = crash_rounds(writers, kill_and_restart, seed=seed)
    store = RemoteStore(remote["store_url"], engine=remote["engine"])
    try:
        return kills, check_store(store, writers)
    finally:
        store.close()


def test_sigkill_of_the_server_loses_no_write_on_a_remote_store(remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, tokens = remote["url"], remote["tokens"]
    writers = Writers(url, tokens, seed=13)

    def kill_and_restart(rng: random.Random) -> None:
        kill_tree(remote["server"])
        remote["server"] = start_remote_server(
            tmp_path, remote["store_url"], port_of(url), remote["engine"]
        )[1]

    if remote["engine"] != "virtuoso":
        kills, summary = crash_and_check_remote(remote, writers, kill_and_restart, seed=17)
        report("remote server", kills, summary)
        return
    # every acknowledged write is still asserted on Virtuoso (crash_rounds); the whole
    # store is not: the write that the kill cut short may stay half done there
    register_reference(url, tokens)
    crash_rounds(writers, kill_and_restart, seed=17)
    store = RemoteStore(remote["store_url"], engine="virtuoso")
    try:
        check_store(store, writers)
    except AssertionError as exc:
        pytest.xfail(f"{VIRTUOSO_BUGS['atomic']}; found: {str(exc).splitlines()[0]}")
    finally:
        store.close()


def test_sigkill_of_the_store_server_loses_no_write_and_answers_503(remote, request) -> None:  # type: ignore[no-untyped-def]
    if remote["engine"] == "virtuoso":
        request.applymarker(pytest.mark.xfail(reason=VIRTUOSO_BUGS["kill"], strict=False))
    url, tokens = remote["url"], remote["tokens"]
    writers = Writers(url, tokens, seed=19)
    probes: Counter[tuple[str, int]] = Counter()

    def kill_and_restart(rng: random.Random) -> None:
        writers.away.set()
        remote["store"].kill()  # oxigraph serve and Virtuoso are one process: SIGKILL
        remote["store"].wait()
        time.sleep(rng.uniform(0.2, 1.0))  # the writers run into the store being away
        for what, status, retry_after in store_away(url, tokens):
            probes[(what, status)] += 1
            assert status != 503 or retry_after, f"{what}: 503 without Retry-After"
        port = port_of(remote["store_url"])
        remote["store"] = start_engine(remote["engine"], remote["data"], port=port)[1]
        wait_healthy(url)
        writers.away.clear()
        fresh = f"{PREFIX}after-{rng.getrandbits(32):08x}"
        r = post_product(url, tokens["nav"], fresh, timeout=30)
        assert r.status_code == 201, f"no recovery after the store came back: {r.text[:300]}"
        with writers.lock:
            writers.attempted.add(fresh)
            writers.acknowledged.add(fresh)

    kills, summary = crash_and_check_remote(remote, writers, kill_and_restart, seed=23)
    wrong = {f"{what} → {status}": n for (what, status), n in probes.items() if status != 503}
    summary["probes_503_while_store_away"] = sum(n for (_, s), n in probes.items() if s == 503)
    report("remote store", kills, summary)
    assert not wrong, f"while the store was away, eti serve answered the probes {wrong}"
    assert not writers.away_errors, (
        f"while the store was away, the writers got {len(writers.away_errors)} 5xx other "
        f"than 503: {writers.away_errors[:3]}"
    )


def store_away(url: str, tokens: dict[str, str]) -> list[tuple[str, int, bool]]:
    """What ``eti serve`` answers while its store is down to a read, a query, a
    registration, an agreement listing and a health check: (what, status, Retry-After?)."""
    nav = {"Authorization": f"Bearer {tokens['nav']}"}
    answers = [
        requests.get(url + "/api/products/nav-pleiepenger", timeout=30),
        requests.get(url + "/products/nav-pleiepenger", timeout=30),
        requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=30),
        requests.post(
            url + "/api/products",
            data=product(PREFIX + "while-away"),
            timeout=30,
            headers={**nav, "Content-Type": "application/trig"},
        ),
        requests.get(url + "/api/agreements", timeout=30, headers=nav),
        requests.get(url + "/healthz", timeout=30),
    ]
    return [
        (
            f"{r.request.method} {r.request.path_url.split('?')[0]}",
            r.status_code,
            bool(r.headers.get("Retry-After")),
        )
        for r in answers
    ]


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if requests.get(url + "/healthz", timeout=10).status_code == 200:
            return
        time.sleep(0.2)
    pytest.fail(f"eti serve did not recover within {timeout} s of the store's restart")


def check_acknowledged(writers: Writers) -> None:
    """Through the (restarted) server: every acknowledged write is readable, every
    agreement at least at its acknowledged state; counts the writes so verified."""
    url, tokens = writers.url, writers.tokens
    verified = 0
    for name in list(writers.acknowledged):
        r = requests.get(url + f"/api/products/{name}", timeout=30)
        assert r.status_code == 200, f"acknowledged {name} is missing after a crash"
        verified += 1
    actual = {}
    for ident, state in list(writers.agreements.items()):
        r = requests.get(
            url + f"/api/agreements/{ident}",
            timeout=30,
            headers={"Authorization": f"Bearer {tokens['app']}"},
        )
        assert r.status_code == 200, f"acknowledged agreement {ident} is missing"
        # an acknowledged state is a floor: a later transition may have been applied
        # while its answer was lost in the kill
        actual[ident] = r.json()["status"]
        assert ORDER.index(actual[ident]) >= ORDER.index(state), (
            f"agreement {ident}: {actual[ident]} < {state}"
        )
    verified += sum(ORDER.index(actual[i]) >= ORDER.index(s) for i, s in list(writers.steps))
    writers.verified = verified


def check_store(store: Store, writers: Writers) -> dict[str, int]:
    """With the writers stopped, the whole store read back: every product whole or absent,
    each with its record, the derived views equal to their sources, the rules hold."""
    out = io.BytesIO()
    store.dump(out)
    graphs = by_graph(out.getvalue())
    reference = footprint(graphs, PREFIX + "reference")
    assert reference["description"] + reference["content"] == EXPECTED, reference
    assert reference["history"] == EXPECTED and reference["record"] > 0, reference
    whole = absent = 0
    traced = idents(graphs, PREFIX) - {PREFIX + "reference"}
    assert traced <= writers.attempted | {PREFIX + "while-away"}, traced - writers.attempted
    for name in sorted(writers.attempted | traced):
        found = footprint(graphs, name)
        if found == dict.fromkeys(reference, 0):
            assert name not in writers.acknowledged, f"acknowledged {name} is gone"
            absent += 1
        else:
            assert found == reference, f"{name} is half there: {found}, whole is {reference}"
            whole += 1
    recorded = {q.subject.value for q in graphs.get(RECORDS, ())}
    unrecorded = [
        g[len(PRODUCT) :] for g in graphs if g.startswith(PRODUCT) and not recorded_as(g, recorded)
    ]
    assert not unrecorded, f"products without a catalogue record: {unrecorded[:5]}"
    for view, (stored, derived) in derived_views(graphs).items():
        assert stored == derived, (
            f"{view} differs from the union of its sources after the kills: "
            f"{len(stored - derived)} triples too many, {len(derived - stored)} missing"
        )
    public = [
        q
        for g, quads in graphs.items()
        if g.startswith(
            (PRODUCT, "urn:eti:graph:content:", "urn:eti:graph:agents", "urn:eti:graph:agreement:")
        )
        for q in quads
    ]
    rules = validate(rdfio.to_rdflib_graph(public), as_of="2026-11-22")
    assert rules.conforms, rules.text()
    return {
        "writes_acknowledged": len(writers.acknowledged) + len(writers.steps),
        "writes_verified": writers.verified,
        "registrations_acknowledged": len(writers.acknowledged),
        "products_whole": whole,
        "unacknowledged_whole": whole - len(writers.acknowledged),
        "unacknowledged_absent": absent,
        "agreements_acknowledged": len(writers.agreements),
        "transitions_acknowledged": writers.transitions,
        "shed_503": writers.statuses[503],
    }


def recorded_as(graph: str, recorded: set[str]) -> bool:
    return "urn:eti:record:" + graph[len(PRODUCT) :] in recorded


def report(mode: str, kills: int, summary: dict[str, int]) -> None:
    print(json.dumps({"crash": mode, "kills": kills, **summary}))
    count(f"crash: kills survived ({mode})", kills)
    for name in ("writes_acknowledged", "writes_verified", "transitions_acknowledged"):
        count("crash: " + name.replace("_", " "), summary[name])
    count("crash: unacknowledged registrations found whole", summary["unacknowledged_whole"])


def test_a_remote_write_whose_answer_is_lost_still_moves_the_generation(
    oxigraph_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store may commit an update and die before it answers: the caller gets a
    StoreError, but the caches keyed to the generation must not outlive the write."""
    store = RemoteStore(oxigraph_server)
    real = store._session.post

    def commit_then_drop(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)
        raise requests.ConnectionError("connection reset after the commit")

    before = store.generation  # (read from the store itself: before the fault)
    monkeypatch.setattr(store._session, "post", commit_then_drop)
    with pytest.raises(StoreError):
        store.update("INSERT DATA { GRAPH <urn:eti:test:lost> { <urn:a> <urn:b> <urn:c> } }")
    monkeypatch.undo()
    assert store.count("urn:eti:test:lost") == 1  # it was committed
    assert store.generation != before
    store.update("DROP SILENT GRAPH <urn:eti:test:lost>")
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["oxigraph", "virtuoso"])
def test_an_update_that_fails_midway_leaves_nothing_on_oxigraph_and_its_start_on_virtuoso(
    engine: str, tmp_path: Path
) -> None:
    """The engine fact behind ``VIRTUOSO_BUGS["atomic"]``: ``oxigraph serve`` runs an
    update request as one transaction, Virtuoso 7.2.5 commits each operation on its own
    (so a write cut short, by an error or a killed ``eti serve``, stays half done)."""
    store_url, proc = start_engine(engine, tmp_path / engine)
    store = RemoteStore(store_url, engine=engine)
    graph = "urn:eti:test:midway"
    try:
        with pytest.raises(StoreError):
            store.update(
                f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:eti:test:s> <urn:eti:test:p> 1 }} }} ;"
                f" CREATE GRAPH <{graph}>"  # the graph exists now: an error at run time
            )
        assert store.count(graph) == (0 if engine == "oxigraph" else 1)
    finally:
        store.close()
        stop(proc)
