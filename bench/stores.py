"""Generated catalogues and loaded stores, made once and kept under ``bench/results``.

Generating 10,000 products and loading them takes minutes (100,000: most of an hour), so
the bench keeps both, keyed by size, seed and a hash of the generator:

``results/data/{N}-seed{S}/``
    what ``generate.py`` wrote, with ``generator.sha`` (the hash of ``generate.py`` it
    was made with; another hash makes it again);
``results/stores/{N}-seed{S}/``
    ``eti/`` (``eti restore`` of the dump, with the owners graph the generated dump
    lacks: ``prepare``), ``oxigraph-all/`` (``oxigraph load`` of the
    dump: every graph) and ``oxigraph-public/`` (``oxigraph load`` of the anonymous
    view), with ``manifest.json``: the generator hash and the load times measured when
    the stores were made (the bulk-load rows of a later run report these).

A run never writes into the kept stores: it works on a snapshot (``snapshot``), whose
immutable table files (``*.sst``, ``*.blob``) are hard links and whose other files are
copies, as a RocksDB checkpoint is; a snapshot of 10 GB takes a second.

    python bench/stores.py --products 100000 [--seed 1] [--no-eti-restore]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import peers  # noqa: E402

RESULTS = HERE / "results"
IMMUTABLE = (".sst", ".blob")


def generator_hash() -> str:
    """The hash of ``generate.py``: data made by another generator is made again."""
    return hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:16]


def catalogue(products: int, seed: int, root: Path = RESULTS, log=print) -> Path:
    """The folder of the generated catalogue of ``products`` (made when missing or made
    by another generator)."""
    folder = root / "data" / f"{products}-seed{seed}"
    stamp = folder / "generator.sha"
    if (folder / "manifest.json").exists() and stamp.exists():
        if stamp.read_text().strip() == generator_hash():
            return folder
    # a fresh folder: its files may be hard links to another checkout's data
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    generate.generate(products, seed, folder)
    stamp.write_text(generator_hash() + "\n")
    log(f"generated {products:,} products in {time.perf_counter() - started:.1f} s")
    return folder


def snapshot(source: Path, target: Path) -> Path:
    """A writable copy of the store ``source`` at ``target``: table files hard-linked,
    the rest copied (RocksDB never rewrites a table file; it writes new ones)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name == "LOCK":
            continue
        if entry.is_dir():
            snapshot(entry, target / entry.name)
        elif entry.suffix in IMMUTABLE:
            os.link(entry, target / entry.name)
        else:
            shutil.copy2(entry, target / entry.name)
    return target


# The owners graph of a generated dump: every resource a product's first version states,
# the first registered first, as ``ownership.rebuild`` decides it; read straight from the
# indexes here (the rebuild runs a query per graph, 300,000 of them at 100,000 products:
# an hour on this machine). Every generated product has a record, so the history graphs
# are all there is.
_PREPARE = """
import sys
import pyoxigraph as ox
from eti.catalogue.namespaces import OWNED_BY, OWNERS, RECORDS
DCT, DCAT = "http://purl.org/dc/terms/", "http://www.w3.org/ns/dcat#"
db = ox.Store(sys.argv[1])
records = ox.NamedNode(RECORDS)
def objects(predicate):
    pattern = db.quads_for_pattern(None, ox.NamedNode(predicate), None, records)
    return [(q.subject, q.object) for q in pattern]
ident = dict(objects(DCT + "identifier"))
number = dict(objects(DCAT + "version"))
issued = dict(objects(DCT + "issued"))
versions = sorted(
    (issued[v].value, ident[r].value, int(number[v].value))
    for r, v in objects(DCAT + "hasVersion")
    if r in ident and v in number and v in issued
)
owners = {}
for _when, i, n in versions:
    graph = ox.NamedNode(f"urn:eti:graph:history:{i}:{n}")
    for q in db.quads_for_pattern(None, None, None, graph):
        s = q.subject
        if isinstance(s, ox.NamedNode) and not s.value.startswith("urn:eti:"):
            owners.setdefault(s, i)
db.remove_graph(ox.NamedNode(OWNERS))
graph, owned = ox.NamedNode(OWNERS), ox.NamedNode(OWNED_BY)
db.bulk_extend(ox.Quad(s, owned, ox.Literal(i), graph) for s, i in owners.items())
db.flush()
print(len(owners))
"""


