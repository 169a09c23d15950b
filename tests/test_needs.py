"""Information needs: which products meet a channel's needs, on the demo catalogue, and
whether the channel holds an agreement for each (covered) or not."""

from __future__ import annotations

import io

import pytest

from eti.catalogue.auth import TokenTable

P = "https://eti.example/products/"
LOS = "https://psi.norge.no/los/"
FLEKKEFJORD_PLACE = "https://eti.example/places/kommune/4207"
NORWAY = "http://publications.europa.eu/resource/authority/country/NOR"
NATIONAL = {
    "helsedir-habilitering",
    "helsedir-koordinering",
    "nav-grunnstonad",
    "nav-hjelpestonad",
    "nav-omsorgspenger",
    "nav-opplaeringspenger",
    "nav-pleiepenger",
    "statped-tjenester",
    "udir-barnehage-tilrettelegging",
    "udir-individuell-tilrettelegging",
}
MUNICIPAL = {
    "flekkefjord-bpa-stottekontakt",
    "flekkefjord-helsestasjon",
    "flekkefjord-koordinering",
    "flekkefjord-parorendestotte",
    "flekkefjord-ppt",
}


def channel_token(catalogue, name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    token = TokenTable(catalogue.store).create(
        "channel", channel=f"https://eti.example/channels/{name}"
    )[1]
    return {"Authorization": f"Bearer {token}"}


def dump(catalogue) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    catalogue.store.dump(out)
    return out.getvalue()


def needs_of(client, headers) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    response = client.get("/api/needs", headers=headers)
    assert response.status_code == 200, response.json
    return {n["need"]: n for n in response.json["needs"]}


def products(need: dict) -> dict[str, dict]:
    return {p["product"].removeprefix(P): p for p in need["products"]}


def add(client, headers, **body) -> str:  # type: ignore[no-untyped-def]
    response = client.post("/api/needs", json={"description": "test", **body}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["need"]


def test_a_need_with_one_rare_theme_no_longer_matches_every_product(client, catalogue) -> None:
    """The theme branch of need-matches.rq left the product's pattern unbound: any product
    with any theme met any need (all 15 demo products for los/ord/omsorgsavlastning)."""
    nav_no = channel_token(catalogue, "nav-no")
    need = add(client, nav_no, themes=[LOS + "ord/omsorgsavlastning"])
    found = products(needs_of(client, nav_no)[need])
    assert set(found) == {"flekkefjord-parorendestotte"}
    assert found["flekkefjord-parorendestotte"] == {
        "product": P + "flekkefjord-parorendestotte",
        "title": "Avlastning og omsorgsstønad i Flekkefjord kommune",
        "open": False,
        "agreement": None,
        "status": None,
        "covered": False,  # nav.no holds no agreement on it
    }


@pytest.mark.parametrize(
    ("spatial", "expected"),
    [
        (None, {"flekkefjord-ppt", "statped-tjenester", "udir-individuell-tilrettelegging"}),
        (
            FLEKKEFJORD_PLACE,  # national products hold the municipality (dct:isPartOf)
            {"flekkefjord-ppt", "statped-tjenester", "udir-individuell-tilrettelegging"},
        ),
        (NORWAY, {"statped-tjenester", "udir-individuell-tilrettelegging"}),
    ],
    ids=["anywhere", "flekkefjord", "norway"],
)
def test_a_need_is_met_only_within_its_area(client, catalogue, spatial, expected) -> None:
    app = channel_token(catalogue, "familieapp")
    body = {"themes": [LOS + "tema/skole-og-utdanning"]}
    if spatial:
        body["spatial"] = spatial
    need = add(client, app, **body)
    assert set(products(needs_of(client, app)[need])) == expected


def test_the_demo_needs_meet_exact_products(client, catalogue) -> None:
    helsenorge = needs_of(client, channel_token(catalogue, "helsenorge"))
    national = products(helsenorge["https://eti.example/channels/helsenorge/needs/helse"])
    assert set(national) == NATIONAL  # the need is for Norway: no municipal product
    assert {k for k, v in national.items() if v["agreement"]} == {
        "helsedir-habilitering",
        "helsedir-koordinering",
    }
    assert all(v["covered"] for v in national.values())  # every national product is open

    site = needs_of(client, channel_token(catalogue, "flekkefjord-kommune-no"))
    local = products(site["https://eti.example/channels/flekkefjord-kommune-no/needs/innbyggere"])
    assert set(local) == NATIONAL | MUNICIPAL
    assert {k for k, v in local.items() if not v["covered"]} == {
        "flekkefjord-bpa-stottekontakt",
        "flekkefjord-helsestasjon",
        "flekkefjord-ppt",
    }
    assert local["flekkefjord-koordinering"]["status"] == "active"
    assert local["flekkefjord-koordinering"]["open"] is False


def test_an_accepted_agreement_covers_the_product(client, catalogue, as_) -> None:
    app = channel_token(catalogue, "familieapp")
    need = add(
        client, app, themes=[LOS + "ord/pedagogisk-psykologisk-tjeneste"], spatial=FLEKKEFJORD_PLACE
    )
    before = products(needs_of(client, app)[need])
    assert set(before) == {"flekkefjord-ppt", "udir-barnehage-tilrettelegging"}
    assert before["flekkefjord-ppt"]["covered"] is False
    assert before["udir-barnehage-tilrettelegging"]["covered"] is True  # open offer
    asked = client.post(
        "/api/agreements",
        json={
            "offer": "https://eti.example/offers/flekkefjord-ppt",
            "purpose": "https://w3id.org/dpv#ServiceProvision",
            "start": "2026-01-01",
            "end": "2030-12-31",
        },
        headers=app,
    ).json
    requested = products(needs_of(client, app)[need])["flekkefjord-ppt"]
    assert (requested["status"], requested["covered"]) == ("requested", False)
    steward = as_.token("steward", org="964967369")
    client.post(
        f"/api/agreements/{asked['id']}/accept", headers={"Authorization": f"Bearer {steward}"}
    )
    after = products(needs_of(client, app)[need])["flekkefjord-ppt"]
    assert (after["agreement"], after["status"], after["covered"]) == (asked["id"], "active", True)


UNKNOWN = [
    ("theme", {"themes": [LOS + "tema/finnes-ikke"]}, LOS + "tema/finnes-ikke"),
    ("life event", {"life_event": LOS + "hendelse/ukjent"}, LOS + "hendelse/ukjent"),
    (
        "place",
        {"themes": [LOS + "tema/barnehage"], "spatial": "https://eti.example/places/x"},
        "https://eti.example/places/x",
    ),
]


@pytest.mark.parametrize(("case", "body", "named"), UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_a_need_on_an_unknown_concept_is_400_and_stores_nothing(
    client, catalogue, case, body, named
) -> None:
    app = channel_token(catalogue, "familieapp")
    before = dump(catalogue)
    response = client.post("/api/needs", json={"description": "x", **body}, headers=app)
    assert response.status_code == 400
    assert named in response.json["detail"]
    assert dump(catalogue) == before
