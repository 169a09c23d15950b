"""Backups of a running server: ``GET /data`` as admin (``Accept: application/n-quads``)
streams every graph but the system graph, the documented way to back up a live catalogue
(the embedded store is single-process, so ``eti dump --store`` cannot open it meanwhile).

Under write load a dump must be one point in time: every product in it whole (description,
content, history and record, as a registration writes them), the derived views equal to
what they derive from (``public`` = the union of the product graphs, ``open`` = the union
of the content of the products with an open offer) — a torn snapshot breaks exactly that —
and ``eti restore`` must bring it back so that the restored store dumps back identical.

The stopped-store path (``eti dump --store`` then ``eti restore``, lossless on the demo) is
``tests/test_cli.py::test_dump_then_restore_is_lossless_on_the_demo``.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import defaultdict
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from conftest import BIN, prepare_store, start_server, stop

from eti.catalogue import rdfio, registry
from eti.catalogue.auth import Identity, TokenTable
from eti.catalogue.namespaces import VIEW_PREFIX, VIEWS

TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_bytes()
PRODUCT = "urn:eti:graph:product:"
CONTENT = "urn:eti:graph:content:"
HISTORY = "urn:eti:graph:history:"
PUBLIC = "urn:eti:graph:public"
OPEN = "urn:eti:graph:open"
RECORDS = "urn:eti:graph:records"
READ = "urn:eti:graph:read"
AGENTS = "urn:eti:graph:agents"
VOCABULARIES = "urn:eti:graph:vocabularies"
RECORD = "urn:eti:record:"
OPEN_OFFER = "https://w3id.org/eti#OpenOffer"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
NQUADS = {"Accept": "application/n-quads"}
WRITERS = 3
DUMPS = 4


def product(name: str) -> bytes:
    return TEMPLATE.replace(b"nav-pleiepenger", name.encode())


def by_graph(data: bytes) -> dict[str, set[ox.Quad]]:
    """The quads of an N-Quads dump, per graph name."""
    graphs: dict[str, set[ox.Quad]] = defaultdict(set)
    for q in rdfio.parse_quads(data, ox.RdfFormat.N_QUADS):
        graphs[q.graph_name.value].add(q)
    return dict(graphs)


def triples(quads: set[ox.Quad]) -> set[tuple]:
    return {(q.subject, q.predicate, q.object) for q in quads}


def record_triples(graphs: dict[str, set[ox.Quad]], ident: str) -> int:
    mine = {RECORD + ident, f"{RECORD}{ident}:v1"}
    return sum(1 for q in graphs.get(RECORDS, ()) if q.subject.value in mine)


def footprint(graphs: dict[str, set[ox.Quad]], ident: str) -> dict[str, int]:
    """What a registration of ``ident`` left in a dump, counted per part."""
    return {
        "description": len(graphs.get(PRODUCT + ident, ())),
        "content": len(graphs.get(CONTENT + ident, ())),
        "history": len(graphs.get(f"{HISTORY}{ident}:1", ())),
        "record": record_triples(graphs, ident),
    }


def derived_views(graphs: dict[str, set[ox.Quad]]) -> dict[str, tuple[set, set]]:
    """(in the dump, derived from the dump's own graphs) for each derived view."""
    products = {g for g in graphs if g.startswith(PRODUCT)}
    union = set().union(*(triples(graphs[g]) for g in products))
    open_content: set[tuple] = set()
    for g in products:
        if any(q.predicate.value == TYPE and q.object.value == OPEN_OFFER for q in graphs[g]):
            open_content |= triples(graphs.get(CONTENT + g[len(PRODUCT) :], set()))
    sources = {
        *union,
        *open_content,
        *(t for g in (AGENTS, RECORDS, VOCABULARIES) for t in triples(graphs.get(g, set()))),
    }
    return {
        PUBLIC: (triples(graphs.get(PUBLIC, set())), union),
        OPEN: (triples(graphs.get(OPEN, set())), open_content),
        READ: (triples(graphs.get(READ, set())), sources),
    }


def idents(graphs: dict[str, set[ox.Quad]], prefix: str) -> set[str]:
    """Every product id starting with ``prefix`` that left any trace in a dump."""
    found = {
        g[len(part) :].rsplit(":", 1)[0] if part == HISTORY else g[len(part) :]
        for g in graphs
        for part in (PRODUCT, CONTENT, HISTORY)
        if g.startswith(part + prefix)
    }
    found |= {
        re.sub(r":v[0-9]+$", "", q.subject.value[len(RECORD) :])
        for q in graphs.get(RECORDS, ())
        if q.subject.value.startswith(RECORD + prefix)
    }
    return found


def torn(graphs: dict[str, set[ox.Quad]], reference: dict[str, int], prefix: str) -> list[str]:
    """What is wrong with a dump as a point in time (empty when it is consistent)."""
    problems = []
    for ident in sorted(idents(graphs, prefix)):
        found = footprint(graphs, ident)
        if found != reference:
            problems.append(f"product {ident} is not whole: {found} (a registration: {reference})")
    for view, (dumped, derived) in derived_views(graphs).items():
        if dumped != derived:
            problems.append(
                f"{view} differs from what it derives from: {len(dumped - derived)} triples "
                f"too many, {len(derived - dumped)} missing"
            )
    return problems


# GET /data lists the admin's graphs (Catalogue.access → Store.named_graphs, one query)
# before the dump's query opens its own snapshot. A registration committed in between is
# in the dump only through graphs that existed before it (public, open, records), without
# its own graphs. Until server/gsp.py takes the graph list from the dump's snapshot, a
# dump torn exactly so is reported as an expected failure; any other tear fails.
KNOWN_VIEW_RACE = False


def view_race(
    graphs: dict[str, set[ox.Quad]], reference: dict[str, int], share: dict[str, int], prefix: str
) -> list[str]:
    """The products caught by the view/snapshot race, when that race alone explains every
    problem of the dump; else []."""
    caught, broken = [], []
    for ident in idents(graphs, prefix):
        found = footprint(graphs, ident)
        if found == {**dict.fromkeys(reference, 0), "record": reference["record"]}:
            caught.append(ident)
        elif found != reference:
            broken.append(ident)
    if broken or not caught:
        return []
    for view, (dumped, derived) in derived_views(graphs).items():
        if not derived <= dumped or len(dumped - derived) != len(caught) * share[view]:
            return []
    return sorted(caught)


def is_view(graph: str) -> bool:
    """A per-caller view graph (``urn:eti:graph:view:*``, ``urn:eti:graph:views``)."""
    return graph.strip("<>") == VIEWS or graph.strip("<>").startswith(VIEW_PREFIX)


def canonical(data: bytes, but_views: bool = False) -> ox.Dataset:
    quads = rdfio.parse_quads(data, ox.RdfFormat.N_QUADS)
    if but_views:
        quads = [q for q in quads if not is_view(str(q.graph_name))]
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def canonical_graphs(data: bytes) -> dict[str, ox.Dataset]:
    out = {}
    for name, quads in by_graph(data).items():
        dataset = ox.Dataset(quads)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        out[name] = dataset
    return out


def eti(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "eti"), *args], capture_output=True, timeout=120, check=False)


