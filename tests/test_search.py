"""Discovery: Norwegian-aware search with facets, also inside SPARQL."""

from __future__ import annotations

from importlib.resources import files

import pytest

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


def test_index_follows_writes(client, catalogue, as_) -> None:
    assert client.get("/api/products", query_string={"q": "testproduktet"}).json["total"] == 0
    token = as_.token("steward", org="889640782")
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


# --- facet counts and the area filter on the demo -------------------------------------------

FLEKKEFJORD_PLACE = "https://eti.example/places/kommune/4207"
NORWAY = "http://publications.europa.eu/resource/authority/country/NOR"
LOS = "https://psi.norge.no/los/"


def _counts(doc: dict, facet: str) -> dict[str, int]:
    return {f["value"]: f["count"] for f in doc["facets"][facet]}


def test_facet_counts_on_the_demo(client) -> None:
    """Counted from catalogue/demo/products/*.trig: 15 product files, each product
    description with ``adms:status diststatus:COMPLETED``; every product's content groups its
    services under the life event alvorlig-sykt-barn; 10 products have ``dct:spatial
    country:NOR`` and the 5 ``flekkefjord-*`` ones the municipality 4207, which lies in Norway
    (agents.ttl: ``dct:isPartOf country:NOR``), so all 15 apply in Flekkefjord; the Los
    themes are the ``psi.norge.no/los/`` values of each product's own ``dcat:theme``."""
    doc = client.get("/api/products").json
    assert doc["total"] == 15
    assert _counts(doc, "status") == {
        "http://publications.europa.eu/resource/authority/distribution-status/COMPLETED": 15
    }
    assert _counts(doc, "event") == {LOS + "hendelse/alvorlig-sykt-barn": 15}
    assert _counts(doc, "municipality") == {FLEKKEFJORD_PLACE: 15, NORWAY: 10}
    los = {k: v for k, v in _counts(doc, "theme").items() if k.startswith(LOS)}
    assert los == {
        LOS + "ord/ytelser-ved-sykdom-i-familien": 4,
        LOS + "tema/helsetjenester": 4,
        LOS + "ord/langvarige-helsetjenester": 3,
        LOS + "ord/spesialundervisning": 3,
        LOS + "tema/familieytelser": 3,
        LOS + "tema/skole-og-utdanning": 3,
        LOS + "ord/pedagogisk-psykologisk-tjeneste": 2,
        LOS + "tema/okonomiske-ytelser-og-radgivning": 2,
        LOS + "ord/helsestasjon": 1,
        LOS + "ord/kommunikasjon-og-kognisjon": 1,
        LOS + "ord/omsorgsavlastning": 1,
        LOS + "ord/omsorgsstonad": 1,
        LOS + "ord/personlig-assistent": 1,
        LOS + "ord/stotte-til-familier": 1,
        LOS + "ord/stottekontakt": 1,
        LOS + "ord/ytelser-til-foreldre-og-foresatte": 1,
        LOS + "tema/avlastning-og-stotte": 1,
        LOS + "tema/barnehage": 1,
        LOS + "tema/grunnskole": 1,
        LOS + "tema/omsorgstjenester": 1,
        LOS + "tema/pasientrettigheter": 1,
    }
    labels = {f["value"]: f["label"] for f in doc["facets"]["municipality"]}
    assert labels == {FLEKKEFJORD_PLACE: "Flekkefjord kommune", NORWAY: "Norge"}


@pytest.mark.parametrize("facet", ["status", "event", "municipality", "theme"])
def test_each_facet_count_is_what_its_filter_finds(client, facet: str) -> None:
    for value, count in _counts(client.get("/api/products").json, facet).items():
        found = client.get("/api/products", query_string={facet: value, "per_page": 100}).json
        assert found["total"] == count, (facet, value)


def test_municipality_filter_finds_national_products(client) -> None:
    """Regression: ``municipality=…/4207`` matched ``dct:spatial`` exactly, so a family in
    Flekkefjord searching for "pleiepenger" found nothing (Nav's product is for Norway)."""
    hits = client.get(
        "/api/products", query_string={"q": "pleiepenger", "municipality": FLEKKEFJORD_PLACE}
    ).json
    assert [r["id"] for r in hits["results"]] == ["nav-pleiepenger"]
    local = client.get(
        "/api/products", query_string={"municipality": FLEKKEFJORD_PLACE, "per_page": 100}
    ).json
    ids = {r["id"] for r in local["results"]}
    assert len(ids) == 15 and {"nav-pleiepenger", "statped-tjenester", "flekkefjord-ppt"} <= ids
    # by its number too, as /api/situation takes it
    by_number = client.get("/api/products", query_string={"municipality": "4207", "per_page": 100})
    assert {r["id"] for r in by_number.json["results"]} == ids
    # a municipality's own products do not apply to all of Norway
    national = client.get("/api/products", query_string={"municipality": NORWAY, "per_page": 100})
    national_ids = {r["id"] for r in national.json["results"]}
    assert len(national_ids) == 10
    assert not any(i.startswith("flekkefjord-") for i in national_ids)


def test_municipality_filter_leaves_out_other_municipalities(client, catalogue, as_) -> None:
    token = as_.token("steward", org="889640782")
    text = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text()
    oslo = "<https://eti.example/places/kommune/0301>"
    body = text.replace("nav-pleiepenger", "nav-oslo").replace("country:NOR", oslo).encode()
    created = client.post(
        "/api/products",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/trig"},
    )
    assert created.status_code == 201, created.json
    flekkefjord = client.get(
        "/api/products", query_string={"municipality": "4207", "per_page": 100}
    )
    assert "nav-oslo" not in {r["id"] for r in flekkefjord.json["results"]}
    assert flekkefjord.json["total"] == 15
    in_oslo = client.get(
        "/api/products", query_string={"municipality": oslo.strip("<>"), "per_page": 100}
    )
    assert [r["id"] for r in in_oslo.json["results"]] == ["nav-oslo"]
