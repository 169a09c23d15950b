"""A bounded load on a real server: mixed readers and writers for a fixed time.

Zero 5xx other than load shedding (503 with Retry-After), zero lost writes, and readers
never see a half-applied write. ``make soak`` runs it longer (ETI_LOAD_SECONDS).
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import threading
import time
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
import requests
from conftest import prepare_store, start_server, stop

SECONDS = float(os.environ.get("ETI_LOAD_SECONDS", "8"))
README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
QUERIES = re.findall(r"```sparql\n(.*?)```", README, re.S)
TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text("utf-8")
WHOLE = len(ox.Dataset(ox.parse(TEMPLATE.encode(), ox.RdfFormat.TRIG)))


def test_mixed_load(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    tokens = prepare_store(store_dir)
    url, proc = start_server(store_dir, env={"ETI_QUERY_QUEUE_WAIT": "2"})
    deadline = time.monotonic() + SECONDS
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {"read": [], "write": []}
    statuses: dict[int, int] = {}
    problems: list[str] = []
    acknowledged: list[str] = []

    def record(kind: str, started: float, response: requests.Response) -> None:
        with lock:
            latencies[kind].append(time.monotonic() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500 and not (
                response.status_code == 503 and response.headers.get("Retry-After")
            ):
                problems.append(f"{response.status_code} {response.request.url[:120]}")

    def reader(seed: int) -> None:
        rng, session = random.Random(seed), requests.Session()
        while time.monotonic() < deadline:
            choice = rng.random()
            started = time.monotonic()
            if choice < 0.4:
                r = session.post(url + "/sparql", data={"query": rng.choice(QUERIES)}, timeout=60)
            elif choice < 0.7:
                r = session.get(
                    url + "/api/products",
                    timeout=60,
                    params={"q": rng.choice(["pleiepenger", "avlastning", "barn"])},
                )
            else:
                with lock:
                    names = list(acknowledged)
                name = rng.choice(names) if names else "nav-pleiepenger"
                r = session.get(
                    url + f"/api/products/{name}",
                    timeout=60,
                    headers={
                        "Accept": "application/n-triples",
                        "Authorization": f"Bearer {tokens['nav']}",
                    },
                )
                if r.status_code == 200 and name != "nav-pleiepenger":
                    n = len(list(ox.parse(r.content, ox.RdfFormat.N_TRIPLES)))
                    if n != WHOLE:
                        with lock:
                            problems.append(f"{name} read with {n} of {WHOLE} triples")
            record("read", started, r)

    def writer(seed: int) -> None:
        rng, session = random.Random(seed), requests.Session()
        while time.monotonic() < deadline:
            name = f"nav-load-{rng.getrandbits(32):08x}"
            body = TEMPLATE.replace("nav-pleiepenger", name).encode()
            started = time.monotonic()
            r = session.post(
                url + "/api/products",
                data=body,
                timeout=60,
                headers={
                    "Authorization": f"Bearer {tokens['nav']}",
                    "Content-Type": "application/trig",
                },
            )
            record("write", started, r)
            if r.status_code == 201:
                with lock:
                    acknowledged.append(name)
                started = time.monotonic()
                r = session.put(
                    url + f"/api/products/{name}",
                    data=body.replace(b'"omsorgsperson"@nb', b'"omsorgsgiver"@nb'),
                    timeout=60,
                    headers={
                        "Authorization": f"Bearer {tokens['nav']}",
                        "Content-Type": "application/trig",
                    },
                )
                record("write", started, r)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(6)]
    threads += [threading.Thread(target=writer, args=(100 + i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        lost = [
            n
            for n in acknowledged
            if requests.get(url + f"/api/products/{n}", timeout=30).status_code != 200
        ]
    finally:
        stop(proc)
    reads, writes = latencies["read"], latencies["write"]
    summary = {
        "seconds": SECONDS,
        "requests": len(reads) + len(writes),
        "throughput_per_s": round((len(reads) + len(writes)) / SECONDS, 1),
        "read_p50_ms": round(statistics.median(reads) * 1000, 1),
        "read_p99_ms": round(statistics.quantiles(reads, n=100)[98] * 1000, 1),
        "write_p50_ms": round(statistics.median(writes) * 1000, 1) if writes else None,
        "statuses": statuses,
        "writes_acknowledged": len(acknowledged),
        "lost": len(lost),
        "5xx": sum(n for s, n in statuses.items() if s >= 500),
    }
    print(json.dumps(summary))
    assert not problems, problems[:10]
    assert not lost, lost
    assert acknowledged, "no write was acknowledged"
    assert len(reads) > 50
