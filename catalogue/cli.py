"""The ``eti`` command line: thin fronts on the catalogue's functions.

Exit codes: 0 ok, 1 a shared rule is broken, 2 bad input or usage.
More commands (``eti serve``) plug in through the ``eti.commands`` entry-point
group, so this package never imports the server.
"""

from __future__ import annotations

import functools
import io
import json
import sys
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
import pyoxigraph as ox
from tqdm import tqdm

from . import __version__, demo, harvest, ownership, queries, rdfio, registry, remote, vocab
from .auth import Identity
from .config import Settings
from .core import Catalogue, QueryRefused
from .graphs import rebuild_public, rebuild_read
from .namespaces import PUBLIC, READ
from .store import GraphRefused, ProgressReader, QuerySyntaxError, Store, StoreError
from .writes import RuleBroken, WriteError

EXIT_OK, EXIT_RULE, EXIT_INPUT = 0, 1, 2
LOCAL_ADMIN = Identity(role="admin", name="cli")


def fail(message: str, code: int = EXIT_INPUT) -> None:
    """Print ``message`` to standard error and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--store/--store-url/--config for every command that touches the store. An option
    wins over the environment (``--store`` over ``ETI_STORE_URL`` too); both options
    together are a usage error."""

    @click.option(
        "--store",
        "store_path",
        type=click.Path(file_okay=False),
        default=None,
        help="Data folder of the embedded store [env ETI_STORE; default ./var/store].",
    )
    @click.option(
        "--store-url", default=None, help="URL of a remote SPARQL 1.1 store [env ETI_STORE_URL]."
    )
    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Settings file (TOML) [env ETI_CONFIG].",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        store_path: str | None,
        store_url: str | None,
        config_path: str | None,
        **kwargs: Any,
    ) -> Any:
        if store_path is not None and store_url is not None:
            raise click.UsageError("give --store PATH or --store-url URL, not both")
        try:
            settings = Settings.load(config_path, store=store_path, store_url=store_url)
        except ValueError as exc:
            fail(str(exc))
        return func(*args, settings=settings, **kwargs)

    return wrapper


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the catalogue's own errors into a message and exit code 2, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except rdfio.RdfInputError as exc:
            fail(str(exc))
        except QuerySyntaxError as exc:
            fail(f"the query does not parse: {exc}")
        except (QueryRefused, GraphRefused) as exc:
            fail(f"the query is refused: {exc}")
        except StoreError as exc:
            fail(str(exc))
        except remote.ServerRefused as exc:
            for line in exc.lines:
                click.echo(line, err=True)
            fail(exc.message, exc.code)

    return wrapper


def open_catalogue(settings: Settings) -> Catalogue:
    """The catalogue the settings name (errors become exit code 2)."""
    return Catalogue(settings)


def byte_progress(path: Path, label: str) -> tqdm:
    """A progress bar over the bytes of ``path`` (hidden when not on a terminal)."""
    return tqdm(
        total=path.stat().st_size,
        unit="B",
        unit_scale=True,
        desc=label,
        leave=False,
        disable=None,
        file=sys.stderr,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eti")
def cli() -> None:
    """ETI catalogue: data products, shared rules and agreements for the platform
    "Enklere tilgang til informasjon", with a SPARQL endpoint.

    Every command that touches the store takes --store PATH (embedded Oxigraph, the
    default ./var/store) or --store-url URL (a remote SPARQL 1.1 store).
    """


@cli.command("demo")
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


@cli.command("load")
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


@cli.command("dump")
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


@cli.command("restore")
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
    click.echo(f"restored {n} quads from {file}")


RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}


@cli.command("query")
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


VALIDATE_ANSWERS = {
    "text": "text/plain",
    "turtle": "text/turtle",
    "json": "application/json",
    "junit": "application/xml",
}


def _validate_through(
    server: str, token: str | None, graph: Any, profiles: Any, day: Any, out: str, lang: str
) -> None:
    """Validate in the served catalogue's context (``/api/validate?context=catalogue``),
    print its report and exit 0 or 1 as it says."""
    params = [("context", "catalogue"), *(("profile", p) for p in profiles or ())]
    if day:
        params.append(("as_of", day.isoformat()))
    response = remote.call(
        "POST",
        server.rstrip("/") + "/api/validate",
        token,
        params=params,
        data=graph.serialize(format="nt", encoding="utf-8"),
        headers={
            "Content-Type": "application/n-triples",
            "Accept": VALIDATE_ANSWERS[out],
            "Accept-Language": lang,
        },
    )
    remote.answer(response)
    click.echo(response.text, nl=False)
    sys.exit(EXIT_OK if response.headers.get("ETI-Conforms") == "true" else EXIT_RULE)


