"""The channel query mix over HTTP: one query and its answer, the same queries checked
against a reference server, a timed load (``load.py``), a py-spy profile of a server under
load, and rdflib-endpoint's turn (one query at a time, within a budget)."""

from __future__ import annotations

import concurrent.futures as cf
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import load
import mix
import peers
import requests

ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.5"


def ask(server: peers.Server, text: str, name: str | None, timeout: float) -> dict:
    started = time.perf_counter()
    try:
        r = requests.post(
            server.url,
            data=text.encode(),
            headers={"Content-Type": "application/sparql-query", "Accept": ACCEPT},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        return {"status": "no answer", "error": type(exc).__name__, "ms": None}
    took = (time.perf_counter() - started) * 1000
    if r.status_code != 200:
        return {"status": r.status_code, "error": r.text[:200], "ms": round(took, 1)}
    try:
        answer = mix.normalise(name, r.headers.get("Content-Type", ""), r.content)
    except ValueError as exc:
        return {"status": r.status_code, "error": str(exc), "ms": round(took, 1)}
    return {"status": 200, "answer": answer, "ms": round(took, 1)}


def check(reference: dict, server: peers.Server, queries, timeout, workers=8) -> dict:
    """Run ``queries`` on ``server`` and compare with ``reference`` (oxigraph's)."""
    out = {}
    with cf.ThreadPoolExecutor(workers) as pool:
        futures = {
            pool.submit(ask, server, text, name, timeout): (key, name)
            for key, (name, text) in queries.items()
        }
        for future in cf.as_completed(futures):
            key, name = futures[future]
            got = future.result()
            ref = reference.get(key, {})
            same = "answer" in got and "answer" in ref and got["answer"] == ref["answer"]
            out[key] = {
                "query": name,
                "status": got["status"],
                "ms": got["ms"],
                "rows": len(got["answer"][1])
                if "answer" in got and got["answer"][0] != "boolean"
                else None,
                "same": same,
                "error": got.get("error"),
            }
    return out


def drive(
    server: peers.Server,
    bodies: list[str],
    duration: float,
    *,
    connections: int,
    query_timeout: float,
    **kw,
) -> dict:
    result = load.run(
        server.url,
        bodies,
        duration=duration,
        connections=connections,
        accept=ACCEPT,
        timeout=kw.pop("timeout", query_timeout + 20),
        **kw,
    )
    waited = server.wait_idle(limit=query_timeout + 15)
    data = result.to_json()
    data["idle_wait_s"] = round(waited, 1)
    return data


def profile_server(
    server: peers.Server, bodies: list[str], name: str, out: Path, duration: float, **drive_kw
) -> dict:
    """py-spy record of the server process tree while the load runs."""
    spy = shutil.which("py-spy") or str(peers.BIN / "py-spy")
    raw = out / f"profile-{name}.txt"
    svg = out / f"profile-{name}.svg"
    procs = []
    for fmt, path in (("raw", raw), ("flamegraph", svg)):
        procs.append(
            subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(server.pid),
                    "--subprocesses",
                    "--duration",
                    str(int(duration) + 2),
                    "--rate",
                    "50",
                    "--format",
                    fmt,
                    "--output",
                    str(path),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        if fmt == "raw":
            time.sleep(0.5)
    time.sleep(1)
    drive(server, bodies, duration, **drive_kw)
    for p in procs:
        p.wait(timeout=60)
    return {"svg": str(svg), "top": top_frames(raw)}


def rdflib_run(server: peers.Server, checks: dict, reference: dict, budget: float) -> dict:
    """rdflib-endpoint answers one query at a time (its handler blocks the event loop),
    so it gets the queries one by one, cheapest (on oxigraph) first, within a budget;
    each answer is compared with oxigraph's. A query cut off by the budget leaves the
    server busy, so the server is stopped after this."""
    order = sorted(
        (k for k in checks if k != "ask"),
        key=lambda k: reference[k]["ms"] or 1e9,
    )
    started = time.perf_counter()
    done = []
    for key in order:
        left = budget - (time.perf_counter() - started)
        if left <= 1:
            break
        name, text = checks[key]
        got = ask(server, text, name, left)
        ref = reference.get(key, {})
        done.append(
            {
                "key": key,
                "status": got["status"],
                "ms": got["ms"],
                "same": "answer" in got and got.get("answer") == ref.get("answer"),
            }
        )
        if got["status"] == "no answer":
            break
    elapsed = time.perf_counter() - started
    ok = sum(1 for d in done if d["status"] == 200)
    return {
        "budget_s": budget,
        "elapsed_s": round(elapsed, 1),
        "answered": ok,
        "throughput": ok / elapsed if elapsed else 0.0,
        "queries": done,
    }


def top_frames(raw: Path, n: int = 12) -> dict:
    """Own and cumulative shares of the hottest frames of a py-spy raw (collapsed) file."""
    own: Counter = Counter()
    cum: Counter = Counter()
    total = 0
    if not raw.exists():
        return {}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        k = int(count)
        total += k
        frames = stack.split(";")
        own[frames[-1]] += k
        for frame in set(frames):
            cum[frame] += k
    if not total:
        return {}
    return {
        "samples": total,
        "own": [(f, round(c / total, 3)) for f, c in own.most_common(n)],
        "cumulative": [(f, round(c / total, 3)) for f, c in cum.most_common(3 * n)],
    }


def rows_of(answer: dict) -> int | None:
    """Rows of an answer (None for a boolean or a failure)."""
    if "answer" not in answer or answer["answer"][0] == "boolean":
        return None
    return len(answer["answer"][1])
