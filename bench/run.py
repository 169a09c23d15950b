"""The benchmark: the ETI catalogue side by side with what a user would pick instead.

    python bench/run.py                      # 10,000 products (make bench)
    python bench/run.py --large              # 100,000 products
    python bench/run.py --products 1000 --quick

Generates a seeded catalogue and loads it once (``stores.py`` keeps both under
``bench/results``, keyed by size, seed and generator; a run works on hard-linked
snapshots), then measures on this machine, on loopback:

* bulk load: ``eti restore`` against ``oxigraph load`` of the same N-Quads dump (the
  times measured when the kept stores were made);
* registration with validation, in process (``registry.register``) on stores of 1,000
  and N products, and over HTTP (``POST /api/products`` with a steward token);
* whole-catalogue validation: the ETI validator against plain pySHACL, same shapes (not
  at 100,000: the validators hold the catalogue in memory);
* the channel query mix over HTTP (repeated texts, and every text unique) and a trivial
  ASK: ``eti serve`` (anonymous) against ``oxigraph serve --union-default-graph`` and
  rdflib-endpoint, both holding exactly the triples an anonymous ETI caller sees; every
  answer is compared across the servers first;
* every kind of caller (``callers.py``): the steward of the largest organisation, the
  channel with the most agreements and an admin against the anonymous caller on six
  plain queries with unique texts, the admin also against ``oxigraph serve
  --union-default-graph`` holding every graph; the storage of the derived graphs
  (``storage.py``);
* search (``search_bench.py``): the first search, the index's memory, search latency;
* the change feed (``feed_bench.py``): the first sync of ``eti mirror`` and one poll
  with no changes;
* the per-request overhead rows of ``front_bench.py`` (trivial ASK, cached answer), when
  that module is present;
* memory (RSS of the server's process tree) after the mix.

Prints one table (metric | ETI | peer | ratio | goal | met?) with medians and the
min–max over repetitions in brackets, and writes ``bench/results/latest.json``; after each
phase the rows so far go to ``bench/results/partial-N.txt`` (a run stopped midway still
says what it measured). ``--profile`` also records py-spy profiles of the server under
the mix and the ASK and a pyinstrument profile of registration into ``bench/results/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import inspect
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import asking  # noqa: E402
import callers  # noqa: E402
import feed_bench  # noqa: E402
import generate  # noqa: E402
import mix  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402
import search_bench  # noqa: E402
import steps  # noqa: E402
import storage  # noqa: E402
import stores  # noqa: E402
from report import SMALL, VALIDATION_SMALL  # noqa: E402

LARGE = 100_000


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = time.perf_counter()
        self.results: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "phases": {}}
        self.work = args.work
        self.out = args.results
        for folder in (self.work, self.out):
            folder.mkdir(parents=True, exist_ok=True)
        self.servers: list[peers.Server] = []

    # -- bookkeeping -------------------------------------------------------------------

    def log(self, message: str) -> None:
        took = time.perf_counter() - self.started
        print(f"[{took:6.0f} s] {message}", file=sys.stderr, flush=True)

    def phase(self, name: str, started: float) -> None:
        """Record a phase's time, and write the rows measured so far."""
        self.results["phases"][name] = round(time.perf_counter() - started, 1)
        self.log(f"{name}: {self.results['phases'][name]:.0f} s")
        r = {**self.results, "seconds": round(time.perf_counter() - self.started, 1)}
        try:
            text, _rows = report.table(r)
            partial = self.out / f"partial-{self.args.products}.txt"
            partial.write_text(report.header(r) + "\n" + text + "\n")
        except (KeyError, TypeError, ValueError) as exc:  # a half-made result
            self.log(f"partial table not written: {exc!r}")
        (self.out / f"partial-{self.args.products}.json").write_text(
            json.dumps(r, indent=1, default=str)
        )

    def fresh(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        return path

    def kept(self, products: int) -> tuple[Path, Path, dict]:
        """The generated catalogue of ``products`` and its kept stores (made when
        missing; ``--reload`` measures the loads again), and the bulk-load figures."""
        a = self.args
        data = stores.catalogue(products, a.seed, a.results, log=self.log)
        if a.reload:
            (a.results / "stores" / data.name / "manifest.json").unlink(missing_ok=True)
        cap = a.restore_cap * max(1.0, products / 10_000)
        folder, made = stores.stores(
            data,
            a.results,
            cap=cap,
            eti_restore=not (a.large and a.no_large_restore),
            parallel=a.large,
            log=self.log,
        )
        bulk = {
            "quads": made["quads"],
            "eti_s": [made["eti_s"]] if "eti_s" in made else [],
            "oxigraph_s": [made["oxigraph_all_s"]],
            "cap_s": made["cap_s"] or cap,
            "store_from_oxigraph_load": made["eti_from_oxigraph_load"],
            "views_s": made.get("eti_views_s"),
            "made": made["made"],
            "parallel": made["parallel"],
        }
        return data, folder, bulk

    # -- the whole run -------------------------------------------------------------------

    def run(self) -> dict:
        a = self.args
        r = self.results
        r["machine"] = report.machine_facts()
        r["started"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

        # 1. data and stores, kept between runs; the run works on snapshots of them
        t = time.perf_counter()
        big, big_stores, r["bulk"] = self.kept(a.products)
        small, small_stores, bulk_small = self.kept(min(SMALL, a.products))
        r["bulk_small"] = bulk_small if small != big else None
        vsmall = stores.catalogue(VALIDATION_SMALL, a.seed, a.results, log=self.log)
        r["catalogue"] = json.loads((big / "manifest.json").read_text())
        params = mix.load_params(big / "params.json")
        store = stores.snapshot(big_stores / "eti", self.fresh("store"))
        stores.snapshot(small_stores / "eti", self.fresh("store-small"))
        self.phase("data and stores", t)

        # 2. whole-catalogue validation
        t = time.perf_counter()
        if a.products < LARGE:  # at 100,000 the validators' graphs do not fit in memory
            self.log(f"validation of {VALIDATION_SMALL} products (ETI and pySHACL)")
            r["validation_small"] = {
                "eti": steps.validate(vsmall, "eti", a.validation_cap, self.work),
                "pyshacl": steps.validate(vsmall, "pyshacl", a.pyshacl_cap, self.work),
            }
            self.log(f"validation of {a.products} products (ETI, cap {a.validation_cap:.0f} s)")
            eti_v = steps.validate(big, "eti", a.validation_cap, self.work)
            r["validation"] = {"eti": eti_v}
            if a.validation_peer and "cpu_seconds" in eti_v:
                # pySHACL needs only to use 10.5x ETI's CPU to show the goal is met
                cpu = 10.5 * eti_v["cpu_seconds"]
                self.log(f"validation of {a.products} products (pySHACL, up to {cpu:.0f} s CPU)")
                wall = max(a.pyshacl_cap, 3 * cpu)
                r["validation"]["pyshacl"] = steps.validate(
                    big, "pyshacl", wall, self.work, cpu_cap=cpu
                )
        self.phase("validation", t)

        # 3. the servers
        t = time.perf_counter()
        gen = generate.Generator(a.seed)
        steward_org = gen.orgs[len(gen.orgs) // 2].orgnr
        token = peers.token(store, "--role", "steward", "--org", steward_org)
        chosen = callers.run_tool("choose", store)
        keys = callers.tokens(store, chosen)
        r["callers"] = {"chosen": chosen}
        opub = stores.snapshot(big_stores / "oxigraph-public", self.fresh("oxigraph-public"))
        self.log("starting eti serve and oxigraph serve")
        eti = peers.start_eti(
            store,
            self.work,
            # the bench's one client stands for many users: no per-caller share, shorter
            # anonymous limit or short wait for a free query worker (a 503 with Retry-After
            # after 5 s of queueing: they would measure the fairness rules, not speed)
            env={
                "ETI_QUERY_TIMEOUT": str(a.eti_query_timeout),
                "ETI_QUERY_QUEUE_WAIT": str(4 * a.eti_query_timeout),
                "ETI_QUERY_TIMEOUT_ANONYMOUS": str(a.eti_query_timeout),
                "ETI_PER_CALLER_QUERIES": "1000",
                "ETI_FEED_PAGE_SIZE": str(feed_bench.PAGE_SIZE),
                "ETI_FEED_SETTLE": str(feed_bench.SETTLE),
            },
        )
        self.servers.append(eti)
        ox = peers.start_oxigraph(opub, self.work)
        self.servers.append(ox)
        self.phase("servers start", t)

        # 4. every kind of caller on the same six queries; the admin against oxigraph serve
        # holding every graph (first: at 100,000 products these are the rows that matter most)
        t = time.perf_counter()
        self.log(f"per-caller mix: {chosen}")
        oxall_dir = stores.snapshot(big_stores / "oxigraph-all", self.fresh("oxigraph-all"))
        oxall = peers.start_oxigraph(oxall_dir, self.work, name="all")
        self.servers.append(oxall)
        r["callers"].update(
            callers.measure(
                eti,
                oxall,
                keys,
                params,
                reps=a.caller_reps,
                seed=a.seed,
                timeout=a.eti_query_timeout + 20,
                first_timeout=a.first_read_timeout,
                log=self.log,
            )
        )
        r["callers"]["memory_mib"] = {
            "eti": round(eti.rss_mib(), 1),
            "oxigraph": round(oxall.rss_mib(), 1),
        }
        oxall.stop()
        self.servers.remove(oxall)
        self.phase("per-caller mix", t)

        # 5. same rows everywhere
        t = time.perf_counter()
        checks = {f"fixed:{name}": (name, text) for name, text in mix.fixed_queries(params)}
        checks["ask"] = (None, mix.TRIVIAL_ASK)
        for i, (name, text) in enumerate(mix.unique_queries(params, len(mix.NAMES), a.seed + 7)):
            checks[f"unique{i}:{name}"] = (name, text)
        self.log(f"checking {len(checks)} queries on oxigraph and ETI")
        reference = {key: asking.ask(ox, text, name, 120) for key, (name, text) in checks.items()}
        r["reference"] = {
            k: {"status": v["status"], "ms": v["ms"], "rows": asking.rows_of(v)}
            for k, v in reference.items()
        }
        r["check_eti"] = asking.check(reference, eti, checks, a.eti_query_timeout + 20)
        eti.wait_idle(limit=a.eti_query_timeout + 15)
        self.phase("check", t)

        # 6. load: trivial ASK, repeated mix, unique mix; ETI and oxigraph in turn
        t = time.perf_counter()
        drive = {"connections": a.connections, "query_timeout": a.eti_query_timeout}
        fixed = [text for _name, text in mix.fixed_queries(params)]
        runs: dict[str, dict[str, list]] = {}
        offset = 0
        for rep in range(a.reps):
            for label, server in (("eti", eti), ("oxigraph", ox)):
                self.log(f"rep {rep + 1}/{a.reps}: {label}: ASK, repeated mix, unique mix")
                key = runs.setdefault(label, {"ask": [], "repeated": [], "unique": []})
                key["ask"].append(asking.drive(server, [mix.TRIVIAL_ASK], a.ask_duration, **drive))
                key["repeated"].append(asking.drive(server, fixed, a.duration, **drive))
                bodies = [
                    text for _n, text in mix.unique_queries(params, a.unique_count, a.seed, offset)
                ]
                offset += a.unique_count
                key["unique"].append(
                    asking.drive(server, bodies, a.duration, max_requests=a.unique_count, **drive)
                )
        r["load"] = runs
        r["memory_mib"] = {"eti": round(eti.rss_mib(), 1), "oxigraph": round(ox.rss_mib(), 1)}
        r["memory_pss_mib"] = {"eti": round(eti.pss_mib(), 1), "oxigraph": round(ox.pss_mib(), 1)}
        r["memory_processes"] = {
            "eti": peers.rss_breakdown(eti.pid),
            "oxigraph": peers.rss_breakdown(ox.pid),
        }
        self.phase("query load", t)

        # 7. search, registration over HTTP, the change feed, the front's rows
        t = time.perf_counter()
        self.log("search: first search (builds the index), then searches")
        r["search"] = search_bench.measure(eti, params, reps=a.search_reps, seed=a.seed)
        self.phase("search", t)
        t = time.perf_counter()
        self.log("registration over HTTP")
        r["register_http"] = steps.register_http(
            eti, token, steward_org, a.registrations, seed=a.seed, log=self.log
        )
        self.phase("registration over HTTP", t)
        if not a.skip_feed:
            t = time.perf_counter()
            self.log("eti mirror: first sync of the feed, then polls with no changes")
            try:
                r["feed"] = feed_bench.measure(
                    eti, self.fresh("mirror"), polls=a.polls, settle=feed_bench.SETTLE
                )
            except Exception as exc:  # a failed follower is a row, not the end of the run
                r["feed"] = {"error": f"{type(exc).__name__}: {exc}"}
            self.phase("change feed", t)
        r["front_rows"] = self.front(eti, ox)

        if a.profile:
            t = time.perf_counter()
            self.log("profiling eti serve under the unique mix and the ASK (py-spy)")
            bodies = [
                text for _n, text in mix.unique_queries(params, a.unique_count, a.seed, offset)
            ]
            for name, texts in (("mix", bodies), ("ask", [mix.TRIVIAL_ASK])):
                r[f"profile_{name}"] = asking.profile_server(
                    eti, texts, name, self.out, a.duration, **drive
                )
            self.phase("profiles", t)

        eti.stop()
        ox.stop()
        self.servers.clear()
        t = time.perf_counter()
        r["callers"]["overhead"] = callers.run_tool("overhead", store)
        r["callers"]["overhead"]["rest_bytes"] = (big / "catalogue.nq").stat().st_size - r[
            "callers"
        ]["overhead"]["anonymous"]["bytes"]
        r["callers"]["overhead"]["oxigraph_disk_bytes"] = storage.disk_bytes(
            big_stores / "oxigraph-all"
        )
        self.phase("storage", t)

        # 8. registration in process, once no server holds the stores (it adds products,
        # so it comes after the query comparison)
        t = time.perf_counter()
        self.log("registration in process")
        if a.products > SMALL:
            r["register_small"] = steps.register_in_process(
                self.work / "store-small", "lean", a.registrations, seed=a.seed
            )
        profile = self.out / f"profile-registration-{a.products}" if a.profile else None
        r["register"] = steps.register_in_process(
            store, "lean", a.registrations, seed=a.seed, profile=profile
        )
        r["register_full"] = steps.register_in_process(
            store, "full", max(5, a.registrations // 3), seed=a.seed
        )
        self.phase("registration", t)

        # 9. rdflib-endpoint (not at 100,000: it holds the view in Python objects)
        if not a.skip_rdflib and a.products < LARGE:
            t = time.perf_counter()
            self.log("starting rdflib-endpoint (loads the anonymous view in memory)")
            started = time.perf_counter()
            rdf = peers.start_rdflib(big / "public.nq", self.work)
            self.servers.append(rdf)
            r["rdflib_start_s"] = round(time.perf_counter() - started, 1)
            r["memory_mib"]["rdflib"] = round(rdf.rss_mib(), 1)
            r["rdflib"] = asking.rdflib_run(rdf, checks, reference, a.rdflib_budget)
            rdf.stop()
            self.servers.clear()
            self.phase("rdflib-endpoint", t)

        r["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        r["seconds"] = round(time.perf_counter() - self.started, 1)
        r["machine"]["loadavg_end"] = os.getloadavg()
        return r

    def front(self, eti: peers.Server, ox: peers.Server) -> list:
        """FRONT HOOK (issue 16, per-request overhead): the rows of ``bench/front_bench.py``
        when that module exists (the ``front`` helper writes it). Its ``run_front(...)``
        gets the arguments it names among ``eti``, ``oxigraph`` (running servers,
        ``peers.Server``), ``duration``, ``connections``, ``work`` and ``log``, and returns
        rows: ``(metric, eti, peer, ratio, goal, met[, note])`` tuples or dicts of those
        keys. Until it exists this adds nothing."""
        if importlib.util.find_spec("front_bench") is None:
            return []
        import front_bench  # type: ignore[import-not-found]

        offered = {
            "eti": eti,
            "oxigraph": ox,
            "duration": self.args.ask_duration,
            "connections": self.args.connections,
            "work": self.work,
            "log": self.log,
        }
        wanted = inspect.signature(front_bench.run_front).parameters
        t = time.perf_counter()
        try:
            got = front_bench.run_front(**{k: v for k, v in offered.items() if k in wanted})
            if isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], dict):
                got, self.results["front_runs"] = got  # (rows, the raw runs)
            rows = list(got)
        except Exception as exc:  # the front's rows must not cost the rest of the run
            rows = [("front_bench.run_front", "failed", "—", "—", "—", "NO", repr(exc)[:300])]
        self.phase("front", t)
        return rows

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ETI catalogue benchmark (issues 8, 15, 18)")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--large", action="store_true", help="100,000 products")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each load run")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per mix run")
    parser.add_argument("--ask-duration", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--unique-count", type=int, default=20_000)
    parser.add_argument("--registrations", type=int, default=30)
    parser.add_argument("--caller-reps", type=int, default=5, help="unique texts per query")
    parser.add_argument(
        "--first-read-timeout", type=float, default=1800.0, help="s for a caller's view build"
    )
    parser.add_argument("--search-reps", type=int, default=5, help="searches of each kind")
    parser.add_argument("--polls", type=int, default=20, help="feed polls with no changes")
    parser.add_argument("--skip-feed", action="store_true")
    parser.add_argument("--validation-cap", type=float, default=180.0, help="s, after parsing")
    parser.add_argument(
        "--validation-peer",
        action="store_true",
        help="also pySHACL on the whole catalogue, up to 10.5x ETI's CPU (adds ~8 min at 10k)",
    )
    parser.add_argument("--restore-cap", type=float, default=180.0, help="s per 10k products")
    parser.add_argument(
        "--no-large-restore",
        action="store_true",
        help="with --large: the ETI store is a copy of the one oxigraph load wrote",
    )
    parser.add_argument("--reload", action="store_true", help="load the kept stores again")
    parser.add_argument("--pyshacl-cap", type=float, default=600.0)
    parser.add_argument("--eti-query-timeout", type=float, default=10.0)
    parser.add_argument("--rdflib-budget", type=float, default=45.0)
    parser.add_argument("--skip-rdflib", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy and pyinstrument too")
    parser.add_argument("--quick", action="store_true", help="1 rep, short runs (smoke)")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--work", type=Path, default=None, help="snapshots [results/work-N]")
    parser.add_argument("--keep-work", action="store_true", help="keep the snapshots")
    args = parser.parse_args(argv)
    if args.large:
        args.products = LARGE
    # one work folder and one partial table per size: a 10k and a 100k run can overlap
    args.work = args.work or args.results / f"work-{args.products}"
    if args.quick:
        args.reps, args.duration, args.ask_duration = 1, 3.0, 2.0
        args.registrations, args.rdflib_budget = 8, 20.0
        args.caller_reps, args.search_reps, args.polls = 2, 2, 5
    # stopped with SIGTERM (a background run): stop the servers it started on the way out
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    bench = Bench(args)
    try:
        results = bench.run()
    finally:
        bench.stop_all()
    text, rows = report.table(results)
    results["table"] = rows
    print()
    print(report.header(results))
    print(text)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = json.dumps(results, indent=1, default=str)
    (args.results / "latest.json").write_text(payload)
    (args.results / f"run-{stamp}.json").write_text(payload)
    for name in ("latest.txt", f"latest-{args.products}.txt"):
        (args.results / name).write_text(report.header(results) + "\n" + text + "\n")
    if not args.keep_work:
        shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
