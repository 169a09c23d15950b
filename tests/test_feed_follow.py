"""Following the change feed against a live ``eti serve``: ``eti mirror`` (killed with
SIGKILL mid-sync, then resumed) and ``eti.client`` converge to what the caller may read.

ETI_FEED_OPS sets how many random changes the convergence test makes (``make soak``:
1,000; the normal suite: 100).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from conftest import BIN, LiveServer, free_port, prepare_store, start_server, stop
from rdflib import Graph
from rdflib.compare import isomorphic

from eti.catalogue import agreements, clock, registry
from eti.catalogue.auth import Identity
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.catalogue.namespaces import agreement_graph, content_graph, product_graph
from eti.client import Mirror, follow

OPS = int(os.environ.get("ETI_FEED_OPS", "100"))
APP = "https://eti.example/channels/familieapp"
SERVICE = "https://w3id.org/dpv#ServiceProvision"
DEMO = files("eti.catalogue.demo") / "products"
TEMPLATES = {
    "nav": (DEMO / "nav-pleiepenger.trig").read_text("utf-8"),  # an open offer
    "flekkefjord": (DEMO / "flekkefjord-ppt.trig").read_text("utf-8"),  # a closed one
}
TITLES = {"nav": "Pleiepenger for sykt barn", "flekkefjord": "PP-tjenesten i Flekkefjord"}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """``eti serve`` over the demo with pages of 4 members that close soon."""
    store_dir = tmp_path / "live-store"
    tokens = prepare_store(store_dir)
    # pages settle for 2 s: longer than a write takes here (with 0, a page could close
    # within a second while a write stamped in it was still being validated)
    settings = {"ETI_FEED_PAGE_SIZE": "4", "ETI_FEED_SETTLE": "2"}
    # the server's clock goes on from this process's (the demo's records), not back to noon
    url, proc = start_server(store_dir, {**settings, "ETI_NOW": clock.now().isoformat()})
    server = LiveServer(url, proc, store_dir, tokens)
    yield server
    stop(proc)


def body(owner: str, name: str, title: str) -> bytes:
    demo = "nav-pleiepenger" if owner == "nav" else "flekkefjord-ppt"
    text = TEMPLATES[owner].replace(demo, name)
    return text.replace(f'"{TITLES[owner]}"@nb', f'"{title}"@nb', 1).encode()


class Changes:
    """Random registrations, updates, withdrawals and agreement transitions over HTTP."""

    def __init__(self, server: LiveServer, seed: int) -> None:
        self.server = server
        self.rng = random.Random(seed)
        self.live: dict[str, str] = {}  # product id → owner
        self.gone: dict[str, str] = {}
        self.deals: dict[str, tuple[str, str]] = {}  # agreement id → (product, state)
        self.done: dict[str, int] = {}
        self.count = 0

    def call(self, method: str, path: str, who: str, expect: int, **kw) -> requests.Response:  # type: ignore[no-untyped-def]
        answer = requests.request(
            method,
            self.server.url + path,
            headers=self.server.headers(who, **kw.pop("headers", {})),
            timeout=60,
            **kw,
        )
        assert answer.status_code == expect, (method, path, answer.status_code, answer.text)
        return answer

    def write(self, method: str, owner: str, name: str, expect: int) -> None:
        path = "/api/products" + ("" if method == "POST" else f"/{name}")
        self.count += 1
        self.call(
            method,
            path,
            owner,
            expect,
            data=body(owner, name, f"Tittel {self.count}"),
            headers={"Content-Type": "application/trig"},
        )

    def step(self) -> None:
        """One change, chosen at random among those possible now."""
        open_deals = [a for a, (_, s) in self.deals.items() if s in ("requested", "active")]
        # (no transition of an agreement on a withdrawn product: it breaks a shared rule)
        endable = [a for a in open_deals if self.deals[a][0] in self.live]
        closed_free = [
            p
            for p, o in self.live.items()
            if o == "flekkefjord"
            and not any(q == p and a in open_deals for a, (q, _) in self.deals.items())
        ]
        kinds = ["register"] * (3 if len(self.live) < 12 else 1)
        kinds += ["update"] * 3 * bool(self.live) + ["withdraw"] * 2 * bool(self.live)
        kinds += ["again"] * bool(self.gone) + ["request"] * 2 * bool(closed_free)
        acceptable = [a for a, (p, s) in self.deals.items() if s == "requested" and p in self.live]
        kinds += ["accept"] * 2 * bool(acceptable)
        kinds += ["terminate"] * bool(endable)
        kind = self.rng.choice(kinds)
        self.done[kind] = self.done.get(kind, 0) + 1
        if kind == "register":
            owner = self.rng.choice(["nav", "flekkefjord"])
            name = f"{owner}-feed-{len(self.live) + len(self.gone) + 1}"
            self.write("POST", owner, name, 201)
            self.live[name] = owner
        elif kind == "update":
            name = self.rng.choice(sorted(self.live))
            self.write("PUT", self.live[name], name, 200)
        elif kind == "withdraw":
            name = self.rng.choice(sorted(self.live))
            self.call("DELETE", f"/api/products/{name}", self.live[name], 200)
            self.gone[name] = self.live.pop(name)
        elif kind == "again":
            name = self.rng.choice(sorted(self.gone))
            self.write("POST", self.gone[name], name, 201)
            self.live[name] = self.gone.pop(name)
        elif kind == "request":
            name = self.rng.choice(sorted(closed_free))
            today = clock.today()
            asked = self.call(
                "POST",
                "/api/agreements",
                "app",
                201,
                json={
                    "offer": f"https://eti.example/offers/{name}",
                    "purpose": SERVICE,
                    "start": today.isoformat(),
                    "end": (today + timedelta(days=90)).isoformat(),
                },
            )
            self.deals[asked.json()["id"]] = (name, "requested")
        else:
            ident = self.rng.choice(sorted(acceptable if kind == "accept" else endable))
            who = "flekkefjord" if kind == "accept" or self.rng.random() < 0.5 else "app"
            self.call("POST", f"/api/agreements/{ident}/{kind}", who, 200)
            state = "active" if kind == "accept" else "terminated"
            self.deals[ident] = (self.deals[ident][0], state)


def mirror(server: LiveServer, store: Path, who: str | None, *more: str) -> list[str]:
    token = ("--token", server.tokens[who]) if who else ()
    return [str(BIN / "eti"), "mirror", server.url, "--store", str(store), *token, *more]


def _graph(triples: list[ox.Triple]) -> Graph:
    text = "".join(f"{t} .\n" for t in triples)
    return Graph().parse(data=text, format="nt")


def readable(cat: Catalogue, who: Identity) -> dict[str, list[ox.Triple]]:
    """What ``who`` may read, by the catalogue's own rules: per product its description
    and (when readable) description and content together; the caller's agreements."""
    out: dict[str, list[ox.Triple]] = {}
    for name in cat.store.named_graphs():
        if name.startswith("urn:eti:graph:product:"):
            ident = name.rsplit(":", 1)[-1]
            record = registry.get_record(cat.store, ident)
            assert record is not None and not record.withdrawn
            description = cat.store.triples(name)
            out[name] = description
            if cat.reads_content(who, record):
                out[f"read:{ident}"] = description + cat.store.triples(content_graph(ident))
            else:
                out[f"read:{ident}"] = description
    for deal in agreements.for_caller(cat.store, who):
        out[agreement_graph(deal.ident)] = cat.store.triples(agreement_graph(deal.ident))
    return out


