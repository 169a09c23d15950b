"""Harvesting a producer's catalogue from a real HTTP server on loopback."""

from __future__ import annotations

import functools
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pyoxigraph as ox
import pytest
from conftest import needs_shared

from eti.catalogue import harvest, registry

NAV = "889640782"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback (a real server in a thread)."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".ttl": "text/turtle",
    }

    def log_message(self, *args: object) -> None:
        pass


def demo_dataset(catalogue, name: str, title: str = "Pleiepenger for sykt barn") -> str:  # type: ignore[no-untyped-def]
    """The demo's pleiepenger dataset as a producer would publish it, renamed."""
    triples = catalogue.store.triples("urn:eti:graph:product:nav-pleiepenger")
    base = "https://eti.example/products/nav-pleiepenger/dataset"
    keep = [
        t
        for t in triples
        if (t.subject.value.startswith(base) or t.subject.value.endswith("/contact"))
        and not t.predicate.value.endswith("#accessService")
    ]
    out = io.BytesIO()
    ox.serialize(keep, out, ox.RdfFormat.N_TRIPLES)
    text = out.getvalue().decode()
    text = text.replace(base, f"https://producer.example/{name}")
    text = text.replace('"nav-pleiepenger/dataset"', f'"{name}"')
    return text.replace('"Pleiepenger for sykt barn"@nb', f'"{title}"@nb')


def test_harvest_new_changed_removed_with_reports(catalogue, served) -> None:
    folder, base = served
    store = catalogue.store
    url = f"{base}/catalogue.nt"
    (folder / "catalogue.nt").write_text(
        demo_dataset(catalogue, "ds-a") + demo_dataset(catalogue, "ds-b")
    )
    source = harvest.add_source(store, url, NAV)
    first = harvest.run(store, source, allow_private=True)
    assert first.ok, first.error
    assert first.new == ["https://producer.example/ds-a", "https://producer.example/ds-b"]
    assert first.registered == first.new and not first.refused, first.refused
    assert registry.id_of_iri(store, ox.NamedNode("https://producer.example/ds-a")) == "ds-a"

    # unchanged run: nothing to do
    second = harvest.run(store, source, allow_private=True)
    assert second.unchanged == first.new and not second.changed and not second.registered

    # ds-a changes, ds-b disappears, ds-c appears and breaks a rule (no dct:description)
    broken = "".join(
        line + "\n"
        for line in demo_dataset(catalogue, "ds-c").splitlines()
        if not line.startswith(
            "<https://producer.example/ds-c> <http://purl.org/dc/terms/description>"
        )
    )
    (folder / "catalogue.nt").write_text(
        demo_dataset(catalogue, "ds-a", title="Pleiepenger (ny tittel)") + broken
    )
    third = harvest.run(store, source, allow_private=True)
    assert third.changed == ["https://producer.example/ds-a"]
    assert third.new == ["https://producer.example/ds-c"]
    assert third.removed == third.withdrawn == ["https://producer.example/ds-b"]
    assert [r["dataset"] for r in third.refused] == ["https://producer.example/ds-c"]
    assert third.refused[0]["status"] == "422" and third.refused[0]["reason"]
    assert registry.get_record(store, "ds-b").withdrawn
    assert registry.get_record(store, "ds-a").version == 2

    reports = harvest.reports(store)
    assert [r["id"] for r in reports] == [third.id, second.id, first.id]


def dump_but_reports(store) -> list[bytes]:  # type: ignore[no-untyped-def]
    """The store's N-Quads dump, less the harvest reports: what a harvest that fails must
    leave as it was."""
    out = io.BytesIO()
    store.dump(out)
    return [line for line in out.getvalue().splitlines() if b"<urn:eti:graph:harvests>" not in line]


