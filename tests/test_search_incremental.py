"""The search index follows writes product by product, and across processes over one store."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files

import pyoxigraph as ox
import pytest

from eti.catalogue import registry
from eti.catalogue.auth import Identity
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.catalogue.store import RemoteStore

NAV = Identity(role="steward", org="889640782")


def _product(ident: str, word: str) -> list[ox.Quad]:
    text = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text()
    body = text.replace("nav-pleiepenger", ident).replace('"pleiepenger"@nb', f'"{word}"@nb')
    return list(ox.parse(body.encode(), ox.RdfFormat.TRIG))


def _ids(catalogue: Catalogue, q: str) -> list[str]:
    return [r["id"] for r in catalogue.searcher.search(q, per_page=100)["results"]]


def test_a_write_reindexed_the_whole_catalogue(catalogue: Catalogue) -> None:
    """Every write used to rebuild the index from the whole public graph; now a register,
    an update and a withdrawal each re-index the one product they touched, and the next
    search sees it."""
    searcher = catalogue.searcher
    assert _ids(catalogue, "pleiepenger") == ["nav-pleiepenger"]
    first = searcher.reindexed
    assert first == 15  # the demo, read once

    registry.register(catalogue.store, _product("nav-ny", "blåbærsyltetøy"), who=NAV)
    assert _ids(catalogue, "blåbærsyltetøyet") == ["nav-ny"]
    assert searcher.reindexed == first + 1

    registry.register(
        catalogue.store, _product("nav-ny", "tyttebær"), who=NAV, ident="nav-ny", create=False
    )
    assert _ids(catalogue, "blåbærsyltetøy") == []
    assert _ids(catalogue, "tyttebæra") == ["nav-ny"]
    assert searcher.reindexed == first + 2

    registry.withdraw(catalogue.store, "nav-ny", who=NAV)
    assert _ids(catalogue, "tyttebær") == []
    assert catalogue.searcher.documents.get("https://eti.example/products/nav-ny") is None
    assert searcher.reindexed == first + 2  # a removal writes no document
    assert catalogue.searcher.search()["total"] == 15

    catalogue.searcher.search("pleiepenger")  # no write since: nothing read again
    assert searcher.reindexed == first + 2


def test_withdrawn_product_leaves_its_facet_counts(catalogue: Catalogue) -> None:
    publisher = "https://data.brreg.no/enhetsregisteret/api/enheter/889640782"
    before = {f["value"]: f["count"] for f in catalogue.searcher.search()["facets"]["publisher"]}
    registry.withdraw(catalogue.store, "nav-pleiepenger", who=NAV)
    after = {f["value"]: f["count"] for f in catalogue.searcher.search()["facets"]["publisher"]}
    assert after.get(publisher, 0) == before[publisher] - 1


@pytest.fixture
def two_catalogues(oxigraph_server: str) -> Iterator[tuple[Catalogue, Catalogue]]:
    """Two catalogues (as two server processes would be) over one remote store."""
    RemoteStore(oxigraph_server).update("DROP ALL")
    settings = Settings.load(env={}, store_url=oxigraph_server, query_workers=0)
    one, two = Catalogue(settings), Catalogue(settings)
    one.prepare(demo_if_empty=True)
    yield one, two
    one.close()
    two.close()


def test_write_through_one_process_is_found_through_another(
    two_catalogues: tuple[Catalogue, Catalogue],
) -> None:
    one, two = two_catalogues
    assert _ids(two, "pleiepengar") == ["nav-pleiepenger"]
    read = two.searcher.reindexed

    registry.register(one.store, _product("nav-ny", "multebær"), who=NAV)
    assert _ids(two, "multebæra") == ["nav-ny"]  # the next request, no TTL to wait out
    assert two.searcher.reindexed == read + 1

    registry.withdraw(one.store, "nav-ny", who=NAV)
    assert _ids(two, "multebær") == []
    assert two.searcher.reindexed == read + 1


def test_a_page_far_past_the_end_is_empty(client) -> None:  # type: ignore[no-untyped-def]
    """tantivy makes room for every hit before the page asked for: a page past the end
    must not reach it (nor make the API fail)."""
    for q in ("", "pleiepenger"):
        far = client.get("/api/products", query_string={"q": q, "page": 10**12, "per_page": 100})
        assert far.status_code == 200
        assert far.json["results"] == [] and far.json["total"] >= 1


def test_a_query_of_many_words_is_bounded(catalogue: Catalogue) -> None:
    words = " ".join(f"ord{i}" for i in range(5000))
    assert catalogue.searcher.search("pleiepenger " + words)["total"] == 0
