"""Every write door leaves the same provenance (issue 20, item 10): a Graph Store or SPARQL
Update write to a product's graphs gets a catalogue record and a history version, as a
registration does, attributed to the admin who wrote it."""

from __future__ import annotations

from eti.catalogue import registry
from eti.catalogue.auth import TokenTable

PRODUCT = "nav-grunnstonad"
GRAPH = f"urn:eti:graph:product:{PRODUCT}"
TITLE = "http://purl.org/dc/terms/title"


def _admin(catalogue) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    token_id, secret = TokenTable(catalogue.store).create("admin")
    return token_id, {"Authorization": f"Bearer {secret}"}


def test_a_graph_store_write_to_a_product_graph_left_no_record_or_version(
    client, catalogue
) -> None:
    before = registry.get_record(catalogue.store, PRODUCT)
    token_id, auth = _admin(catalogue)
    triples = catalogue.store.triples(GRAPH)
    text = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
    text += f'\n<https://eti.example/products/{PRODUCT}> <http://www.w3.org/ns/dcat#keyword> "rettet"@nn .'
    response = client.put(
        "/data", query_string={"graph": GRAPH}, data=text.encode(),
        headers={**auth, "Content-Type": "text/turtle"},
    )  # fmt: skip
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    after = registry.get_record(catalogue.store, PRODUCT)
    assert after.version == before.version + 1  # (timestamps are whole seconds)
    versions = registry.history(catalogue.store, PRODUCT)
    assert versions[-1].version == after.version
    assert any("rettet" in str(t) for t in versions[-1].added)
    assert versions[-1].agent and token_id in versions[-1].agent


def test_an_update_to_a_product_graph_left_no_record_or_version(client, catalogue) -> None:
    before = registry.get_record(catalogue.store, PRODUCT)
    token_id, auth = _admin(catalogue)
    update = (
        f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <https://eti.example/products/{PRODUCT}> "
        f'<http://www.w3.org/ns/dcat#keyword> "stønad ved sykdom"@nb }} }}'
    )
    response = client.post("/update", data={"update": update}, headers=auth)
    assert response.status_code == 204, response.get_data(as_text=True)
    after = registry.get_record(catalogue.store, PRODUCT)
    assert after.version == before.version + 1
    versions = registry.history(catalogue.store, PRODUCT)
    assert any("stønad ved sykdom" in str(t) for t in versions[-1].added)
    assert token_id in versions[-1].agent


def test_an_update_dropping_a_products_graphs_is_a_withdrawal_on_record(client, catalogue) -> None:
    _, auth = _admin(catalogue)
    content = GRAPH.replace(":product:", ":content:")
    update = f"DROP GRAPH <{GRAPH}> ; DROP GRAPH <{content}>"
    response = client.post("/update", data={"update": update}, headers=auth)
    assert response.status_code == 204, response.get_data(as_text=True)
    record = registry.get_record(catalogue.store, PRODUCT)
    assert record.withdrawn
    assert [v.status for v in registry.history(catalogue.store, PRODUCT)][-1] == "WITHDRAWN"


def test_a_raw_write_may_not_write_history_itself(client, catalogue) -> None:
    _, auth = _admin(catalogue)
    update = (
        f"INSERT DATA {{ GRAPH <urn:eti:graph:history:{PRODUCT}:99> {{ "
        f'<https://eti.example/x> <{TITLE}> "x" }} }}'
    )
    response = client.post("/update", data={"update": update}, headers=auth)
    assert response.status_code == 403
