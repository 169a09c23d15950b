"""The whole catalogue on a remote SPARQL store: a real ``oxigraph serve`` holds the data,
``eti demo`` fills it and ``eti serve`` answers from it."""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

import requests
from conftest import BIN, free_port, start_oxigraph, stop, wait_http

from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.server import create_app


def test_demo_and_serve_over_a_remote_store(tmp_path: Path) -> None:
    store_url, store = start_oxigraph(tmp_path / "oxigraph")
    server = None
    try:
        demo = subprocess.run(
            [str(BIN / "eti"), "demo", "--store-url", store_url],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert demo.returncode == 0, demo.stderr
        token = subprocess.run(
            [
                str(BIN / "eti"),
                "token",
                "create",
                "--role",
                "channel",
                "--channel",
                "https://eti.example/channels/familieapp",
                "--store-url",
                store_url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        port = free_port()
        server = subprocess.Popen(
            [str(BIN / "eti"), "serve", "--store-url", store_url, "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/healthz", server, timeout=60)
        assert requests.get(url + "/healthz", timeout=10).json()["store"] == "remote"
        count = (
            "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE "
            "{ ?p a <https://ekgf.github.io/dprod/DataProduct> }"
        )
        doc = requests.get(url + "/sparql", params={"query": count}, timeout=30).json()
        assert int(doc["results"]["bindings"][0]["n"]["value"]) >= 12
        found = requests.get(url + "/api/products", params={"q": "pleiepengene"}, timeout=30)
        assert [r["id"] for r in found.json()["results"]] == ["nav-pleiepenger"]
        ask = (
            "ASK { ?s a <http://purl.org/vocab/cpsv#PublicService> "
            'FILTER(CONTAINS(STR(?s), "flekkefjord-parorendestotte")) }'
        )
        anonymous = requests.get(url + "/sparql", params={"query": ask}, timeout=30).json()
        agreed = requests.get(
            url + "/sparql",
            params={"query": ask},
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert anonymous["boolean"] is False and agreed["boolean"] is True
    finally:
        if server is not None:
            stop(server)
        stop(store)


def _silent_listener() -> tuple[socket.socket, str, threading.Event]:
    """A loopback port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    done = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        listener.settimeout(0.2)
        while not done.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue
        for conn in held:
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/query", done


def test_a_remote_store_that_hangs_is_a_query_timeout_and_one_that_is_down_a_503(
    tmp_path: Path,
) -> None:
    """Regression: in remote mode a store that never answered became a 500 after the
    requests' own 60 s, and a store error inside a query "400 Query error" (the caller's
    fault); now a silent store is a 503 after ``query_timeout`` and a closed port a 503."""
    listener, silent, done = _silent_listener()
    try:
        settings = Settings.load(env={}, store_url=silent, query_timeout=1)
        app = create_app(settings, Catalogue(settings))
        response = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
        assert response.status_code == 503, response.data
        assert response.headers["Retry-After"]
        assert "sent nothing in time" in response.data.decode()
    finally:
        done.set()
        listener.close()
    closed = f"http://127.0.0.1:{free_port()}/query"
    settings = Settings.load(env={}, store_url=closed, query_timeout=1)
    app = create_app(settings, Catalogue(settings))
    response = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 503, response.data
    assert "does not answer" in response.data.decode()
