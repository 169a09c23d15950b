"""The benchmark: the ETI catalogue side by side with what a user would pick instead.

    python bench/run.py                      # 10,000 products (make bench)
    python bench/run.py --large              # 100,000 products
    python bench/run.py --products 1000 --quick

Generates a seeded catalogue, then measures on this machine, on loopback:

* bulk load: ``eti restore`` against ``oxigraph load`` of the same N-Quads dump;
* registration with validation, in process (``registry.register``) on stores of 1,000
  and N products, and over HTTP (``POST /api/products`` with a steward token);
* whole-catalogue validation: the ETI validator against plain pySHACL, same shapes;
* the channel query mix over HTTP (repeated texts, and every text unique) and a trivial
  ASK: ``eti serve`` (anonymous) against ``oxigraph serve --union-default-graph`` and
  rdflib-endpoint, both holding exactly the triples an anonymous ETI caller sees; every
  answer is compared across the servers first;
* every kind of caller (``bench/callers.py``): the steward of the largest organisation,
  the channel with the most agreements and an admin against the anonymous caller on six
  plain queries with unique texts, the admin also against ``oxigraph serve
  --union-default-graph`` holding every graph (same rows, as a multiset); the storage
  of the per-caller view graphs;
* memory (RSS of the server's process tree) after the mix.

Prints one table (metric | ETI | peer | ratio | goal | met?) with medians and the
min–max over repetitions in brackets, and writes ``bench/results/latest.json``.
``--profile`` also records py-spy profiles of the server under the mix and the ASK and a
pyinstrument profile of registration into ``bench/results/``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import callers  # noqa: E402
import generate  # noqa: E402
import load  # noqa: E402
import mix  # noqa: E402
import peers  # noqa: E402

ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.5"
SMALL = 1_000  # the small store of the registration flatness and bulk-load repetitions
VALIDATION_SMALL = 200  # products in the catalogue both validators finish on


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = time.perf_counter()
        self.results: dict = {"args": vars(args).copy(), "phases": {}}
        self.results["args"] = {k: str(v) for k, v in self.results["args"].items()}
        self.data = args.data
        self.work = args.work
        self.out = args.results
        for folder in (self.data, self.work, self.out):
            folder.mkdir(parents=True, exist_ok=True)
        self.servers: list[peers.Server] = []

    # -- bookkeeping -------------------------------------------------------------------

    def log(self, message: str) -> None:
        took = time.perf_counter() - self.started
        print(f"[{took:6.0f} s] {message}", file=sys.stderr, flush=True)

    def phase(self, name: str, started: float) -> None:
        self.results["phases"][name] = round(time.perf_counter() - started, 1)

    def catalogue(self, products: int) -> Path:
        """The generated catalogue of ``products`` (regenerated when the generator changed)."""
        folder = self.data / f"{products}-seed{self.args.seed}"
        stamp = folder / "manifest.json"
        source = (HERE / "generate.py").stat().st_mtime
        if stamp.exists() and stamp.stat().st_mtime > source:
            return folder
        started = time.perf_counter()
        generate.generate(products, self.args.seed, folder)
        self.log(f"generated {products} products in {time.perf_counter() - started:.1f} s")
        return folder

    def fresh(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        return path

    # -- bulk load -----------------------------------------------------------------------

    def bulk_load(
        self, folder: Path, reps: int, keep: str | None, keep_oxigraph: str | None = None
    ) -> dict:
        """``eti restore`` and ``oxigraph load`` of the same dump, ``reps`` times each.

        The last restored store is kept as ``keep``, and the last store oxigraph wrote as
        ``keep_oxigraph`` (the admin's peer: every graph of the dump). A restore that runs
        past the cap is stopped; then a copy of the store ``oxigraph load`` wrote is kept
        instead (the dump holds the catalogue's derived views, so it is the same
        catalogue)."""
        nq = folder / "catalogue.nq"
        eti_times, ox_times = [], []
        logfile = self.work / "load.log"
        fallback = False
        cap = self.args.restore_cap * max(1.0, self.args.products / 10_000)
        for rep in range(reps):
            last = keep and rep == reps - 1
            target = self.fresh(f"restore-{folder.name}-{rep}")
            took = peers.timed(
                [peers.tool("eti"), "restore", str(nq), "--store", str(target)],
                log=logfile,
                cap=cap,
            )
            eti_times.append(took)
            if last and took is not None:
                target.rename(self.fresh(keep))
            else:
                shutil.rmtree(target, ignore_errors=True)
            ox_dir = self.fresh(f"oxload-{folder.name}-{rep}")
            ox_times.append(
                peers.timed(
                    [peers.tool("oxigraph"), "load", "--location", str(ox_dir), "--file", str(nq)],
                    log=logfile,
                )
            )
            if last and took is None:
                shutil.copytree(ox_dir, self.fresh(keep))
                fallback = True
            if last and keep_oxigraph:
                ox_dir.rename(self.fresh(keep_oxigraph))
            else:
                shutil.rmtree(ox_dir, ignore_errors=True)
        manifest = json.loads((folder / "manifest.json").read_text())
        return {
            "quads": manifest["catalogue_quads"],
            "eti_s": eti_times,
            "oxigraph_s": ox_times,
            "cap_s": cap,
            "store_from_oxigraph_load": fallback,
        }

    # -- registration --------------------------------------------------------------------

    def register_in_process(self, store: Path, kind: str, count: int, profile: bool) -> dict:
        cmd = [
            sys.executable,
            str(HERE / "register_bench.py"),
            "--store",
            str(store),
            "--count",
            str(count),
            "--kind",
            kind,
            "--seed",
            str(self.args.seed),
        ]
        if profile:
            cmd += ["--profile", str(self.out / f"profile-registration-{store.name}")]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(f"registration bench failed: {out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def register_http(self, server: peers.Server, token: str, org: str, count: int) -> dict:
        gen = generate.Generator(self.args.seed)
        chosen = next(o for o in gen.orgs if o.orgnr == org)
        session = requests.Session()
        # a read first: the steward's view exists, so every write below keeps it
        session.post(
            server.url,
            data=mix.TRIVIAL_ASK.encode(),
            headers={
                "Content-Type": "application/sparql-query",
                "Authorization": f"Bearer {token}",
            },
            timeout=600,
        ).raise_for_status()
        times, statuses = [], []
        n = 0
        while len(times) < count + 3 and n < 100 * (count + 3):
            product = gen.product(n, lean=True, prefix="http-")
            n += 1
            if product.owner.orgnr != chosen.orgnr:
                continue
            body = generate.product_trig(product)
            started = time.perf_counter()
            r = session.post(
                server.base + "/api/products",
                data=body,
                headers={"Content-Type": "application/trig", "Authorization": f"Bearer {token}"},
                timeout=120,
            )
            times.append((time.perf_counter() - started) * 1000)
            statuses.append(r.status_code)
            if r.status_code != 201:
                self.log(f"POST /api/products answered {r.status_code}: {r.text[:300]}")
        return {"times_ms": times[3:], "statuses": statuses[3:]}

    # -- validation ----------------------------------------------------------------------

    def validate(self, folder: Path, engine: str, cap: float) -> dict:
        out = self.work / f"validation-{engine}-{folder.name}.json"
        out.unlink(missing_ok=True)
        script = str(HERE / "validate_bench.py")
        cmd = [sys.executable, script, engine, str(folder / "catalogue.nq"), str(out)]
        log = self.work / f"validation-{engine}-{folder.name}.log"
        with log.open("w") as sink:
            process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
        # the time limit counts from the end of parsing (the child prints "parsed")
        started = None
        while process.poll() is None:
            if started is None and "parsed" in log.read_text():
                started = time.perf_counter()
            if started is not None and time.perf_counter() - started > cap:
                process.kill()
                process.wait()
                return {"engine": engine, "capped": True, "cap_s": cap}
            time.sleep(0.2)
        if process.returncode != 0 or not out.exists():
            return {"engine": engine, "failed": log.read_text()[-2000:]}
        data = json.loads(out.read_text())
        data["capped"] = False
        return data

    # -- queries over HTTP ---------------------------------------------------------------

    def ask(self, server: peers.Server, text: str, name: str | None, timeout: float) -> dict:
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

    def check(self, reference: dict, server: peers.Server, queries, timeout, workers=8) -> dict:
        """Run ``queries`` on ``server`` and compare with ``reference`` (oxigraph's)."""
        out = {}
        with cf.ThreadPoolExecutor(workers) as pool:
            futures = {
                pool.submit(self.ask, server, text, name, timeout): (key, name)
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

    def drive(self, server: peers.Server, bodies: list[str], duration: float, **kw) -> dict:
        result = load.run(
            server.url,
            bodies,
            duration=duration,
            connections=self.args.connections,
            accept=ACCEPT,
            timeout=kw.pop("timeout", self.args.eti_query_timeout + 20),
            **kw,
        )
        waited = server.wait_idle(limit=self.args.eti_query_timeout + 15)
        data = result.to_json()
        data["idle_wait_s"] = round(waited, 1)
        return data

    def profile_server(self, server: peers.Server, bodies: list[str], name: str) -> dict:
        """py-spy record of the server process tree while the load runs."""
        spy = shutil.which("py-spy") or str(peers.BIN / "py-spy")
        raw = self.out / f"profile-{name}.txt"
        svg = self.out / f"profile-{name}.svg"
        duration = self.args.duration
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
        self.drive(server, bodies, duration)
        for p in procs:
            p.wait(timeout=60)
        return {"svg": str(svg), "top": top_frames(raw)}

    # -- the whole run -------------------------------------------------------------------

    def run(self) -> dict:
        a = self.args
        r = self.results
        r["machine"] = machine_facts()
        r["started"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        big = self.catalogue(a.products)
        small = self.catalogue(min(SMALL, a.products))
        vsmall = self.catalogue(VALIDATION_SMALL)
        r["catalogue"] = json.loads((big / "manifest.json").read_text())
        params = mix.load_params(big / "params.json")

        # 1. bulk load (the N store restored here is the one every later step uses)
        t = time.perf_counter()
        if small != big and a.load_reps:
            self.log(f"bulk load {SMALL} products x{a.load_reps}")
            r["bulk_small"] = self.bulk_load(small, a.load_reps, keep="store-small")
        else:
            r["bulk_small"] = None
        self.log(f"bulk load {a.products} products")
        r["bulk"] = self.bulk_load(big, 1, keep="store", keep_oxigraph="oxigraph-all")
        if small == big:
            shutil.copytree(self.work / "store", self.fresh("store-small"))
        elif not a.load_reps:
            peers.timed(
                [
                    peers.tool("eti"),
                    "restore",
                    str(small / "catalogue.nq"),
                    "--store",
                    str(self.fresh("store-small")),
                ],
                log=self.work / "load.log",
            )
        self.phase("bulk load", t)

        # 2. whole-catalogue validation
        t = time.perf_counter()
        self.log(f"validation of {VALIDATION_SMALL} products (ETI and pySHACL)")
        r["validation_small"] = {
            "eti": self.validate(vsmall, "eti", a.validation_cap),
            "pyshacl": self.validate(vsmall, "pyshacl", a.validation_cap),
        }
        self.log(f"validation of {a.products} products (ETI, cap {a.validation_cap:.0f} s)")
        eti_v = self.validate(big, "eti", a.validation_cap)
        r["validation"] = {"eti": eti_v}
        if not eti_v.get("capped") and "seconds" in eti_v:
            # pySHACL needs only to run 10x as long as ETI to show the goal is met
            cap = min(a.pyshacl_cap, max(30.0, 10.5 * eti_v["seconds"]))
            self.log(f"validation of {a.products} products (pySHACL, cap {cap:.0f} s)")
            r["validation"]["pyshacl"] = self.validate(big, "pyshacl", cap)
        self.phase("validation", t)

        # 3. the servers
        t = time.perf_counter()
        gen = generate.Generator(a.seed)
        steward_org = gen.orgs[len(gen.orgs) // 2].orgnr
        token = peers.token(self.work / "store", "--role", "steward", "--org", steward_org)
        chosen = callers.run_tool("choose", self.work / "store")
        keys = callers.tokens(self.work / "store", chosen)
        r["callers"] = {"chosen": chosen}
        opub = self.fresh("oxigraph-public")
        r["oxigraph_public_load_s"] = peers.timed(
            [
                peers.tool("oxigraph"),
                "load",
                "--location",
                str(opub),
                "--file",
                str(big / "public.nq"),
            ],
            log=self.work / "load.log",
        )
        self.log("starting eti serve and oxigraph serve")
        eti = peers.start_eti(
            self.work / "store",
            self.work,
            # the bench's one client stands for many users: no per-caller share or
            # shorter anonymous limit (they would measure the fairness rules, not speed)
            env={
                "ETI_QUERY_TIMEOUT": str(a.eti_query_timeout),
                "ETI_QUERY_TIMEOUT_ANONYMOUS": str(a.eti_query_timeout),
                "ETI_PER_CALLER_QUERIES": "1000",
            },
        )
        self.servers.append(eti)
        ox = peers.start_oxigraph(opub, self.work)
        self.servers.append(ox)
        self.phase("servers start", t)

        # 4. same rows everywhere
        t = time.perf_counter()
        checks = {f"fixed:{name}": (name, text) for name, text in mix.fixed_queries(params)}
        checks["ask"] = (None, mix.TRIVIAL_ASK)
        for i, (name, text) in enumerate(mix.unique_queries(params, len(mix.NAMES), a.seed + 7)):
            checks[f"unique{i}:{name}"] = (name, text)
        self.log(f"checking {len(checks)} queries on oxigraph and ETI")
        reference = {key: self.ask(ox, text, name, 120) for key, (name, text) in checks.items()}
        r["reference"] = {
            k: {"status": v["status"], "ms": v["ms"], "rows": _rows(v)}
            for k, v in reference.items()
        }
        timeout = a.eti_query_timeout + 20
        r["check_eti"] = self.check(reference, eti, checks, timeout)
        eti.wait_idle(limit=a.eti_query_timeout + 15)
        self.phase("check", t)

        # 5. load: trivial ASK, repeated mix, unique mix; ETI and oxigraph in turn
        t = time.perf_counter()
        fixed = [text for _name, text in mix.fixed_queries(params)]
        runs: dict[str, dict[str, list]] = {}
        offset = 0
        for rep in range(a.reps):
            for label, server in (("eti", eti), ("oxigraph", ox)):
                self.log(f"rep {rep + 1}/{a.reps}: {label}: ASK, repeated mix, unique mix")
                key = runs.setdefault(label, {"ask": [], "repeated": [], "unique": []})
                key["ask"].append(self.drive(server, [mix.TRIVIAL_ASK], a.ask_duration))
                key["repeated"].append(self.drive(server, fixed, a.duration))
                bodies = [
                    text for _n, text in mix.unique_queries(params, a.unique_count, a.seed, offset)
                ]
                offset += a.unique_count
                key["unique"].append(
                    self.drive(server, bodies, a.duration, max_requests=a.unique_count)
                )
        r["load"] = runs
        r["memory_mib"] = {"eti": round(eti.rss_mib(), 1), "oxigraph": round(ox.rss_mib(), 1)}
        r["memory_processes"] = {
            "eti": peers.rss_breakdown(eti.pid),
            "oxigraph": peers.rss_breakdown(ox.pid),
        }
        self.phase("query load", t)

        # 5b. every kind of caller on the same six queries; the admin against oxigraph
        # serve holding every graph
        t = time.perf_counter()
        self.log(f"per-caller mix: {chosen}")
        oxall = peers.start_oxigraph(self.work / "oxigraph-all", self.work, name="all")
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

        # 6. registration over HTTP
        t = time.perf_counter()
        self.log("registration over HTTP")
        r["register_http"] = self.register_http(eti, token, steward_org, a.registrations)
        self.phase("registration over HTTP", t)

        if a.profile:
            t = time.perf_counter()
            self.log("profiling eti serve under the unique mix and the ASK (py-spy)")
            bodies = [
                text for _n, text in mix.unique_queries(params, a.unique_count, a.seed, offset)
            ]
            r["profile_mix"] = self.profile_server(eti, bodies, "mix")
            r["profile_ask"] = self.profile_server(eti, [mix.TRIVIAL_ASK], "ask")
            self.phase("profiles", t)

        eti.stop()
        ox.stop()
        self.servers.clear()
        r["callers"]["overhead"] = callers.run_tool("overhead", self.work / "store")

        # 7. registration in process, once no server holds the stores (it adds products,
        # so it comes after the query comparison)
        t = time.perf_counter()
        self.log("registration in process")
        if a.products > SMALL:
            r["register_small"] = self.register_in_process(
                self.work / "store-small", "lean", a.registrations, False
            )
        r["register"] = self.register_in_process(
            self.work / "store", "lean", a.registrations, a.profile
        )
        r["register_full"] = self.register_in_process(
            self.work / "store", "full", max(5, a.registrations // 3), False
        )
        self.phase("registration", t)

        # 8. rdflib-endpoint
        if not a.skip_rdflib:
            t = time.perf_counter()
            self.log("starting rdflib-endpoint (loads the anonymous view in memory)")
            started = time.perf_counter()
            rdf = peers.start_rdflib(big / "public.nq", self.work)
            self.servers.append(rdf)
            r["rdflib_start_s"] = round(time.perf_counter() - started, 1)
            r["memory_mib"]["rdflib"] = round(rdf.rss_mib(), 1)
            r["rdflib"] = self.rdflib_run(rdf, checks, reference)
            rdf.stop()
            self.servers.clear()
            self.phase("rdflib-endpoint", t)

        r["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        r["seconds"] = round(time.perf_counter() - self.started, 1)
        r["machine"]["loadavg_end"] = os.getloadavg()
        return r

    def rdflib_run(self, server: peers.Server, checks: dict, reference: dict) -> dict:
        """rdflib-endpoint answers one query at a time (its handler blocks the event loop),
        so it gets the queries one by one, cheapest (on oxigraph) first, within a budget;
        each answer is compared with oxigraph's. A query cut off by the budget leaves the
        server busy, so the server is stopped after this."""
        order = sorted(
            (k for k in checks if k != "ask"),
            key=lambda k: reference[k]["ms"] or 1e9,
        )
        budget = self.args.rdflib_budget
        started = time.perf_counter()
        done = []
        for key in order:
            left = budget - (time.perf_counter() - started)
            if left <= 1:
                break
            name, text = checks[key]
            got = self.ask(server, text, name, left)
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

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


def _rows(answer: dict) -> int | None:
    if "answer" not in answer or answer["answer"][0] == "boolean":
        return None
    return len(answer["answer"][1])


# -- machine facts and profiles ------------------------------------------------------------


def machine_facts() -> dict:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) // 1024
    wrk = None
    if load.have_wrk():
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
        wrk = (out.stdout or out.stderr).split()[1] if (out.stdout or out.stderr) else "?"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE,
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_mib": mem,
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
        "commit": commit or None,
        "load_driver": f"wrk {wrk}" if wrk else "python threads (wrk not installed)",
        "versions": {
            n: version(n)
            for n in ("pyoxigraph", "oxigraph", "rdflib", "pyshacl", "rdflib-endpoint", "flask")
        },
    }


def top_frames(raw: Path, n: int = 12) -> dict:
    """Own and cumulative shares of the hottest frames of a py-spy raw (collapsed) file."""
    from collections import Counter

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


# -- the table -----------------------------------------------------------------------------


def _med(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _spread(values: list[float], fmt: str) -> str:
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return f" (n={len(values)})"
    return f" [{format(min(values), fmt)}–{format(max(values), fmt)}]"


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def table(r: dict) -> tuple[str, list[dict]]:
    rows: list[dict] = []

    def row(metric, eti, peer, ratio, goal, met, note=""):
        rows.append(
            {
                "metric": metric,
                "eti": eti,
                "peer": peer,
                "ratio": ratio,
                "goal": goal,
                "met": met,
                "note": note,
            }
        )

    def verdict(ok: bool | None) -> str:
        return "—" if ok is None else ("yes" if ok else "NO")

    n = r["catalogue"]["products"]
    load_runs = r.get("load", {})
    e, o = load_runs.get("eti", {}), load_runs.get("oxigraph", {})

    def tput(runs):
        return [x["throughput"] for x in runs]

    def p99(runs):
        return [x["p99_ms"] for x in runs]

    def errs(runs):
        ok = sum(x["ok"] for x in runs)
        return f"{ok} ok, {sum(x['errors'] for x in runs)} err"

    for mode, goal in (("repeated", 1.0), ("unique", 0.9)):
        if mode not in e:
            continue
        et, ot = _med(tput(e[mode])), _med(tput(o[mode]))
        ratio = et / ot if et is not None and ot else None
        row(
            f"query mix, {mode} texts: throughput (q/s)",
            _num(et, ".2f") + _spread(tput(e[mode]), ".2f") + f" ({errs(e[mode])})",
            "oxigraph " + _num(ot, ".1f") + _spread(tput(o[mode]), ".1f"),
            _num(ratio, ".3f") + "×",
            f"≥ {goal}×",
            verdict(ratio is not None and ratio >= goal),
        )
    if "unique" in e:
        ep, op = _med(p99(e["unique"])), _med(p99(o["unique"]))
        ratio = ep / op if ep is not None and op else None
        row(
            "query mix, unique texts: p99 latency (ms)",
            _num(ep, ".0f") + _spread(p99(e["unique"]), ".0f"),
            "oxigraph " + _num(op, ".0f") + _spread(p99(o["unique"]), ".0f"),
            _num(ratio, ".1f") + "×",
            "≤ 1.0×",
            verdict(ratio is not None and ratio <= 1.0),
            "" if ep is not None else "no ETI answer came back within a run",
        )
    if "ask" in e:
        et, ot = _med(tput(e["ask"])), _med(tput(o["ask"]))
        ratio = et / ot if et is not None and ot else None
        row(
            "trivial ASK: throughput (q/s)",
            _num(et, ".1f") + _spread(tput(e["ask"]), ".1f") + f" ({errs(e['ask'])})",
            "oxigraph " + _num(ot, ".0f") + _spread(tput(o["ask"]), ".0f"),
            _num(ratio, ".3f") + "×",
            "≥ 0.5×",
            verdict(ratio is not None and ratio >= 0.5),
        )
    rdf = r.get("rdflib")
    if rdf and "unique" in e:
        et = _med(tput(e["unique"]))
        answered, elapsed = rdf["answered"], rdf["elapsed_s"]
        if answered:
            rt = answered / elapsed
            ratio = et / rt if et is not None else None
            shown = _num(ratio, ".1f") + "×"
        else:  # nothing answered within the budget: throughput below 1 / budget
            rt = None
            ratio = et * elapsed if et is not None else None
            shown = "> " + _num(ratio, ".1f") + "×"
        row(
            "query mix vs rdflib-endpoint: throughput (q/s)",
            _num(et, ".2f") + " (unique mix)",
            f"rdflib-endpoint {_num(rt, '.3f')} ({answered} in {elapsed:.0f} s)",
            shown,
            "≥ 100×",
            verdict(ratio is not None and ratio >= 100),
            "rdflib-endpoint answers one query at a time; it got the checked queries one by one,"
            " cheapest first, within the budget: its throughput here is an upper bound",
        )
    checks = r.get("check_eti", {})
    if checks:
        same = sum(1 for c in checks.values() if c["same"])
        failing = sorted(
            f"{k.split(':', 1)[-1]}({c['status']})" for k, c in checks.items() if not c["same"]
        )
        row(
            "same rows as oxigraph serve (checked queries)",
            f"{same}/{len(checks)}",
            "reference",
            "—",
            "all",
            verdict(same == len(checks)),
            "differing: " + ", ".join(sorted(set(failing))) if failing else "",
        )
    if rdf:
        same = sum(1 for q in rdf["queries"] if q["same"])
        row(
            "rdflib-endpoint: same rows as oxigraph (answered)",
            "—",
            f"{same}/{rdf['answered']} answered ({len(rdf['queries'])} sent)",
            "—",
            "all answered",
            verdict(same == rdf["answered"]),
        )
    reg_small, reg = r.get("register_small"), r.get("register")
    if reg:
        size = int(reg["median_triples"])
        pairs = [(reg_small, SMALL)] if n > SMALL else []
        for data, products in [*pairs, (reg, n)]:
            if not data:
                continue
            times = data["times_ms"]
            q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (0, 0, 0)
            med = statistics.median(times)
            row(
                f"registration + validation, {size} triples, {products:,} products (ms)",
                f"{med:.0f} [p25–p75 {q1:.0f}–{q3:.0f}]",
                "—",
                "—",
                "≤ 50 ms",
                verdict(med <= 50),
                f"in process (registry.register), {len(times)} registrations",
            )
        if reg_small and n > SMALL:
            flat = statistics.median(reg["times_ms"]) / statistics.median(reg_small["times_ms"])
            row(
                f"registration flatness: {n:,} / {SMALL:,} products",
                f"{flat:.2f}×",
                "—",
                f"{flat:.2f}×",
                "≤ 1.3× (100k / 1k)",
                verdict(flat <= 1.3),
            )
    full = r.get("register_full")
    if full:
        times = full["times_ms"]
        row(
            f"registration, {int(full['median_triples'])}-triple product, {n:,} products (ms)",
            f"{statistics.median(times):.0f}" + _spread(times, ".0f"),
            "—",
            "—",
            "(info)",
            "—",
        )
    http = r.get("register_http")
    if http and http["times_ms"]:
        times = http["times_ms"]
        ok = sum(1 for s in http["statuses"] if s == 201)
        row(
            f"registration over HTTP (POST /api/products), {n:,} (ms)",
            f"{statistics.median(times):.0f}" + _spread(times, ".0f") + f" ({ok} × 201)",
            "—",
            "—",
            "≤ 50 ms",
            verdict(statistics.median(times) <= 50 and ok == len(times)),
        )
    for key, size in (("validation_small", VALIDATION_SMALL), ("validation", n)):
        v = r.get(key)
        if not v:
            continue
        ev, pv = v.get("eti", {}), v.get("pyshacl")

        def shown(x):
            if not x:
                return "not run"
            if x.get("capped"):
                return f"> {x['cap_s']:.0f} s (stopped)"
            if "seconds" not in x:
                return "failed"
            return f"{x['seconds']:.1f} s"

        ratio, same = None, None
        if pv and "seconds" in ev and "seconds" in pv:
            ratio = pv["seconds"] / ev["seconds"]
            same = set(map(tuple, ev["results"])) == set(map(tuple, pv["results"]))
        elif pv and pv.get("capped") and "seconds" in ev:
            ratio = pv["cap_s"] / ev["seconds"]
        note = ""
        if same is not None:
            note = "reports identical" if same else "reports DIFFER"
            note += f" ({len(ev['results'])} results)"
        ratio_text = "—" if ratio is None else f"{ratio:.1f}×"
        if pv and pv.get("capped") and ratio is not None:
            ratio_text = "≥ " + ratio_text
        row(
            f"whole-catalogue validation, {size:,} products",
            shown(ev),
            "pySHACL " + shown(pv),
            ratio_text,
            "≥ 10× and identical" if size == n else "(identical reports)",
            verdict(None if ratio is None else (ratio >= 10 and same is not False)),
            note,
        )
    for key, label in (("bulk_small", f"{SMALL:,}"), ("bulk", f"{n:,}")):
        b = r.get(key)
        if not b:
            continue
        et, ot = _med(b["eti_s"]), _med(b["oxigraph_s"])
        stopped = any(x is None for x in b["eti_s"])
        if stopped:
            eti_cell = f"eti restore > {b['cap_s']:.0f} (stopped)"
            ratio = ot / b["cap_s"] if ot else None
            ratio_cell = "< " + _num(ratio, ".2f") + "× (speed)"
        else:
            eti_cell = "eti restore " + _num(et, ".1f") + _spread(b["eti_s"], ".1f")
            ratio = ot / et if et else None
            ratio_cell = _num(ratio, ".2f") + "× (speed)"
        row(
            f"bulk load, {label} products ({b['quads']:,} quads) (s)",
            eti_cell,
            "oxigraph load " + _num(ot, ".1f") + _spread(b["oxigraph_s"], ".1f"),
            ratio_cell,
            "≥ 0.8×",
            verdict(ratio is not None and ratio >= 0.8 and not stopped),
            "the later steps use the store oxigraph load wrote"
            if b.get("store_from_oxigraph_load")
            else "",
        )
    mem = r.get("memory_mib")
    if mem:
        ratio = mem["eti"] / mem["oxigraph"] if mem.get("oxigraph") else None
        extra = f"; rdflib-endpoint {mem['rdflib']:.0f} MiB" if "rdflib" in mem else ""
        row(
            f"server memory after the mix, {n:,} products (RSS MiB)",
            f"{mem['eti']:.0f}",
            f"oxigraph {mem['oxigraph']:.0f}{extra}",
            _num(ratio, ".2f") + "×",
            "≤ 2× (at 100k)",
            verdict(ratio is not None and ratio <= 2.0),
        )

    callers.table_rows(r, row)

    head = ["metric", "ETI", "peer", "ratio", "goal", "met?"]
    cells = [[x["metric"], x["eti"], x["peer"], x["ratio"], x["goal"], x["met"]] for x in rows]
    widths = [max(len(str(c[i])) for c in [head, *cells]) for i in range(len(head))]
    lines = [
        " | ".join(str(c).ljust(widths[i]) for i, c in enumerate(head)),
        "-+-".join("-" * w for w in widths),
    ]
    for c, x in zip(cells, rows, strict=True):
        lines.append(" | ".join(str(v).ljust(widths[i]) for i, v in enumerate(c)))
        if x["note"]:
            lines.append("    " + x["note"])
    return "\n".join(lines), rows


def header(r: dict) -> str:
    m, c = r["machine"], r["catalogue"]
    when = r.get("started", "?")
    return (
        f"ETI catalogue benchmark, {when} — {c['products']:,} products "
        f"({c['catalogue_quads']:,} quads; anonymous view {c['public_quads']:,} triples, "
        f"{c['open']:,} open products), seed {c['seed']}\n"
        f"machine: {m['nproc']} cores ({m['cpu']}), {m['memory_mib'] / 1024:.0f} GiB; "
        f"load average at start {m['loadavg_start'][0]:.1f}; {m['load_driver']}; "
        f"commit {m['commit']}; {r.get('seconds', 0):.0f} s in all\n"
        f"medians over {r['args']['reps']} runs, [min–max] where there are several; "
        f"{r['args']['connections']} connections, "
        f"eti serve query_timeout {r['args']['eti_query_timeout']} s\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ETI catalogue benchmark (issue 8)")
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
    parser.add_argument("--load-reps", type=int, default=2, help="bulk loads of 1,000 products")
    parser.add_argument("--validation-cap", type=float, default=45.0, help="s, after parsing")
    parser.add_argument("--restore-cap", type=float, default=180.0, help="s per 10k products")
    parser.add_argument("--pyshacl-cap", type=float, default=600.0)
    parser.add_argument("--eti-query-timeout", type=float, default=10.0)
    parser.add_argument("--rdflib-budget", type=float, default=45.0)
    parser.add_argument("--skip-rdflib", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy and pyinstrument too")
    parser.add_argument("--quick", action="store_true", help="1 rep, short runs (smoke)")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--data", type=Path, default=None, help="[results/data]")
    parser.add_argument("--work", type=Path, default=None, help="stores [results/work]")
    parser.add_argument("--keep-work", action="store_true", help="keep the stores")
    args = parser.parse_args(argv)
    args.data = args.data or args.results / "data"
    args.work = args.work or args.results / "work"
    if args.large:
        args.products = 100_000
    if args.quick:
        args.reps, args.duration, args.ask_duration = 1, 3.0, 2.0
        args.registrations, args.load_reps, args.rdflib_budget = 8, 0, 20.0
        args.caller_reps = 2
    bench = Bench(args)
    try:
        results = bench.run()
    finally:
        bench.stop_all()
    text, rows = table(results)
    results["table"] = rows
    print()
    print(header(results))
    print(text)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = json.dumps(results, indent=1, default=str)
    (args.results / "latest.json").write_text(payload)
    (args.results / f"run-{stamp}.json").write_text(payload)
    (args.results / "latest.txt").write_text(header(results) + "\n" + text + "\n")
    if not args.keep_work:
        shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
