"""Discovery: Norwegian-aware search with facets, also inside SPARQL."""

from __future__ import annotations

from importlib.resources import files

import pytest

from eti.catalogue.auth import TokenTable
from eti.catalogue.search import stem, text_score, words

FLEKKEFJORD = "https://data.brreg.no/enhetsregisteret/api/enheter/964967369"


@pytest.mark.parametrize("form", ["pleiepenger", "Pleiepengar", "pleiepengene", "PLEIEPENGER"])
def test_inflected_forms_share_a_stem(form: str) -> None:
    assert stem(words(form)[0]) == stem("pleiepeng")


def test_letters_aeoa_are_kept() -> None:
    assert words("Støttekontakt og BPA i Flekkefjord")[0].startswith("støttekontakt"[:10])
    assert text_score("Omsorgsstønad", "omsorgsstønaden") == 1.0


@pytest.mark.parametrize("query", ["pleiepenger", "Pleiepengar", "pleiepengene", "pleiepeng"])
def test_every_form_finds_pleiepenger(client, query: str) -> None:
    doc = client.get("/api/products", query_string={"q": query}).json
    assert [r["id"] for r in doc["results"]] == ["nav-pleiepenger"]


def test_prefix_and_ranking(client) -> None:
    doc = client.get("/api/products", query_string={"q": "pleie"}).json
    ids = [r["id"] for r in doc["results"]]
    assert ids[0] == "nav-pleiepenger"  # a title match ranks first
    assert len(ids) >= 2


def test_facets_count_and_filter(client) -> None:
    everything = client.get("/api/products").json
    assert everything["total"] >= 12
    publishers = {f["value"]: f for f in everything["facets"]["publisher"]}
    assert publishers[FLEKKEFJORD]["label"] == "Flekkefjord kommune"
    flekkefjord = client.get("/api/products", query_string={"publisher": FLEKKEFJORD}).json
    assert flekkefjord["total"] == publishers[FLEKKEFJORD]["count"]
    assert all(r["publisher"] == FLEKKEFJORD for r in flekkefjord["results"])
    events = {f["value"] for f in everything["facets"]["event"]}
    assert "https://psi.norge.no/los/hendelse/alvorlig-sykt-barn" in events
    themes = {f["value"] for f in everything["facets"]["theme"]}
    assert any("psi.norge.no/los/" in t for t in themes)
    assert any("data-theme/" in t for t in themes)


def test_paging(client) -> None:
    first = client.get("/api/products", query_string={"per_page": 5, "page": 1}).json
    second = client.get("/api/products", query_string={"per_page": 5, "page": 2}).json
    assert len(first["results"]) == 5
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    for bad in ({"page": 0}, {"per_page": 1000}, {"page": "x"}):
        assert client.get("/api/products", query_string=bad).status_code == 400


def test_index_follows_writes(client, catalogue) -> None:
    assert client.get("/api/products", query_string={"q": "testproduktet"}).json["total"] == 0
    token = TokenTable(catalogue.store).create("steward", org="889640782")[1]
    text = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text()
    body = (
        text.replace("nav-pleiepenger", "nav-ny")
        .replace('"pleiepenger"@nb', '"testproduktet"@nb')
        .encode()
    )
    created = client.post(
        "/api/products",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/trig"},
    )
    assert created.status_code == 201, created.json
    found = client.get("/api/products", query_string={"q": "testproduktene"}).json
    assert [r["id"] for r in found["results"]] == ["nav-ny"]


def test_search_inside_sparql(client) -> None:
    query = """PREFIX eti: <https://w3id.org/eti#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?p WHERE { ?p a <https://ekgf.github.io/dprod/DataProduct> ; dct:title ?t
  FILTER (eti:textMatch(?t, "pleiepengene")) } """
    doc = client.get("/sparql", query_string={"query": query}).json
    assert {b["p"]["value"] for b in doc["results"]["bindings"]} == {
        "https://eti.example/products/nav-pleiepenger"
    }


def test_search_inside_sparql_on_the_worker_pool(live_server) -> None:
    import requests

    query = (
        'PREFIX eti: <https://w3id.org/eti#> SELECT (MAX(eti:textScore(?t, "pleiepengar '
        'sykt")) AS ?s) WHERE { ?p <http://purl.org/dc/terms/title> ?t }'
    )
    doc = requests.get(live_server.url + "/sparql", params={"query": query}, timeout=30).json()
    assert float(doc["results"]["bindings"][0]["s"]["value"]) == 1.0


def test_index_not_stale_when_a_write_lands_while_it_is_built(catalogue, monkeypatch) -> None:
    """Same race as the open-content cache: the index was stamped with the generation read
    after its queries, so a product registered meanwhile stayed unfindable until the next
    write (or the TTL)."""
    import pyoxigraph as ox

    from eti.catalogue import registry
    from eti.catalogue.auth import Identity

    text = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text()
    body = text.replace("nav-pleiepenger", "nav-ny").replace('"pleiepenger"@nb', '"samtidig"@nb')
    real_query = catalogue.store.query
    landed: list[bool] = []

    def query_then_write(sparql: str, **kw):  # type: ignore[no-untyped-def]
        rows = list(real_query(sparql, **kw))
        if not landed:
            landed.append(True)
            quads = list(ox.parse(body.encode(), ox.RdfFormat.TRIG))
            registry.register(catalogue.store, quads, who=Identity(role="steward", org="889640782"))
        return rows

    monkeypatch.setattr(catalogue.store, "query", query_then_write)
    catalogue.searcher.index()
    monkeypatch.setattr(catalogue.store, "query", real_query)
    found = catalogue.searcher.search("samtidig")
    assert [r["id"] for r in found["results"]] == ["nav-ny"]
