"""Every kind of caller on the same queries (issue 15): the per-caller rows of the bench.

    python bench/callers.py choose STORE      # the callers to measure, as JSON
    python bench/callers.py overhead STORE    # quads in the view graphs vs the store
    python bench/callers.py run --store S --oxigraph O --params P --out J   # this part alone

The callers are the anonymous one, the steward of the organisation with the most
products, the channel with the most agreements and an admin. Each runs the six plain
queries of ``mix.CALLER_TEMPLATES`` one at a time over HTTP, ``reps`` times, with the
same parameter values for every caller and a unique text each time (no answer cache
helps); a caller's median per query is compared with the anonymous caller's on the same
run. The admin's texts also go to ``oxigraph serve --union-default-graph`` holding the
same quads (every graph of the dump: all the catalogue's graphs but the system graph and
the per-caller views); its rows must equal, repeats included, oxigraph's answer to the
SELECT DISTINCT form of the text (oxigraph's union keeps every graph's copy of a triple,
so its plain answers repeat rows; the admin's must not). The first read of each caller,
which builds its view graph, is timed apart.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import mix  # noqa: E402
import peers  # noqa: E402

CALLERS = ("anonymous", "steward", "channel", "admin")
ACCEPT = "application/sparql-results+json"

# the organisation with the most registered products, and the channel with the most
# agreements, in a restored catalogue
_LARGEST_ORG = """PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?orgnr (COUNT(DISTINCT ?record) AS ?n) WHERE {
  GRAPH <urn:eti:graph:records> { ?record dct:publisher ?publisher ; dct:identifier ?id }
  GRAPH <urn:eti:graph:agents> { ?publisher dct:identifier ?orgnr }
} GROUP BY ?orgnr ORDER BY DESC(?n) ?orgnr LIMIT 1"""
_BUSIEST_CHANNEL = """PREFIX odrl: <http://www.w3.org/ns/odrl/2/>
SELECT ?channel (COUNT(DISTINCT ?agreement) AS ?n) WHERE {
  GRAPH ?g { ?agreement a odrl:Agreement ; odrl:assignee ?channel }
  FILTER (STRSTARTS(STR(?g), "urn:eti:graph:agreement:"))
} GROUP BY ?channel ORDER BY DESC(?n) ?channel LIMIT 1"""


def _choose(store: Path) -> dict:
    import pyoxigraph as ox

    db = ox.Store.read_only(str(store))
    org = next(iter(db.query(_LARGEST_ORG)))
    channel = next(iter(db.query(_BUSIEST_CHANNEL)))
    return {
        "steward": {"org": org["orgnr"].value, "products": int(org["n"].value)},
        "channel": {"channel": channel["channel"].value, "agreements": int(channel["n"].value)},
    }


def _overhead(store: Path) -> dict:
    import storage

    return storage.measure(store)


def run_tool(what: str, store: Path) -> dict:
    """``choose`` or ``overhead`` on the store at ``store``, in a child process (the
    store is opened read-only and let go when the child ends)."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), what, str(store)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if out.returncode != 0:
        raise RuntimeError(f"callers.py {what} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def tokens(store: Path, chosen: dict) -> dict[str, str | None]:
    """A bearer token for each caller (none for the anonymous one), made in ``store``
    before the server opens it."""
    return {
        "anonymous": None,
        "steward": peers.token(store, "--role", "steward", "--org", chosen["steward"]["org"]),
        "channel": peers.token(
            store, "--role", "channel", "--channel", chosen["channel"]["channel"]
        ),
        "admin": peers.token(store, "--role", "admin"),
    }


def ask(
    session: requests.Session, url: str, text: str, token: str | None, name: str, timeout: float
) -> dict:
    """One query; its time in ms, status and answer (rows as a multiset)."""
    headers = {"Content-Type": "application/sparql-query", "Accept": ACCEPT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    try:
        r = session.post(url, data=text.encode(), headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return {"status": "no answer", "error": type(exc).__name__, "ms": None}
    took = round((time.perf_counter() - started) * 1000, 1)
    if r.status_code != 200:
        return {"status": r.status_code, "error": r.text[:200], "ms": took}
    answer = mix.normalise(name, r.headers.get("Content-Type", ""), r.content, multiset=True)
    return {"status": 200, "ms": took, "answer": answer}


def _check(sessions, eti, peer, key, got, name: str, value: str, nonce: int) -> dict:
    """The admin's answer against the SELECT DISTINCT form of its text (see
    ``mix.caller_query``): on ETI itself (then no row of the answer repeats) and on
    oxigraph (the same rows; oxigraph's union keeps every graph's copy of a triple, so
    its DISTINCT answers can take minutes: None when it gave none within 60 s)."""
    distinct = mix.caller_query(name, value, nonce, distinct=True)
    own = ask(sessions["admin"], eti.url, distinct, key, name, 60)
    ref = ask(sessions["oxigraph"], peer.url, distinct, None, name, 60)
    answer = got.get("answer")
    return {
        # None: not compared (either answer missing, e.g. a 503 under load), not a repeat
        "no_repeats": None if answer is None or "answer" not in own else answer == own["answer"],
        "as_oxigraph": None if "answer" not in ref else answer == ref["answer"],
    }


def _rows(got: dict) -> int | None:
    answer = got.get("answer")
    return None if answer is None or answer[0] == "boolean" else len(answer[1])


def measure(
    eti: peers.Server,
    peer: peers.Server | None,
    keys: dict[str, str | None],
    params: dict,
    *,
    reps: int,
    seed: int,
    timeout: float,
    check_reps: int = 1,
    first_timeout: float = 1800,
    log=print,
) -> dict:
    """Run the per-caller mix on ``eti`` (and the admin's texts on ``peer``, oxigraph
    serve with every graph): per caller and query, the times in ms and statuses; the
    admin's rows are checked against oxigraph's in the first ``check_reps`` repetitions
    (oxigraph's DISTINCT answers can take minutes over its union of graphs). A caller
    whose first read (which builds its view) gives no answer within ``first_timeout``
    seconds is left out of the mix (its queries are recorded as "skipped")."""
    sessions = {c: requests.Session() for c in (*CALLERS, "oxigraph")}
    out: dict = {"first_read_ms": {}, "times": {}, "statuses": {}, "rows": {}, "admin_check": {}}
    # the first read of each caller builds (or reconciles) its view graph
    probe = mix.caller_query("ask-service-legal", params["municipalities"][0], 0)
    skipped = set()
    for caller in CALLERS:
        got = ask(
            sessions[caller], eti.url, probe, keys[caller], "ask-service-legal", first_timeout
        )
        out["first_read_ms"][caller] = got["ms"]
        log(f"first read as {caller}: {got['ms']} ms ({got['status']})")
        if got["status"] == "no answer":
            skipped.add(caller)
            out.setdefault("first_read_failed", {})[caller] = f"no answer in {first_timeout:.0f} s"
    values = mix.caller_values(params, reps, seed)
    nonce = 10**9  # apart from the channel mix's nonces
    for caller in (*CALLERS, "oxigraph"):
        for what in ("times", "statuses", "rows"):
            out[what][caller] = {name: [] for name in mix.CALLER_NAMES}
    for rep, row in enumerate(values):
        log(f"per-caller mix {rep + 1}/{reps}")
        for name in mix.CALLER_NAMES:
            for caller in CALLERS:
                nonce += 1
                if caller in skipped:
                    out["times"][caller][name].append(None)
                    out["statuses"][caller][name].append("skipped")
                    out["rows"][caller][name].append(None)
                    continue
                text = mix.caller_query(name, row[name], nonce)
                got = ask(sessions[caller], eti.url, text, keys[caller], name, timeout)
                out["times"][caller][name].append(got["ms"] if got["status"] == 200 else None)
                out["statuses"][caller][name].append(got["status"])
                out["rows"][caller][name].append(_rows(got))
                if caller == "admin" and peer is not None:
                    # oxigraph gets as long as the admin (a timed-out answer is None)
                    ref = ask(sessions["oxigraph"], peer.url, text, None, name, timeout)
                    out["times"]["oxigraph"][name].append(
                        ref["ms"] if ref["status"] == 200 else None
                    )
                    out["statuses"]["oxigraph"][name].append(ref["status"])
                    out["rows"]["oxigraph"][name].append(_rows(ref))
                    if rep < check_reps:
                        out["admin_check"].setdefault(name, []).append(
                            _check(sessions, eti, peer, keys["admin"], got, name, row[name], nonce)
                        )
    return out


# -- the table -----------------------------------------------------------------------------


def _med(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _cell(values: list) -> str:
    done = [v for v in values if v is not None]
    if not done:
        return "timed out"
    text = f"{statistics.median(done):.0f}"
    if len(done) > 1:
        text += f" [{min(done):.0f}–{max(done):.0f}]"
    if len(done) < len(values):
        text += f" ({len(values) - len(done)} failed)"
    return text


def table_rows(r: dict, row) -> None:
    """Add the per-caller rows of the run ``r`` through ``row(metric, eti, peer, ratio,
    goal, met, note)``."""
    c = r.get("callers")
    if not c or "times" not in c:  # not measured (yet)
        return
    chosen = c["chosen"]
    who = {
        "steward": f"steward of {chosen['steward']['org']} ({chosen['steward']['products']} "
        "products)",
        "channel": f"channel {chosen['channel']['channel'].rsplit('/', 1)[-1]} "
        f"({chosen['channel']['agreements']} agreements)",
        "admin": "admin",
    }
    times = c["times"]
    for caller in ("steward", "channel", "admin"):
        first = c["first_read_ms"].get(caller)
        row(
            f"{who[caller]}: first read, builds the view (ms)",
            c.get("first_read_failed", {}).get(caller)
            or ("—" if first is None else f"{first:.0f}"),
            f"anonymous {c['first_read_ms'].get('anonymous') or 0:.0f}",
            "—",
            "(info)",
            "—",
        )
        for name in mix.CALLER_NAMES:
            mine, anon = times[caller][name], times["anonymous"][name]
            m, a = _med(mine), _med(anon)
            ratio = m / a if m is not None and a else None
            failed = any(t is None for t in mine)
            row(
                f"{who[caller]}: {name} (ms)",
                _cell(mine),
                f"anonymous {_cell(anon)}",
                "—" if ratio is None else f"{ratio:.2f}×",
                "≤ 2× anonymous, none times out",
                "NO" if failed or ratio is None or ratio > 2.0 else "yes",
                "statuses: " + ", ".join(map(str, c["statuses"][caller][name])) if failed else "",
            )
    if times.get("oxigraph") and any(times["oxigraph"].values()):
        for name in mix.CALLER_NAMES:
            mine, ref = times["admin"][name], times["oxigraph"][name]
            m, o = _med(mine), _med(ref)
            ratio = o / m if m and o else None
            # every admin answer came and oxigraph gave none within its limit: faster
            outlasted = o is None and m is not None and all(t is not None for t in mine)
            row(
                f"admin vs oxigraph serve (all graphs): {name} (ms)",
                _cell(mine),
                f"oxigraph {_cell(ref)}",
                "> 1× (oxigraph gave no answer)"
                if outlasted
                else "—"
                if ratio is None
                else f"{ratio:.2f}× (speed)",
                "≥ 1.0×",
                "yes" if outlasted else "NO" if ratio is None or ratio < 1.0 else "yes",
            )
        checks = [(k, x) for k, v in c["admin_check"].items() for x in v]
        looked = [(k, x) for k, x in checks if x["no_repeats"] is not None]
        single = sum(1 for _k, x in looked if x["no_repeats"])
        compared = [(k, x) for k, x in checks if x["as_oxigraph"] is not None]
        same = sum(1 for _k, x in compared if x["as_oxigraph"])
        bad = sorted(
            {k for k, x in checks if x["no_repeats"] is False or x["as_oxigraph"] is False}
        )
        unlooked = len(checks) - len(looked)
        row(
            "admin: no repeated row; same rows as oxigraph's DISTINCT answer",
            f"{single}/{len(looked)} without repeats"
            + (f" ({unlooked} not compared: no answer)" if unlooked else ""),
            f"{same}/{len(compared)} same (oxigraph answered {len(compared)} in 60 s)",
            "—",
            "all",
            "yes" if single == len(looked) and same == len(compared) else "NO",
            "differing: " + ", ".join(bad) if bad else "",
        )
    mem = c.get("memory_mib")
    if mem:
        ratio = mem["eti"] / mem["oxigraph"] if mem.get("oxigraph") else None
        row(
            "server memory after the per-caller mix, all graphs (RSS MiB)",
            f"{mem['eti']:.0f}",
            f"oxigraph serve (all graphs) {mem['oxigraph']:.0f}",
            "—" if ratio is None else f"{ratio:.2f}×",
            "≤ 2×",
            "—" if ratio is None else ("yes" if ratio <= 2.0 else "NO"),
        )


def standalone(argv: list[str]) -> int:
    """The per-caller part alone, on stores ``make bench --keep-work`` (or a killed run)
    left: the ETI store and the oxigraph store of the same dump."""
    import argparse

    parser = argparse.ArgumentParser(prog="callers.py run")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--oxigraph", type=Path, required=True)
    parser.add_argument("--params", type=Path, required=True, help="params.json")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eti-query-timeout", type=float, default=10.0)
    parser.add_argument("--out", type=Path, required=True, help="JSON of the results")
    args = parser.parse_args(argv)
    chosen = run_tool("choose", args.store)
    keys = tokens(args.store, chosen)
    logdir = args.out.parent
    timeout = args.eti_query_timeout + 20
    env = {"ETI_QUERY_TIMEOUT": str(args.eti_query_timeout)}
    eti = peers.start_eti(args.store, logdir, env=env)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr, flush=True)

    try:
        peer = peers.start_oxigraph(args.oxigraph, logdir, name="all")
        try:
            params = mix.load_params(args.params)
            result = measure(
                eti, peer, keys, params, reps=args.reps, seed=args.seed, timeout=timeout, log=log
            )
            result["memory_mib"] = {
                "eti": round(eti.rss_mib(), 1),
                "oxigraph": round(peer.rss_mib(), 1),
            }
        finally:
            peer.stop()
    finally:
        eti.stop()
    result["chosen"] = chosen
    result["overhead"] = run_tool("overhead", args.store)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    rows: list[tuple] = []
    table_rows({"callers": result}, lambda *cells: rows.append(cells))
    for cells in rows:
        note = cells[6] if len(cells) > 6 else ""
        print(" | ".join(str(c) for c in cells[:6]) + (f"\n    {note}" if note else ""))
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "run":
        return standalone(argv[1:])
    what, store = argv[0], Path(argv[1])
    result = {"choose": _choose, "overhead": _overhead}[what](store)
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
