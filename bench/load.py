"""A bounded load driver: wrk (Debian package ``wrk``) with a Lua script for POST bodies,
or, when wrk is not installed, a Python client (threads, keep-alive sessions).

Every run is bounded in time (``duration``) and in count (``max_requests``), sends to
loopback only, and returns throughput (successful answers per second), p50 / p99
latency in milliseconds, and the number of errors (non-2xx, timeouts, broken
connections).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

LUA = r"""
-- bench/load.py: POST one body per line of BENCH_BODIES, in turn, at most BENCH_MAX.
local bodies = {}
local i = 0
local done_count = 0
local max_requests = tonumber(os.getenv("BENCH_MAX") or "0")
local content_type = os.getenv("BENCH_CONTENT_TYPE") or "application/sparql-query"
local accept = os.getenv("BENCH_ACCEPT") or "*/*"
local extra = os.getenv("BENCH_AUTH")

function init(args)
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    bodies[#bodies + 1] = line
  end
end

function request()
  i = i + 1
  local body = bodies[((i - 1) % #bodies) + 1]
  local headers = {}
  headers["Content-Type"] = content_type
  headers["Accept"] = accept
  if extra then headers["Authorization"] = extra end
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  done_count = done_count + 1
  if max_requests > 0 and done_count >= max_requests then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass
class LoadResult:
    tool: str
    requests: int  # answers received (any status)
    ok: int  # 2xx answers
    errors: int  # non-2xx answers, timeouts, broken connections
    seconds: float
    throughput: float  # ok / seconds
    p50_ms: float | None
    p99_ms: float | None

    def to_json(self) -> dict:
        return asdict(self)


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run(
    url: str,
    bodies: list[str],
    *,
    duration: float,
    connections: int = 8,
    max_requests: int = 0,
    content_type: str = "application/sparql-query",
    accept: str = "application/sparql-results+json, application/n-triples;q=0.9, */*;q=0.1",
    timeout: float = 60.0,
    auth: str | None = None,
    tool: str | None = None,
) -> LoadResult:
    """POST ``bodies`` in turn to ``url`` for ``duration`` seconds (or ``max_requests``)."""
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the load driver only sends to loopback, not {host}")
    tool = tool or ("wrk" if have_wrk() else "python")
    if tool == "wrk":
        return _run_wrk(
            url, bodies, duration, connections, max_requests, content_type, accept, timeout, auth
        )
    return _run_python(
        url, bodies, duration, connections, max_requests, content_type, accept, timeout, auth
    )


def _run_wrk(
    url: str,
    bodies: list[str],
    duration: float,
    connections: int,
    max_requests: int,
    content_type: str,
    accept: str,
    timeout: float,
    auth: str | None,
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="eti-bench-") as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(LUA)
        body_file = Path(tmp) / "bodies.txt"
        body_file.write_text("".join(" ".join(b.split()) + "\n" for b in bodies))
        env = {
            **os.environ,
            "BENCH_BODIES": str(body_file),
            "BENCH_MAX": str(max_requests),
            "BENCH_CONTENT_TYPE": content_type,
            "BENCH_ACCEPT": accept,
        }
        if auth:
            env["BENCH_AUTH"] = auth
        cmd = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={max(1, round(timeout))}s",
            "-s",
            str(script),
            url,
        ]
        out = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=duration + timeout + 30
        )
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {out.stdout[-500:]} {out.stderr[-500:]}")
    data = json.loads(line[len("BENCHJSON ") :])
    seconds = data["duration_us"] / 1e6
    broken = data["connect"] + data["read"] + data["write"] + data["timeout"]
    ok = max(0, data["requests"] - data["status"])
    return LoadResult(
        "wrk",
        data["requests"],
        ok,
        data["status"] + broken,
        round(seconds, 3),
        ok / seconds if seconds else 0.0,
        data["p50_us"] / 1000 if data["requests"] else None,
        data["p99_us"] / 1000 if data["requests"] else None,
    )


def _run_python(
    url: str,
    bodies: list[str],
    duration: float,
    connections: int,
    max_requests: int,
    content_type: str,
    accept: str,
    timeout: float,
    auth: str | None,
) -> LoadResult:
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"sent": 0, "ok": 0, "errors": 0}
    started = time.perf_counter()
    deadline = started + duration
    headers = {"Content-Type": content_type, "Accept": accept}
    if auth:
        headers["Authorization"] = auth

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                if time.perf_counter() >= deadline or (
                    max_requests and counts["sent"] >= max_requests
                ):
                    return
                body = bodies[counts["sent"] % len(bodies)]
                counts["sent"] += 1
            t0 = time.perf_counter()
            try:
                left = max(0.5, min(timeout, deadline - t0 + timeout))
                r = session.post(url, data=body.encode(), headers=headers, timeout=left)
                _ = r.content
                good = 200 <= r.status_code < 300
            except requests.RequestException:
                good = False
            took = time.perf_counter() - t0
            with lock:
                if good:
                    counts["ok"] += 1
                    latencies.append(took)
                else:
                    counts["errors"] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + timeout + 5)
    seconds = time.perf_counter() - started
    p50 = p99 = None
    if latencies:
        ordered = sorted(latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return LoadResult(
        "python",
        counts["ok"] + counts["errors"],
        counts["ok"],
        counts["errors"],
        round(seconds, 3),
        counts["ok"] / seconds if seconds else 0.0,
        p50,
        p99,
    )
