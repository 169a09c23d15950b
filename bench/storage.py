"""What the derived graphs cost in storage (issue 15 §5): quads and N-Quads bytes of the
per-caller view graphs (``urn:eti:graph:view:*`` and their index ``urn:eti:graph:views``)
and of the anonymous caller's derived graphs (``public``, ``open``, ``read``) against the
rest of the store, and the store's size on disk against ``oxigraph load`` of the same dump
(which holds ``public``, ``open`` and ``read`` but no per-caller view).

    python bench/storage.py STORE      # prints the figures as JSON

Graphs are counted by dumping them through a counting writer (the engine serializes; no
quad is turned into a Python object), the rest as the whole store's count less these.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VIEW_PREFIX = "urn:eti:graph:view:"
VIEWS = "urn:eti:graph:views"
ANONYMOUS = ("urn:eti:graph:public", "urn:eti:graph:open", "urn:eti:graph:read")


class _Counter:
    """A file-like sink that counts bytes and lines."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def write(self, chunk: bytes) -> int:
        self.bytes += len(chunk)
        self.lines += chunk.count(b"\n")
        return len(chunk)

    def flush(self) -> None:
        pass


def _graph(db, name: str) -> tuple[int, int]:
    """(quads, N-Quads bytes) of one named graph."""
    import pyoxigraph as ox

    sink = _Counter()
    db.dump(sink, ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name))
    # N-Quads: each line also names its graph, "<name> " before the final " ."
    return sink.lines, sink.bytes + sink.lines * (len(name) + 3)


def disk_bytes(folder: Path) -> int:
    """Bytes of the files in ``folder`` (a hard-linked file counts in full)."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def measure(store: Path, dump: Path | None = None) -> dict:
    """Quads and bytes of the derived graphs of the store at ``store`` (read-only), and
    of the rest; ``dump`` (the N-Quads file it was restored from) gives the rest's bytes."""
    import pyoxigraph as ox

    db = ox.Store.read_only(str(store))
    groups: dict[str, dict] = {"views": {}, "anonymous": {}}
    for graph in db.named_graphs():
        name = graph.value
        if name.startswith(VIEW_PREFIX) or name == VIEWS:
            groups["views"][name] = _graph(db, name)
        elif name in ANONYMOUS:
            groups["anonymous"][name] = _graph(db, name)
    total = len(db)
    out: dict = {"total_quads": total}
    for key, graphs in groups.items():
        out[key] = {
            "graphs": len(graphs),
            "quads": sum(q for q, _b in graphs.values()),
            "bytes": sum(b for _q, b in graphs.values()),
            "by_graph": {g: {"quads": q, "bytes": b} for g, (q, b) in graphs.items()},
        }
    out["rest_quads"] = total - out["views"]["quads"] - out["anonymous"]["quads"]
    if dump is not None and dump.exists():
        out["rest_bytes"] = dump.stat().st_size - out["anonymous"]["bytes"]
    out["disk_bytes"] = disk_bytes(store)
    # the fields callers.py has always reported
    out["view_quads"] = out["views"]["quads"]
    out["view_graphs"] = {g: v["quads"] for g, v in out["views"]["by_graph"].items()}
    out["share"] = out["view_quads"] / total if total else 0.0
    return out


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def table_rows(r: dict, row) -> None:
    """Add the storage rows of the run ``r`` through ``row(metric, eti, peer, ratio, goal,
    met, note)``."""
    s = (r.get("callers") or {}).get("overhead")
    if not s or "views" not in s:
        return
    n = r["catalogue"]["products"]
    total = s["total_quads"]
    rest_bytes = s.get("rest_bytes")
    for key, label in (
        ("views", "per-caller view graphs (view:* and views)"),
        ("anonymous", "anonymous derived graphs (public, open, read)"),
    ):
        g = s[key]
        row(
            f"storage, {n:,} products: {label}",
            f"{g['quads']:,} quads, {_mib(g['bytes'])} N-Quads ({g['graphs']} graphs)",
            f"rest {s['rest_quads']:,} quads" + (f", {_mib(rest_bytes)}" if rest_bytes else ""),
            f"{100 * g['quads'] / max(1, s['rest_quads']):.1f} % of the rest (quads)",
            "(reported)",
            "—",
        )
    ox_disk = s.get("oxigraph_disk_bytes")
    row(
        f"storage, {n:,} products: store on disk",
        f"eti {_mib(s['disk_bytes'])} ({total:,} quads)",
        f"oxigraph load of the dump {_mib(ox_disk)}" if ox_disk else "—",
        f"{s['disk_bytes'] / ox_disk:.2f}×" if ox_disk else "—",
        "(reported)",
        "—",
        "the dump holds public, open and read; the view graphs are built by the callers' reads",
    )


if __name__ == "__main__":
    store = Path(sys.argv[1])
    dump = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    json.dump(measure(store, dump), sys.stdout)
    print()
