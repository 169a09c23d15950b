"""SERVICE, LOAD and nesting decided on the text as the engine reads it (issue 14, part 2).

The old check was a hand-written lexer that did not resolve ``\\u`` escapes nor read a
local name's ``\\#``: either made it read the rest of the line as a comment, and the
engine then called any URL, loaded any URL, or recursed past its stack. Each test runs
against a real ``eti serve``, on the embedded store and over a real ``oxigraph serve``,
with a loopback HTTP server that records every request it gets.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import BIN, RecordingServer, prepare_store, start_oxigraph, start_server, stop

SOLUTIONS = "application/sparql-results+json"


@pytest.fixture
def recorder() -> Iterator[RecordingServer]:
    server = RecordingServer(b'{"head":{"vars":[]},"results":{"bindings":[]}}', SOLUTIONS)
    yield server
    server.close()


@pytest.fixture(scope="module", params=["embedded", "remote"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """(URL, admin headers) of an ``eti serve`` over the demo, on each store kind."""
    root: Path = tmp_path_factory.mktemp(f"tricks-{request.param}")
    remote = None
    store_url = None
    if request.param == "remote":
        store_url, remote = start_oxigraph(root / "oxigraph")
    tokens = prepare_store(root / "store", store_url=store_url)
    url, proc = start_server(root / "store", store_url=store_url)
    yield url, {"Authorization": f"Bearer {tokens['admin']}"}
    stop(proc)
    if remote is not None:
        stop(remote)


def _query(url: str, text: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(
        url + "/sparql",
        data=text.encode(),
        headers={
            "Content-Type": "application/sparql-query",
            "Accept": "application/sparql-results+json",
            **(headers or {}),
        },
        timeout=60,
    )


HIDE_BY_ESCAPE = "?s <http://e/#\\u0041> ?o ."  # the old lexer read the rest as a comment
HIDE_BY_LOCAL = "?s ex:a\\#b ?o ."  # likewise


@pytest.mark.parametrize(
    "body",
    [
        f"{HIDE_BY_ESCAPE} SERVICE <{{target}}> {{{{ ?s ?p ?o }}}}",
        f"{HIDE_BY_LOCAL} SERVICE <{{target}}> {{{{ ?s ?p ?o }}}}",
        f"{HIDE_BY_LOCAL} SERVICE <http\\u003A//{{host}}/> {{{{ ?s ?p ?o }}}}",
        f"{HIDE_BY_LOCAL} BIND(<{{target}}> AS ?e) SERVICE ?e {{{{ ?s ?p ?o }}}}",
        f"{HIDE_BY_LOCAL} {{{{ SELECT * WHERE {{{{ SERVICE <{{target}}> {{{{ ?s ?p ?o }}}} }}}} }}}}",
        f"{HIDE_BY_LOCAL} FILTER EXISTS {{{{ SERVICE <{{target}}> {{{{ ?s ?p ?o }}}} }}}}",
        # a lexer reads <'> as an IRI and the rest of the line as a string; the engine
        # reads '<', a literal '>' and code: no lexer state can be trusted
        "?s ?p ?o FILTER(?o<'>' && ?o != 'x') SERVICE <{target}> {{ ?s ?p ?o }} # '\n",
    ],
    ids=[
        "u-escape",
        "local-name-hash",
        "escaped-iri",
        "variable",
        "subquery",
        "filter-exists",
        "comparison-read-as-iri",
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_a_service_hidden_from_the_text_scan_reaches_no_server(
    served, recorder: RecordingServer, body: str, who: str
) -> None:
    url, admin = served
    host = recorder.url.split("/")[2]
    where = body.format(target=recorder.url, host=host)
    text = f"PREFIX ex: <http://e/> SELECT * WHERE {{ {where} }}"
    response = _query(url, text, admin if who == "admin" else None)
    assert response.status_code == 400, response.text
    assert "SERVICE" in response.text
    assert recorder.paths == []


@pytest.mark.parametrize("hide", [HIDE_BY_ESCAPE, HIDE_BY_LOCAL])
def test_a_load_hidden_from_the_text_scan_is_refused_and_fetches_nothing(
    served, recorder: RecordingServer, hide: str
) -> None:
    url, admin = served
    triple = hide.replace("?s", "<urn:x:s>").replace("?o", "1")
    update = (
        f"PREFIX ex: <http://e/> INSERT DATA {{ GRAPH <urn:x:g> {{ {triple} }} }} ;\n"
        f"LOAD <{recorder.url}x.ttl> INTO GRAPH <urn:x:loaded>"
    )
    response = requests.post(
        url + "/update",
        data=update.encode(),
        headers={"Content-Type": "application/sparql-update", **admin},
        timeout=60,
    )
    assert response.status_code == 400, response.text
    assert "LOAD" in response.text
    assert recorder.paths == []


@pytest.mark.parametrize("hide", [HIDE_BY_ESCAPE, HIDE_BY_LOCAL])
def test_nesting_hidden_from_the_depth_guard_is_refused_and_the_server_keeps_answering(
    served, hide: str
) -> None:
    url, _ = served
    text = f"PREFIX ex: <http://e/> SELECT * WHERE {{ {hide} " + "{" * 5000 + "}" * 5000 + " }"
    for _ in range(3):  # the old guard let each of these crash a query worker
        response = _query(url, text)
        assert response.status_code == 400, response.text
        assert "levels deep" in response.text
    assert _query(url, "ASK {}").json()["boolean"] is True


@pytest.mark.parametrize("all_graphs", [False, True])
def test_eti_query_refuses_a_hidden_service_too(
    tmp_path: Path, recorder: RecordingServer, all_graphs: bool
) -> None:
    """The command line is a door like the others: ``eti query`` (also ``--all-graphs``,
    which ran the text on the store unchecked) refuses with exit code 2."""
    store = tmp_path / "store"
    prepare_store(store, demo=False)
    text = (
        f"PREFIX ex: <http://e/> SELECT * WHERE {{ {HIDE_BY_LOCAL} SERVICE <{recorder.url}> {{}} }}"
    )
    args = [str(BIN / "eti"), "query", "--store", str(store), text]
    done = subprocess.run(
        args + (["--all-graphs"] if all_graphs else []), capture_output=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert b"SERVICE" in done.stderr
    assert recorder.paths == []
