"""The change feed at scale: a channel's first sync of a generated catalogue, and the cost
of one poll when nothing changed.

    python bench/feed_bench.py --products 100000 [--work DIR] [--page-size 500]

Generates the catalogue (``generate.py``), restores it (``eti restore``), serves it
(``eti serve``), then follows ``/feed`` into an empty embedded store with
``eti.client.Mirror`` (anonymously: every product's description, open content) and
prints JSON: members, pages, seconds of the first sync, members per second, and the
median and 95th percentile of ``--polls`` polls with nothing new (each one conditional
request answered 304). Also writes it to ``bench/results/feed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate
from peers import tool

from eti.client import Mirror


def serve(store: Path, port: int, page_size: int) -> subprocess.Popen:
    env = {**os.environ, "ETI_LOG_LEVEL": "WARNING", "ETI_FEED_PAGE_SIZE": str(page_size)}
    proc = subprocess.Popen(
        [tool("eti"), "serve", "--store", str(store), "--port", str(port)],
        env=env,
        start_new_session=True,
    )
    for _ in range(600):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("eti serve did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--polls", type=int, default=20)
    parser.add_argument("--port", type=int, default=18731)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="eti-feed-bench-"))
    data, store, copy = work / "data", work / "store", work / "mirror"
    generate(args.products, 1, data)
    subprocess.run([tool("eti"), "restore", str(data / "catalogue.nq"), "--store", str(store)],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    proc = serve(store, args.port, args.page_size)
    try:
        mirror = Mirror(f"http://127.0.0.1:{args.port}", copy)
        pages = []
        started = time.perf_counter()
        members = mirror.sync(lambda done, total: pages.append(done))
        first = time.perf_counter() - started
        polls = []
        for _ in range(args.polls):
            started = time.perf_counter()
            assert mirror.sync() == 0
            polls.append((time.perf_counter() - started) * 1000)
        polls.sort()
        result = {
            "products": args.products,
            "page_size": args.page_size,
            "members": members,
            "pages": len(pages),
            "first_sync_s": round(first, 1),
            "members_per_s": round(members / first),
            "poll_unchanged_ms_median": round(statistics.median(polls), 1),
            "poll_unchanged_ms_p95": round(polls[int(0.95 * (len(polls) - 1))], 1),
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    print(json.dumps(result, indent=2))
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "feed.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