# --- a live server under write load ------------------------------------------------------


class Writers:
    """Threads registering products until stopped; remember what was acknowledged when."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged: dict[str, float] = {}  # id → when the 201 arrived
        self.errors: list[str] = []

    def run(self, n: int) -> None:
        session = requests.Session()
        i = 0
        while not self.stop.is_set():
            name = f"nav-backup-{n}-{i}"
            i += 1
            r = session.post(
                self.url + "/api/products",
                data=product(name),
                timeout=60,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/trig",
                },
            )
            with self.lock:
                if r.status_code == 201:
                    self.acknowledged[name] = time.monotonic()
                else:
                    self.errors.append(f"{name}: {r.status_code} {r.text[:300]}")


def test_dump_of_a_live_server_under_write_load_is_one_point_in_time(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    tokens = prepare_store(store_dir)
    url, proc = start_server(store_dir)
    admin = {"Authorization": f"Bearer {tokens['admin']}", **NQUADS}
    try:
        # what one registration writes, measured on a quiet server
        before = by_graph(requests.get(url + "/data", headers=admin, timeout=60).content)
        r = requests.post(
            url + "/api/products",
            data=product("nav-backup-reference"),
            timeout=60,
            headers={
                "Authorization": f"Bearer {tokens['nav']}",
                "Content-Type": "application/trig",
            },
        )
        assert r.status_code == 201, r.text
        quiet = by_graph(requests.get(url + "/data", headers=admin, timeout=60).content)
        reference = footprint(quiet, "nav-backup-reference")
        assert all(reference.values()), reference
        assert footprint(before, "nav-backup-reference") == dict.fromkeys(reference, 0)
        assert torn(quiet, reference, "nav-backup-") == []
        share = {v: len(quiet.get(v, ())) - len(before.get(v, ())) for v in (PUBLIC, OPEN)}
        assert share[PUBLIC] == reference["description"] and share[OPEN] > 0, share

        writers = Writers(url, tokens["nav"])
        threads = [threading.Thread(target=writers.run, args=(n,)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        dumps: list[bytes] = []
        try:
            time.sleep(0.5)
            for _ in range(DUMPS):
                started = time.monotonic()
                with writers.lock:
                    done_before = {k for k, v in writers.acknowledged.items() if v < started}
                r = requests.get(url + "/data", headers=admin, timeout=120)
                assert r.status_code == 200
                assert r.headers["Content-Type"].startswith("application/n-quads")
                dumps.append(r.content)
                graphs = by_graph(r.content)
                missing = {n for n in done_before if PRODUCT + n not in graphs}
                assert not missing, f"acknowledged before the dump began, yet absent: {missing}"
                time.sleep(0.2)
        finally:
            writers.stop.set()
            for t in threads:
                t.join()
        assert not writers.errors, writers.errors[:3]
        assert len(writers.acknowledged) >= 5, "too few writes to load the dumps"

        counts, consistent, tears = [], [], []
        for data in dumps:
            graphs = by_graph(data)
            counts.append(sum(1 for g in graphs if g.startswith(PRODUCT + "nav-backup-")))
            problems = torn(graphs, reference, "nav-backup-")
            if not problems:
                consistent.append(data)
                continue
            caught = view_race(graphs, reference, share, "nav-backup-")
            assert KNOWN_VIEW_RACE and caught, "a dump under write load is torn:\n" + "\n".join(
                problems
            )
            tears.append(caught)
        assert counts[-1] > counts[0], f"the load did not run across the dumps: {counts}"
        assert consistent, f"every dump was torn: {tears}"

        # the latest whole dump taken under load comes back exactly
        backup = tmp_path / "backup.nq"
        backup.write_bytes(consistent[-1])
        restored = tmp_path / "restored"
        done = eti("restore", str(backup), "--store", str(restored))
        assert done.returncode == 0, done.stderr.decode()
        again = eti("dump", "--store", str(restored))
        assert again.returncode == 0, again.stderr.decode()
        original, back = canonical_graphs(backup.read_bytes()), canonical_graphs(again.stdout)
        # the restore builds the admin's view ahead: a per-caller view, derived (any read
        # adds one), the only kind of graph it may add
        added = set(back) - set(original)
        assert all(is_view(g) for g in added), added
        assert set(original) <= set(back), set(original) - set(back)
        for name, graph in original.items():
            assert graph == back[name], f"graph {name} differs after restore"
        # blank nodes shared too
        assert canonical(again.stdout, but_views=True) == canonical(backup.read_bytes(), True)
        print(
            f"writes acknowledged {len(writers.acknowledged)}, products per dump {counts}, "
            f"torn {len(tears)}, restored {len(original)} graphs"
        )
    finally:
        stop(proc)
    if tears:
        pytest.xfail(
            f"{len(tears)} of {len(dumps)} dumps torn by the view/snapshot race of GET /data: "
            f"{tears} are in public/open/records but have no graphs of their own"
        )


# --- the snapshot in dump_view, made deterministic in process ---------------------------


def admin_token(catalogue) -> str:  # type: ignore[no-untyped-def]
    return TokenTable(catalogue.store).create("admin")[1]


def register(catalogue, name: str) -> None:  # type: ignore[no-untyped-def]
    quads = rdfio.parse_quads(product(name), ox.RdfFormat.TRIG, fresh_blank_nodes=True)
    registry.register(
        catalogue.store, quads, who=Identity(role="steward", org="889640782"), create=True
    )


def reference_of(catalogue, client, token: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    register(catalogue, "nav-snap-reference")
    r = client.get("/data", headers={"Authorization": f"Bearer {token}", **NQUADS})
    return footprint(by_graph(r.data), "nav-snap-reference")


def test_a_write_while_the_dump_streams_is_not_in_it(client, catalogue) -> None:  # type: ignore[no-untyped-def]
    token = admin_token(catalogue)
    reference = reference_of(catalogue, client, token)
    headers = {"Authorization": f"Bearer {token}", **NQUADS}
    r = client.get("/data", headers=headers, buffered=False)
    chunks = iter(r.response)
    first = next(chunks)
    register(catalogue, "nav-snap-during")  # lands between two chunks of the answer
    body = first + b"".join(chunks)
    r.close()
    graphs = by_graph(body)
    assert footprint(graphs, "nav-snap-during") == dict.fromkeys(reference, 0)
    assert torn(graphs, reference, "nav-snap-") == []
    after = by_graph(client.get("/data", headers=headers).data)
    assert footprint(after, "nav-snap-during") == reference


def test_a_write_between_the_view_and_the_query_is_not_half_in_the_dump(
    client, catalogue, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    token = admin_token(catalogue)
    reference = reference_of(catalogue, client, token)
    listed = catalogue.view_for

    def view_then_a_write(who, **kwargs):  # type: ignore[no-untyped-def]
        graphs = listed(who, **kwargs)
        monkeypatch.setattr(catalogue, "view_for", listed)
        register(catalogue, "nav-snap-between")  # a writer's commit in the window
        return graphs

    monkeypatch.setattr(catalogue, "view_for", view_then_a_write)
    body = client.get("/data", headers={"Authorization": f"Bearer {token}", **NQUADS}).data
    problems = torn(by_graph(body), reference, "nav-snap-")
    assert not problems, "\n".join(problems)
