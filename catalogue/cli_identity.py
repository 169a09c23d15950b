"""``eti channel`` (bind OIDC clients to channels) and ``eti dev-token`` (a local issuer).

Plugged into ``eti`` through the ``eti.commands`` entry points, like ``eti serve``.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import bindings
from .cli_common import fail, guarded, open_catalogue, store_options
from .config import Settings
from .devtoken import DEFAULT_AUDIENCE, DEFAULT_ISSUER, DevIssuer


@click.group("channel")
def channel() -> None:
    """Bind OIDC clients (a JWT's client_id) to channels: a token with the channel scope
    acts for the channel its client is bound to."""


@channel.command("bind")
@click.argument("client_id")
@click.argument("channel_iri")
@store_options
@guarded
def channel_bind(client_id: str, channel_iri: str, settings: Settings) -> None:
    """Let CLIENT_ID act as the channel CHANNEL_IRI (replaces an earlier binding)."""
    with open_catalogue(settings) as cat:
        try:
            bindings.bind(cat.store, client_id, channel_iri)
        except ValueError as exc:
            fail(str(exc))
    click.echo(f"bound {client_id} to {channel_iri}")


@channel.command("unbind")
@click.argument("client_id")
@store_options
@guarded
def channel_unbind(client_id: str, settings: Settings) -> None:
    """Remove CLIENT_ID's binding."""
    with open_catalogue(settings) as cat:
        try:
            removed = bindings.unbind(cat.store, client_id)
        except ValueError as exc:
            fail(str(exc))
    if not removed:
        fail(f"client {client_id!r} is bound to no channel")
    click.echo(f"unbound {client_id}")


@channel.command("list")
@store_options
@guarded
def channel_list(settings: Settings) -> None:
    """List the bindings: client id, channel, when bound."""
    with open_catalogue(settings) as cat:
        for row in bindings.listing(cat.store):
            click.echo(f"{row['client_id']}  {row['channel']}  {row['bound']}")


@click.command("dev-token")
@click.option("--scope", default="eti:steward", show_default=True, help="Scopes, space-separated.")
@click.option("--org", default=None, help="The consumer's organisation number (9 digits).")
@click.option("--supplier", default=None, help="A supplier acting for the consumer (orgnr).")
@click.option("--client-id", default="dev-client", show_default=True)
@click.option("--issuer", default=DEFAULT_ISSUER, show_default=True)
@click.option("--audience", default=DEFAULT_AUDIENCE, show_default=True)
@click.option("--minutes", type=int, default=10, show_default=True, help="Lifetime.")
@click.option("--alg", type=click.Choice(["RS256", "ES256"]), default="RS256", show_default=True)
@click.option(
    "--keys",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/dev-issuer"),
    show_default=True,
    help="Folder of the issuer's key pair (made on first use) and JWKS file.",
)
def dev_token(
    scope: str,
    org: str | None,
    supplier: str | None,
    client_id: str,
    issuer: str,
    audience: str,
    minutes: int,
    alg: str,
    keys: Path,
) -> None:
    """Mint a Maskinporten-shaped access token from a local key pair (development only):
    the token alone on standard output, the settings that accept it on standard error."""
    for label, value in (("--org", org), ("--supplier", supplier)):
        if value is not None and not (len(value) == 9 and value.isdigit()):
            fail(f"{label} must be a 9-digit organisation number, not {value!r}")
    if minutes <= 0:
        fail("--minutes must be above 0")
    try:
        issuer_keys = DevIssuer(keys, alg)
    except ValueError as exc:
        fail(str(exc))
    token = issuer_keys.token(
        issuer=issuer,
        audience=audience,
        scope=scope,
        client_id=client_id,
        org=org,
        supplier=supplier,
        seconds=minutes * 60,
    )
    click.echo(
        f"issuer key {issuer_keys.kid} ({issuer_keys.alg}); accept its tokens with:\n"
        f"  ETI_OIDC_ISSUER={issuer} ETI_OIDC_JWKS={issuer_keys.jwks_path.resolve()} "
        f"ETI_OIDC_AUDIENCE={audience}",
        err=True,
    )
    click.echo(token)
