"""The benchmark's generator (bench/generate.py) on 20 products: its dump restores, its
products conform to the shared rules, and the peers' file is the anonymous view; the
per-caller part (bench/callers.py) produces its rows, and every caller's
answers equal the definition. No timing is asserted here; ``make bench`` measures."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from eti.catalogue import rdfio, registry, validation
from eti.catalogue.auth import Identity
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.catalogue.graphs import rebuild_public
from eti.catalogue.namespaces import AGENTS, PUBLIC
from eti.catalogue.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import callers  # noqa: E402
import feed_bench  # noqa: E402
import generate  # noqa: E402
import mix  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402
import search_bench  # noqa: E402
import storage  # noqa: E402
import stores  # noqa: E402

AS_OF = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench20")
    counts = generate.generate(20, 1, out)
    assert counts["products"] == 20
    return out


def test_same_seed_same_bytes(generated: Path, tmp_path: Path) -> None:
    generate.generate(20, 1, tmp_path)
    assert (tmp_path / "catalogue.nq").read_bytes() == (generated / "catalogue.nq").read_bytes()


def test_dump_restores_with_the_catalogue_graphs(generated: Path, tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "store")
    try:
        n = store.load(generated / "catalogue.nq", ox.RdfFormat.N_QUADS)
        graphs = store.named_graphs()
        assert n == generate_counts(generated)["catalogue_quads"]
        assert sum(g.startswith("urn:eti:graph:product:") for g in graphs) == 20
        assert PUBLIC in graphs and AGENTS in graphs
        record = registry.get_record(store, "pasient-og-brukerombud-000000")
        assert record is not None and record.version == 1 and not record.withdrawn
        # public = the union of the product graphs
        union = {
            str(t)
            for g in graphs
            if g.startswith("urn:eti:graph:product:")
            for t in store.triples(g)
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)
        }
        public = {
            str(t)
            for t in store.triples(PUBLIC)
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)
        }
        assert public == union
    finally:
        store.close()


def _shape(triples) -> set[str]:
    def term(t) -> str:
        return "_:b" if isinstance(t, ox.BlankNode) else str(t)

    return {f"{term(t.subject)} {t.predicate} {term(t.object)}" for t in triples}


def test_peer_file_is_the_anonymous_view(generated: Path, tmp_path: Path) -> None:
    """The peers get exactly the triples an anonymous caller of the catalogue reads, and
    the derived views of the dump are what the catalogue itself derives."""
    store = OxigraphStore(tmp_path / "store")
    store.load(generated / "catalogue.nq", ox.RdfFormat.N_QUADS)
    derived = (PUBLIC, "urn:eti:graph:open", "urn:eti:graph:read")
    dumped = {g: _shape(store.triples(g)) for g in derived}
    rebuild_public(store)
    for graph, triples in dumped.items():
        assert _shape(store.triples(graph)) == triples, graph
    store.close()
    with Catalogue(store=OxigraphStore(tmp_path / "store")) as cat:
        seen = set()
        for graph in cat.public_view():
            seen |= _shape(cat.store.triples(graph))
    peer = _shape(ox.parse(path=str(generated / "public.nq"), format=ox.RdfFormat.N_QUADS))
    assert peer == seen


def test_generated_products_conform(generated: Path) -> None:
    quads = list(ox.parse(path=str(generated / "catalogue.nq"), format=ox.RdfFormat.N_QUADS))
    keep = ("urn:eti:graph:product:", "urn:eti:graph:content:", "urn:eti:graph:agreement:")
    data = [q for q in quads if q.graph_name.value.startswith(keep)]
    agents = [q for q in quads if q.graph_name.value == AGENTS]
    report = validation.validate(
        rdfio.to_rdflib_graph(data), as_of=AS_OF, context=rdfio.to_rdflib_graph(agents)
    )
    assert report.conforms, report.text()
    assert not [r for r in report.results if r.severity == "Warning"], report.text()


@pytest.mark.parametrize("lean", [True, False])
def test_a_generated_product_registers(generated: Path, tmp_path: Path, lean: bool) -> None:
    store = OxigraphStore(tmp_path / "store")
    try:
        store.load(generated / "catalogue.nq", ox.RdfFormat.N_QUADS)
        product = generate.Generator(1).product(0, lean=lean, prefix="smoke-")
        quads = rdfio.parse_quads(generate.product_trig(product), ox.RdfFormat.TRIG)
        who = Identity(role="steward", org=product.owner.orgnr)
        reg = registry.register(store, quads, who=who, as_of=AS_OF)
        assert reg.created and reg.version == 1
        assert not [r for report in reg.reports for r in report.results]
    finally:
        store.close()


def test_every_query_of_the_mix_runs_on_the_peer_file(generated: Path) -> None:
    params = mix.load_params(generated / "params.json")
    store = ox.Store()
    store.bulk_load(path=str(generated / "public.nq"), format=ox.RdfFormat.N_QUADS)
    texts = [text for _name, text in mix.fixed_queries(params)]
    texts += [text for _name, text in mix.unique_queries(params, 2 * len(mix.NAMES), 1)]
    for text in [*texts, mix.TRIVIAL_ASK]:
        result = store.query(text, use_default_graph_as_union=True)
        if isinstance(result, ox.QueryBoolean):
            assert bool(result)
        else:
            list(result)
    assert len(set(texts[len(mix.NAMES) :])) == 2 * len(mix.NAMES)  # unique texts


def _identity(caller: str, chosen: dict) -> Identity:
    if caller == "steward":
        return Identity(role="steward", org=chosen["steward"]["org"])
    if caller == "channel":
        return Identity(role="channel", channel=chosen["channel"]["channel"])
    return Identity(role="admin")


def _definition(store: OxigraphStore, text: str, graphs: list[str]) -> bytes:
    """The answer over the caller's graphs listed one by one (the definition of its
    view), as SPARQL JSON."""
    result = store.query(text, default_graph=graphs)
    if isinstance(result, ox.QueryBoolean):
        return b'{"head": {}, "boolean": %s}' % (b"true" if bool(result) else b"false")
    return result.serialize(format=ox.QueryResultsFormat.JSON)


def test_per_caller_rows_and_answers_equal_the_definition(generated: Path, tmp_path: Path) -> None:
    """The per-caller part of the bench runs against a real eti serve and oxigraph serve
    and yields a row per caller and query; then, in process, every caller's answer to
    each query (read + its view graph) equals the same query over its graph list."""
    data = generated
    store_dir, ox_dir = tmp_path / "store", tmp_path / "oxigraph"
    log = tmp_path / "load.log"
    peers.timed(
        [peers.tool("eti"), "restore", str(data / "catalogue.nq"), "--store", str(store_dir)],
        log=log,
    )
    peers.timed(
        [
            peers.tool("oxigraph"),
            "load",
            "--location",
            str(ox_dir),
            "--file",
            str(data / "catalogue.nq"),
        ],
        log=log,
    )
    chosen = callers.run_tool("choose", store_dir)
    assert chosen["steward"]["products"] >= 1 and chosen["channel"]["agreements"] >= 1
    keys = callers.tokens(store_dir, chosen)
    params = mix.load_params(data / "params.json")
    eti = peers.start_eti(store_dir, tmp_path)
    try:
        peer = peers.start_oxigraph(ox_dir, tmp_path, name="all")
        try:
            result = callers.measure(
                eti, peer, keys, params, reps=1, seed=1, timeout=60, log=lambda m: None
            )
        finally:
            peer.stop()
        searched = search_bench.measure(eti, params, reps=1)
        followed = feed_bench.measure(eti, tmp_path / "mirror", polls=2)
    finally:
        eti.stop()
    assert searched["first_status"] == 200
    assert all(v[0] is not None for v in searched["times_ms"].values()), searched
    # the anonymous follower got every product's description, and nothing new on a poll
    assert followed["members"] >= 20 and followed["poll_changed"] == 0, followed
    for caller in callers.CALLERS:
        assert all(s == [200] for s in result["statuses"][caller].values()), result["statuses"]
    checks = [x for v in result["admin_check"].values() for x in v]
    assert checks and all(x["no_repeats"] and x["as_oxigraph"] for x in checks), checks
    result["chosen"] = chosen
    result["overhead"] = callers.run_tool("overhead", store_dir)
    over = result["overhead"]
    assert over["view_quads"] > 0  # the callers' reads built their views
    public = over["anonymous"]["by_graph"]["urn:eti:graph:public"]
    opened = OxigraphStore(store_dir)
    try:
        assert public["quads"] == len(opened.triples(PUBLIC))
    finally:
        opened.close()
    rows: list[tuple] = []
    callers.table_rows({"callers": result}, lambda *cells: rows.append(cells))
    run = {"callers": result, "catalogue": {"products": 20}, "search": searched, "feed": followed}
    more: list[tuple] = []
    for part in (storage, search_bench, feed_bench):
        part.table_rows(run, lambda *cells: more.append(cells))
    assert {r[0].split(",")[0] for r in more} >= {
        "storage",
        "search: one word",
        "eti mirror: first sync",
    }
    per_query = [r for r in rows if r[0].endswith(" (ms)") and "first read" not in r[0]]
    assert len(per_query) == 4 * len(mix.CALLER_NAMES)  # steward, channel, admin; admin vs oxigraph
    assert any(r[0].startswith("admin: no repeated row") and r[5] == "yes" for r in rows)

    values = mix.caller_values(params, 2, 5)
    settings = Settings(query_workers=0, answer_cache=0)
    with Catalogue(settings, store=OxigraphStore(store_dir)) as cat:
        for caller in ("steward", "channel", "admin"):
            access = cat.access(_identity(caller, chosen))
            for row in values:
                for name in mix.CALLER_NAMES:
                    text = mix.caller_query(name, row[name], 7)
                    got = cat.answer(text, graphs=access.graphs, access=access)
                    mine = mix.normalise(name, got.media, b"".join(got.chunks), multiset=True)
                    # over a list of graphs a triple in two of them counts twice: the
                    # definition's rows are its DISTINCT answer (see mix.caller_query)
                    body = _definition(
                        cat.store,
                        mix.caller_query(name, row[name], 7, distinct=True),
                        access.graphs,
                    )
                    wanted = mix.normalise(
                        name, "application/sparql-results+json", body, multiset=True
                    )
                    assert mine == wanted, (caller, name)


def generate_counts(folder: Path) -> dict:
    import json

    return json.loads((folder / "manifest.json").read_text())


def test_a_snapshot_is_written_without_touching_the_kept_store(
    generated: Path, tmp_path: Path
) -> None:
    """``stores.snapshot`` hard-links the table files: writing to the snapshot (and
    compacting it) must leave the kept store as it was."""
    kept = tmp_path / "kept"
    store = OxigraphStore(kept)
    store.load(generated / "catalogue.nq", ox.RdfFormat.N_QUADS)
    before = len(store.triples(PUBLIC))
    store.close()
    copy = stores.snapshot(kept, tmp_path / "copy")
    writable = ox.Store(str(copy))
    writable.remove_graph(ox.NamedNode(PUBLIC))
    writable.optimize()
    writable.flush()
    del writable
    again = OxigraphStore(kept)
    try:
        assert len(again.triples(PUBLIC)) == before > 0
    finally:
        again.close()


def test_the_table_has_a_row_for_every_part(generated: Path) -> None:
    """``report.table`` turns a run's results into rows, the added parts included."""
    manifest = generate_counts(generated)
    run = {
        "catalogue": manifest,
        "search": {
            "first_ms": 900.0,
            "first_status": 200,
            "rss_before_mib": 100.0,
            "rss_after_mib": 130.0,
            "times_ms": {"one word": [2.0, 3.0]},
        },
        "feed": {
            "members": 20,
            "pages": 1,
            "mirror_quads": 900,
            "first_sync_s": 1.5,
            "members_per_s": 13,
            "poll_ms": [4.0, 5.0],
            "poll_changed": 0,
        },
        "front_rows": [
            ("trivial ASK, front (q/s)", "1000", "oxigraph 2000", "0.5×", "≥ 0.5×", "yes")
        ],
        "memory_mib": {"eti": 300.0, "oxigraph": 100.0},
        "memory_pss_mib": {"eti": 180.0, "oxigraph": 100.0},
    }
    text, rows = report.table(run)
    metrics = [r["metric"] for r in rows]
    memory = next(r for r in rows if r["metric"].startswith("server memory after the mix"))
    assert memory["met"] == "NO" and "PSS" in memory["note"] and "1.80×" in memory["note"]
    assert "search: index memory, 20 products (RSS MiB of eti serve)" in metrics
    assert "eti mirror: one poll with no changes, 20 products (ms)" in metrics
    assert "trivial ASK, front (q/s)" in metrics and "+30" in text


