"""``eti validate``: a file, URL or standard input against the shared rules, alone, in the
context of a catalogue's store, or through a running server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from . import remote
from .cli_common import EXIT_OK, EXIT_RULE, fail, guarded, open_catalogue, stage_progress
from .config import Settings

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
    response = remote.request(
        server,
        token,
        "POST",
        "/api/validate",
        params=params,
        data=graph.serialize(format="nt", encoding="utf-8"),
        headers={
            "Content-Type": "application/n-triples",
            "Accept": VALIDATE_ANSWERS[out],
            "Accept-Language": lang,
        },
    )
    click.echo(response.text, nl=False)
    sys.exit(EXIT_OK if response.headers.get("ETI-Conforms") == "true" else EXIT_RULE)


@click.command("validate")
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
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show the stages of the validation on standard error (default: when it is a terminal).",
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
    progress: bool | None,
) -> None:
    """Validate SOURCE (a file, a URL, or - for standard input) against the shared rules.

    Exit code 0: no Violation (warnings and notes are printed); 1: at least one
    Violation; 2: unreadable input or a usage error. A file with named graphs is
    validated as the union of its graphs.
    """
    from .checking import InputError, graph_of, graph_of_url, parse_as_of, parse_profiles
    from .validation import STAGES, validate

    bar = stage_progress(len(STAGES) + 1, progress)
    click.get_current_context().call_on_close(bar.close)  # also when the input fails

    def stage(name: str) -> None:
        bar.update(1)
        bar.set_description(name)

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
            report = validate_in_catalogue(cat.store, graph, chosen, as_of=day, progress=stage)
    else:
        report = validate(graph, chosen, as_of=day, standalone=True, progress=stage)
    bar.close()  # before the report reaches the terminal
    if out == "text":
        click.echo(report.text(lang), nl=False)
    elif out == "turtle":
        click.echo(report.turtle(), nl=False)
    elif out == "json":
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.to_junit(), nl=False)
    sys.exit(report.exit_code)
