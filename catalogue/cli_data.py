"""``eti demo``, ``eti load``, ``eti dump``, ``eti restore`` and ``eti vocab``: data into
and out of the store, whole files at a time, each checked before anything is written."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
import pyoxigraph as ox
from tqdm import tqdm

from . import demo, ownership, queries, rdfio, vocab
from .cli_common import byte_progress, fail, guarded, open_catalogue, store_options
from .config import Settings
from .graphs import ensure_opened, rebuild_public, rebuild_read
from .namespaces import PUBLIC, READ
from .store import ProgressReader, Store


@click.command("demo")
@store_options
@guarded
def demo_command(settings: Settings) -> None:
    """Load the demo catalogue (life event "Alvorlig sykt barn") into the store."""
    with open_catalogue(settings) as cat:
        cat.prepare()
        counts = demo.load(cat.store)
    click.echo(
        f"demo catalogue loaded: {counts['products']} products, {counts['agreements']} agreements"
    )


@click.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--graph", default=None, help="Named graph for triples (default: as in the file).")
@click.option(
    "--format",
    "fmt",
    default=None,
    help="turtle, trig, nt, nquads, xml, jsonld (default: by extension).",
)
@store_options
@guarded
def load_command(file: Path, graph: str | None, fmt: str | None, settings: Settings) -> None:
    """Add the quads of FILE to the store; a malformed file changes nothing.

    The catalogue's own graphs (urn:eti:graph:...) are refused: products go through
    'eti register', vocabularies through 'eti vocab import', a whole dump through
    'eti restore', all of which check what they write."""
    rdf_format = rdfio.format_for(filename=file.name, name=fmt)
    if graph is None and not rdf_format.supports_datasets:
        fail("triples need a named graph: give --graph IRI (the default graph is not used)")
    if graph is not None:
        _refuse_catalogue_graphs([graph])
    else:
        with byte_progress(file, "checking graphs") as bar, file.open("rb") as handle:
            quads = rdfio.iter_quads(
                ProgressReader(handle, bar.update), rdf_format, source=str(file)
            )
            _refuse_catalogue_graphs(
                {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
            )
    with open_catalogue(settings) as cat:
        with byte_progress(file, "checking + loading") as bar:
            n = cat.store.load(file, rdf_format, graph=graph, progress=bar.update)
        rebuild_public(cat.store)
        cat.build_views()
    click.echo(f"loaded {n} quads from {file}")


CATALOGUE_GRAPHS = "urn:eti:graph:"


def _refuse_catalogue_graphs(graphs: Iterable[str]) -> None:
    """Exit 2 when ``graphs`` name one of the catalogue's own graphs: those are written
    validated (products, agreements, agents) or maintained by the catalogue itself
    (public, open, read, records, history, system), never loaded raw."""
    ours = sorted(g for g in graphs if g.startswith(CATALOGUE_GRAPHS))
    if ours:
        more = f" (and {len(ours) - 1} more)" if len(ours) > 1 else ""
        fail(
            f"<{ours[0]}>{more} is one of the catalogue's own graphs, which 'eti load' does "
            "not write: register products with 'eti register', add vocabularies with "
            "'eti vocab import', organisations through the Graph Store (admin), bring back a "
            "dump with 'eti restore'; nothing was loaded"
        )


@click.command("dump")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["nquads", "trig"]), default="nquads", show_default=True
)
@store_options
@guarded
def dump_command(output: Path | None, fmt: str, settings: Settings) -> None:
    """Write every graph of the store as N-Quads (or TriG): a lossless backup."""
    rdf_format = rdfio.FORMATS[fmt]
    with open_catalogue(settings) as cat:
        if output is None:
            cat.store.dump(sys.stdout.buffer, rdf_format)
            sys.stdout.buffer.flush()
        else:
            tmp = output.with_name(output.name + ".part")
            # the bytes written so far, like load's bar (shown only when stderr is a terminal)
            with (
                tmp.open("wb") as handle,
                tqdm(
                    unit="B",
                    unit_scale=True,
                    desc="dumping",
                    leave=False,
                    disable=None,
                    file=sys.stderr,
                ) as bar,
            ):
                cat.store.dump(_CountingWriter(handle, bar.update), rdf_format)
            tmp.replace(output)
            click.echo(f"dumped to {output}", err=True)


class _CountingWriter(io.RawIOBase):
    """A binary writer that reports how many bytes went through (for the dump's bar)."""

    def __init__(self, inner: Any, progress: Callable[[int], Any]) -> None:
        self._inner = inner
        self._progress = progress

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = self._inner.write(data)
        self._progress(len(data) if n is None else n)
        return len(data) if n is None else n


def _holds(store: Store, graph: str) -> bool:
    """True when ``graph`` has a triple (an ASK: no count over a million triples)."""
    return bool(store.query(queries.load("graph-exists"), bindings={"g": ox.NamedNode(graph)}))


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that is not empty.")
@store_options
@guarded
def restore_command(file: Path, force: bool, settings: Settings) -> None:
    """Bring back a dump (N-Quads or TriG) into an empty store."""
    rdf_format = rdfio.format_for(filename=file.name)
    if not rdf_format.supports_datasets:
        fail(f"{file}: a dump is N-Quads (.nq) or TriG (.trig)")
    with open_catalogue(settings) as cat:
        if not cat.store.is_empty():
            if not force:
                fail("the store is not empty: restore into an empty store, or use --force")
            # check the file before clearing anything
            with byte_progress(file, "checking") as bar, file.open("rb") as handle:
                reader = ProgressReader(handle, bar.update)
                sum(1 for _ in rdfio.iter_quads(reader, rdf_format, source=str(file)))
            cat.store.update("DROP ALL")
        with byte_progress(file, "restoring") as bar:
            n = cat.store.restore(file, rdf_format, progress=bar.update)
        if not _holds(cat.store, PUBLIC):  # a dump made elsewhere, without derived views
            rebuild_public(cat.store)
        elif not _holds(cat.store, READ):  # a dump from before "read" existed
            rebuild_read(cat.store)
        ownership.ensure(cat.store)  # a dump from before owners were kept
        ensure_opened(cat.store)  # a dump from before "opened" was kept
        click.echo("building the admin's view of the whole catalogue", err=True)
        cat.build_views()
    click.echo(f"restored {n} quads from {file}")


@click.group("vocab")
def vocab_group() -> None:
    """The ontology and controlled vocabularies."""


@vocab_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_options
@guarded
def vocab_import(file: Path, settings: Settings) -> None:
    """Add a full vocabulary (e.g. Los, los.rdf) to the vocabularies graph."""
    with open_catalogue(settings) as cat:
        with byte_progress(file, "importing") as bar:
            n = vocab.import_file(cat.store, file, progress=bar.update)
    click.echo(f"imported {n} triples from {file}")


@vocab_group.command("install")
@store_options
@guarded
def vocab_install(settings: Settings) -> None:
    """(Re)install the shipped ontology and vocabularies."""
    with open_catalogue(settings) as cat:
        n = vocab.install(cat.store)
    click.echo(f"installed {n} triples")
