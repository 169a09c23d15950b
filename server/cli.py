"""``eti serve``: the production server (granian or gunicorn in front, threads) on the
catalogue."""

from __future__ import annotations

import click

from eti.catalogue.cli import guarded, store_options
from eti.catalogue.config import Settings


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [default 8080].")
@click.option(
    "--threads",
    type=int,
    default=None,
    help="Requests served at once; one more is answered 503 + Retry-After [default 8].",
)
@click.option(
    "--server",
    type=click.Choice(["granian", "gunicorn"]),
    default=None,
    help="The HTTP front (setting server) [default gunicorn].",
)
@click.option("--demo-if-empty", is_flag=True, help="Load the demo catalogue into an empty store.")
@store_options
@guarded
def serve(
    host: str | None,
    port: int | None,
    threads: int | None,
    server: str | None,
    demo_if_empty: bool,
    settings: Settings,
) -> None:
    """Serve the catalogue: SPARQL endpoint, REST API and pages."""
    from .wsgi import run

    for name, value in (("host", host), ("port", port), ("threads", threads), ("server", server)):
        if value is not None:
            setattr(settings, name, value)
    run(settings, demo_if_empty=demo_if_empty)