def copied(path: Path) -> dict[str, list[ox.Triple]]:
    """The same, from a mirror's store."""
    store = ox.Store(str(path))
    out: dict[str, list[ox.Triple]] = {}
    names = {g.value for g in store.named_graphs()}

    def triples(name: str) -> list[ox.Triple]:
        graph = ox.NamedNode(name)
        return [ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, graph)]  # fmt: skip

    for name in names:
        if name.startswith("urn:eti:graph:product:"):
            ident = name.rsplit(":", 1)[-1]
            out[name] = triples(name)
            out[f"read:{ident}"] = out[name] + triples(content_graph(ident))
        elif name.startswith("urn:eti:graph:agreement:"):
            out[name] = triples(name)
        elif name.startswith("urn:eti:graph:content:"):
            assert product_graph(name.rsplit(":", 1)[-1]) in names, f"content without {name}"
    return out


def assert_same(expected: dict[str, list[ox.Triple]], got: dict[str, list[ox.Triple]]) -> None:
    assert sorted(got) == sorted(expected)
    for name, triples in expected.items():
        assert isomorphic(_graph(triples), _graph(got[name])), f"{name} differs"


def test_follower_converges_after_random_changes_and_a_kill(live, tmp_path: Path) -> None:
    changes = Changes(live, seed=18)
    copy = tmp_path / "mirror-app"
    said = tmp_path / "follower.log"
    follower = None
    try:
        for n in range(OPS):
            if n == OPS // 3:  # follow while the catalogue changes, polling without pause
                follower = subprocess.Popen(
                    mirror(live, copy, "app", "--interval", "0.05"), stderr=said.open("wb")
                )
            if n == 2 * OPS // 3 and follower is not None:
                # on a loaded machine its start and first sync can outlast a third of the
                # changes: the kill waits for its first sync (it says so on stderr)
                waited = time.monotonic() + 120
                while b"applied" not in said.read_bytes() and time.monotonic() < waited:
                    time.sleep(0.1)
                assert follower.poll() is None, "the follower stopped by itself"
                follower.send_signal(signal.SIGKILL)
                assert follower.wait(timeout=10) == -signal.SIGKILL
                assert Mirror(live.url, copy).position() is not None, "killed before any page"
            changes.step()
    finally:
        if follower is not None and follower.poll() is None:
            follower.kill()
            follower.wait()
    assert {"register", "update", "withdraw", "request", "accept", "terminate"} <= set(
        changes.done
    ), changes.done
    resumed = subprocess.run(mirror(live, copy, "app", "--once"), capture_output=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    fresh = tmp_path / "mirror-anonymous"
    first = subprocess.run(mirror(live, fresh, None, "--once"), capture_output=True, timeout=300)
    assert first.returncode == 0, first.stderr
    stop(live.proc)
    settings = Settings.load(env={}, store=str(live.store), query_workers=0)
    with Catalogue(settings) as cat:
        app = readable(cat, Identity(role="channel", channel=APP))
        anonymous = readable(cat, Identity())
    assert_same(app, copied(copy))
    assert_same(anonymous, copied(fresh))


def test_a_mirror_sees_changes_within_one_poll_and_closed_content_come_and_go(
    live, tmp_path: Path
) -> None:
    seen: list[tuple[int, int | None]] = []
    copy = Mirror(live.url, tmp_path / "copy", token=live.tokens["app"])
    assert copy.sync(lambda done, total: seen.append((done, total))) > 0
    assert seen and seen[0][1] and sum(d for d, _ in seen) >= seen[0][1]  # a progress total
    store = copy.store
    closed = ox.NamedNode(content_graph("flekkefjord-ppt"))

    def holds(graph: ox.NamedNode, text: str | None = None) -> bool:
        quads = list(store.quads_for_pattern(None, None, None, graph))
        return bool(quads) and (text is None or any(text in q.object.value for q in quads))

    time.sleep(2.5)  # the pages settle (feed_settle): the newest may close and move on
    copy.sync()
    assert copy.sync() == 0  # nothing new: the newest page answers 304
    assert not holds(closed)
    title = body("nav", "nav-pleiepenger", "Pleiepenger – ny tittel")
    put = requests.put(
        live.url + "/api/products/nav-pleiepenger",
        data=title,
        headers=live.headers("nav", **{"Content-Type": "application/trig"}),
        timeout=60,
    )
    assert put.status_code == 200, put.text
    assert copy.sync() > 0
    assert holds(ox.NamedNode(product_graph("nav-pleiepenger")), "ny tittel")
    asked = requests.post(
        live.url + "/api/agreements",
        json={
            "offer": "https://eti.example/offers/flekkefjord-ppt",
            "purpose": SERVICE,
            "start": clock.today().isoformat(),
            "end": (clock.today() + timedelta(days=30)).isoformat(),
        },
        headers=live.headers("app"),
        timeout=60,
    )
    ident = asked.json()["id"]
    accept = f"{live.url}/api/agreements/{ident}/accept"
    assert requests.post(accept, headers=live.headers("flekkefjord"), timeout=60).ok
    copy.sync()
    assert holds(closed) and holds(ox.NamedNode(agreement_graph(ident)))
    end = f"{live.url}/api/agreements/{ident}/terminate"
    assert requests.post(end, headers=live.headers("app"), timeout=60).ok
    copy.sync()
    assert not holds(closed)
    assert holds(ox.NamedNode(agreement_graph(ident)), "terminated")
    token = live.tokens["app"]
    assert next(follow(live.url, tmp_path / "again", token=token, once=True)) > 0


def test_mirror_command_reports_an_unreachable_catalogue(tmp_path: Path) -> None:
    started = time.monotonic()
    url = f"http://127.0.0.1:{free_port()}"
    cmd = [str(BIN / "eti"), "mirror", url, "--store", str(tmp_path / "m"), "--once"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "cannot read" in done.stderr
    assert time.monotonic() - started < 60


def test_the_readme_change_feed_walkthrough_runs_as_written(live, tmp_path: Path) -> None:
    """The README's Python block (Staying current), with the live server's URL, a copy
    in the test's folder and the tokens put in."""
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Staying current: the change feed\n")
    section = readme[start : readme.find("\n## ", start + 1)]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    code = block.replace("http://127.0.0.1:8080", live.url)
    code = code.replace('"var/mirror-app"', repr(str(tmp_path / "mirror-app")))
    scope = {
        "CHANNEL_TOKEN": live.tokens["app"],
        "NAV_TOKEN": live.tokens["nav"],
        "STEWARD_TOKEN": live.tokens["flekkefjord"],
    }
    exec(compile(code, "README.md", "exec"), scope)  # our own README, run as written
    assert scope["deal"]["status"] == "requested"
