"""Writes accepted with validation warnings say so: Graph Store PUT/POST and SPARQL Update
keep their protocol status (204/201) and add ``ETI-Warnings: <n>; first="<message>"``."""

from __future__ import annotations

import json

import pytest

GRAPH = "urn:eti:graph:product:flekkefjord-ppt"
PRODUCT = "<https://eti.example/products/flekkefjord-ppt>"
MODIFIED = "<http://purl.org/dc/terms/modified>"
STALE = '"2020-01-01"^^<http://www.w3.org/2001/XMLSchema#date>'


@pytest.fixture
def admin(as_) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return as_("admin")


def stale_product(client, admin) -> str:  # type: ignore[no-untyped-def]
    """The product graph with its dct:modified years older than its monthly updates."""
    text = client.get(
        "/data", query_string={"graph": GRAPH}, headers={**admin, "Accept": "application/n-triples"}
    ).data.decode()
    lines = [
        f"{PRODUCT} {MODIFIED} {STALE} ." if line.startswith(f"{PRODUCT} {MODIFIED} ") else line
        for line in text.splitlines()
        if line.strip()
    ]
    assert f"{PRODUCT} {MODIFIED} {STALE} ." in lines
    return "\n".join(lines)


def warning(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    value = response.headers["ETI-Warnings"]
    count, _, first = value.partition("; first=")
    assert value.isascii()
    return int(count), json.loads(first)


def test_a_graph_store_put_with_warnings_says_so(client, admin) -> None:
    """GSP writes dropped the warnings of the validation they passed."""
    response = client.put(
        "/data",
        query_string={"graph": GRAPH},
        data=stale_product(client, admin),
        content_type="application/n-triples",
        headers=admin,
    )
    assert response.status_code == 204
    count, first = warning(response)
    assert count >= 1 and "flekkefjord-ppt" in first
    clean = client.put(
        "/data",
        query_string={"graph": "https://example.org/notes"},
        data="<urn:x:s> <urn:x:p> 1 .",
        content_type="text/turtle",
        headers=admin,
    )
    assert clean.status_code == 201 and "ETI-Warnings" not in clean.headers


def test_a_graph_store_post_that_merges_into_a_warned_graph_says_so(client, admin) -> None:
    put = client.put(
        "/data",
        query_string={"graph": GRAPH},
        data=stale_product(client, admin),
        content_type="application/n-triples",
        headers=admin,
    )
    assert put.status_code == 204
    response = client.post(
        "/data",
        query_string={"graph": GRAPH},
        data=f'{PRODUCT} <http://www.w3.org/ns/dcat#keyword> "skolehelse"@nb .',
        content_type="application/n-triples",
        headers=admin,
    )
    assert response.status_code == 204
    assert warning(response)[0] >= 1


def test_a_sparql_update_with_warnings_says_so(client, admin) -> None:
    """SPARQL Update dropped the warnings of the validation it passed."""
    update = (
        f"DELETE {{ GRAPH <{GRAPH}> {{ {PRODUCT} {MODIFIED} ?m }} }} "
        f"INSERT {{ GRAPH <{GRAPH}> {{ {PRODUCT} {MODIFIED} {STALE} }} }} "
        f"WHERE {{ GRAPH <{GRAPH}> {{ {PRODUCT} {MODIFIED} ?m }} }}"
    )
    response = client.post("/update", data={"update": update}, headers=admin)
    assert response.status_code == 204, response.data
    count, first = warning(response)
    assert count >= 1 and "flekkefjord-ppt" in first
    clean = client.post(
        "/update",
        data={"update": "INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> 1 } }"},
        headers=admin,
    )
    assert clean.status_code == 204 and "ETI-Warnings" not in clean.headers
