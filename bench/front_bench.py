"""Per-request overhead (issue 16): a trivial ``ASK {}`` and a cached answer over HTTP,
``eti serve`` (each front: granian, gunicorn) against ``oxigraph serve`` on the same data.

    python bench/front_bench.py [--seconds 5] [--rounds 3] [--connections 8] [--work DIR]

The demo catalogue is loaded into an embedded store (``eti serve --demo-if-empty``) and
its dump into ``oxigraph load``; every server runs on loopback. Each round runs ``wrk``
(GET, ``--latency``) once against every server in turn, so a ratio compares runs made
moments apart on the same machine; the rows give the median over the rounds with
[min–max]. ``run_front`` returns the rows (the ``bench/run.py`` row format) and the raw
runs; this script prints them and writes ``bench/results/front.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers import Server, _wait_ready, free_port, start_oxigraph, tool  # noqa: E402

TRIVIAL = "ASK {}"
# A small answer read from data: kept by the answer cache (and the lean path) on eti serve,
# evaluated on every request by oxigraph serve.
CACHED = (
    "PREFIX dcat: <http://www.w3.org/ns/dcat#> "
    "SELECT ?theme (COUNT(*) AS ?n) WHERE { ?d dcat:theme ?theme } GROUP BY ?theme"
)
ACCEPT = "application/sparql-results+json"
FRONTS = ("granian", "gunicorn")
GOAL = 0.5


def start_eti_front(store: Path, logdir: Path, front: str) -> Server:
    """``eti serve --demo-if-empty`` with ``server = front``."""
    port = free_port()
    log = logdir / f"eti-{front}.log"
    process = subprocess.Popen(
        [tool("eti"), "serve", "--store", str(store), "--port", str(port), "--demo-if-empty"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "ETI_LOG_LEVEL": "WARNING", "ETI_SERVER": front},
    )
    base = f"http://127.0.0.1:{port}"
    server = Server(f"eti ({front})", process, base + "/sparql", base, log)
    return _wait_ready(
        server, lambda: requests.get(base + "/healthz", timeout=30).status_code == 200, 180
    )


def wrk(url: str, seconds: float, connections: int) -> dict:
    """One ``wrk`` run of GETs: answers per second (2xx only), p50 and p99 in ms."""
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-H",
            f"Accept: {ACCEPT}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out)[1])
    took = float(re.search(r"requests in ([\d.]+)s", out)[1])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad[1]) if bad else 0
    return {
        "throughput": round((total - errors) / took, 1),
        "errors": errors,
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", out)[1]),
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", out)[1]),
    }


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return round(float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)


def run_front(
    work: Path, *, seconds: float = 5.0, rounds: int = 3, connections: int = 8
) -> tuple[list[dict], dict]:
    """Measure; returns (rows, raw runs by query and server)."""
    if shutil.which("wrk") is None:
        raise RuntimeError(
            "wrk is not installed (Debian package wrk; make bench-front installs it)"
        )
    servers: list[Server] = []
    try:
        for front in FRONTS:
            servers.append(start_eti_front(work / f"store-{front}", work, front))
        dump = work / "demo.nt"  # what the anonymous caller reads (the store is open)
        _dump_over_http(servers[0], dump)
        subprocess.run(
            [tool("oxigraph"), "load", "--location", str(work / "ox"), "--file", str(dump)],
            check=True,
            capture_output=True,
        )
        servers.append(start_oxigraph(work / "ox", work))
        runs: dict[str, dict[str, list[dict]]] = {}
        for name, text in (("trivial ASK", TRIVIAL), ("cached answer", CACHED)):
            runs[name] = {s.name: [] for s in servers}
            for server in servers:  # warm: the first answer fills the caches
                requests.get(server.url, params={"query": text}, timeout=60).raise_for_status()
            for _ in range(rounds):
                for server in servers:
                    url = f"{server.url}?query={quote(text)}"
                    runs[name][server.name].append(wrk(url, seconds, connections))
        return rows(runs), runs
    finally:
        for server in servers:
            server.stop()


def _dump_over_http(server: Server, path: Path) -> None:
    """Every triple the anonymous caller reads, as N-Triples, for oxigraph load."""
    answer = requests.get(
        server.url,
        params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
        timeout=120,
    )
    answer.raise_for_status()
    if answer.headers.get("ETI-Truncated"):
        raise RuntimeError("the demo's anonymous view is larger than max_rows")
    path.write_bytes(answer.content)


def rows(runs: dict[str, dict[str, list[dict]]]) -> list[dict]:
    """The ``bench/run.py`` rows: per query and front, q/s and p99 against oxigraph serve,
    medians over the rounds with [min–max] and the per-round ratio's median and range."""
    out = []
    for name, by_server in runs.items():
        peer = by_server["oxigraph"]
        for front in FRONTS:
            mine = by_server[f"eti ({front})"]
            ratios = [m["throughput"] / p["throughput"] for m, p in zip(mine, peer, strict=True)]
            ratio = statistics.median(ratios)
            out.append(
                {
                    "metric": f"{name} over HTTP, eti serve ({front}): throughput (q/s)",
                    "eti": _spread([m["throughput"] for m in mine], ".0f"),
                    "peer": "oxigraph serve " + _spread([p["throughput"] for p in peer], ".0f"),
                    "ratio": f"{ratio:.2f}× [{min(ratios):.2f}–{max(ratios):.2f}]",
                    "goal": f"≥ {GOAL}×",
                    "met": "yes" if ratio >= GOAL else "NO",
                    "note": "",
                }
            )
            p99 = statistics.median(m["p99_ms"] for m in mine)
            p99_peer = statistics.median(p["p99_ms"] for p in peer)
            out.append(
                {
                    "metric": f"{name} over HTTP, eti serve ({front}): p99 latency (ms)",
                    "eti": _spread([m["p99_ms"] for m in mine], ".2f"),
                    "peer": "oxigraph serve " + _spread([p["p99_ms"] for p in peer], ".2f"),
                    "ratio": f"{p99 / p99_peer:.2f}×",
                    "goal": "≤ 1.0×",
                    "met": "yes" if p99 <= p99_peer else "NO",
                    "note": "",
                }
            )
    return out


def _spread(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}–{max(values):{fmt}}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eti-front-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        table, runs = run_front(
            work, seconds=args.seconds, rounds=args.rounds, connections=args.connections
        )
    for row in table:
        print(" | ".join(str(row[k]) for k in ("metric", "eti", "peer", "ratio", "goal", "met")))
    out = HERE / "results" / "front.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": table, "runs": runs}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
