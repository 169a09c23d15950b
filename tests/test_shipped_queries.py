"""Every shipped query (the demo's ``.rq`` files and the README's examples) runs through
the clients a channel uses: SPARQLWrapper, rdflib's SPARQLStore and curl, against a live
``eti serve`` over the demo (issue 20, item 2: SPARQLWrapper sent some as updates, reading
words of their leading comment lines as the query form)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, LiveServer, prepare_store, start_server, stop
from rdflib import Graph
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, SPARQLWrapper

from eti.catalogue import demo

README = (ROOT / "README.md").read_text("utf-8")
SHIPPED = {
    **demo.example_queries(),
    **{
        f"README-{n}": text
        for n, text in enumerate(re.findall(r"```sparql\n(.*?)```", README, re.S), start=1)
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    store_dir = tmp_path_factory.mktemp("shipped") / "store"
    tokens = prepare_store(store_dir)
    url, proc = start_server(store_dir)
    yield LiveServer(url, proc, store_dir, tokens)
    stop(proc)


def rows_by_sparqlwrapper(url: str, token: str, text: str) -> int:
    client = SPARQLWrapper(url + "/sparql")
    client.setReturnFormat(JSON)
    client.addCustomHttpHeader("Authorization", f"Bearer {token}")
    client.setQuery(text)
    assert client.queryType == "SELECT" and not client.isSparqlUpdateRequest()
    return len(client.query().convert()["results"]["bindings"])


def rows_by_sparqlstore(url: str, token: str, text: str) -> int:
    store = SPARQLStore(
        url + "/sparql", returnFormat="json", headers={"Authorization": f"Bearer {token}"}
    )
    return len(list(Graph(store=store).query(text)))


def rows_by_curl(url: str, token: str, text: str, tmp_path: Path) -> int:
    (tmp_path / "q.rq").write_text(text, encoding="utf-8")
    auth = f"Authorization: Bearer {token}"
    accept = "Accept: application/sparql-results+json"
    body = f"query@{tmp_path / 'q.rq'}"
    sparql = url + "/sparql"
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "--fail-with-body",
            "-H",
            auth,
            "-H",
            accept,
            "--data-urlencode",
            body,
            sparql,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return len(json.loads(done.stdout)["results"]["bindings"])


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_queries_run_in_sparqlwrapper_sparqlstore_and_curl(
    server: LiveServer, name: str, tmp_path: Path
) -> None:
    text = SHIPPED[name]
    token = server.tokens["app"]  # the family app: reads Flekkefjord's content too
    counts = {
        "SPARQLWrapper": rows_by_sparqlwrapper(server.url, token, text),
        "SPARQLStore": rows_by_sparqlstore(server.url, token, text),
        "curl": rows_by_curl(server.url, token, text, tmp_path),
    }
    assert len(set(counts.values())) == 1, counts
    assert counts["curl"] > 0, f"{name} answered no rows"


def test_a_shipped_query_was_refused_for_a_comment_that_read_service_colon() -> None:
    """'One row per service: responsible agency' in a description line read, to the
    fail-closed SERVICE check, as ``SERVICE :`` (the /query page's example then failed):
    no shipped query may name an endpoint, in code or in words."""
    from eti.catalogue import queries, sparqlguard

    texts = {**demo.example_queries(), **{n: queries.load(n) for n in queries.names()}}
    for name, text in texts.items():
        if re.search(r"^\s*(INSERT|DELETE|DROP|CLEAR|LOAD|CREATE|WITH)\b", text, re.M | re.I):
            continue  # an update of the catalogue's own: not a query a caller sends
        assert sparqlguard.examine(text).services == [], name
