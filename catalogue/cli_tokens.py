"""``eti token``: bearer tokens for stewards, channels and admins, made in the data folder
or, while a server holds it, through the server (``--server URL --token ADMIN``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from . import remote
from .auth import ROLES, TokenTable
from .cli_common import fail, guarded, open_catalogue, store_options, table
from .config import Settings


@click.group("token")
def token_group() -> None:
    """Bearer tokens for stewards, channels and admins (stored as hashes only)."""


def _token_server_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--token",
        "admin_token",
        envvar="ETI_TOKEN",
        default=None,
        help="With --server: an admin's bearer token [env ETI_TOKEN].",
    )(func)
    return click.option(
        "--server",
        default=None,
        help="Work through a running server at this URL (it holds the data folder).",
    )(func)


def _tokens_call(
    server: str, admin_token: str | None, method: str, path: str = "", **kw: Any
) -> Any:
    if not admin_token:
        fail("--server needs --token with an admin's token (or ETI_TOKEN)")
    return remote.call(server, admin_token, method, "/api/tokens" + path, **kw)


@token_group.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the token may do.")
@click.option("--org", default=None, help="Steward: the organisation number it acts for.")
@click.option("--channel", default=None, help="Channel: the eti:InformationChannel IRI.")
@click.option("--name", default=None, help="Who holds it (shown by 'token list').")
@click.option("--days", type=int, default=None, help="Expire after this many days.")
@_token_server_options
@store_options
@guarded
def token_create(
    role: str,
    org: str | None,
    channel: str | None,
    name: str | None,
    days: int | None,
    server: str | None,
    admin_token: str | None,
    settings: Settings,
) -> None:
    """Create a token and print it alone on standard output, once."""
    if server:
        fields = {"role": role, "org": org, "channel": channel, "name": name, "days": days}
        body = {k: v for k, v in fields.items() if v is not None}
        made = _tokens_call(server, admin_token, "POST", json=body)
        ident, token = made["id"], made["token"]
    else:
        with open_catalogue(settings) as cat:
            try:
                ident, token = TokenTable(cat.store).create(
                    role, org=org, channel=channel, name=name, days=days
                )
            except ValueError as exc:
                fail(str(exc))
    click.echo(f"created token {ident} ({role})", err=True)
    click.echo(token)


@token_group.command("list")
@_token_server_options
@store_options
@guarded
def token_list(server: str | None, admin_token: str | None, settings: Settings) -> None:
    """List tokens: id, role, scope, state, created, expiry and name (never the secret)."""
    if server:
        rows = _tokens_call(server, admin_token, "GET")["tokens"]
    else:
        with open_catalogue(settings) as cat:
            rows = TokenTable(cat.store).list()
    header = ("ID", "ROLE", "SCOPE", "STATE", "CREATED", "EXPIRES", "NAME")
    click.echo(
        table(
            header,
            [
                (
                    r["id"],
                    r["role"],
                    r["org"] or r["channel"],
                    "revoked" if r["revoked"] else "live",
                    r["created"],
                    r["expires"],
                    r["name"],
                )
                for r in rows
            ],
        )
    )


@token_group.command("revoke")
@click.argument("token_id")
@_token_server_options
@store_options
@guarded
def token_revoke(
    token_id: str, server: str | None, admin_token: str | None, settings: Settings
) -> None:
    """Revoke a token by its id (see 'eti token list')."""
    if server:
        _tokens_call(server, admin_token, "DELETE", f"/{token_id}")
    else:
        with open_catalogue(settings) as cat:
            if not TokenTable(cat.store).revoke(token_id):
                fail(f"no live token with id {token_id!r}")
    click.echo(f"revoked {token_id}")
