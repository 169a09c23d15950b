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
