"""``eti query``: a SPARQL query over the catalogue's public view (or every graph, as admin)."""

from __future__ import annotations

import sys
from typing import Any

import click
import pyoxigraph as ox

from . import rdfio
from .cli_common import fail, guarded, open_catalogue, store_options
from .config import Settings

RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}


@click.command("query")
@click.argument("query", required=False)
@click.option(
    "--file",
    "-f",
    "query_file",
    type=click.File("r"),
    default=None,
    help="Read the query from a file ('-' for standard input).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*RESULT_FORMATS, "turtle", "nt"]),
    default="tsv",
    show_default=True,
    help="Result format (turtle/nt for CONSTRUCT and DESCRIBE).",
)
@click.option(
    "--all-graphs",
    is_flag=True,
    help="Query every graph of the store (admin), not just the public view.",
)
@store_options
@guarded
def query_command(
    query: str | None, query_file: Any, fmt: str, all_graphs: bool, settings: Settings
) -> None:
    """Run a SPARQL query over the catalogue's public view and print the results."""
    text = query_file.read() if query_file else query
    if not text:
        fail("give a query as an argument or with --file")
    with open_catalogue(settings) as cat:
        if all_graphs:
            cat.check_services(text)  # the same SERVICE allow-list and depth bound
            result = cat.store.query(text, union=True)
        else:
            result = cat.query(text)
        out = sys.stdout.buffer
        if isinstance(result, ox.QueryBoolean):
            out.write(b"true\n" if bool(result) else b"false\n")
        elif isinstance(result, ox.QuerySolutions):
            if fmt not in RESULT_FORMATS:
                fail(f"--format {fmt} is for CONSTRUCT/DESCRIBE; use json, xml, csv or tsv")
            result.serialize(out, RESULT_FORMATS[fmt])
        else:
            rdf_format = ox.RdfFormat.TURTLE if fmt != "nt" else ox.RdfFormat.N_TRIPLES
            out.write(rdfio.serialize_triples(result, rdf_format))
        out.flush()
