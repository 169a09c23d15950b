"""Crash safety: SIGKILL the real server at random moments while stewards register and
channels move agreements; after each restart every acknowledged write is there, complete,
nothing is half there, and the shared rules still hold.

``make test`` kills it a few times; ``make soak`` (ETI_SOAK_KILLS=25) many more.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import threading
import time
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
import requests
from conftest import prepare_store, start_server

from eti.catalogue import rdfio
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.catalogue.validation import validate

KILLS = int(os.environ.get("ETI_SOAK_KILLS", "4"))
TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text("utf-8")
PPT = "https://eti.example/offers/flekkefjord-ppt"
ORDER = ["requested", "active", "terminated"]


def product(name: str) -> bytes:
    return TEMPLATE.replace("nav-pleiepenger", name).encode()


EXPECTED = len(ox.Dataset(ox.parse(product("x"), ox.RdfFormat.TRIG)))


class Writers:
    """Threads that write until stopped and remember what the server acknowledged."""

    def __init__(self, url: str, tokens: dict[str, str], seed: int) -> None:
        self.url, self.tokens = url, tokens
        self.rng = random.Random(seed)
        self.acknowledged: dict[str, str] = {}  # product id → "registered"
        self.attempted: set[str] = set()
        self.agreements: dict[str, str] = {}  # agreement id → acknowledged status
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def register(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            name = f"nav-crash-{self.rng.getrandbits(40):010x}"
            with self.lock:
                self.attempted.add(name)
            try:
                r = session.post(
                    self.url + "/api/products",
                    data=product(name),
                    timeout=10,
                    headers={
                        "Authorization": f"Bearer {self.tokens['nav']}",
                        "Content-Type": "application/trig",
                    },
                )
            except requests.RequestException:
                continue
            if r.status_code == 201:
                with self.lock:
                    self.acknowledged[name] = "registered"

    def agree(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            try:
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
                if r.status_code == 409:  # an earlier, unacknowledged request is pending
                    self._clear(session)
                    continue
                if r.status_code != 201:
                    continue
                ident = r.json()["id"]
                with self.lock:
                    self.agreements[ident] = "requested"
                for action, who, state in (
                    ("accept", "flekkefjord", "active"),
                    ("terminate", "app", "terminated"),
                ):
                    r = session.post(
                        self.url + f"/api/agreements/{ident}/{action}",
                        timeout=10,
                        headers={"Authorization": f"Bearer {self.tokens[who]}"},
                    )
                    if r.status_code != 200:
                        break
                    with self.lock:
                        self.agreements[ident] = state
            except requests.RequestException:
                continue

    def _clear(self, session: requests.Session) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['app']}"}
        listing = session.get(self.url + "/api/agreements", timeout=10, headers=headers)
        for doc in listing.json()["agreements"]:
            if doc["offer"] == PPT and doc["status"] in ("requested", "active"):
                r = session.post(
                    self.url + f"/api/agreements/{doc['id']}/terminate", timeout=10, headers=headers
                )
                if r.status_code == 200:
                    with self.lock:
                        self.agreements[doc["id"]] = "terminated"


def kill_tree(proc) -> None:  # type: ignore[no-untyped-def]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    tokens = prepare_store(store_dir)
    rng = random.Random(7)
    url, proc = start_server(store_dir)
    writers = Writers(url, tokens, seed=11)
    kills = 0
    try:
        for round_ in range(KILLS):
            writers.stop.clear()
            threads = [threading.Thread(target=writers.agree)]
            threads += [threading.Thread(target=writers.register) for _ in range(2)]
            for t in threads:
                t.start()
                time.sleep(0.2)
            time.sleep(rng.uniform(0.5, 2.5))
            kill_tree(proc)  # mid-write, without warning
            kills += 1
            writers.stop.set()
            for t in threads:
                t.join()
            url, proc = start_server(store_dir, port=int(url.rsplit(":", 1)[1]))
            writers.url = url
            _check_acknowledged(url, tokens, writers)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert kills == KILLS
    assert len(writers.acknowledged) >= 2, "too few writes were acknowledged to prove much"
    assert writers.agreements, "no agreement transition was acknowledged"
    summary = _check_store(store_dir, writers)
    print(json.dumps({"kills": kills, **summary}))


def _check_acknowledged(url: str, tokens: dict[str, str], writers: Writers) -> None:
    for name in list(writers.acknowledged):
        r = requests.get(url + f"/api/products/{name}", timeout=30)
        assert r.status_code == 200, f"acknowledged {name} is missing after a crash"
    for ident, state in list(writers.agreements.items()):
        r = requests.get(
            url + f"/api/agreements/{ident}",
            timeout=30,
            headers={"Authorization": f"Bearer {tokens['app']}"},
        )
        assert r.status_code == 200, f"acknowledged agreement {ident} is missing"
        # an acknowledged state is a floor: a later transition may have been applied
        # while its answer was lost in the kill
        actual = r.json()["status"]
        assert ORDER.index(actual) >= ORDER.index(state), f"agreement {ident}: {actual} < {state}"


def _check_store(store_dir: Path, writers: Writers) -> dict[str, int]:
    """With the server stopped: every product is whole or absent, and the rules hold."""
    cat = Catalogue(Settings.load(env={}, store=str(store_dir), query_workers=0))
    try:
        complete = absent = 0
        for name in sorted(writers.attempted):
            description = cat.store.count(f"urn:eti:graph:product:{name}")
            content = cat.store.count(f"urn:eti:graph:content:{name}")
            if description == content == 0:
                assert name not in writers.acknowledged
                absent += 1
                continue
            # whole: description + content of the template, and a record
            assert description + content == EXPECTED, f"{name} is half there"
            assert cat.store.count(f"urn:eti:graph:history:{name}:1") == EXPECTED
            complete += 1
        out = io.BytesIO()
        cat.store.dump(out)
        quads = rdfio.parse_quads(out.getvalue(), ox.RdfFormat.N_QUADS)
        public = [
            q
            for q in quads
            if q.graph_name.value.startswith(
                (
                    "urn:eti:graph:product:",
                    "urn:eti:graph:content:",
                    "urn:eti:graph:agents",
                    "urn:eti:graph:agreement:",
                )
            )
        ]
        report = validate(rdfio.to_rdflib_graph(public), as_of="2026-11-22")
        assert report.conforms, report.text()
        return {
            "writes_acknowledged": len(writers.acknowledged),
            "products_whole": complete,
            "unacknowledged_absent": absent,
            "agreements": len(writers.agreements),
        }
    finally:
        cat.close()