@cli.command("validate")
@click.argument("source")
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    help="dcat-ap-no, dprod, agreements or eti (repeat; default: all four).",
)
@click.option("--as-of", default=None, help="Judge date-dependent rules on this date (YYYY-MM-DD).")
@click.option(
    "--format",
    "out",
    type=click.Choice(["text", "turtle", "json", "junit"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--input-format",
    default=None,
    help="Syntax of the input when its name does not tell (turtle, trig, nt, nquads, "
    "xml, jsonld); needed for standard input.",
)
@click.option(
    "--lang",
    type=click.Choice(["nb", "en"]),
    default="en",
    show_default=True,
    help="Language of the text report.",
)
@click.option(
    "--allow-private-urls",
    is_flag=True,
    envvar="ETI_ALLOW_PRIVATE_URLS",
    help="Let a URL input point at a loopback or private address.",
)
@click.option(
    "--server",
    default=None,
    help="Validate in the context of the catalogue served at this URL (its agents and "
    "registered products, as registration does).",
)
@click.option("--token", envvar="ETI_TOKEN", default=None, help="Bearer token [env ETI_TOKEN].")
@click.option(
    "--store",
    "context_store",
    default=None,
    help="Validate in the context of the catalogue in this data folder.",
)
@click.option(
    "--store-url",
    "context_store_url",
    default=None,
    help="Validate in the context of the catalogue in this remote SPARQL store.",
)
@guarded
def validate_command(
    source: str,
    profiles: tuple[str, ...],
    as_of: str | None,
    out: str,
    input_format: str | None,
    lang: str,
    allow_private_urls: bool,
    server: str | None,
    token: str | None,
    context_store: str | None,
    context_store_url: str | None,
) -> None:
    """Validate SOURCE (a file, a URL, or - for standard input) against the shared rules.

    Exit code 0: no Violation (warnings and notes are printed); 1: at least one
    Violation; 2: unreadable input or a usage error. A file with named graphs is
    validated as the union of its graphs.
    """
    from .checking import InputError, graph_of, graph_of_url, parse_as_of, parse_profiles
    from .validation import validate

    try:
        limit = Settings.load().max_body  # the HTTP front's limit (ETI_MAX_BODY, ETI_CONFIG)
    except ValueError as exc:
        fail(str(exc))
    too_big = f"is larger than the limit of {limit} bytes (max_body; set ETI_MAX_BODY)"
    try:
        chosen = parse_profiles(profiles)
        day = parse_as_of(as_of)
        if source == "-":
            if not input_format:
                fail("standard input needs --input-format (turtle, trig, nt, nquads, xml, jsonld)")
            data = sys.stdin.buffer.read(limit + 1)
            if len(data) > limit:
                fail(f"<stdin> {too_big}")
            graph = graph_of(data, fmt=input_format, source="<stdin>")
        elif source.startswith(("http://", "https://")):
            graph = graph_of_url(
                source, allow_private=allow_private_urls, max_bytes=limit, fmt=input_format
            )
        else:
            path = Path(source)
            if not path.is_file():
                fail(f"{source}: no such file")
            if path.stat().st_size > limit:
                fail(f"{source} {too_big}")
            graph = graph_of(path.read_bytes(), filename=path.name, fmt=input_format, source=source)
    except InputError as exc:
        fail(str(exc))
    if server:
        _validate_through(server, token, graph, chosen, day, out, lang)
    if context_store or context_store_url:
        if context_store and context_store_url:
            raise click.UsageError("give --store PATH or --store-url URL, not both")
        from .incontext import validate_in_catalogue

        where = Settings.load(store=context_store, store_url=context_store_url)
        with open_catalogue(where) as cat:
            report = validate_in_catalogue(cat.store, graph, chosen, as_of=day)
    else:
        report = validate(graph, chosen, as_of=day, standalone=True)
    if out == "text":
        click.echo(report.text(lang), nl=False)
    elif out == "turtle":
        click.echo(report.turtle(), nl=False)
    elif out == "json":
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.to_junit(), nl=False)
    sys.exit(report.exit_code)


@cli.group("vocab")
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


@cli.command("register")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "ident", default=None, help="Product id (default: its dct:identifier).")
@click.option("--update", is_flag=True, help="Replace a registered product (a new version).")
@click.option("--server", default=None, help="Register through a running server at this URL.")
@click.option("--token", envvar="ETI_TOKEN", default=None, help="Bearer token [env ETI_TOKEN].")
@store_options
@guarded
def register_command(
    file: Path,
    ident: str | None,
    update: bool,
    server: str | None,
    token: str | None,
    settings: Settings,
) -> None:
    """Register (or --update) the data product described in FILE, validated first."""
    rdf_format = rdfio.format_for(filename=file.name)
    quads = rdfio.read_file(file, rdf_format)
    if server:
        if update and not ident:  # as the help says: its dct:identifier
            try:
                description = registry.split(quads).description
                ident = registry.derive_id(description, registry.product_iri(description))
            except WriteError as exc:
                fail(exc.detail)
        url = server.rstrip("/") + "/api/products" + (f"/{ident}" if update else "")
        body = remote.answer(
            remote.call(
                "PUT" if update else "POST",
                url,
                token,
                data=file.read_bytes(),
                headers={"Content-Type": rdf_format.media_type},
            )
        )
        click.echo(f"registered {body['id']} version {body['version']} ({body['iri']})")
        return
    with open_catalogue(settings) as cat:
        try:
            reg = registry.register(
                cat.store, quads, who=LOCAL_ADMIN, ident=ident, create=not update
            )
        except RuleBroken as exc:
            click.echo(exc.report.text(), err=True)
            fail(exc.detail, EXIT_RULE)
        except WriteError as exc:
            fail(exc.detail)
    for report in reg.reports:
        if report.results:
            click.echo(report.text(), err=True)
    click.echo(f"registered {reg.ident} version {reg.version} ({reg.iri})")


