"""``eti register``, ``eti withdraw`` and ``eti history``: a data product's lifecycle, in the
data folder or through a running server (``--server URL --token T``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import rdfio, registry, remote
from .cli_common import EXIT_RULE, LOCAL_ADMIN, fail, guarded, open_catalogue, store_options
from .config import Settings
from .writes import RuleBroken, WriteError


@click.command("register")
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
        body = remote.call(
            server,
            token,
            "PUT" if update else "POST",
            "/api/products" + (f"/{ident}" if update else ""),
            data=file.read_bytes(),
            headers={"Content-Type": rdf_format.media_type},
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


@click.command("withdraw")
@click.argument("ident")
@click.option("--server", default=None, help="Withdraw through a running server at this URL.")
@click.option("--token", envvar="ETI_TOKEN", default=None, help="Bearer token [env ETI_TOKEN].")
@store_options
@guarded
def withdraw_command(ident: str, server: str | None, token: str | None, settings: Settings) -> None:
    """Withdraw a product: it leaves discovery, its history stays."""
    if server:
        remote.call(server, token, "DELETE", f"/api/products/{ident}")
        click.echo(f"withdrew {ident}")
        return
    with open_catalogue(settings) as cat:
        try:
            registry.withdraw(cat.store, ident, who=LOCAL_ADMIN)
        except WriteError as exc:
            fail(exc.detail)
    click.echo(f"withdrew {ident}")


@click.command("history")
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
        body = remote.call(server, token, "GET", f"/api/products/{ident}/history")
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
