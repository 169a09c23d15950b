"""The change feed at scale (issue 18): a channel's first sync of a catalogue, and the cost
of one poll when nothing changed.

``measure(server, folder)`` follows the server's ``/feed`` into an empty embedded store
with ``eti.client.Mirror`` (as the caller of ``token``; anonymously: every product's
description and the open content), then polls ``polls`` times with nothing new (each
poll one conditional request answered 304). ``bench/run.py`` calls it on its server;
alone:

    python bench/feed_bench.py [--products 100000] [--page-size 500]

generates (or reuses) the catalogue and its stores (``stores.py``), serves a snapshot
and prints the figures as JSON (also written to ``bench/results/feed.json``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peers  # noqa: E402
import stores  # noqa: E402

from eti.client import Mirror  # noqa: E402

PAGE_SIZE = 500  # members per feed page (ETI_FEED_PAGE_SIZE of the server under test)
SETTLE = 5.0  # seconds before the newest page may be cut (ETI_FEED_SETTLE, 30 by default)


def measure(
    server, folder: Path, *, polls: int = 20, token: str | None = None, settle: float = 0.0
) -> dict:
    """First sync of an empty mirror at ``folder`` from ``server``, then ``polls`` polls
    with nothing new; the mirror is removed afterwards. ``settle``: seconds to wait first
    (the server's ``feed_settle`` after the last write: until then the newest page may
    still be cut, and a poll reads it again, which is a change, not the cost of none)."""
    shutil.rmtree(folder, ignore_errors=True)
    time.sleep(settle)
    mirror = Mirror(server.base, folder, token=token, timeout=600)
    pages: list[int] = []
    started = time.perf_counter()
    members = mirror.sync(lambda done, total: pages.append(done))
    first = time.perf_counter() - started
    times = []
    changed = 0
    for _ in range(polls):
        started = time.perf_counter()
        changed += mirror.sync()
        times.append((time.perf_counter() - started) * 1000)
    quads = len(mirror.store)
    del mirror
    shutil.rmtree(folder, ignore_errors=True)
    times.sort()
    return {
        "members": members,
        "pages": len(pages),
        "mirror_quads": quads,
        "first_sync_s": round(first, 1),
        "members_per_s": round(members / first) if first else None,
        "poll_ms": [round(t, 1) for t in times],
        "poll_changed": changed,
    }


def table_rows(r: dict, row) -> None:
    """Add the feed rows of the run ``r`` through ``row(metric, eti, peer, ratio, goal,
    met, note)``."""
    f = r.get("feed")
    if not f:
        return
    n = r["catalogue"]["products"]
    if "error" in f:
        metric = f"eti mirror: first sync, {n:,} products"
        row(metric, "failed", "—", "—", "(reported)", "NO", f["error"][:300])
        return
    row(
        f"eti mirror: first sync, {n:,} products (s)",
        f"{f['first_sync_s']:.1f}",
        f"{f['members']:,} members, {f['pages']} pages, {f['mirror_quads']:,} quads",
        f"{f['members_per_s']} members/s",
        "(reported)",
        "—",
        "anonymous follower (descriptions and open content), in the bench's process",
    )
    polls = f["poll_ms"]
    row(
        f"eti mirror: one poll with no changes, {n:,} products (ms)",
        f"{statistics.median(polls):.1f} [{min(polls):.1f}–{max(polls):.1f}]",
        f"{len(polls)} polls",
        "—",
        "nothing new",
        "yes" if f["poll_changed"] == 0 else "NO",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    parser.add_argument("--polls", type=int, default=20)
    parser.add_argument("--results", type=Path, default=stores.RESULTS)
    args = parser.parse_args()
    data = stores.catalogue(args.products, args.seed, args.results)
    kept, _manifest = stores.stores(data, args.results)
    work = args.results / "work-feed"
    store = stores.snapshot(kept / "eti", work / "store")
    env = {"ETI_FEED_PAGE_SIZE": str(args.page_size), "ETI_FEED_SETTLE": str(SETTLE)}
    server = peers.start_eti(store, work, env=env)
    try:
        result = measure(server, work / "mirror", polls=args.polls, settle=SETTLE)
    finally:
        server.stop()
    shutil.rmtree(work, ignore_errors=True)
    result = {"products": args.products, "page_size": args.page_size, **result}
    print(json.dumps(result, indent=2))
    (args.results / "feed.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