@cli.command("withdraw")
@click.argument("ident")
@click.option("--server", default=None, help="Withdraw through a running server at this URL.")
@click.option("--token", envvar="ETI_TOKEN", default=None, help="Bearer token [env ETI_TOKEN].")
@store_options
@guarded
def withdraw_command(ident: str, server: str | None, token: str | None, settings: Settings) -> None:
    """Withdraw a product: it leaves discovery, its history stays."""
    if server:
        remote.answer(remote.call("DELETE", server.rstrip("/") + f"/api/products/{ident}", token))
        click.echo(f"withdrew {ident}")
        return
    with open_catalogue(settings) as cat:
        try:
            registry.withdraw(cat.store, ident, who=LOCAL_ADMIN)
        except WriteError as exc:
            fail(exc.detail)
    click.echo(f"withdrew {ident}")


@cli.command("history")
@click.argument("ident")
@click.option("--server", default=None, help="Read through a running server at this URL.")
@click.option("--token", envvar="ETI_TOKEN", default=None, help="Bearer token [env ETI_TOKEN].")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line per version with added/removed counts; json: the triples too.",
)
@store_options
@guarded
def history_command(
    ident: str, server: str | None, token: str | None, fmt: str, settings: Settings
) -> None:
    """Print the versions of product IDENT: when, status, who, triples added and removed."""
    if server:
        url = server.rstrip("/") + f"/api/products/{ident}/history"
        body = remote.answer(remote.call("GET", url, token))
        doc = {"id": body["id"], "versions": body["versions"]}
    else:
        with open_catalogue(settings) as cat:
            if registry.get_record(cat.store, ident) is None:
                fail(f"no product {ident}")
            doc = {
                "id": ident,
                "versions": [v.to_json() for v in registry.history(cat.store, ident)],
            }
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    for v in doc["versions"]:
        click.echo(
            f"v{v['version']}  {v['issued']}  {v['status']:<10} "
            f"+{len(v['added'])} -{len(v['removed'])}  {v['agent'] or '-'}"
        )


@cli.group("agreement")
def agreement_group() -> None:
    """The agreement lifecycle through a running server: request, accept, refuse,
    terminate, list."""


def _server_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = guarded(func)
    func = click.option(
        "--token", envvar="ETI_TOKEN", required=True, help="Bearer token [env ETI_TOKEN]."
    )(func)
    return click.option(
        "--server",
        envvar="ETI_SERVER",
        default="http://127.0.0.1:8080",
        show_default=True,
        help="The catalogue's URL [env ETI_SERVER].",
    )(func)


AGREEMENT_COLUMNS = ("ID", "STATUS", "START", "END", "PRODUCT", "CHANNEL")


def _print_agreements(docs: list[dict], *, header: bool = True) -> None:
    """Agreements as a table; one agreement acted on as its row alone (its id first)."""
    rows = [(d["id"], d["status"], d["start"], d["end"], d["target"], d["assignee"]) for d in docs]
    text = remote.table(AGREEMENT_COLUMNS, rows)
    click.echo(text if header else text.split("\n", 1)[1])


