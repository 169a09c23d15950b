"""The ontology and controlled vocabularies: shipped with the package, importable in full."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox

from . import rdfio
from .graphs import replace_graphs, sync_read
from .namespaces import VOCABULARIES
from .store import Progress, Store


def shipped_files() -> list[tuple[str, bytes]]:
    """(name, Turtle bytes) of the ontology and every shipped vocabulary."""
    root = files("eti.ontology")
    out = [("eti.ttl", (root / "eti.ttl").read_bytes())] if (root / "eti.ttl").is_file() else []
    vocab = root / "vocabularies"
    if vocab.is_dir():
        out += sorted(
            (f"vocabularies/{p.name}", p.read_bytes())
            for p in vocab.iterdir()
            if p.name.endswith(".ttl")
        )
    return out


def shipped_triples() -> list[ox.Quad]:
    """Every triple of the ontology and the shipped vocabularies."""
    quads: list[ox.Quad] = []
    for name, data in shipped_files():
        quads += rdfio.parse_quads(data, ox.RdfFormat.TURTLE, source=name)
    return quads


def install(store: Store) -> int:
    """Replace the vocabularies graph with the shipped ontology and vocabularies."""
    quads = shipped_triples()
    replace_graphs(store, {VOCABULARIES: quads})
    return len(quads)


def import_file(
    store: Store, path: Path, fmt: ox.RdfFormat | None = None, progress: Progress | None = None
) -> int:
    """Add a full vocabulary (e.g. all of Los) to the vocabularies graph."""
    fmt = fmt or rdfio.format_for(filename=path.name)
    n = store.load(path, fmt, graph=VOCABULARIES, progress=progress)
    sync_read(store, VOCABULARIES)
    return n
