"""Registration with validation, in process: ``eti.catalogue.registry.register``.

    python bench/register_bench.py --store PATH --count 30 [--kind lean|full] [--profile OUT]

Registers ``--count`` generated products (after ``--warmup`` that are not timed: the
first loads the shapes and vocabularies) into the embedded store at PATH, each as the
steward of its owner, and prints JSON: the time of each registration in ms (wall), the
CPU time of the registering thread (``cpu_ms``: ours, Python and the engine's work on
the caller's thread) and of the whole process (``process_cpu_ms``: also the engine's
background flushes and compactions), the time the thread was ready to run but waited
for a core (``queued_ms``, from the kernel's schedstat; Linux only), and the number of
triples of each product. Wall minus ``cpu_ms`` minus ``queued_ms`` is time blocked (on
the disk or a lock). The steward view of each owner is built first (its
steward reads once), so each registration keeps a view true as it does in the server;
then the store is flushed and the engine's compactions of those writes are let finish
(``settle_s``), so the timed registrations do not share the cores with them.
``--profile`` writes a pyinstrument profile (HTML and
text) of the timed registrations.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import AS_OF, Generator

from eti.catalogue import registry
from eti.catalogue.auth import Identity
from eti.catalogue.core import Catalogue
from eti.catalogue.store import OxigraphStore


def quads_of(product) -> list[ox.Quad]:
    body = [f"{s} {p} {o} .\n" for s, p, o in product.description]
    content = f"<urn:eti:graph:content:{product.ident}>"
    body += [f"{s} {p} {o} {content} .\n" for s, p, o in product.content]
    return list(ox.parse("".join(body).encode(), ox.RdfFormat.N_QUADS))


def queued_ns() -> int:
    """Nanoseconds this thread has spent runnable but waiting for a core (0 off Linux)."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def settle(store: OxigraphStore, cap: float = 300.0) -> float:
    """Flush, then wait until the engine's background threads (compactions) are quiet:
    building the views writes much, and compacting it after would take cores from the
    timed registrations (at 10,000 products: 14 ms of CPU per registration on other
    threads of this process, the thread itself waiting for a core). Seconds waited."""
    started = time.perf_counter()
    store.flush()
    quiet = 0
    while quiet < 2 and time.perf_counter() - started < cap:
        thread0, process0 = time.thread_time(), time.process_time()
        time.sleep(0.25)
        background = (time.process_time() - process0) - (time.thread_time() - thread0)
        quiet = quiet + 1 if background < 0.01 else 0
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kind", choices=["lean", "full"], default="lean")
    parser.add_argument("--prefix", default="reg-")
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()

    gen = Generator(args.seed)
    products = [
        gen.product(i, lean=args.kind == "lean", prefix=f"{args.prefix}{args.kind}-")
        for i in range(args.warmup + args.count)
    ]
    store = OxigraphStore(args.store)
    times, cpu, process_cpu, queued, sizes = [], [], [], [], []
    profiler = None
    # every owner's steward view exists (as after its steward read once), so each write
    # below also keeps a view true, as in the server
    started = time.perf_counter()
    catalogue = Catalogue(store=store)
    for org in sorted({p.owner.orgnr for p in products}):
        catalogue.access(Identity(role="steward", org=org, name="bench"))
    views_s = time.perf_counter() - started
    settle_s = settle(store)
    try:
        for i, product in enumerate(products):
            quads = quads_of(product)
            who = Identity(role="steward", org=product.owner.orgnr, name="bench")
            if i == args.warmup and args.profile is not None:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
            started = time.perf_counter()
            thread0, process0, queued0 = time.thread_time(), time.process_time(), queued_ns()
            registry.register(store, quads, who=who, as_of=AS_OF)
            took = (time.perf_counter() - started) * 1000
            if i >= args.warmup:
                times.append(took)
                cpu.append((time.thread_time() - thread0) * 1000)
                process_cpu.append((time.process_time() - process0) * 1000)
                queued.append((queued_ns() - queued0) / 1e6)
                sizes.append(len(quads))
    finally:
        if profiler is not None:
            profiler.stop()
            args.profile.with_suffix(".html").write_text(profiler.output_html())
            args.profile.with_suffix(".txt").write_text(
                profiler.output_text(unicode=True, color=False, show_all=False)
            )
        store.close()
    json.dump(
        {
            "kind": args.kind,
            "times_ms": [round(t, 2) for t in times],
            "median_ms": round(statistics.median(times), 2),
            "cpu_ms": [round(t, 2) for t in cpu],
            "median_cpu_ms": round(statistics.median(cpu), 2),
            "median_process_cpu_ms": round(statistics.median(process_cpu), 2),
            # flushes and compactions come in bursts: their share is a mean, not a median
            "mean_background_cpu_ms": round((sum(process_cpu) - sum(cpu)) / len(cpu), 2),
            "queued_ms": [round(t, 2) for t in queued],
            "median_queued_ms": round(statistics.median(queued), 2),
            "load_average": round(os.getloadavg()[0], 2),
            "triples": sizes,
            "median_triples": statistics.median(sizes),
            "views_s": round(views_s, 2),
            "settle_s": round(settle_s, 2),
        },
        sys.stdout,
    )
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