def _agreement_call(method: str, server: str, path: str, token: str, **kwargs: Any) -> Any:
    return remote.answer(remote.call(method, server.rstrip("/") + path, token, **kwargs))


@agreement_group.command("request")
@click.argument("offer")
@click.option(
    "--purpose",
    default="https://w3id.org/dpv#ServiceProvision",
    show_default=True,
    help="DPV purpose IRI.",
)
@click.option("--start", required=True, help="First day (YYYY-MM-DD).")
@click.option("--end", required=True, help="Last day (YYYY-MM-DD).")
@_server_options
def agreement_request(
    offer: str, purpose: str, start: str, end: str, server: str, token: str
) -> None:
    """Request OFFER for a period (as a channel); an open offer is accepted at once."""
    body = {"offer": offer, "purpose": purpose, "start": start, "end": end}
    answer = _agreement_call("POST", server, "/api/agreements", token, json=body)
    _print_agreements([answer], header=False)


def _transition_command(action: str, doc: str) -> None:
    @agreement_group.command(action, help=doc)
    @click.argument("ident")
    @_server_options
    def command(ident: str, server: str, token: str) -> None:
        path = f"/api/agreements/{ident}/{action}"
        _print_agreements([_agreement_call("POST", server, path, token)], header=False)


_transition_command("accept", "Accept a requested agreement (the owner's steward).")
_transition_command("refuse", "Refuse a requested agreement (the owner's steward).")
_transition_command("terminate", "Terminate an agreement (either party).")


@agreement_group.command("list")
@_server_options
def agreement_list(server: str, token: str) -> None:
    """List the caller's agreements with their status."""
    _print_agreements(_agreement_call("GET", server, "/api/agreements", token)["agreements"])


@cli.group("harvest")
def harvest_group() -> None:
    """Harvest producers' own DCAT-AP-NO catalogues."""


@harvest_group.command("add")
@click.argument("url")
@click.option("--org", required=True, help="Organisation number the source speaks for.")
@store_options
@guarded
def harvest_add(url: str, org: str, settings: Settings) -> None:
    """Add a catalogue URL to harvest for an organisation."""
    with open_catalogue(settings) as cat:
        try:
            source = harvest.add_source(cat.store, url, org)
        except ValueError as exc:
            fail(str(exc))
    click.echo(f"added source {source.id}: {url} ({org})")


@harvest_group.command("run")
@click.argument("url", required=False)
@click.option("--all", "run_all", is_flag=True, help="Harvest every source.")
@store_options
@guarded
def harvest_run(url: str | None, run_all: bool, settings: Settings) -> None:
    """Harvest one source (URL) or --all; print each run's report."""
    with open_catalogue(settings) as cat:
        chosen = [s for s in harvest.sources(cat.store) if run_all or s.url == url]
        if not chosen:
            fail("no such source: add it with 'eti harvest add', or use --all")
        failed = False
        for source in chosen:
            with tqdm(
                desc=source.url, unit="dataset", leave=False, disable=None, file=sys.stderr
            ) as bar:

                def step(done: int, total: int, bar: tqdm = bar) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                report = harvest.run(
                    cat.store, source, allow_private=settings.allow_private_urls, progress=step
                )
            _print_harvest(report)
            failed |= not report.ok
    if failed:
        sys.exit(EXIT_INPUT)


def _print_harvest(report: harvest.HarvestReport) -> None:
    if not report.ok:
        click.echo(f"{report.url}: failed: {report.error}")
        return
    counts = ", ".join(f"{k} {v}" for k, v in report.counts().items())
    click.echo(f"{report.url}: {report.datasets} datasets: {counts}")
    for refusal in report.refused:
        click.echo(f"  refused {refusal['dataset']}: {refusal['reason']}")


@harvest_group.command("list")
@store_options
@guarded
def harvest_list(settings: Settings) -> None:
    """List sources and their latest reports."""
    with open_catalogue(settings) as cat:
        for source in harvest.sources(cat.store):
            click.echo(f"{source.id}  {source.org}  {source.url}")
        for report in harvest.reports(cat.store, limit=20):
            click.echo(
                f"{report['started']}  {report['url']}  "
                f"{'ok' if report['ok'] else 'failed: ' + str(report['error'])}"
            )


def _plugins() -> None:
    for ep in entry_points(group="eti.commands"):
        if ep.name not in cli.commands:
            cli.add_command(ep.load(), ep.name)


def main() -> None:
    """Console entry point."""
    _plugins()
    cli(prog_name="eti")


from .tokencli import token_group  # noqa: E402  (it uses the helpers above)

cli.add_command(token_group)
