"""A bounded load on a real server: mixed readers (the README's queries, search, the HTML
product pages, product reads) and writers (registrations, then an update of each) for a
fixed time.

Zero 5xx other than load shedding (503 with Retry-After), zero requests that fail (a
timeout or a reset counts, as does a reader or writer thread that dies), zero lost writes,
every acknowledged update persisted, and readers never see a half-applied write. Reports
throughput and p50/p99 of reads and writes. ``make soak`` runs it longer (ETI_LOAD_SECONDS).
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import threading
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import requests
from conftest import count, figure, prepare_store, start_server, stop

SECONDS = float(os.environ.get("ETI_LOAD_SECONDS", "8"))
README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
QUERIES = re.findall(r"```sparql\n(.*?)```", README, re.S)
TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text("utf-8")
WHOLE = len(ox.Dataset(ox.parse(TEMPLATE.encode(), ox.RdfFormat.TRIG)))


OLD_WORD, NEW_WORD = b'"omsorgsperson"@nb', b'"omsorgsgiver"@nb'
NEW_COPIES = TEMPLATE.encode().count(OLD_WORD)  # an update changes every copy, or none


def test_mixed_load(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    tokens = prepare_store(store_dir)
    url, proc = start_server(store_dir, env={"ETI_QUERY_QUEUE_WAIT": "2"})
    deadline = time.monotonic() + SECONDS
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {"read": [], "write": []}
    statuses: dict[int, int] = {}
    problems: list[str] = []
    failures: list[str] = []  # a request that raised (timeout, reset) or a thread that died
    acknowledged: list[str] = []
    updated: set[str] = set()  # PUT answered 200
    steward = {"Authorization": f"Bearer {tokens['nav']}"}

    def call(kind: str, session: requests.Session, method: str, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            r = session.request(method, url + path, timeout=60, **kwargs)
        except requests.RequestException as exc:
            with lock:
                failures.append(f"{method} {path[:80]}: {exc!r}"[:300])
            return None
        with lock:
            latencies[kind].append(time.monotonic() - started)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code >= 500 and not (r.status_code == 503 and r.headers.get("Retry-After")):
                problems.append(f"{r.status_code} {method} {path[:120]}")
        return r

    def guarded(body: Callable[[random.Random, requests.Session], None], seed: int) -> None:
        rng, session = random.Random(seed), requests.Session()
        while time.monotonic() < deadline:
            try:
                body(rng, session)
            except Exception as exc:  # a dead thread is a failure, not a pytest warning
                with lock:
                    failures.append(f"{body.__name__}: {exc!r}"[:300])

    def pick(rng: random.Random) -> str:
        with lock:
            names = list(acknowledged)
        return rng.choice(names) if names else "nav-pleiepenger"

    def read(rng: random.Random, session: requests.Session) -> None:
        choice = rng.random()
        if choice < 0.35:
            call("read", session, "POST", "/sparql", data={"query": rng.choice(QUERIES)})
        elif choice < 0.6:
            words = rng.choice(["pleiepenger", "avlastning", "barn"])
            call("read", session, "GET", "/api/products", params={"q": words})
        elif choice < 0.75:
            call("read", session, "GET", f"/products/{pick(rng)}")
        else:
            name = pick(rng)
            headers = {"Accept": "application/n-triples", **steward}
            r = call("read", session, "GET", f"/api/products/{name}", headers=headers)
            if r is not None and r.status_code == 200 and name != "nav-pleiepenger":
                n = len(list(ox.parse(r.content, ox.RdfFormat.N_TRIPLES)))
                new = r.content.count(NEW_WORD)
                if n != WHOLE or new not in (0, NEW_COPIES):
                    with lock:
                        problems.append(f"{name} read half-applied: {n}/{WHOLE} triples, {new} new")

    def write(rng: random.Random, session: requests.Session) -> None:
        name = f"nav-load-{rng.getrandbits(32):08x}"
        body = TEMPLATE.replace("nav-pleiepenger", name).encode()
        headers = {**steward, "Content-Type": "application/trig"}
        r = call("write", session, "POST", "/api/products", data=body, headers=headers)
        if r is None or r.status_code != 201:
            return
        with lock:
            acknowledged.append(name)
        changed = body.replace(OLD_WORD, NEW_WORD)
        r = call("write", session, "PUT", f"/api/products/{name}", data=changed, headers=headers)
        if r is not None and r.status_code == 200:
            with lock:
                updated.add(name)

    threads = [threading.Thread(target=guarded, args=(read, i)) for i in range(6)]
    threads += [threading.Thread(target=guarded, args=(write, 100 + i)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        lost, unchanged = [], []
        for n in acknowledged:
            r = requests.get(
                url + f"/api/products/{n}",
                timeout=30,
                headers={"Accept": "application/n-triples", **steward},
            )
            if r.status_code != 200:
                lost.append(n)
            elif n in updated and (
                r.content.count(NEW_WORD) != NEW_COPIES or OLD_WORD in r.content
            ):
                unchanged.append(n)
    finally:
        stop(proc)
    reads, writes = latencies["read"], latencies["write"]
    served = len(reads) + len(writes)
    summary = {
        "seconds": SECONDS,
        "requests": served,
        "throughput_per_s": round(served / SECONDS, 1),
        "read_p50_ms": ms(statistics.median(reads)),
        "read_p99_ms": ms(p99(reads)),
        "write_p50_ms": ms(statistics.median(writes)) if writes else None,
        "write_p99_ms": ms(p99(writes)) if writes else None,
        "statuses": statuses,
        "writes_acknowledged": len(acknowledged),
        "updates_acknowledged": len(updated),
        "lost": len(lost),
        "updates_not_persisted": len(unchanged),
        "failures": len(failures),
        "5xx": sum(n for s, n in statuses.items() if s >= 500),
        "shed_503": statuses.get(503, 0),
    }
    print(json.dumps(summary))
    count("load: requests served", served)
    count("load: 5xx", summary["5xx"])
    count("load: of which shed with 503 + Retry-After", summary["shed_503"])
    count("load: failed requests (exceptions)", len(failures))
    count("load: writes acknowledged (registrations + updates)", len(acknowledged) + len(updated))
    count("load: writes lost or not persisted", len(lost) + len(unchanged))
    for name in ("throughput_per_s", "read_p50_ms", "read_p99_ms", "write_p50_ms", "write_p99_ms"):
        figure("load: " + name.replace("_", " "), summary[name])  # type: ignore[arg-type]
    assert not failures, failures[:10]
    assert not problems, problems[:10]
    assert not lost, lost
    assert not unchanged, f"acknowledged updates not persisted: {unchanged[:5]}"
    assert acknowledged, "no write was acknowledged"
    assert updated, "no update was acknowledged"
    assert len(reads) > 50


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
