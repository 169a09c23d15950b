"""What a new user tripped over (issue 20): protocol details, wording and hints. Each test
is named after the flaw it pins."""

from __future__ import annotations

from urllib.parse import quote


def test_head_sparql_with_a_query_ran_the_query(app, client, monkeypatch) -> None:
    """HEAD /sparql?query= is 405 with Allow: the Protocol's query operation is GET or POST,
    and a HEAD would owe the status a GET gets, known only after running the query."""
    catalogue = app.extensions["eti"]
    ran = []
    real = catalogue.answer
    monkeypatch.setattr(catalogue, "answer", lambda *a, **k: ran.append(a) or real(*a, **k))
    query = quote("SELECT * WHERE { ?s ?p ?o }")
    head = client.head(f"/sparql?query={query}")
    assert head.status_code == 405
    assert head.headers["Allow"] == "GET, POST"
    assert ran == []
    assert client.get(f"/sparql?query={query}&format=json").status_code == 200
    assert len(ran) == 1
    # without a query, HEAD is the service description's headers, as the GET
    description = client.head("/sparql", headers={"Accept": "text/turtle"})
    assert description.status_code == 200 and description.mimetype == "text/turtle"


LOS = "https://psi.norge.no/los/"


def test_theme_spesialundervisning_had_no_label(client) -> None:
    """Every Los concept a demo product is tagged with has nb, nn and en labels in the
    shipped vocabulary, so facets and SPARQL show a word, not the raw IRI."""
    rows = client.post(
        "/sparql",
        data={
            "query": """
            PREFIX dcat: <http://www.w3.org/ns/dcat#>
            PREFIX cv: <http://data.europa.eu/m8g/>
            PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
            SELECT DISTINCT ?theme (GROUP_CONCAT(DISTINCT LANG(?label)) AS ?langs) WHERE {
              { ?s dcat:theme ?theme } UNION { ?s cv:thematicArea ?theme }
              FILTER(STRSTARTS(STR(?theme), "https://psi.norge.no/los/"))
              OPTIONAL { ?theme skos:prefLabel ?label }
            } GROUP BY ?theme"""
        },
        headers={"Accept": "application/sparql-results+json"},
    ).json["results"]["bindings"]
    langs = {r["theme"]["value"]: set(r["langs"]["value"].split()) for r in rows}
    assert LOS + "ord/spesialundervisning" in langs
    unlabelled = {t for t, found in langs.items() if not {"nb", "nn", "en"} <= found}
    assert unlabelled == set()
    facet = client.get("/api/products", query_string={"per_page": 1}).json["facets"]["theme"]
    label = {v["value"]: v["label"] for v in facet}[LOS + "ord/spesialundervisning"]
    assert label == "Spesialundervisning"


def test_one_dataprodukter_plural_forms(client) -> None:
    """One hit reads "1 dataprodukt" (and "1 data product"), with or without a query."""
    from eti.server import i18n

    page = client.get("/", query_string={"q": "grunnstønad"}).data.decode()
    assert "1 dataprodukt for «grunnstønad»" in page
    page = client.get("/", query_string={"q": "grunnstønad", "lang": "en"}).data.decode()
    assert "1 data product for “grunnstønad”" in page
    with client.application.test_request_context("/?lang=nb"):
        assert i18n.t("product.added", n=1) == "1 trippel lagt til"
        assert i18n.t("product.added", n=2) == "2 tripler lagt til"
        assert i18n.t("days_ago", n=1) == "for 1 dag siden"


def test_agreement_without_purpose_said_purpose_must_be_an_iri(app, client) -> None:
    from eti.catalogue.auth import TokenTable

    token = TokenTable(app.extensions["eti"].store).create(
        "channel", channel="https://eti.example/channels/familieapp"
    )[1]
    answer = client.post(
        "/api/agreements",
        json={"offer": "https://eti.example/offers/flekkefjord-ppt", "start": "2026-12-01"}
        | {"end": "2027-11-30"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400
    assert "purpose is required" in answer.json["detail"], answer.json
    assert "must be an IRI" not in answer.json["detail"]


def test_product_page_contradicts_itself_open_offer_needs_an_agreement(client) -> None:
    """An open-offer product's page shows its content, as the API does, and never says
    it needs an agreement; a closed product's page says so and shows no content."""
    for ident, open_offer in (("nav-pleiepenger", True), ("flekkefjord-ppt", False)):
        page = client.get(f"/products/{ident}?lang=en").data.decode()
        api = client.get(f"/api/products/{ident}", headers={"Accept": "text/turtle"})
        has_content = "PublicService" in api.data.decode()
        assert has_content is open_offer, ident
        assert ("Open offer: anyone may read the content" in page) is open_offer, ident
        assert ("needs an agreement with its owner" in page) is not open_offer, ident