def test_the_table_failed_on_the_fronts_rows_kept_with_their_raw_runs(generated: Path) -> None:
    """``front_bench.run_front`` returns (rows, raw runs); a run that kept both in
    ``front_rows`` made the whole table fail at the end of a 14-minute run. The
    validation rows count CPU seconds after parsing; a stopped pySHACL is a lower bound."""
    row = {
        "metric": "trivial ASK, front (q/s)",
        "eti": "1000",
        "peer": "oxigraph 2000",
        "ratio": "0.5×",
        "goal": "≥ 0.5×",
        "met": "yes",
        "note": "",
    }
    manifest = generate_counts(generated)
    manifest["products"] = 10_000
    eti_small = {"seconds": 1.0, "cpu_seconds": 1.0, "results": [], "triples": 100}
    run = {
        "catalogue": manifest,
        "front_rows": [[row], {"trivial ASK": {"oxigraph": []}}],
        "validation_small": {"eti": eti_small, "pyshacl": {**eti_small, "cpu_seconds": 30.0}},
        "validation": {
            "eti": {"seconds": 11.0, "cpu_seconds": 10.0, "results": [], "triples": 1000},
            "pyshacl": {"capped": True, "cap_s": 200.0, "cpu_s": 105.0},
        },
    }
    _text, rows = report.table(run)
    by = {r["metric"]: r for r in rows}
    assert by["trivial ASK, front (q/s)"]["met"] == "yes"
    assert by["whole-catalogue validation, 1,000 products"]["ratio"] == "30.0×"
    big = by["whole-catalogue validation, 10,000 products"]
    assert (big["ratio"], big["met"]) == ("≥ 10.5×", "yes")
    assert by["validation grows linearly: ETI 10,000 / 1,000 products (CPU)"]["eti"] == "10.0×"
