"""A channel's whole journey with ``eti.client`` against a live server."""

from __future__ import annotations

import pytest
import rdflib

from eti.client import Client, ClientError

PPT = "https://eti.example/offers/flekkefjord-ppt"


def test_a_channel_journey(live_server) -> None:
    app = Client(
        live_server.url,
        token=live_server.tokens["app"],
        purpose="https://w3id.org/dpv#ServiceProvision",
    )
    hits = app.products(
        q="pedagogisk", publisher=("https://data.brreg.no/enhetsregisteret/api/enheter/964967369")
    )
    assert [r["id"] for r in hits["results"]] == ["flekkefjord-ppt"]
    needs = app.needs()
    assert needs and all("products" in n for n in needs)

    asked = app.request_agreement(PPT, start="2026-11-01", end="2027-10-31")
    assert asked["status"] == "requested"
    steward = Client(live_server.url, token=live_server.tokens["flekkefjord"])
    steward._call("POST", f"/api/agreements/{asked['id']}/accept")
    assert {a["id"]: a["status"] for a in app.agreements()}[asked["id"]] == "active"

    rows = list(
        app.rows(
            "SELECT ?s ?t WHERE { ?s a cpsv:PublicService ; dct:title ?t "
            'FILTER(LANG(?t) = "nb") } ORDER BY ?s',
            page_size=5,
        )
    )
    titles = {r["t"] for r in rows}
    assert "Pedagogisk-psykologisk tjeneste (PP-tjenesten)" in titles or any(
        "PP-tjenesten" in t for t in titles
    )
    assert len(rows) > 10 and len(rows) == len({r["s"] for r in rows})
    graph = app.graph(
        "CONSTRUCT { ?s dct:title ?t } WHERE { "
        "<https://eti.example/products/flekkefjord-ppt> eti:isAuthoritativeSourceFor ?s ."
        " ?s dct:title ?t }"
    )
    assert isinstance(graph, rdflib.Graph) and len(graph) >= 1
    assert app.ask("ASK { ?s a cpsv:PublicService }")

    family = app.situation(municipality="4207", age=7, needs=["pedagogisk"])
    assert family["services"] >= 1

    with pytest.raises(ClientError) as info:
        app.request_agreement(
            "https://eti.example/offers/nope", start="2026-11-01", end="2027-10-31"
        )
    assert info.value.status == 404


def test_anonymous_client_sees_public_metadata_only(live_server) -> None:
    anonymous = Client(live_server.url)
    assert anonymous.ask("ASK { ?p a dprod:DataProduct }")
    assert not anonymous.ask(
        'ASK { ?s a cpsv:PublicService FILTER(CONTAINS(STR(?s), "flekkefjord-ppt")) }'
    )


def test_the_readme_journey_runs_as_written(live_server) -> None:
    """The README's Python journey (channel integrators), with the live server's URL and
    a channel's token put in the way test_docs does for the SPARQL blocks."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("## For channel integrators\n")
    section = readme[start : readme.find("\n## ", start + 1)]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    code = block.replace("http://127.0.0.1:8080", live_server.url)
    scope: dict = {"CHANNEL_TOKEN": live_server.tokens["app"], "print": lambda *a, **k: None}
    exec(compile(code, "README.md", "exec"), scope)  # our own README, run as written

    assert scope["hits"]["results"]
    needs = {n["description"]: n for n in scope["app"].needs()}
    added = needs["Avlastning i Flekkefjord"]
    assert [(p["product"], p["covered"]) for p in added["products"]] == [
        ("https://eti.example/products/flekkefjord-parorendestotte", True)
    ]
    assert scope["deal"]["status"] == "requested"
    assert scope["rows"] and all("s" in r and "t" in r for r in scope["rows"])
    assert scope["family"]["services"] >= 1
    with pytest.raises(ClientError) as info:
        scope["app"].add_need("?", themes=["https://psi.norge.no/los/tema/finnes-ikke"])
    assert info.value.status == 400 and "finnes-ikke" in info.value.detail