def dump_but_harvests(store) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Like ``dump_but_reports``, less the harvested snapshots too."""
    return [line for line in dump_but_reports(store) if b"<urn:eti:graph:harvested:" not in line]


def test_a_source_that_fails_changes_nothing_but_its_report(catalogue, served) -> None:
    _, base = served
    store = catalogue.store
    source = harvest.add_source(store, f"{base}/missing.ttl", NAV)
    private = harvest.add_source(store, "http://127.0.0.1:9/catalogue.ttl", NAV)
    before = dump_but_reports(store)
    report = harvest.run(store, source, allow_private=True)
    assert not report.ok and "404" in report.error
    refused = harvest.run(store, private)  # private addresses are refused by default
    assert not refused.ok and "private" in refused.error
    after = [r["id"] for r in harvest.reports(store)]
    assert after == [refused.id, report.id]
    assert dump_but_reports(store) == before


def test_harvest_api_shows_reports(client, catalogue, served) -> None:
    folder, base = served
    (folder / "c.nt").write_text(demo_dataset(catalogue, "ds-x"))
    source = harvest.add_source(catalogue.store, f"{base}/c.nt", NAV)
    harvest.run(catalogue.store, source, allow_private=True)
    doc = client.get("/api/harvests").json
    assert doc["sources"][0]["url"] == f"{base}/c.nt"
    assert doc["reports"][0]["new"] == ["https://producer.example/ds-x"]


def test_fdk_catalogues_report_exactly_their_differences(catalogue, served) -> None:
    folder, base = served
    for n in (0, 1):
        (folder / f"diff_{n}.ttl").write_bytes(
            needs_shared(f"fdk/catalog_diff_{n}.ttl").read_bytes()
        )
    store = catalogue.store
    url = f"{base}/catalog.ttl"
    source = harvest.add_source(store, url, "123456789")
    (folder / "catalog.ttl").write_bytes((folder / "diff_0.ttl").read_bytes())
    first = harvest.run(store, source, allow_private=True)
    assert first.ok and len(first.new) == first.datasets == 15
    (folder / "catalog.ttl").write_bytes((folder / "diff_1.ttl").read_bytes())
    second = harvest.run(store, source, allow_private=True)
    # catalog_diff_1 differs from catalog_diff_0 in seven places (read with `diff`): the
    # theme of dataset/1, the temporal start of dataset/3, an informationModel source of
    # dataset/7, a conformsTo label of dataset/9, the sample accessURL of dataset/b, a
    # quality annotation of dataset/d (all inside blank nodes but the theme), and the
    # endpoint description of access-service/1, reached by dataset/5 through
    # distribution/1. Dataset identifiers are shared across datasets in these files.
    base_iri = "https://testdirektoratet.no/model/dataset/"
    assert second.changed == [base_iri + x for x in ("1", "3", "5", "7", "9", "b", "d")]
    assert len(second.unchanged) == 8
    assert not second.new and not second.removed


def test_a_source_that_times_out_is_reported(catalogue) -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections, never answers
    try:
        source = harvest.add_source(
            catalogue.store, f"http://127.0.0.1:{silent.getsockname()[1]}/c.ttl", NAV
        )
        before = dump_but_reports(catalogue.store)
        report = harvest.run(catalogue.store, source, allow_private=True, timeout=1)
        assert not report.ok and "does not answer" in report.error
        assert not report.registered and not report.withdrawn
        assert dump_but_reports(catalogue.store) == before
    finally:
        silent.close()


ENHET = "https://data.brreg.no/enhetsregisteret/api/enheter/"


@pytest.mark.parametrize("orgnr", ["983544622", "999999999"], ids=["registered", "unregistered"])
def test_harvest_cannot_register_for_another_organisation_through_the_document(
    catalogue, served, orgnr
) -> None:
    """Audit: the harvested document's ``dct:identifier`` of the publisher was trusted, so
    Nav's source could publish as Helsedirektoratet by saying its number is Nav's."""
    folder, base = served
    store = catalogue.store
    text = demo_dataset(catalogue, "ds-forkledd").replace(f"{ENHET}{NAV}", f"{ENHET}{orgnr}")
    claim = f'<{ENHET}{orgnr}> <http://purl.org/dc/terms/identifier> "{NAV}" .\n'
    (folder / "c.nt").write_text(text + claim)
    source = harvest.add_source(store, f"{base}/c.nt", NAV)
    before = dump_but_harvests(store)
    report = harvest.run(store, source, allow_private=True)
    assert report.ok, report.error
    assert report.new == ["https://producer.example/ds-forkledd"] and not report.registered
    assert [r["status"] for r in report.refused] == ["403"]
    assert registry.id_of_iri(store, ox.NamedNode("https://producer.example/ds-forkledd")) is None
    assert dump_but_harvests(store) == before


def test_a_refused_dataset_is_tried_again_when_its_cause_is_fixed(catalogue, served) -> None:
    """Audit: a run replaced the snapshot with everything fetched, so a dataset refused
    once was "unchanged" at the next run and never tried again."""
    folder, base = served
    store = catalogue.store
    url = f"{base}/c.nt"
    (folder / "c.nt").write_text(demo_dataset(catalogue, "ds-a") + demo_dataset(catalogue, "ds-b"))
    wrong = harvest.add_source(store, url, "983544622")  # the datasets are Nav's
    first = harvest.run(store, wrong, allow_private=True)
    assert [r["status"] for r in first.refused] == ["403", "403"] and not first.registered
    fixed = harvest.add_source(store, url, NAV)  # the same source, now for Nav
    steps: list[tuple[int, int]] = []
    second = harvest.run(store, fixed, allow_private=True, progress=lambda *s: steps.append(s))
    assert second.unchanged == first.new and not second.refused
    assert second.registered == first.new
    assert registry.get_record(store, "ds-a").version == 1
    assert steps[-1] == (2, 2)
    # registered as fetched: the next run has nothing to do, and its bar still ends
    steps.clear()
    third = harvest.run(store, fixed, allow_private=True, progress=lambda *s: steps.append(s))
    assert third.unchanged == first.new and not third.registered and not third.refused
    assert registry.get_record(store, "ds-a").version == 1
    assert steps == [(1, 2), (2, 2)]


def test_an_admin_read_only_the_first_harvest_report_after_its_view_was_built(
    catalogue, served
) -> None:
    """The bug: a harvest report is added to the reports graph, not written through the
    registry; the admin's view, which reads that graph, kept the reports it held when it
    was built and never saw a later one."""
    from eti.catalogue.auth import Identity

    _, base = served
    store = catalogue.store
    source = harvest.add_source(store, f"{base}/missing.ttl", NAV)
    first = harvest.run(store, source, allow_private=True)
    admin = Identity("admin")
    text = "SELECT ?h WHERE { ?h <urn:eti:sys:source> ?source }"
    seen = {r["h"].value for r in catalogue.query(text, access=catalogue.access(admin))}
    assert seen == {f"urn:eti:harvest:{first.id}"}
    second = harvest.run(store, source, allow_private=True)
    seen = {r["h"].value for r in catalogue.query(text, access=catalogue.access(admin))}
    assert seen == {f"urn:eti:harvest:{first.id}", f"urn:eti:harvest:{second.id}"}
