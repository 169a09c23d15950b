"""The agreement lifecycle over HTTP, and what agreements open to a channel's queries."""

from __future__ import annotations

import io
from datetime import date

import pytest
from conftest import bearer

from eti.catalogue.auth import Identity, TokenTable

FLEKKEFJORD, NAV = "964967369", "889640782"
APP = "https://eti.example/channels/familieapp"
HELSENORGE = "https://eti.example/channels/helsenorge"
SERVICE = "https://w3id.org/dpv#ServiceProvision"
RESEARCH = "https://w3id.org/dpv#ResearchAndDevelopment"
PPT_OFFER = "https://eti.example/offers/flekkefjord-ppt"


@pytest.fixture
def tokens(as_) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "app": as_.token("channel", channel=APP),
        "helsenorge": as_.token("channel", channel=HELSENORGE),
        "flekkefjord": as_.token("steward", org=FLEKKEFJORD),
        "nav": as_.token("steward", org=NAV),
    }


def dump(catalogue) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    catalogue.store.dump(out)
    return out.getvalue()


def sees(client, token: str | None, product: str, query: str | None = None, **params: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the caller's SPARQL view holds a public service of ``product``'s content."""
    prefix = f"https://eti.example/products/{product}/services/"
    query = query or (
        "ASK { ?s a <http://purl.org/vocab/cpsv#PublicService> "
        f'FILTER(STRSTARTS(STR(?s), "{prefix}")) }}'
    )
    headers = bearer(token) if token else {}
    response = client.get("/sparql", query_string={"query": query, **params}, headers=headers)
    assert response.status_code == 200, response.data
    return response.json["boolean"]


def request_offer(
    client, token, offer=PPT_OFFER, purpose=SERVICE, start="2026-11-01", end="2027-10-31"
):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/agreements",
        json={"offer": offer, "purpose": purpose, "start": start, "end": end},
        headers=bearer(token),
    )


def test_request_accept_terminate(client, tokens) -> None:
    assert not sees(client, tokens["app"], "flekkefjord-ppt")
    asked = request_offer(client, tokens["app"])
    assert asked.status_code == 201, asked.json
    assert asked.json["status"] == "requested"
    ident = asked.json["id"]
    assert asked.headers["Location"] == f"/api/agreements/{ident}"
    assert not sees(client, tokens["app"], "flekkefjord-ppt")

    other = client.post(f"/api/agreements/{ident}/accept", headers=bearer(tokens["nav"]))
    assert other.status_code == 403
    accepted = client.post(f"/api/agreements/{ident}/accept", headers=bearer(tokens["flekkefjord"]))
    assert accepted.status_code == 200 and accepted.json["status"] == "active"
    assert sees(client, tokens["app"], "flekkefjord-ppt")
    assert not sees(client, None, "flekkefjord-ppt")
    assert not sees(client, tokens["helsenorge"], "flekkefjord-ppt")

    again = client.post(f"/api/agreements/{ident}/accept", headers=bearer(tokens["flekkefjord"]))
    assert again.status_code == 409
    ended = client.post(f"/api/agreements/{ident}/terminate", headers=bearer(tokens["app"]))
    assert ended.status_code == 200 and ended.json["status"] == "terminated"
    assert not sees(client, tokens["app"], "flekkefjord-ppt")

    rdf = client.get(
        f"/api/agreements/{ident}", headers={**bearer(tokens["app"]), "Accept": "text/turtle"}
    )
    text = rdf.data.decode()
    for state in ("eti:requested", "eti:active", "eti:terminated"):
        assert state in text, f"transition to {state} is not recorded"
    assert "prov:wasAssociatedWith" in text and "prov:endedAtTime" in text


def test_open_offer_is_accepted_at_once(client, tokens) -> None:
    response = request_offer(
        client, tokens["app"], offer="https://eti.example/offers/nav-omsorgspenger"
    )
    assert response.status_code == 201, response.json
    assert response.json["status"] == "active"


def test_refused_request_opens_nothing(client, tokens) -> None:
    ident = request_offer(client, tokens["app"]).json["id"]
    refused = client.post(f"/api/agreements/{ident}/refuse", headers=bearer(tokens["flekkefjord"]))
    assert refused.json["status"] == "refused"
    assert not sees(client, tokens["app"], "flekkefjord-ppt")
    listing = client.get("/api/agreements", headers=bearer(tokens["app"])).json["agreements"]
    assert {a["status"] for a in listing} >= {"refused", "active", "expired"}


BAD = [
    ("unknown offer", {"offer": "https://eti.example/offers/nope"}, 404),
    ("purpose not offered", {"purpose": RESEARCH}, 422),
    ("malformed purpose", {"purpose": "service provision"}, 400),
    ("not a DPV purpose", {"purpose": "https://example.org/purpose"}, 400),
    ("malformed period", {"start": "1 November"}, 400),
    ("period backwards", {"start": "2027-01-01", "end": "2026-01-01"}, 400),
    ("missing end", {"end": None}, 400),
]


@pytest.mark.parametrize(("case", "change", "status"), BAD, ids=[b[0] for b in BAD])
def test_bad_requests_change_nothing(client, tokens, catalogue, case, change, status) -> None:
    body = {"offer": PPT_OFFER, "purpose": SERVICE, "start": "2026-11-01", "end": "2027-10-31"}
    body.update(change)
    before = dump(catalogue)
    response = client.post("/api/agreements", json=body, headers=bearer(tokens["app"]))
    assert response.status_code == status, response.json
    assert response.json["detail"]
    assert dump(catalogue) == before


def test_overlapping_active_agreement_is_409(client, tokens, catalogue) -> None:
    before = dump(catalogue)
    # the demo's family app already holds an active agreement on pårørendestøtte
    response = request_offer(
        client, tokens["app"], offer="https://eti.example/offers/flekkefjord-parorendestotte"
    )
    assert response.status_code == 409
    assert dump(catalogue) == before


def test_request_overlapping_an_agreement_that_ran_out_is_409_not_422(
    client, tokens, catalogue
) -> None:
    """An agreement stored active whose period is over still blocks an overlapping one.

    The lifecycle used to skip it (it is effectively expired) while the AgreementNoOverlap
    shape counted it, so the request was refused with a SHACL report instead of a 409
    that names the agreement and its dates.
    """
    past = request_offer(client, tokens["app"], start="2026-01-01", end="2026-06-30").json["id"]
    accepted = client.post(f"/api/agreements/{past}/accept", headers=bearer(tokens["flekkefjord"]))
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["status"] == "expired"  # stored active, period over
    before = dump(catalogue)
    overlapping = request_offer(client, tokens["app"], start="2026-06-01", end="2027-05-31")
    assert overlapping.status_code == 409, overlapping.json
    assert past in overlapping.json["detail"] and "2026-06-30" in overlapping.json["detail"]
    assert dump(catalogue) == before
    after = request_offer(client, tokens["app"], start="2026-07-01", end="2027-06-30")
    assert after.status_code == 201, after.json


def test_only_channels_request_and_only_json(client, tokens) -> None:
    assert request_offer(client, tokens["flekkefjord"]).status_code == 403
    assert client.post("/api/agreements", json={}).status_code == 401
    wrong = client.post(
        "/api/agreements",
        data="offer=x",
        headers={**bearer(tokens["app"]), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert wrong.status_code == 415


def test_agreements_of_others_are_invisible(client, tokens) -> None:
    ident = request_offer(client, tokens["app"]).json["id"]
    assert (
        client.get(f"/api/agreements/{ident}", headers=bearer(tokens["helsenorge"])).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/agreements/{ident}/terminate", headers=bearer(tokens["helsenorge"])
        ).status_code
        == 404
    )


# --- enforcement over every way of naming graphs ------------------------------------------

CONTENT = "urn:eti:graph:content:flekkefjord-parorendestotte"
PREFIX = "https://eti.example/products/flekkefjord-parorendestotte/services/"
FORMS = {
    "default graph": (
        "ASK {{ ?s a <http://purl.org/vocab/cpsv#PublicService> "
        'FILTER(STRSTARTS(STR(?s), "{p}")) }}',
        {},
    ),
    "FROM": ("ASK FROM <{g}> {{ ?s ?p ?o }}", {}),
    "FROM NAMED + GRAPH ?g": ("ASK FROM NAMED <{g}> {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
    "GRAPH <iri>": ("ASK {{ GRAPH <{g}> {{ ?s ?p ?o }} }}", {}),
    "GRAPH ?g": ("ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g = <{g}>) }}", {}),
    "default-graph-uri": ("ASK {{ ?s ?p ?o }}", {"default-graph-uri": CONTENT}),
    "named-graph-uri": ("ASK {{ GRAPH ?g {{ ?s ?p ?o }} }}", {"named-graph-uri": CONTENT}),
    "property path": (
        "ASK {{ ?s (<http://data.europa.eu/m8g/hasLegalResource>|"
        "<http://data.europa.eu/m8g/holdsRequirement>)+ ?o "
        'FILTER(STRSTARTS(STR(?s), "{p}")) }}',
        {},
    ),
    "DESCRIBE": None,
}


def _describe(client, token) -> bool:  # type: ignore[no-untyped-def]
    query = f'DESCRIBE ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{PREFIX}")) }}'
    response = client.get(
        "/sparql",
        query_string={"query": query},
        headers={**(bearer(token) if token else {}), "Accept": "application/n-triples"},
    )
    return bool(response.data.strip())


def _expired(client, tokens, catalogue) -> str:  # type: ignore[no-untyped-def]
    """A channel whose agreement on the product ended last year."""
    from eti.catalogue import agreements

    helsenorge = Identity(role="channel", channel=HELSENORGE)
    agreement = agreements.request(
        catalogue.store,
        helsenorge,
        offer="https://eti.example/offers/flekkefjord-parorendestotte",
        purpose=SERVICE,
        start="2025-01-01",
        end="2025-12-31",
    )
    agreements.transition(
        catalogue.store, Identity(role="steward", org=FLEKKEFJORD), agreement.ident, "accept"
    )
    return tokens["helsenorge"]


@pytest.mark.parametrize("form", list(FORMS))
def test_every_graph_naming_form_is_confined(client, tokens, catalogue, form) -> None:
    cases = {
        "with agreement": (tokens["app"], True),
        "anonymous": (None, False),
        "without agreement": (
            TokenTable(catalogue.store).create(
                "channel", channel="https://eti.example/channels/nav-no"
            )[1],
            False,
        ),
    }
    terminated = request_offer(client, tokens["app"], offer=PPT_OFFER).json["id"]
    client.post(f"/api/agreements/{terminated}/accept", headers=bearer(tokens["flekkefjord"]))
    client.post(f"/api/agreements/{terminated}/terminate", headers=bearer(tokens["app"]))
    cases["expired agreement"] = (_expired(client, tokens, catalogue), False)
    for label, (token, expected) in cases.items():
        if FORMS[form] is None:
            got = _describe(client, token)
        else:
            template, params = FORMS[form]
            got = sees(client, token, "", template.format(g=CONTENT, p=PREFIX), **params)
        assert got is expected, f"{form}, {label}"
    # and a terminated agreement closes what it opened (PPT for the family app)
    assert not sees(client, tokens["app"], "flekkefjord-ppt")


def test_purpose_narrows_the_view(catalogue) -> None:
    app = Identity(role="channel", channel=APP)
    assert CONTENT in catalogue.view_for(app)
    assert CONTENT in catalogue.view_for(app, purpose=SERVICE)
    assert CONTENT not in catalogue.view_for(app, purpose=RESEARCH)
    assert catalogue.access(app).agreements[0].target.endswith("flekkefjord-parorendestotte")


def test_expired_demo_agreement_reads_as_expired(client, tokens) -> None:
    listing = client.get("/api/agreements", headers=bearer(tokens["app"])).json["agreements"]
    statped = [a for a in listing if a["target"].endswith("statped-tjenester")]
    assert statped and statped[0]["status"] == "expired"
    assert date.fromisoformat(statped[0]["end"]) < date(2026, 11, 22)


def test_a_steward_sees_only_its_organisations_agreements(client, tokens, catalogue) -> None:
    listing = client.get("/api/agreements", headers=bearer(tokens["flekkefjord"])).json
    owners = {a["assigner"] for a in listing["agreements"]}
    assert owners == {"https://data.brreg.no/enhetsregisteret/api/enheter/" + FLEKKEFJORD}
    nav = Identity(role="steward", org=NAV)
    graphs = catalogue.view_for(nav)
    assert "urn:eti:graph:agreement:nav-no-nav-pleiepenger" in graphs
    assert "urn:eti:graph:agreement:familieapp-flekkefjord-parorendestotte" not in graphs


def test_answers_carry_the_duties_of_the_agreements_they_draw_on(client, tokens) -> None:
    query = "ASK { ?s ?p ?o }"
    with_agreement = client.get(
        "/sparql", query_string={"query": query}, headers=bearer(tokens["app"])
    )
    duties = with_agreement.headers["ETI-Duties"]
    assert "<https://eti.example/products/flekkefjord-parorendestotte>" in duties
    assert "attribute" in duties and "refresh=P1D" in duties
    assert 'rel="http://www.w3.org/ns/odrl/2/hasPolicy"' in with_agreement.headers["Link"]
    anonymous = client.get("/sparql", query_string={"query": query})
    assert "ETI-Duties" not in anonymous.headers
    other_purpose = client.get(
        "/sparql", query_string={"query": query, "purpose": RESEARCH}, headers=bearer(tokens["app"])
    )
    assert "ETI-Duties" not in other_purpose.headers


def test_a_channel_with_hundreds_of_agreements_got_headers_no_client_reads(
    client, tokens, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """At 100,000 products the channel with the most agreements (494 in force) got no
    answer at all: its duty headers were 140 kB, and ``requests`` (http.client) gives up
    on a header line over 64 kB (haproxy on 16 kB of headers, nginx's default on 4 kB).
    Past ``HEADER_BUDGET`` the headers name the caller's agreement list, which carries
    each agreement's duties. (The budget is made small here: the demo has few agreements.)"""
    from eti.server import agreements as duty

    query = "ASK { ?s ?p ?o }"
    full = client.get("/sparql", query_string={"query": query}, headers=bearer(tokens["app"]))
    assert (
        "<https://eti.example/products/flekkefjord-parorendestotte>" in full.headers["ETI-Duties"]
    )
    monkeypatch.setattr(duty, "HEADER_BUDGET", 200)
    short = client.get("/sparql", query_string={"query": query}, headers=bearer(tokens["app"]))
    assert short.status_code == 200
    duties, link = short.headers["ETI-Duties"], short.headers["Link"]
    assert len("ETI-Duties" + duties + "Link" + link) <= 200
    assert duties.startswith("agreements=") and "list=</api/agreements>" in duties
    assert link == '</api/agreements>; rel="http://www.w3.org/ns/odrl/2/hasPolicy"'
    listing = client.get("/api/agreements", headers=bearer(tokens["app"])).json["agreements"]
    opened = [a for a in listing if a["target"].endswith("flekkefjord-parorendestotte")]
    actions = {d["action"].rsplit("/", 1)[-1] for a in opened for d in a["duties"]}
    assert "attribute" in actions
    assert int(duties.split(";")[0].split("=")[1]) == sum(
        1 for a in listing if a["status"] == "active"
    )


def test_purpose_travels_with_a_sparql_request(client, tokens) -> None:
    assert sees(client, tokens["app"], "flekkefjord-parorendestotte")
    assert not sees(client, tokens["app"], "flekkefjord-parorendestotte", purpose=RESEARCH)
    ask = (
        "ASK { ?s a <http://purl.org/vocab/cpsv#PublicService> "
        'FILTER(CONTAINS(STR(?s), "flekkefjord-parorendestotte")) }'
    )
    by_header = client.get(
        "/sparql",
        query_string={"query": ask},
        headers={**bearer(tokens["app"]), "ETI-Purpose": RESEARCH},
    )
    assert by_header.json["boolean"] is False
    bad = client.get(
        "/sparql",
        query_string={"query": "ASK {}", "purpose": "research"},
        headers=bearer(tokens["app"]),
    )
    assert bad.status_code == 400


# --- 403 for another organisation, purpose and duties on every read ----------------------


def test_another_organisations_steward_accepting_is_403_not_404(client, tokens, catalogue) -> None:
    """``act`` looked the agreement up among the caller's own first, so a steward of
    another organisation got 404 where the issue asks 403; a channel that is not the
    assignee still gets 404 (it learns nothing of others' agreements)."""
    ident = request_offer(client, tokens["app"]).json["id"]
    before = dump(catalogue)
    for action in ("accept", "refuse", "terminate"):
        response = client.post(f"/api/agreements/{ident}/{action}", headers=bearer(tokens["nav"]))
        assert response.status_code == 403, (action, response.json)
        assert FLEKKEFJORD in response.json["detail"]
    stranger = client.post(f"/api/agreements/{ident}/accept", headers=bearer(tokens["helsenorge"]))
    assert stranger.status_code == 404
    assert client.post(
        "/api/agreements/nope/accept", headers=bearer(tokens["nav"])
    ).status_code == (404)
    assert dump(catalogue) == before


def _gsp(client, token: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.get(
        "/data",
        query_string={"graph": CONTENT},
        headers={**bearer(token), "Accept": "application/n-triples", **headers},
    )


def test_purpose_is_honoured_on_graph_store_reads(client, tokens) -> None:
    """GSP reads judged the view without the purpose: content granted only for
    ServiceProvision was served for ResearchAndDevelopment."""
    research = _gsp(client, tokens["app"], **{"ETI-Purpose": RESEARCH})
    assert research.status_code == 404
    assert "ETI-Duties" not in research.headers
    service = _gsp(client, tokens["app"], **{"ETI-Purpose": SERVICE})
    assert service.status_code == 200 and PREFIX.encode() in service.data
    by_parameter = client.get(
        "/data",
        query_string={"graph": CONTENT, "purpose": RESEARCH},
        headers=bearer(tokens["app"]),
    )
    assert by_parameter.status_code == 404
    dump_research = client.get(
        "/data",
        query_string={"purpose": RESEARCH},
        headers={**bearer(tokens["app"]), "Accept": "application/n-quads"},
    )
    assert dump_research.status_code == 200
    assert f"<{CONTENT}>".encode() not in dump_research.data
    dump_service = client.get(
        "/data", headers={**bearer(tokens["app"]), "Accept": "application/n-quads"}
    )
    assert f"<{CONTENT}>".encode() in dump_service.data
    assert "flekkefjord-parorendestotte" in dump_service.headers["ETI-Duties"]


PUBLIC_SERVICE = b"<http://purl.org/vocab/cpsv#PublicService>"


def _product(client, token: str, purpose: str | None):  # type: ignore[no-untyped-def]
    headers = {**bearer(token), "Accept": "application/n-triples"}
    if purpose:
        headers["ETI-Purpose"] = purpose
    return client.get("/api/products/flekkefjord-parorendestotte", headers=headers)


def test_purpose_is_honoured_on_product_reads(client, tokens) -> None:
    """``product_triples`` judged the view without the purpose."""
    research = _product(client, tokens["app"], RESEARCH)
    assert research.status_code == 200
    assert PUBLIC_SERVICE not in research.data  # the description only
    assert b"dprod/DataProduct" in research.data
    assert "ETI-Duties" not in research.headers
    service = _product(client, tokens["app"], SERVICE)
    assert PUBLIC_SERVICE in service.data
    summary = client.get(
        "/api/products/flekkefjord-parorendestotte",
        query_string={"purpose": RESEARCH},
        headers=bearer(tokens["app"]),
    ).json
    assert summary["triples"] < len(service.data.strip().splitlines())


def test_reads_with_agreed_content_carry_its_duties(client, tokens) -> None:
    """ETI-Duties and Link were on /sparql only."""
    answers = {
        "graph store": _gsp(client, tokens["app"]),
        "product": _product(client, tokens["app"], None),
        "situation": client.get(
            "/api/situation", query_string={"municipality": "4207"}, headers=bearer(tokens["app"])
        ),
    }
    product = "<https://eti.example/products/flekkefjord-parorendestotte>"
    for name, response in answers.items():
        assert response.status_code == 200, name
        duties = response.headers.get("ETI-Duties", "")
        assert duties.startswith(product) and "attribute" in duties, name
        assert "refresh=P1D" in duties, name
        assert 'rel="http://www.w3.org/ns/odrl/2/hasPolicy"' in response.headers["Link"], name
    # content read without an agreement carries none
    assert "ETI-Duties" not in _product(client, tokens["helsenorge"], None).headers
    assert "ETI-Duties" not in client.get("/api/products/nav-pleiepenger").headers


def test_graph_store_and_product_reads_log_their_purpose(client, tokens, caplog) -> None:
    import json
    import logging

    caplog.set_level(logging.INFO, logger="eti.server")
    _gsp(client, tokens["app"], **{"ETI-Purpose": SERVICE})
    _product(client, tokens["app"], RESEARCH)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "eti.server"]
    logged = {line["path"]: line.get("purpose") for line in lines if "path" in line}
    assert logged["/data"] == SERVICE
    assert logged["/api/products/flekkefjord-parorendestotte"] == RESEARCH


def test_open_content_is_readable_through_the_graph_store(client) -> None:
    """The graph store judged visibility by the view's graph list, from which open content
    is left out (it is read through the open graph), so open content answered 404."""
    graph = "urn:eti:graph:content:nav-pleiepenger"
    response = client.get(
        "/data", query_string={"graph": graph}, headers={"Accept": "application/n-triples"}
    )
    assert response.status_code == 200 and PUBLIC_SERVICE in response.data


def test_terminating_an_agreement_whose_product_was_withdrawn_was_422(client, tokens) -> None:
    """A channel must be able to end an agreement after the product left the catalogue
    (found by the feed's follower: the shapes refused the transition with a 422)."""
    asked = request_offer(client, tokens["app"])
    ident = asked.json["id"]
    accepted = client.post(f"/api/agreements/{ident}/accept", headers=bearer(tokens["flekkefjord"]))
    assert accepted.status_code == 200, accepted.json
    gone = client.delete("/api/products/flekkefjord-ppt", headers=bearer(tokens["flekkefjord"]))
    assert gone.status_code in (200, 204), gone.data
    ended = client.post(f"/api/agreements/{ident}/terminate", headers=bearer(tokens["app"]))
    assert ended.status_code == 200, ended.data.decode()
    assert ended.json["status"] == "terminated"
    assert not sees(client, tokens["app"], "flekkefjord-ppt")
