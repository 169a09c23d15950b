"""SERVICE, LOAD and nesting decided on the text as the engine reads it (issue 14, part 2).

The old check was a hand-written lexer that did not resolve ``\\u`` escapes nor read a
local name's ``\\#``: either made it read the rest of the line as a comment, and the
engine then called any URL, loaded any URL, or recursed past its stack. Each test runs
against a real ``eti serve``, on the embedded store and over a real ``oxigraph serve``,
with a loopback HTTP server that records every request it gets.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import prepare_store, start_oxigraph, start_server, stop


class Recorder(http.server.ThreadingHTTPServer):
    """A loopback HTTP server that answers every request with a small Turtle/JSON body
    and records its path."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorder.paths.append(self.path)
                body = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.shutdown()
    server.server_close()


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
    ],
    ids=["u-escape", "local-name-hash", "escaped-iri", "variable", "subquery", "filter-exists"],
)
@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_a_service_hidden_from_the_text_scan_reaches_no_server(
    served, recorder: Recorder, body: str, who: str
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
    served, recorder: Recorder, hide: str
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