def prepare(store: Path, log=print) -> float:
    """Write the owners graph the generated dump lacks into the ETI store, once (else
    every server and command that opens a snapshot rebuilds it: ``Catalogue.prepare``)."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _PREPARE, str(store)],
        check=True,
        timeout=7200,
        capture_output=True,
        text=True,
    )
    took = round(time.perf_counter() - started, 1)
    log(f"owners graph of {store}: {out.stdout.strip()} resources in {took} s")
    return took


# What ``eti restore`` does last: the admin's view of the whole catalogue, built ahead
_VIEWS = """
import sys
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue
from eti.catalogue.store import OxigraphStore
with Catalogue(Settings(query_workers=0), store=OxigraphStore(sys.argv[1])) as cat:
    cat.prepare()
    cat.build_views()
"""


def build_views(store: Path, log=print) -> float:
    """Build the admin's view in the ETI store as ``eti restore`` does (a store copied
    from ``oxigraph load``'s has none); returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _VIEWS, str(store)], check=True, timeout=14400, text=True)
    took = round(time.perf_counter() - started, 1)
    log(f"the admin's view in {store}: {took} s")
    return took


def _load(kind: str, source: Path, target: Path, log: Path, cap: float | None) -> float | None:
    shutil.rmtree(target, ignore_errors=True)
    if kind == "eti":
        cmd = [peers.tool("eti"), "restore", str(source), "--store", str(target)]
    else:
        cmd = [peers.tool("oxigraph"), "load", "--location", str(target), "--file", str(source)]
    took = peers.timed(cmd, log=log, cap=cap)
    if took is None:
        shutil.rmtree(target, ignore_errors=True)
    return took


def stores(
    data: Path,
    root: Path = RESULTS,
    *,
    cap: float | None = None,
    eti_restore: bool = True,
    parallel: bool = False,
    log=print,
) -> tuple[Path, dict]:
    """The kept stores of the catalogue in ``data`` (loaded when missing), and their
    manifest. When ``eti restore`` runs past ``cap`` seconds (or ``eti_restore`` is
    False) the ETI store is a copy of the one ``oxigraph load`` wrote from the same dump
    (``eti serve`` opens it as it is)."""
    folder = root / "stores" / data.name
    manifest_path = folder / "manifest.json"
    key = (data / "generator.sha").read_text().strip()
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("generator") == key:
            if "eti_prepare_s" not in manifest:  # kept before stores were prepared
                manifest["eti_prepare_s"] = prepare(folder / "eti", log)
                manifest_path.write_text(json.dumps(manifest, indent=1))
            if "eti_views_s" not in manifest:  # kept before restores built the admin's view
                manifest["eti_views_s"] = build_views(folder / "eti", log)
                manifest_path.write_text(json.dumps(manifest, indent=1))
            return folder, manifest
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    logfile = folder / "load.log"
    nq, pub = data / "catalogue.nq", data / "public.nq"
    jobs = {
        "oxigraph_all_s": ("oxigraph", nq, folder / "oxigraph-all", None),
        "oxigraph_public_s": ("oxigraph", pub, folder / "oxigraph-public", None),
    }
    if eti_restore:
        jobs["eti_s"] = ("eti", nq, folder / "eti", cap)
    log(f"loading {data.name} into {', '.join(k[:-2] for k in jobs)}")
    times: dict[str, float | None] = {}
    if parallel:
        with cf.ThreadPoolExecutor(len(jobs)) as pool:
            futures = {k: pool.submit(_load, *job[:3], logfile, job[3]) for k, job in jobs.items()}
            times = {k: f.result() for k, f in futures.items()}
    else:
        for k, (kind, source, target, limit) in jobs.items():
            times[k] = _load(kind, source, target, logfile, limit)
            log(f"{k[:-2]}: {times[k]} s")
    fallback = times.get("eti_s") is None
    if fallback:
        snapshot(folder / "oxigraph-all", folder / "eti")
    times["eti_prepare_s"] = prepare(folder / "eti", log)
    if fallback:  # eti restore builds it itself
        times["eti_views_s"] = build_views(folder / "eti", log)
    quads = json.loads((data / "manifest.json").read_text())["catalogue_quads"]
    manifest = {
        "generator": key,
        "products": int(data.name.split("-", 1)[0]),
        "quads": quads,
        **{k: None if v is None else round(v, 1) for k, v in times.items()},
        "cap_s": cap,
        "parallel": parallel,
        "eti_from_oxigraph_load": fallback,
        "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return folder, manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="make the bench's data and stores ahead")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--restore-cap", type=float, default=None, help="s for eti restore")
    parser.add_argument("--no-eti-restore", action="store_true", help="copy oxigraph's store")
    parser.add_argument("--parallel", action="store_true", help="load the stores at once")
    args = parser.parse_args(argv)
    data = catalogue(args.products, args.seed, args.results)
    _folder, manifest = stores(
        data,
        args.results,
        cap=args.restore_cap,
        eti_restore=not args.no_eti_restore,
        parallel=args.parallel,
    )
    json.dump(manifest, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
