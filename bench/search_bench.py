"""Search at size (issue 15 §4): the first search of a server (it reads every product into
its index), the index's memory (the server's resident memory before and after that first
search) and the latency of searches after it, over ``GET /api/products``.

The searches: one word, two words, a prefix, a word with a theme filter, a municipality
with a word, browsing page 3 without words. Each kind runs ``reps`` times with other
words (so no answer is served from a cache), one at a time.
"""

from __future__ import annotations

import random
import statistics
import time

import requests

KINDS = ("one word", "two words", "prefix", "word + theme", "municipality + word", "browse p3")


def _params(kind: str, params: dict, rng: random.Random) -> dict:
    words = params["words"] or ["tjeneste"]
    word = rng.choice(words)
    if kind == "one word":
        return {"q": word}
    if kind == "two words":
        return {"q": f"{word} {rng.choice(words)}"}
    if kind == "prefix":
        return {"q": word[: max(4, len(word) // 2)]}
    if kind == "word + theme":
        themes = params.get("los_themes") or params.get("themes") or []
        return {"q": word, "theme": rng.choice(themes)} if themes else {"q": word}
    if kind == "municipality + word":
        places = params.get("municipalities") or []
        return {"q": word, "municipality": rng.choice(places)} if places else {"q": word}
    return {"page": "3"}


def _get(session: requests.Session, url: str, query: dict, timeout: float) -> tuple[float, int]:
    started = time.perf_counter()
    r = session.get(url, params=query, timeout=timeout)
    took = (time.perf_counter() - started) * 1000
    if r.status_code == 200:
        r.json()
    return took, r.status_code


def measure(server, params: dict, *, reps: int = 5, seed: int = 1, timeout: float = 1800) -> dict:
    """Time the first search, the memory it adds, and ``reps`` searches of each kind."""
    url = server.base + "/api/products"
    session = requests.Session()
    rng = random.Random(f"{seed}:search")
    before = server.rss_mib()
    first_ms, first_status = _get(session, url, {"q": "tjeneste"}, timeout)
    after = server.rss_mib()
    times: dict[str, list[float | None]] = {kind: [] for kind in KINDS}
    for _ in range(reps):
        for kind in KINDS:
            took, status = _get(session, url, _params(kind, params, rng), 120)
            times[kind].append(round(took, 1) if status == 200 else None)
    return {
        "first_ms": round(first_ms, 1),
        "first_status": first_status,
        "rss_before_mib": round(before, 1),
        "rss_after_mib": round(after, 1),
        "times_ms": times,
    }


def table_rows(r: dict, row) -> None:
    """Add the search rows of the run ``r`` through ``row(metric, eti, peer, ratio, goal,
    met, note)``."""
    s = r.get("search")
    if not s:
        return
    n = r["catalogue"]["products"]
    row(
        f"search: first search, builds the index, {n:,} products (ms)",
        f"{s['first_ms']:.0f} ({s['first_status']})",
        "—",
        "—",
        "(reported)",
        "—",
    )
    row(
        f"search: index memory, {n:,} products (RSS MiB of eti serve)",
        f"+{s['rss_after_mib'] - s['rss_before_mib']:.0f}",
        f"{s['rss_before_mib']:.0f} → {s['rss_after_mib']:.0f}",
        "—",
        "(reported)",
        "—",
    )
    for kind, values in s["times_ms"].items():
        done = [v for v in values if v is not None]
        cell = "failed" if not done else f"{statistics.median(done):.1f}"
        if len(done) > 1:
            cell += f" [{min(done):.1f}–{max(done):.1f}]"
        row(
            f"search: {kind}, {n:,} products (ms)",
            cell,
            "—",
            "—",
            "(reported)",
            "—" if len(done) == len(values) else "NO",
        )
