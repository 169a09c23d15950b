"""/metrics: Prometheus text exposition of requests by route and status, query latency,
timeouts, truncations and rejected requests; thread-safe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

import pytest

from eti.server.metrics import BUCKETS, Metrics

LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')
SAMPLE = re.compile(r'^([a-z_]+)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|\+Inf)$')


@pytest.fixture(scope="module")
def client(demo_app):  # type: ignore[no-untyped-def]
    return demo_app.client


def scrape(client) -> dict[str, float]:  # type: ignore[no-untyped-def]
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.data.decode())


def parse(text: str) -> dict[str, float]:
    """The samples of an exposition by name and labels; every sample of a declared family."""
    samples: dict[str, float] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name = match.group(1)
        assert re.sub(r"_(bucket|sum|count)$", "", name) in typed or name in typed, name
        samples[canonical(name + (match.group(2) or ""))] = float(
            match.group(3).replace("+Inf", "inf")
        )
    return samples


def canonical(key: str) -> str:
    """A sample's name with its labels in one order (the exposition's order of labels
    carries no meaning: prometheus-client writes them sorted)."""
    name, _, labels = key.partition("{")
    pairs = sorted(LABEL.findall(labels))
    return name + ("{" + ",".join(f'{k}="{v}"' for k, v in pairs) + "}" if pairs else "")


def get(samples: dict[str, float], key: str) -> float:
    return samples.get(canonical(key), 0.0)


def test_requests_by_route_method_and_status(client) -> None:
    key = 'eti_http_requests_total{route="/healthz",method="GET",status="200"}'
    before = get(scrape(client), key)
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/page")
    after = scrape(client)
    assert get(after, key) == before + 3
    assert get(after, 'eti_http_requests_total{route="(unmatched)",method="GET",status="404"}') >= 1


def test_query_latency_histogram(client) -> None:
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"})
    response.get_data()
    response.close()  # the latency is observed when the streamed body is done
    samples = scrape(client)
    buckets = [
        get(samples, f'eti_sparql_query_duration_seconds_bucket{{form="SELECT",le="{b:g}"}}')
        for b in BUCKETS
    ]
    total = get(samples, 'eti_sparql_query_duration_seconds_bucket{form="SELECT",le="+Inf"}')
    assert total >= 1
    assert buckets == sorted(buckets) and buckets[-1] <= total
    assert get(samples, 'eti_sparql_query_duration_seconds_count{form="SELECT"}') == total
    assert get(samples, 'eti_sparql_query_duration_seconds_sum{form="SELECT"}') > 0


def test_rejections_by_reason(client) -> None:
    before = scrape(client)
    client.post("/update", data="CLEAR ALL", content_type="application/sparql-update")
    client.get(
        "/sparql",
        query_string={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"},
    )
    client.post("/sparql", data=b"#" * (20 * 1024 * 1024), content_type="application/sparql-query")
    after = scrape(client)
    for reason in ("unauthorized", "service_refused", "too_large"):
        key = f'eti_rejected_requests_total{{reason="{reason}"}}'
        assert get(after, key) == get(before, key) + 1, reason


def test_truncations_are_counted(client) -> None:
    catalogue = client.application.extensions["eti"]
    key = "eti_sparql_truncated_answers_total"
    before = get(scrape(client), key)
    limit, catalogue.settings.max_rows = catalogue.settings.max_rows, 2
    try:
        client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    finally:
        catalogue.settings.max_rows = limit
    assert get(scrape(client), key) == before + 1


def test_the_registry_is_thread_safe() -> None:
    metrics = Metrics()
    rendered: list[str] = []

    def hammer() -> None:
        for i in range(2000):
            metrics.request_started()
            metrics.request_done("/sparql", "GET", 200)
            metrics.request_closed("/sparql", 0.001 * (i % 50))
            metrics.query_done("SELECT", 0.01)
            metrics.timeout()
            if i % 500 == 0:
                rendered.append(metrics.render())

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    text = metrics.render()
    key = 'eti_http_requests_total{route="/sparql",method="GET",status="200"}'
    assert get(parse(text), key) == 16000
    assert "eti_sparql_query_timeouts_total 16000" in text
    assert 'eti_sparql_query_duration_seconds_count{form="SELECT"} 16000' in text
    assert "eti_http_requests_in_flight 0" in text
    assert len(rendered) == 32


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.reject('a "quoted"\\reason\n')
    assert r'eti_rejected_requests_total{reason="a \"quoted\"\\reason\n"} 1' in metrics.render()


RECORD = """
from eti.server.metrics import Metrics
metrics = Metrics()
metrics.request_done("/sparql", "GET", 200)
metrics.query_done("SELECT", 0.2)
"""
RENDER = "import sys; from eti.server.metrics import Metrics; sys.stdout.write(Metrics().render())"


def test_several_worker_processes_answer_as_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With PROMETHEUS_MULTIPROC_DIR set (prometheus-client's multiprocess mode), /metrics
    sums what every worker process counted, not only the scraped one's."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two worker processes, each counting one request and one query
        subprocess.run([sys.executable, "-c", RECORD], env=env, check=True, timeout=60)
    text = subprocess.run(
        [sys.executable, "-c", RENDER], env=env, check=True, timeout=60, capture_output=True
    ).stdout.decode()
    samples = parse(text)
    assert get(samples, 'eti_http_requests_total{route="/sparql",method="GET",status="200"}') == 2
    assert get(samples, 'eti_sparql_query_duration_seconds_count{form="SELECT"}') == 2
    assert get(samples, 'eti_sparql_query_duration_seconds_bucket{form="SELECT",le="0.25"}') == 2
