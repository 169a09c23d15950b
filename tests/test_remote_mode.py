"""The whole catalogue on a remote SPARQL store: a real ``oxigraph serve`` holds the data,
``eti demo`` fills it and ``eti serve`` answers from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import requests
from conftest import BIN, free_port, start_oxigraph, stop, wait_http


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
